"""The caller screen: complete, bounded, and built with a fixed number of queries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.timeline.models import TimelineEntry
from telephony import agent_presence, calls
from telephony.models import Call, CallQueue
from telephony.screen import screen


def _call(customer_id):
    call = Call(
        call_sid=f"CA{customer_id:032d}",
        from_number="+33612345678",
        customer_id=customer_id,
        language="fr",
        ivr_path=["menu:1:queue"],
        status="in-progress",
        routing_state="waiting",
        enqueued_at=datetime.now(UTC) - timedelta(seconds=42),
        created_at=datetime.now(UTC),
    )
    db.session.add(call)
    db.session.commit()
    return call


def _queries(fn):
    seen = []

    def listener(*args):
        if not args[2].startswith("BEGIN"):
            seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return result, len(seen)


def test_screen_is_complete_bounded_and_constant_cost(app, customer_factory, ticket_factory):
    small = customer_factory(name="Petit", tags=["vip"])
    ticket_factory(requester_id=small.id)
    big = customer_factory(name="Grand")
    for i in range(15):
        ticket_factory(requester_id=big.id, subject=f"Problème {i}")
    base = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.execute(
        insert(TimelineEntry),
        [
            {
                "customer_id": big.id,
                "kind": "sms",
                "summary": "x" * 300,
                "occurred_at": base + timedelta(minutes=i),
                "data": {},
                "subject_type": "",
            }
            for i in range(3000)
        ],
    )
    db.session.commit()
    small_call, big_call = _call(small.id), _call(big.id)
    db.session.expire_all()
    small_screen, small_queries = _queries(lambda: screen(db.session, small_call))
    db.session.expire_all()
    big_screen, big_queries = _queries(lambda: screen(db.session, big_call))
    assert small_queries == big_queries, (small_queries, big_queries)
    assert small_screen["customer"]["flags"] == ["vip"]
    assert small_screen["waited_s"] >= 42 and small_screen["ivr_path"] == ["menu:1:queue"]
    assert len(big_screen["open_tickets"]) == 10 and len(big_screen["timeline"]) == 20
    assert big_screen["timeline_next"] and big_screen["history"]["tickets"] == 15
    assert big_screen["history"]["calls"] == 1 and small_screen["history"] == {
        "tickets": 1,
        "calls": 1,
    }
    assert small_screen["value"] is None and small_screen["customer"]["segment"] is None
    assert len(json.dumps(big_screen)) < 32_000


def test_state_snapshot_restores_a_ringing_offer(app, api_as, customer_factory):
    agent = api_as(Role.AGENT, skills={"support": 2}, languages=["fr"])
    db.session.add(CallQueue(name="support", skills={"support": 1}))
    db.session.commit()
    customer = customer_factory(name="Sonnerie")
    call = _call(customer.id)
    call.routing_state = "none"
    db.session.commit()
    agent_presence.set_presence(db.session, user=agent.user, state="available")
    calls.enqueue(db.session, call=call, queue=calls.queue_by_name(db.session, name="support"))
    state = agent.get("/agents/me/state").get_json()
    assert "presence" in state, state
    assert state["presence"]["state"] == "reserved"
    assert state["ringing"]["call_sid"] == call.call_sid
    assert state["ringing"]["customer"]["name"] == "Sonnerie" and state["ringing"]["expires_at"]
    assert state["current_call"] is None
