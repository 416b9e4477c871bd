"""After a text left the outbox: the provider's status callbacks, and the rows a worker left
behind.

A worker that dies after the provider accepted a message but before the row was updated leaves it
`sending`: recovery looks the message up (by the idempotency key carried in its status-callback
URL) before it would ever send it again. Status callbacks arrive out of order and more than once:
a status never moves backwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from helpdesk.db import DbSession, utcnow
from helpdesk.events import FEED_SMS, publish
from telephony.models import SMS_STATUS_RANK, SmsMessage
from telephony.sms import callback_url, send_after_commit, track_reply
from telephony.sms_optout import opt_out


def recover(
    session: DbSession,
    gateway: Any,
    *,
    public_base_url: str,
    stuck_after: timedelta = timedelta(minutes=2),
    now: datetime | None = None,
) -> int:
    """Rows left `sending` by a worker that died: found at the provider, or sent again; then
    the rows due for a retry, and those whose task was lost, are queued again.

    Returns how many rows left `sending` were fixed.
    """
    now = now or utcnow()
    fixed = _recover_stranded(session, gateway, public_base_url, stuck_after, now)
    for message_id in _due(session, stuck_after, now):
        send_after_commit(session, message_id)
    session.commit()
    return fixed


def _recover_stranded(
    session: DbSession, gateway: Any, public_base_url: str, stuck_after: timedelta, now: datetime
) -> int:
    """A row counts as left behind once it has been `sending` for `stuck_after` since its claim
    (well over the provider's timeout), not since it was written: a text queued long ago and
    claimed a moment ago by a busy worker is still in flight, and sending it again would send
    it twice."""
    fixed = 0
    for row in list(
        session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.direction == "outbound",
                SmsMessage.status == "sending",
                SmsMessage.message_sid.is_(None),
            )
            .limit(200)
        )
    ):
        if (row.claimed_at or row.created_at) > now - stuck_after:
            continue
        sid = gateway.find_sms(
            row.to_number,
            row.from_number,
            row.body,
            callback_url(public_base_url, row),
            row.created_at,
        )
        if sid:
            row.message_sid, row.status, row.sent_at = sid, "accepted", now
            track_reply(session, row)
        else:
            # Due at once: the send below must be able to claim it, whatever `now` says.
            row.status, row.next_attempt_at = "retry", None
            send_after_commit(session, row.id)
        fixed += 1
    return fixed


def _due(session: DbSession, stuck_after: timedelta, now: datetime) -> list[int]:
    due = list(
        session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.direction == "outbound",
                SmsMessage.status == "retry",
                SmsMessage.next_attempt_at <= now,
            )
            .limit(500)
        )
    )
    # Rows still `queued` long after they were written: their task was lost (a worker killed
    # with it prefetched, a broker restarted without persistence). Sending is claimed row by
    # row, so a second task for a row whose first task is merely late sends nothing twice.
    due += list(
        session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.direction == "outbound",
                SmsMessage.status == "queued",
                SmsMessage.created_at <= now - stuck_after,
            )
            .limit(500)
        )
    )
    return due


def apply_status(
    session: DbSession, *, message_sid: str, status: str, key: str | None, error_code: str | None
) -> SmsMessage | None:
    """A delivery status callback: never moves a message backwards."""
    # Locked: copies of one callback at once apply it once (the second finds the status set).
    row: SmsMessage | None = session.scalar(
        select(SmsMessage).where(SmsMessage.message_sid == message_sid).with_for_update()
    )
    if row is None and key:
        row = session.scalar(
            select(SmsMessage).where(SmsMessage.idempotency_key == key).with_for_update()
        )
        if row is not None and row.message_sid is None:
            row.message_sid = message_sid  # the worker died before it could record it
    if row is None:
        return None
    if SMS_STATUS_RANK.get(status, -1) > SMS_STATUS_RANK.get(row.status, -1):
        row.status = status
        if error_code:
            row.error_code = error_code
        if error_code == "21610":
            row.status = "opted_out"
            opt_out(session, row.to_number, row.from_number, "provider")
        _publish_status(session, row, error_code)
        track_reply(session, row)
    session.commit()
    return row


def _publish_status(session: DbSession, row: SmsMessage, error_code: str | None) -> None:
    if row.status in ("failed", "undelivered", "opted_out"):
        publish(
            session,
            "sms.failed",
            [FEED_SMS] + ([f"ticket:{row.ticket_id}"] if row.ticket_id else []),
            {
                "sms_id": row.id,
                "ticket_id": row.ticket_id,
                "status": row.status,
                "error_code": error_code,
            },
        )
    elif row.ticket_id:
        # Consoles showing the conversation follow each text's progress.
        publish(
            session,
            "sms.status",
            [f"ticket:{row.ticket_id}"],
            {"sms_id": row.id, "ticket_id": row.ticket_id, "status": row.status},
        )
