"""The SMS side of campaigns (`helpdesk.campaigns.sending.TEXTS`): our STOP list, the outbox, and
what the outbox made of each text."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from helpdesk.db import DbSession
from telephony.models import SmsMessage
from telephony.sms import queue_sms
from telephony.sms_optout import is_opted_out


def _sender() -> str:
    return str(current_app.config["TWILIO_PHONE_NUMBER"])


def opted_out(session: DbSession, number: str) -> bool:
    return is_opted_out(session, number, _sender())


def queue(session: DbSession, *, to: str, body: str, customer_id: int | None) -> int:
    """The text in the outbox; a number that opted out gets a row marked `opted_out`, never sent."""
    row = queue_sms(
        session, to=to, from_number=_sender(), body=body, customer_id=customer_id, kind="campaign"
    )
    return int(row.id)


def statuses(session: DbSession, ids: list[int]) -> dict[int, str]:
    return {
        int(i): str(s)
        for i, s in session.execute(
            select(SmsMessage.id, SmsMessage.status).where(SmsMessage.id.in_(ids))
        )
    }
