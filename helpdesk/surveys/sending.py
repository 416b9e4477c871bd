"""Sending a survey: whether the customer gets one, by which channel, and the message itself,
written in the transaction of the change that triggers it (a ticket solved, a call ended) so
that the outboxes send it once, after the commit, or not at all if the change rolls back.

Texts belong to telephony, above the core: it fills `SMS` when the app is created."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import exists, false, select

from helpdesk.customers.models import Customer, CustomerEmail, CustomerTag
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import APIError
from helpdesk.slots import Slot
from helpdesk.surveys import settings as survey_settings
from helpdesk.surveys import texts
from helpdesk.surveys.models import Survey
from helpdesk.texts import service as wording

log = logging.getLogger(__name__)


class SurveyTexts(Protocol):
    """What the survey needs of the SMS channel."""

    def number_for(self, session: DbSession, customer_id: int) -> str | None:
        """The customer's mobile number that may be texted (not opted out), or None."""

    def queue(
        self, session: DbSession, *, to: str, body: str, customer_id: int, ticket_id: int | None
    ) -> Any:
        """Write the text in the outbox (sent after the commit); returns the outbox row."""


SMS: Slot[SurveyTexts] = Slot("SMS channel for surveys")


@dataclass(frozen=True)
class Trigger:
    """What a survey is about: a solved ticket or an answered call."""

    kind: str  # ticket | call
    customer_id: int
    by_phone: bool  # the contact came by phone or text: the survey may go by text
    ticket: Any = None
    call_id: int | None = None
    agent_id: int | None = None
    queue: str | None = None
    # Customers carrying one of these tags are not asked: read in the statement that locks the
    # customer, rather than in a query of the caller's before it.
    unless_tagged: tuple[str, ...] = ()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send(session: DbSession, trigger: Trigger) -> Survey | None:
    """Send the survey if the customer may get one now; None when they may not (erased or
    merged, surveyed within the period, no channel to reach them)."""
    settings = survey_settings.current()
    if not (settings.sms or settings.email):
        return None
    # Locks the customer on PostgreSQL: two triggers at once send one survey in the period. The
    # columns only: the entity would load its tags, phones and emails too (three statements).
    # The recent survey is looked for in a statement of its own, after the lock: one read in
    # this statement would see the snapshot taken before waiting for the lock, without the
    # survey the other trigger has just committed.
    tagged = (
        exists().where(
            CustomerTag.customer_id == Customer.id, CustomerTag.tag.in_(trigger.unless_tagged)
        )
        if trigger.unless_tagged
        else false()
    )
    customer = session.execute(
        select(
            Customer.id,
            Customer.language,
            Customer.erased_at,
            Customer.merged_into_id,
            tagged.label("tagged"),
        )
        .where(Customer.id == trigger.customer_id)
        .with_for_update(of=Customer)
    ).first()
    if customer is None or customer.erased_at is not None or customer.merged_into_id is not None:
        return None
    if customer.tagged:
        return None
    now = utcnow()
    recent = exists().where(
        Survey.customer_id == customer.id, Survey.sent_at > now - settings.period
    )
    if session.scalar(select(recent)):
        return None
    lang = texts.language(customer.language)
    survey = Survey(
        customer_id=customer.id,
        ticket_id=trigger.ticket.id if trigger.ticket is not None else None,
        call_id=trigger.call_id,
        agent_id=trigger.agent_id,
        queue=trigger.queue,
        trigger=trigger.kind,
        language=lang,
        sent_at=now,
        expires_at=now + settings.open_for,
        comment="",
    )
    number = (
        SMS.get().number_for(session, customer.id)
        if settings.sms and trigger.by_phone and SMS.filled
        else None
    )
    if number is not None:
        return _by_sms(session, survey, trigger, number)
    email = session.scalar(
        select(CustomerEmail.email)
        .where(CustomerEmail.customer_id == customer.id)
        .order_by(CustomerEmail.id)
        .limit(1)
    )
    if settings.email and email:
        return _by_email(session, survey, trigger, email, settings)
    return None


def _reference(trigger: Trigger) -> str:
    return str(trigger.ticket.reference) if trigger.ticket is not None else ""


def _by_sms(session: DbSession, survey: Survey, trigger: Trigger, number: str) -> Survey:
    body = wording.render(
        session, f"surveys.sms_{trigger.kind}", survey.language, reference=_reference(trigger)
    )
    row = SMS.get().queue(
        session, to=number, body=body, customer_id=survey.customer_id, ticket_id=survey.ticket_id
    )
    survey.channel, survey.sent_to, survey.outbox_ref = "sms", number, str(row.id)
    session.add(survey)
    session.flush()
    return survey


def _by_email(
    session: DbSession,
    survey: Survey,
    trigger: Trigger,
    address: str,
    settings: survey_settings.SurveySettings,
) -> Survey | None:
    from helpdesk.mail.outbox import queue_message

    token = secrets.token_urlsafe(24)
    lang = survey.language
    body = wording.render(
        session,
        f"surveys.mail_{trigger.kind}",
        lang,
        reference=_reference(trigger),
        link=f"{settings.base_url}/survey/{token}",
        days=settings.open_for.days,
    )
    try:
        message = queue_message(
            session,
            to=address,
            subject=wording.render(session, "surveys.mail_subject", lang),
            text=body,
            ticket=trigger.ticket,
            customer_id=survey.customer_id,
            kind="survey",
            auto=True,
            language=lang,
        )
    except APIError:
        # A stored address the outbox refuses (a line break): no survey, the ticket still solves.
        log.warning("survey not sent: customer %s's address was refused", survey.customer_id)
        return None
    survey.channel, survey.sent_to = "email", address
    survey.token_hash, survey.outbox_ref = hash_token(token), str(message.id)
    session.add(survey)
    session.flush()
    return survey
