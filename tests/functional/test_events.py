"""Events leave only after the transaction commits, and nothing leaves for a rollback."""

from __future__ import annotations

import pytest

from helpdesk import events
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.tickets import service


def test_published_only_after_commit(app, recorded, customer_factory):
    c = customer_factory()
    recorded.clear()
    ticket = service.create(db.session, actor=None, subject="x", requester_id=c.id, commit=False)
    assert recorded.events == []  # flushed, not committed: nothing may describe it yet
    db.session.commit()
    assert [e.name for e in recorded.events] == ["ticket.created"]
    assert recorded.events[0].payload["ticket_id"] == ticket.id


def test_nothing_published_for_a_rollback(app, recorded, customer_factory):
    c = customer_factory()
    recorded.clear()
    service.create(db.session, actor=None, subject="x", requester_id=c.id, commit=False)
    db.session.rollback()
    db.session.commit()
    assert recorded.events == []


def test_failed_service_call_publishes_nothing(app, recorded, ticket_factory):
    ticket = ticket_factory()
    recorded.clear()
    with pytest.raises(ValidationFailed):
        service.update(db.session, ticket, actor=None, status="closed")
    db.session.rollback()
    db.session.commit()
    assert recorded.events == []


def test_on_commit_callbacks(app):
    ran: list[str] = []
    events.on_commit(db.session, lambda: ran.append("a"))
    db.session.rollback()
    db.session.commit()
    assert ran == []
    events.on_commit(db.session, lambda: ran.append("b"))
    db.session.commit()
    assert ran == ["b"]


def test_backend_failure_does_not_fail_the_request(app, customer_factory, caplog):
    class Broken:
        def emit(self, evt):
            raise ConnectionError("socket server away")

    app.extensions["helpdesk_events"] = Broken()
    ticket = service.create(db.session, actor=None, subject="x", requester_id=customer_factory().id)
    assert ticket.id
    assert "failed to emit ticket.created" in caplog.text


def test_socketio_backend_emits_once_to_all_the_rooms():
    sent = []

    class FakeSocketIO:
        def emit(self, name, payload, to, namespace):
            sent.append((name, to, namespace, payload))

    backend = events.SocketIOBackend(FakeSocketIO())
    backend.emit(events.Event("ticket.updated", ("staff", "ticket:3"), {"ticket_id": 3}))
    backend.emit(events.Event("call.offer", ("user:4",), {"call_id": 1}))
    backend.emit(events.Event("nowhere", (), {}))
    assert sent == [
        ("ticket.updated", ["staff", "ticket:3"], "/agents", {"ticket_id": 3}),
        ("call.offer", "user:4", "/agents", {"call_id": 1}),
    ]


def test_a_savepoint_does_not_release_events_early(app, recorded):
    """Releasing a savepoint is not a commit: what was queued waits for the outer commit."""
    recorded.clear()
    events.publish(db.session, "first", ["staff"], {"n": 1})
    nested = db.session.begin_nested()
    events.publish(db.session, "inside", ["staff"], {"n": 2})
    nested.commit()
    assert recorded.events == []
    db.session.commit()
    assert [e.name for e in recorded.events] == ["first", "inside"]


def test_a_rolled_back_savepoint_drops_only_its_own_events(app, recorded):
    recorded.clear()
    events.publish(db.session, "kept", ["staff"], {})
    nested = db.session.begin_nested()
    events.publish(db.session, "undone", ["staff"], {})
    events.on_commit(db.session, lambda: events.publish_now("undone_callback", ["staff"], {}))
    nested.rollback()
    after = db.session.begin_nested()
    events.publish(db.session, "after", ["staff"], {})
    after.commit()
    db.session.commit()
    assert [e.name for e in recorded.events] == ["kept", "after"]


def test_a_failed_flush_inside_a_savepoint_keeps_earlier_events(app, recorded, customer_factory):
    """The usual "try the insert in a savepoint, catch the duplicate" keeps what came before."""
    from sqlalchemy.exc import IntegrityError

    from helpdesk.customers.models import CustomerTag

    customer = customer_factory()
    recorded.clear()
    events.publish(db.session, "kept", ["staff"], {})
    try:
        with db.session.begin_nested():
            events.publish(db.session, "undone", ["staff"], {})
            db.session.add(CustomerTag(customer_id=customer.id, tag="dup"))
            db.session.add(CustomerTag(customer_id=customer.id, tag="dup"))
            db.session.flush()
    except IntegrityError:
        pass
    db.session.commit()
    assert [e.name for e in recorded.events] == ["kept"]
