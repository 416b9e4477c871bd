"""How much each customer used the phone and texts over a period: the contact figures of the
customer-value recompute (`helpdesk.value`), registered with it when the app is created."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from helpdesk.db import DbSession
from helpdesk.value.service import Contacts
from telephony.models import Call, SmsMessage


def _grouped(session: DbSession, stmt: Any) -> dict[int, Any]:
    return {int(cid): value for cid, value in session.execute(stmt) if cid is not None}


def contacts_since(session: DbSession, since: datetime) -> Contacts:
    """Seconds talked on calls, inbound calls and texts (either way) per customer since `since`."""
    return Contacts(
        talk_seconds=_grouped(
            session,
            select(Call.customer_id, func.sum(Call.talk_seconds))
            .where(Call.created_at >= since)
            .group_by(Call.customer_id),
        ),
        inbound_calls=_grouped(
            session,
            select(Call.customer_id, func.count(Call.id))
            .where(Call.created_at >= since, Call.direction == "inbound")
            .group_by(Call.customer_id),
        ),
        texts=_grouped(
            session,
            select(SmsMessage.customer_id, func.count(SmsMessage.id))
            .where(SmsMessage.created_at >= since)
            .group_by(SmsMessage.customer_id),
        ),
    )
