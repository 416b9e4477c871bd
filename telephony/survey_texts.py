"""The SMS side of satisfaction surveys (`helpdesk.surveys.sending.SMS`): which number a survey
may be texted to, and the outbox that sends it after the commit."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from helpdesk.customers.models import CustomerPhone
from helpdesk.db import DbSession
from telephony.models import SmsMessage
from telephony.sms import queue_sms
from telephony.sms_optout import is_opted_out
from telephony.sms_text import textable


def _sender() -> str:
    return str(current_app.config["TWILIO_PHONE_NUMBER"])


def number_for(session: DbSession, customer_id: int) -> str | None:
    """The customer's first number that takes texts, unless they opted out of ours: then the
    survey goes by e-mail, or not at all."""
    phones = session.execute(
        select(CustomerPhone.e164, CustomerPhone.label)
        .where(CustomerPhone.customer_id == customer_id)
        .order_by(CustomerPhone.id)
    ).all()
    number: str | None = next((str(p.e164) for p in phones if textable(p.e164, p.label)), None)
    if number is None or is_opted_out(session, number, _sender()):
        return None
    return number


def queue(
    session: DbSession, *, to: str, body: str, customer_id: int, ticket_id: int | None
) -> SmsMessage:
    return queue_sms(
        session,
        to=to,
        from_number=_sender(),
        body=body,
        customer_id=customer_id,
        ticket_id=ticket_id,
        kind="survey",
    )
