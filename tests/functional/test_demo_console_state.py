"""The demo data opens every console in a clean state: the seeded call history is finished and
wrapped up, so no account signs in to a wrap-up form, a call or a ringing offer it never had."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from agents_ui import phone_state
from helpdesk.auth.models import User
from helpdesk.db import utcnow
from helpdesk.extensions import db
from telephony.models import AgentPresence, Call, CallOffer


def test_every_demo_account_opens_with_nothing_to_wrap_up(app):
    from helpdesk import demo

    demo.seed(customers=60, tickets=120, seed=7)
    now = utcnow()
    calls = db.session.scalars(select(Call)).all()
    answered = [c for c in calls if c.outcome == "answered"]
    assert answered, "the demo has a call history"
    # History is over: nothing ends in the future, every answered call has its disposition.
    assert all(c.ended_at is not None and c.ended_at <= now for c in calls)
    assert all(c.routing_state == "done" for c in calls)
    assert [c.id for c in answered if not c.disposition] == []
    assert db.session.scalars(select(CallOffer)).all() == []
    for user in db.session.scalars(select(User)):
        snapshot = phone_state.snapshot(db.session, user)
        assert snapshot["wrap_up"] is None, user.email
        assert snapshot["call"] is None and snapshot["offer"] is None, user.email
        presence = db.session.get(AgentPresence, user.id)
        assert presence is None or presence.state not in ("wrap_up", "on_call", "reserved")
        # Nor even right after their latest seeded call, whatever the hour of the seeding.
        latest = max((c.ended_at for c in answered if c.agent_id == user.id), default=None)
        if latest is not None:
            opened = latest + timedelta(seconds=1)
            assert phone_state._to_wrap_up(db.session, user.id, opened) is None, user.email
