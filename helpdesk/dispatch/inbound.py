"""Texts that belong to a visit: a technician's OMW / ARRIVED / DONE (and French forms), and a
customer's 1-5 answer to the satisfaction survey. Registered with `telephony.sms` as an inbound
handler: a text it consumes opens no conversation ticket."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from sqlalchemy import select

from helpdesk.customers.models import CustomerPhone
from helpdesk.db import DbSession, utcnow
from helpdesk.dispatch import notify, service, texts
from helpdesk.dispatch.models import Technician, WorkOrder
from helpdesk.dispatch.workflow import WorkOrderStatus, survey_score, technician_command
from helpdesk.errors import APIError

S = WorkOrderStatus
SURVEY_OPEN_FOR = timedelta(days=7)
# Which of the technician's jobs a bare OMW / ARRIVED / DONE is about, in order of preference.
CURRENT = {
    S.EN_ROUTE: (S.EN_ROUTE, S.SCHEDULED),
    S.ON_SITE: (S.ON_SITE, S.EN_ROUTE, S.SCHEDULED),
    S.COMPLETED: (S.ON_SITE, S.EN_ROUTE),
}


class InboundText(Protocol):
    """A received text as telephony stores it; a consumed one is filed against its visit."""

    from_number: str
    to_number: str
    body: str
    kind: str
    customer_id: int | None
    ticket_id: int | None
    work_order_id: int | None


def handle(session: DbSession, row: InboundText) -> bool:
    """Consume `row` if it is a technician's update or a survey answer; True when consumed."""
    tech = service.technician_by_phone(session, row.from_number)
    if tech is not None:
        _from_technician(session, row, tech)
        return True
    score = survey_score(row.body)
    if score is None:
        return False
    wo = _awaiting_survey(session, row.from_number)
    if wo is None:
        return False
    row.kind, row.customer_id, row.ticket_id = "survey", wo.customer_id, wo.ticket_id
    row.work_order_id = wo.id
    service.record_survey(session, wo, score=score)
    settings = service.current_settings()
    customer, _number = notify.customer_number(session, wo)
    if customer is not None:
        notify.OUTBOX.get()(
            session,
            to=row.from_number,
            from_number=row.to_number or settings.sender,
            body=texts.text(customer.language, "survey_thanks", score=score),
            customer_id=customer.id,
            ticket_id=wo.ticket_id,
            kind="visit",
            work_order_id=wo.id,
        )
    return True


def _awaiting_survey(session: DbSession, number: str) -> WorkOrder | None:
    found: WorkOrder | None = session.scalar(
        select(WorkOrder)
        .join(CustomerPhone, CustomerPhone.customer_id == WorkOrder.customer_id)
        .where(
            CustomerPhone.e164 == number,
            WorkOrder.status == S.COMPLETED,
            WorkOrder.survey_sent_at > utcnow() - SURVEY_OPEN_FOR,
            WorkOrder.survey_score.is_(None),
        )
        .order_by(WorkOrder.completed_at.desc())
        .limit(1)
    )
    return found


def _job_for(
    session: DbSession, tech: Technician, wanted: WorkOrderStatus, work_order_id: int | None
) -> WorkOrder | None:
    if work_order_id is not None:
        wo = session.get(WorkOrder, work_order_id)
        return wo if wo is not None and wo.technician_id == tech.id else None
    settings = service.current_settings()
    today = service.local_day(utcnow(), settings.timezone)
    jobs = list(
        session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.technician_id == tech.id,
                WorkOrder.day == today,
                WorkOrder.status.in_(CURRENT[wanted]),
            )
            .order_by(WorkOrder.route_position, WorkOrder.window_start, WorkOrder.id)
        )
    )
    for status in CURRENT[wanted]:
        for wo in jobs:
            if wo.status is status:
                return wo
    return None


def _from_technician(session: DbSession, row: InboundText, tech: Technician) -> None:
    settings = service.current_settings()
    row.kind = "dispatch"
    lang = tech.language
    command = technician_command(row.body)
    if command is None:
        notify.to_technician(session, tech, texts.text(lang, "tech_help"), settings)
        return
    wanted, work_order_id, note = command
    wo = _job_for(session, tech, wanted, work_order_id)
    if wo is None:
        notify.to_technician(session, tech, texts.text(lang, "tech_no_job"), settings)
        return
    # The update is about this visit (its note may describe the customer's site).
    row.work_order_id = wo.id
    if wo.status is wanted:  # a repeated text: the job already says so
        reply = texts.text(
            lang, "tech_ack", reference=wo.reference, status=texts.status_word(lang, wo.status)
        )
        notify.to_technician(session, tech, reply, settings, wo)
        return
    try:
        service.set_status(
            session, wo, status=wanted, technician=tech, source="sms", note=note, settings=settings
        )
    except service.NotToday:
        day = texts.day(wo.window_start, settings.timezone, lang)
        reply = texts.text(lang, "tech_not_today", reference=wo.reference, day=day)
        notify.to_technician(session, tech, reply, settings, wo)
        return
    except APIError:
        reply = texts.text(
            lang, "tech_refused", reference=wo.reference, status=texts.status_word(lang, wo.status)
        )
        notify.to_technician(session, tech, reply, settings, wo)
        return
    reply = texts.text(
        lang, "tech_ack", reference=wo.reference, status=texts.status_word(lang, wo.status)
    )
    if wo.status is S.EN_ROUTE and wo.eta_at:
        reply += f" ETA {notify.eta_text(wo, settings, lang)}."
    notify.to_technician(session, tech, reply, settings, wo)
