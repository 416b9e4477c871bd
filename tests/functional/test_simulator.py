"""End-to-end calls through the built-in simulator: the app's webhooks, TwiML and gateway."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.timeline.models import TimelineEntry
from telephony import agent_presence, offers
from telephony.models import AgentPresence, Call, CallQueue


def said(call, text: str) -> bool:
    return any(text in line for line in call.transcript)


@pytest.fixture
def sim(app):
    db.session.add_all(
        [
            CallQueue(name="support", skills={"support": 1}, callback_after_s=0),
            CallQueue(name="billing", skills={"billing": 2}),
        ]
    )
    db.session.commit()
    return app.extensions["telephony_simulator"]


def _available_agent(make_user):
    agent = make_user(Role.AGENT, skills={"support": 3}, languages=["fr", "en"], name="Amélie")
    agent_presence.set_presence(db.session, user=agent, state="available")
    return agent


def test_answered_call_lands_on_the_timeline(app, sim, make_user, customer_factory):
    customer = customer_factory(name="Hugo", language="fr", phones=["+33611111111"])
    agent = _available_agent(make_user)
    call = sim.call("+33611111111", digits="1")
    assert call.state == "queued"
    assert said(call, "Bienvenue au service client.") and said(call, "Vous êtes en position")
    row = db.session.scalar(select(Call).where(Call.call_sid == call.call_sid))
    assert row.routing_state == "offered" and row.agent_id == agent.id
    offers.accept(
        db.session, user=agent, call_id=row.id, gateway=app.extensions["telephony_gateway"]
    )
    assert call.state == "connected" and call.bridged_to == f"agent-{agent.id}"
    sim.hang_up(call.call_sid)
    db.session.expire_all()
    row = db.session.get(Call, row.id)
    assert row.outcome == "answered" and row.status == "completed"
    assert row.ivr_path == ["menu:1:queue"]
    assert db.session.get(AgentPresence, agent.id).state == "wrap_up"
    kinds = db.session.scalars(
        select(TimelineEntry.kind).where(TimelineEntry.customer_id == customer.id)
    ).all()
    assert kinds == ["call"]


def test_unknown_caller_picks_english_and_abandons(sim):
    call = sim.call("+14155552671", digits="21")
    assert said(call, "For support, press 1.")
    assert call.state == "queued"
    sim.hang_up(call.call_sid)
    row = db.session.scalar(select(Call).where(Call.call_sid == call.call_sid))
    db.session.refresh(row)
    assert row.language == "en" and row.outcome == "abandoned" and row.wait_seconds is not None


def test_callback_keeps_the_place_and_dials_back(app, sim, make_user, customer_factory):
    customer_factory(name="Zoé", language="fr", phones=["+33622222222"])
    call = sim.call("+33622222222", digits="11")  # support, then "call me back" while holding
    assert call.state == "completed"
    assert said(call, "nous vous rappellerons")
    row = db.session.scalar(select(Call).where(Call.call_sid == call.call_sid))
    db.session.refresh(row)
    assert row.routing_state == "waiting" and row.callback_requested
    agent = _available_agent(make_user)
    db.session.expire_all()
    row = db.session.get(Call, row.id)
    assert row.agent_id == agent.id
    outbound = offers.accept(
        db.session, user=agent, call_id=row.id, gateway=app.extensions["telephony_gateway"]
    )
    assert outbound.direction == "outbound" and outbound.to_number == "+33622222222"
    back, agent_id = sim.calls[outbound.call_sid], agent.id
    # End this test's read transaction: on SQLite every transaction holds the write lock, and
    # the customer answering posts a webhook from another thread.
    db.session.rollback()
    import time

    deadline = time.monotonic() + 5
    while back.state != "connected" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert back.bridged_to == f"agent-{agent_id}", back.transcript


def test_voicemail_from_the_menu(sim, customer_factory):
    customer_factory(name="Inès", language="fr", phones=["+33633333333"])
    call = sim.call("+33633333333", digits="9")
    assert call.state == "completed"
    assert said(call, "Merci, votre message a bien été enregistré.")
    row = db.session.scalar(select(Call).where(Call.call_sid == call.call_sid))
    db.session.refresh(row)
    assert row.outcome == "voicemail" and row.ticket_id and row.recording_url


def test_after_hours_goes_to_voicemail(sim, customer_factory):
    from helpdesk.sla.models import CalendarModel

    db.session.add(CalendarModel(name="Closed", timezone="UTC", weekly={}, is_default=True))
    db.session.commit()
    customer_factory(name="Noé", language="fr", phones=["+33644444444"])
    call = sim.call("+33644444444")
    assert said(call, "Nos bureaux sont actuellement fermés.")
    row = db.session.scalar(select(Call).where(Call.call_sid == call.call_sid))
    db.session.refresh(row)
    assert row.outcome == "voicemail" and row.ivr_path == ["closed"]


def test_simulator_api(api, sim, customer_factory):
    customer_factory(name="Léo", language="fr", phones=["+33655555555"])
    r = api.post("/simulator/calls", json={"from": "+33655555555", "digits": "9"})
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["call_sid"]
    body = api.get(f"/simulator/calls/{sid}").get_json()
    assert body["state"] == "completed" and "[beep] [a 12-second message]" in body["transcript"]
    assert api.post("/simulator/calls", json={"from": "+3365", "digits": "x"}).status_code == 422
    assert api.get("/simulator/calls/CAnope").status_code == 404


def test_click_to_call(app, api, sim, customer_factory):
    import time

    customer = customer_factory(name="Jules", phones=["+33666666666"])
    r = api.post("/calls", json={"to": "06 66 66 66 66"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["direction"] == "outbound" and body["customer_id"] == customer.id
    assert body["to_number"] == "+33666666666"
    sid, agent_id = body["call_sid"], api.user.id
    db.session.rollback()
    deadline = time.monotonic() + 5
    while sim.calls[sid].state != "connected" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.calls[sid].bridged_to == f"agent-{agent_id}"
    assert api.post("/calls", json={"to": "+33677777777"}).status_code == 409  # on a call
    sim.hang_up(sid)
    db.session.expire_all()
    row = db.session.scalar(select(Call).where(Call.call_sid == sid))
    assert row.outcome == "answered"
    assert db.session.get(AgentPresence, agent_id).state == "wrap_up"


def test_click_to_call_bad_number(api, sim):
    r = api.post("/calls", json={"to": "not a number"})
    assert r.status_code == 422 and "to" in r.get_json()["error"]["fields"]
