"""A delivery failure report: the message it reports on is marked bounced, the reply it carried
shows `bounced`, and the address is listed as bouncing on the customer card. No ticket opens."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.customers.models import CustomerEmail
from helpdesk.db import DbSession, insert_unless_present, utcnow
from helpdesk.mail.loops import Bounce
from helpdesk.mail.models import BouncingAddress, MailMessage
from helpdesk.tickets import service as tickets
from helpdesk.timeline import service as timeline


def _mark_address(session: DbSession, address: str, reason: str) -> None:
    now = utcnow()
    row_id = insert_unless_present(
        session,
        BouncingAddress,
        {"address": address, "reason": reason, "bounces": 1, "last_bounced_at": now},
        key=["address"],
    )
    if row_id is None:
        found = session.scalar(select(BouncingAddress).where(BouncingAddress.address == address))
        if found is not None:
            found.bounces += 1
            found.reason, found.last_bounced_at = reason, now


def _customers_of(session: DbSession, address: str) -> list[int]:
    return list(
        session.scalars(
            select(CustomerEmail.customer_id).where(CustomerEmail.email == address.lower())
        )
    )


def record_bounce(session: DbSession, row: MailMessage, bounce: Bounce) -> None:
    """Mark what bounced; `row` is the report itself, recorded as kind and status `bounced`."""
    row.kind, row.status, row.error = "bounce", "bounced", bounce.reason[:300]
    original = None
    if bounce.original_message_id:
        original = session.scalar(
            select(MailMessage).where(
                MailMessage.message_id == bounce.original_message_id,
                MailMessage.direction == "outbound",
            )
        )
    addresses = list(bounce.addresses)
    if original is not None:
        original.status, original.error = "bounced", bounce.reason[:300]
        row.ticket_id, row.customer_id = original.ticket_id, original.customer_id
        if not addresses:
            addresses = [a.lower() for a in original.to_addresses]
        if original.comment_id is not None:
            tickets.record_delivery(
                session, channel="email", ref=original.message_id, status="bounced"
            )
    for address in addresses:
        _mark_address(session, address[:254], bounce.reason[:300])
        for customer_id in _customers_of(session, address):
            row.customer_id = row.customer_id or customer_id
            timeline.append(
                session,
                customer_id=customer_id,
                kind="email_bounced",
                ticket_id=row.ticket_id,
                subject_type="mail_message",
                subject_id=row.id,
                summary=f"E-mail to {address} bounced: {bounce.reason}",
                data={"direction": "inbound", "address": address},
            )
