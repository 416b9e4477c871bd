"""A texted answer to a survey: "1" to "5" (and an optional comment after it) from a number with
an open survey. Registered with `telephony.sms` as an inbound handler, so the answer opens no
conversation ticket; any other text goes on to the next handler."""

from __future__ import annotations

from typing import Protocol

from helpdesk.db import DbSession
from helpdesk.surveys import sending, service, texts
from helpdesk.texts import service as wording


class InboundText(Protocol):
    """A received text as telephony stores it; a consumed one is filed against the survey."""

    from_number: str
    body: str
    kind: str
    customer_id: int | None
    ticket_id: int | None


def handle(session: DbSession, row: InboundText) -> bool:
    """Record `row` as the answer to the number's open survey; True when it was one."""
    answer = texts.parse_sms(row.body)
    if answer is None:
        return False
    survey = service.open_sms_survey(session, row.from_number)
    if survey is None:
        return False
    if not service.record_answer(
        session, survey, score=answer.score, comment=answer.comment, via="sms", commit=False
    ):
        return False
    row.kind, row.customer_id, row.ticket_id = "survey", survey.customer_id, survey.ticket_id
    if sending.SMS.filled:
        sending.SMS.get().queue(
            session,
            to=row.from_number,
            body=wording.render(session, "surveys.sms_thanks", survey.language, score=answer.score),
            customer_id=survey.customer_id,
            ticket_id=survey.ticket_id,
        )
    return True
