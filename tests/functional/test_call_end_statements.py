"""The completed status callback of an answered call, on SQLite and PostgreSQL: the call read
and locked, the agent put in wrap-up, the call's changes and both call-log rows (the call
completed, the agent's wrap-up) in one flush (one INSERT on PostgreSQL), the customer locked
with their tags in one select, the recent survey looked for after the lock, the timeline
entry. A customer known only by their number (a record made from an unknown caller) is not
surveyed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.customers.models import CustomerTag
from helpdesk.extensions import db
from helpdesk.supervision.models import CallEvent
from helpdesk.surveys.models import Survey
from telephony import agent_presence, calls, offers
from telephony.models import Call, CallQueue
from tests.statements import statements

MOBILE = "+33612345001"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim(app: Any) -> Any:
    return app.extensions["telephony_simulator"]


@pytest.fixture
def agent(app: Any, make_user: Any) -> Any:
    db.session.add(CallQueue(name="support", skills={"support": 1}, callback_after_s=0))
    db.session.commit()
    return make_user(Role.AGENT, skills={"support": 3}, languages=["fr", "en"])


def _answered(app: Any, sim: Any, agent: Any, number: str) -> Call:
    agent_presence.set_presence(db.session, user=agent, state="available")
    call = sim.call(number, digits="1")
    row = db.session.scalar(select(Call).where(Call.call_sid == call.call_sid))
    assert row is not None and row.agent_id == agent.id
    offers.accept(
        db.session, user=agent, call_id=row.id, gateway=app.extensions["telephony_gateway"]
    )
    return row


def _surveys(customer_id: int) -> int:
    return int(
        db.session.scalar(select(func.count(Survey.id)).where(Survey.customer_id == customer_id))
        or 0
    )


def test_an_answered_call_ends_in_seven_statements_on_postgresql(
    app: Any, sim: Any, agent: Any, customer_factory: Any, backend: str
) -> None:
    customer = customer_factory(language="en", phones=[MOBILE])
    first = _answered(app, sim, agent, MOBILE)
    calls.apply_status(db.session, call_sid=first.call_sid, status="completed")
    assert _surveys(customer.id) == 1
    agent_presence.set_presence(db.session, user=agent, state="available")

    second = _answered(app, sim, agent, MOBILE)
    sid = second.call_sid
    db.session.expire_all()  # as a webhook's request starts: nothing loaded
    with statements() as seen:
        calls.apply_status(db.session, call_sid=sid, status="completed")
    sent = [s for s in seen if s.split()[0] not in ("BEGIN", "COMMIT")]
    # Both call-log rows in one INSERT on PostgreSQL; SQLite's driver sends one per row.
    inserts = 1 if backend == "postgresql" else 2
    assert len(sent) == 6 + inserts, "\n".join(sent)
    assert len([s for s in sent if s.startswith("INSERT INTO call_events")]) == inserts
    assert len([s for s in sent if "customer_tags" in s]) == 1  # with the customer's lock

    last_two = db.session.execute(
        select(CallEvent.event, CallEvent.call_id, CallEvent.data)
        .order_by(CallEvent.id.desc())
        .limit(2)
    ).all()
    wrap_up, completed = last_two
    assert (completed.event, completed.call_id) == ("completed", second.id)
    assert (wrap_up.event, wrap_up.data["to"]) == ("agent_state", "wrap_up")
    assert _surveys(customer.id) == 1  # asked once in the period


def test_a_caller_known_only_by_their_number_is_not_surveyed(
    app: Any, sim: Any, agent: Any
) -> None:
    row = _answered(app, sim, agent, "+33698765432")
    assert row.customer_id is not None
    tags = set(
        db.session.scalars(
            select(CustomerTag.tag).where(CustomerTag.customer_id == row.customer_id)
        )
    )
    assert "new-caller" in tags
    calls.apply_status(db.session, call_sid=row.call_sid, status="completed")
    assert _surveys(row.customer_id) == 0
    assert sim.inbox("+33698765432") == []
