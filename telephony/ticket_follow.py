"""A ticket merged into another takes its calls and texts along (`tickets.ticket_merge`)."""

from __future__ import annotations

from sqlalchemy import update

from helpdesk.db import DbSession, rowcount
from telephony.models import Call, SmsMessage


def move_calls(session: DbSession, *, source_id: int, target_id: int) -> int:
    return rowcount(
        session.execute(
            update(Call)
            .where(Call.ticket_id == source_id)
            .values(ticket_id=target_id)
            .execution_options(synchronize_session=False)
        )
    )


def move_texts(session: DbSession, *, source_id: int, target_id: int) -> int:
    return rowcount(
        session.execute(
            update(SmsMessage)
            .where(SmsMessage.ticket_id == source_id)
            .values(ticket_id=target_id)
            .execution_options(synchronize_session=False)
        )
    )
