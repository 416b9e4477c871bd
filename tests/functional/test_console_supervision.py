"""Supervisors' console pages: wallboard, call reports with CSV, staffing, customer value."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.supervision import calllog, live
from helpdesk.value import service as value_service
from telephony import agent_presence, calls
from telephony.models import CallQueue
from tests.functional.test_console import SessionPerRequestClient, sign_in


@pytest.fixture
def client(app: Flask):
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def signed_in(client, make_user):
    def sign(role, **kwargs):
        user = make_user(role, **kwargs)
        assert sign_in(client, user).status_code == 302
        client.user = user
        return client

    return sign


@pytest.fixture
def queues(app):
    db.session.add_all(
        [
            CallQueue(name="support", label_en="Support", label_fr="Assistance", skills={}),
            CallQueue(name="billing", label_en="Billing", label_fr="Facturation", skills={}),
        ]
    )
    db.session.commit()


def _waiting(n=1):
    call, _ = calls.upsert_inbound(
        db.session,
        inbound=calls.InboundCall(
            call_sid=f"CA{n:032d}", from_number="+33612345678", to_number="+331"
        ),
        region="FR",
    )
    calls.enqueue(
        db.session, call=call, queue=db.session.scalar(select(CallQueue).filter_by(name="support"))
    )
    return call


def test_pages_are_for_supervisors(signed_in, queues):
    client = signed_in(Role.AGENT)
    for path in ("/wallboard", "/reports/calls", "/staffing", "/value", "/wallboard/snapshot"):
        assert client.get(path).status_code == 403, path


def test_wallboard_shows_live_figures_and_moves_a_call(signed_in, queues, make_user):
    agent = make_user(Role.AGENT, name="Zoé <b>Martin</b>")
    agent_presence.set_presence(db.session, user=agent, state="break", reason="lunch")
    call = _waiting()
    client = signed_in(Role.SUPERVISOR)
    page = client.get("/wallboard").get_data(as_text=True)
    assert ">Support</h3>" in page and ">Billing</h3>" in page
    assert "Zoé &lt;b&gt;Martin&lt;/b&gt;" in page and "<b>Martin" not in page
    assert 'data-queue="support"' in page and "Calls waiting" in page
    assert "need Twilio" not in page  # the simulator carries listening in too (issue 21)
    snap = client.get("/wallboard/snapshot").get_json()
    assert [c["id"] for c in snap["waiting"]] == [call.id]
    r = client.post(
        f"/wallboard/calls/{call.id}/move",
        data={"queue": "billing"},
        headers={"Accept": "application/json"},
    )
    assert r.get_json() == {"ok": True, "message": "The call was moved."}
    r = client.post(
        f"/wallboard/calls/{call.id}/move",
        data={"queue": "billing"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 409
    r = client.post(
        f"/wallboard/agents/{agent.id}/state",
        data={"state": "available"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200
    r = client.post(
        f"/wallboard/agents/{agent.id}/state",
        data={"state": "nonsense"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422
    wall = client.get("/wallboard/snapshot").get_json()
    billing = next(q for q in wall["queues"] if q["queue"] == "billing")
    assert billing["waiting"] in (0, 1)  # offered at once to the agent now available


def test_a_caller_ringing_at_an_agent_is_still_listed_as_waiting(signed_in, queues, make_user):
    """The queue's figures count a caller as waiting until someone answers; the list shows
    them too, with the agent it rings (and no move: the offer holds the call)."""
    from telephony import offers

    call = _waiting()
    agent = make_user(Role.AGENT, name="Zoé <b>Martin</b>", languages=["fr", "en"])
    agent_presence.set_presence(db.session, user=agent, state="available")
    offers.dispatch(db.session)
    db.session.expire_all()
    assert call.routing_state == "offered" and call.agent_id == agent.id
    client = signed_in(Role.SUPERVISOR)
    snap = client.get("/wallboard/snapshot").get_json()
    assert [(c["id"], c["ringing"]) for c in snap["waiting"]] == [(call.id, "Zoé <b>Martin</b>")]
    page = client.get("/wallboard").get_data(as_text=True)
    assert "Ringing at Zoé &lt;b&gt;Martin&lt;/b&gt;" in page and "<b>Martin" not in page
    assert f"/wallboard/calls/{call.id}/move" not in page


def test_an_alert_names_the_queue_as_its_tile_does(signed_in, queues, monkeypatch):
    from helpdesk.supervision import service as supervision

    real = supervision.wallboard

    def alerting(session):  # type: ignore[no-untyped-def]
        return {**real(session), "alerts": {"support": ["service_level"]}}

    monkeypatch.setattr(supervision, "wallboard", alerting)
    page = signed_in(Role.SUPERVISOR, locale="fr").get("/wallboard").get_data(as_text=True)
    assert "Niveau de service sous l\u2019objectif dans Assistance" in page
    assert 'data-alert-queue="support"' in page  # the live update replaces it


def test_wallboard_in_french(signed_in, queues):
    client = signed_in(Role.SUPERVISOR, locale="fr")
    page = client.get("/wallboard").get_data(as_text=True)
    assert (
        ">Assistance</h3>" in page and "Appels en attente" in page and "Niveau de service" in page
    )


def test_call_report_table_chart_and_csv(signed_in, queues):
    call = _waiting()
    calllog.record(db.session, "abandoned", call_id=call.id, queue="support", wait_s=5.0)
    db.session.commit()
    day = live.local_today()
    client = signed_in(Role.SUPERVISOR)
    page = client.get(f"/reports/calls?start={day}&end={day}&by=queue").get_data(as_text=True)
    assert "data-chart=" in page and '<th scope="row">Support</th>' in page
    csv = client.get(f"/reports/calls.csv?start={day}&end={day}&by=queue")
    lines = csv.get_data(as_text=True).splitlines()
    assert csv.mimetype == "text/csv" and lines[0].startswith("Queue,entered")
    assert lines[1].startswith("Support,1,0,0,1")
    bad = client.get(f"/reports/calls?start={day}&end=2000-01-01").get_data(as_text=True)
    assert "must not be before" in bad
    empty = client.get("/reports/calls?start=2001-01-01&end=2001-01-02").get_data(as_text=True)
    assert "No call was logged in these days" in empty


def test_staffing_page_answers_the_textbook_example(signed_in):
    client = signed_in(Role.SUPERVISOR)
    page = client.get(
        "/staffing?calls=100&interval_min=30&aht_s=180&answer_within_s=20&service_level=80"
    ).get_data(as_text=True)
    assert 'data-result="agents">14<' in page
    assert 'data-result="service_level">88.8%<' in page
    bad = client.get("/staffing?calls=abc&shrinkage=95").get_data(as_text=True)
    assert "Enter a number." in bad and "Between 0 and 90." in bad
    shrunk = client.get("/staffing?calls=100&shrinkage=30").get_data(as_text=True)
    assert 'data-result="scheduled">20<' in shrunk


def test_value_report_and_customer_page_explain_the_segment(signed_in, customer_factory):
    best = customer_factory(name="Grande Surface")
    costly = customer_factory(name="Petit Client")
    today = date.today()
    rows = [
        value_service.InvoiceRow(
            "A-1", str(best.id), 5_000_000, "EUR", today - timedelta(days=30), today
        ),
        value_service.InvoiceRow(
            "B-1", str(costly.id), 2_000, "EUR", today - timedelta(days=30), today
        ),
    ]
    value_service.import_invoices(db.session, rows)
    from helpdesk.tickets import service as tickets

    for i in range(6):
        tickets.create(db.session, actor=None, subject=f"Again {i}", requester_id=costly.id)
    client = signed_in(Role.SUPERVISOR)
    page = client.get("/value").get_data(as_text=True)
    assert "No customer value yet" in page
    client.post("/value/recompute")
    page = client.get("/value").get_data(as_text=True)
    assert "Grande Surface" in page and "Petit Client" in page
    assert "in the top fifth of paying customers" in page
    assert "Serving them costs" in page
    card = client.get(f"/customers/{costly.id}").get_data(as_text=True)
    assert "Why this segment" in card and "Costly" in card
