"""Ticket merge takes every row that names the duplicate along (comments, calls, texts, e-mails,
files, visits, timeline); a bulk change of 500 tickets is quick, written in a bounded number of
statements, and its undo restores them."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select

from helpdesk.auth.models import Role
from helpdesk.dispatch.models import WorkOrder
from helpdesk.extensions import db
from helpdesk.mail.models import Attachment, MailMessage
from helpdesk.tickets import service, ticket_bulk, ticket_merge
from helpdesk.tickets.bulk_rules import BulkSet
from helpdesk.tickets.models import BulkChange, Comment, Ticket, TicketChange
from helpdesk.tickets.workflow import Status
from helpdesk.timeline.models import TimelineEntry
from telephony.models import Call, SmsMessage


@contextmanager
def count_statements():
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _count(model: Any, ticket_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(model).where(model.ticket_id == ticket_id)
        )
    )


def test_merge_moves_every_row_that_names_the_duplicate(
    app, make_user, customer_factory, ticket_factory
):
    agent = make_user(Role.AGENT)
    customer = customer_factory(emails=["zoe@example.com"], phones=[])
    dup = ticket_factory(requester_id=customer.id)
    target = ticket_factory(requester_id=customer.id)
    service.add_comment(db.session, dup, body="It blinks red", author_customer_id=customer.id)
    db.session.add_all(
        [
            Call(call_sid="CA-merge-1", customer_id=customer.id, ticket_id=dup.id),
            SmsMessage(
                direction="inbound",
                from_number="+33612345679",
                to_number="+33100000000",
                body="still down",
                ticket_id=dup.id,
            ),
            MailMessage(
                message_id="merge-1@example.com",
                direction="inbound",
                from_address="zoe@example.com",
                ticket_id=dup.id,
            ),
            Attachment(
                filename="photo.png",
                content_type="image/png",
                size=10,
                sha256="0" * 64,
                storage_key="k/merge",
                ticket_id=dup.id,
            ),
            WorkOrder(
                ticket_id=dup.id,
                customer_id=customer.id,
                summary="Visit",
                address="1 rue de la Paix",
                lat=48.8,
                lon=2.3,
                window_start=datetime(2026, 12, 8, 8, tzinfo=UTC),
                window_end=datetime(2026, 12, 8, 10, tzinfo=UTC),
                day="2026-12-08",
            ),
        ]
    )
    db.session.commit()
    dup_id, target_id = dup.id, target.id
    reference = target.reference

    done = ticket_merge.merge(db.session, source=dup, target=target, actor=agent)

    assert done.moved["comments"] == 1
    for name in ("calls", "texts", "e-mails", "files", "visits"):
        assert done.moved[name] == 1, name
    for model in (Call, SmsMessage, MailMessage, Attachment, WorkOrder):
        assert _count(model, target_id) == 1, model.__name__
    for model in (Call, SmsMessage, Attachment, WorkOrder):
        assert _count(model, dup_id) == 0, model.__name__
    # What stays on the duplicate is the notice it sent: where the request continues.
    notice = db.session.scalars(select(MailMessage).where(MailMessage.ticket_id == dup_id)).one()
    assert notice.direction == "outbound" and reference in notice.body_text
    assert "It blinks red" in [
        c.body for c in db.session.scalars(select(Comment).where(Comment.ticket_id == target_id))
    ]
    assert _count(TimelineEntry, target_id) >= 2  # both tickets' creation, and the merge
    # The customer was told by e-mail on the duplicate.
    assert done.notice_channel == "email" and done.notice_to == "zoe@example.com"
    source = db.session.get(Ticket, dup_id)
    assert source.status is Status.CLOSED and source.merged_into_id == target_id


def test_bulk_status_on_500_tickets_is_quick_and_undoable(app, make_user, customer_factory):
    agent = make_user(Role.AGENT)
    customer = customer_factory()
    for n in range(500):
        service.create(
            db.session, actor=None, subject=f"Bulk {n}", requester_id=customer.id, commit=False
        )
    db.session.commit()
    ids = list(db.session.scalars(select(Ticket.id).where(Ticket.requester_id == customer.id)))
    assert len(ids) == 500

    started = time.perf_counter()
    with count_statements() as statements:
        result = ticket_bulk.apply(
            db.session, actor=agent, ids=ids, wanted=BulkSet(fields={"status": "pending"})
        )
    elapsed = time.perf_counter() - started

    assert len(result.changed) == 500 and not result.skipped
    # Generous bound for a shared 2-core machine: the change must stay well under a few
    # seconds, not grow into minutes with per-ticket round trips.
    assert elapsed < 20, elapsed
    # Loading is per batch (200 tickets); per ticket, only what its history needs: the history
    # row, the timeline entry, the SLA clocks (read, then stopped or paused), the webhook outbox.
    # About 1,000 SELECTs for 500 tickets when measured; a per-ticket load would add 500 more.
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) < 3 * 500, len(selects)
    assert (
        db.session.scalar(
            select(func.count()).select_from(TicketChange).where(TicketChange.note == "bulk change")
        )
        == 500
    )
    assert db.session.get(BulkChange, result.change_id) is not None

    undone = ticket_bulk.undo(db.session, actor=agent, change_id=result.change_id)

    assert sorted(undone.restored) == sorted(ids) and not undone.skipped
    statuses = set(
        db.session.scalars(select(Ticket.status).where(Ticket.requester_id == customer.id))
    )
    assert statuses == {Status.NEW}
