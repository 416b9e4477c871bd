"""Supervisors' and customer-value API: roles, validation errors naming the field, CSV."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.supervision import calllog
from helpdesk.value.models import CustomerValue
from telephony import agent_presence, calls, offers
from telephony.models import Call, CallQueue


@pytest.fixture
def queues(app):
    db.session.add_all([CallQueue(name="support", skills={}), CallQueue(name="billing", skills={})])
    db.session.commit()


def _waiting_call(n=1):
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


def test_wallboard_needs_a_supervisor(api_as, queues):
    assert api_as(Role.AGENT).get("/wallboard").status_code == 403
    r = api_as(Role.SUPERVISOR).get("/wallboard")
    assert r.status_code == 200
    body = r.get_json()
    assert {q["queue"] for q in body["queues"]} == {"support", "billing"}
    assert body["agent_states"]["available"] == 0 and body["threshold_s"] == 20


def test_move_a_waiting_call(api_as, queues):
    call = _waiting_call()
    sup = api_as(Role.SUPERVISOR)
    bad = sup.post(f"/calls/{call.id}/move", json={"queue": "nowhere"})
    assert bad.status_code == 422 and "queue" in bad.get_json()["error"]["fields"]
    r = sup.post(f"/calls/{call.id}/move", json={"queue": "billing"})
    assert r.status_code == 200 and r.get_json()["queue"] == "billing"
    assert sup.post(f"/calls/{call.id}/move", json={"queue": "billing"}).status_code == 409
    wall = sup.get("/wallboard").get_json()
    waiting = {q["queue"]: q["waiting"] for q in wall["queues"]}
    assert waiting == {"billing": 1, "support": 0}
    assert sup.post("/calls/999/move", json={"queue": "billing"}).status_code == 404


def test_supervisor_sets_an_agent_state(api_as, make_user, queues):
    agent = make_user(Role.AGENT)
    sup = api_as(Role.SUPERVISOR)
    r = sup.put(f"/agents/{agent.id}/presence", json={"state": "break", "reason": "coaching"})
    assert r.status_code == 200 and r.get_json() == {
        "user_id": agent.id,
        "state": "break",
        "reason": "coaching",
    }
    bad = sup.put(f"/agents/{agent.id}/presence", json={"state": "asleep"})
    assert bad.status_code == 422 and "state" in bad.get_json()["error"]["fields"]
    assert (
        api_as(Role.AGENT)
        .put(f"/agents/{agent.id}/presence", json={"state": "offline"})
        .status_code
        == 403
    )
    wall = sup.get("/wallboard").get_json()
    assert [(a["id"], a["state"]) for a in wall["agents"]] == [(agent.id, "break")]


def test_monitoring_a_call_the_simulator_does_not_carry_is_unavailable(
    api_as, make_user, queues, app
):
    agent = make_user(Role.AGENT, languages=["fr", "en"])
    agent_presence.set_presence(db.session, user=agent, state="available")
    call = _waiting_call()
    offers.accept(
        db.session, user=agent, call_id=call.id, gateway=app.extensions["telephony_gateway"]
    )
    sup = api_as(Role.SUPERVISOR)
    r = sup.post(f"/calls/{call.id}/monitor", json={"mode": "listen"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "monitoring_unavailable"
    bad = sup.post(f"/calls/{call.id}/monitor", json={"mode": "spy"})
    assert bad.status_code == 422 and "mode" in bad.get_json()["error"]["fields"]


def test_twilio_monitor_adds_a_conference_participant():
    from helpdesk.supervision.monitoring import MODES, MonitoringUnavailable
    from telephony.monitoring import TwilioMonitor

    created = []

    class Participants:
        def create(self, **kw):
            created.append(kw)
            return type("P", (), {"call_sid": "CAsupervisor"})()

    class Client:
        def conferences(self, name):
            created.append(name)
            return type("C", (), {"participants": Participants()})()

    monitor = TwilioMonitor(Client(), "+33100000000")
    leg = monitor.join(
        call_sid="CA1", supervisor_endpoint="client:agent-3", mode="listen", agent_call_sid="CA2"
    )
    assert leg == "CAsupervisor" and created[0] == "call-CA1"
    assert created[1]["muted"] is True and created[1]["to"] == "client:agent-3"
    # No agent leg recorded: the call is in no conference, and joining would open an empty one.
    for mode in MODES:
        with pytest.raises(MonitoringUnavailable):
            monitor.join(
                call_sid="CA1", supervisor_endpoint="client:agent-3", mode=mode, agent_call_sid=None
            )
    assert len(created) == 2


def test_call_report_json_csv_and_errors(api_as, queues):
    _waiting_call()
    db.session.expire_all()
    call = db.session.scalar(select(Call))
    calllog.record(db.session, "abandoned", call_id=call.id, queue="support", wait_s=42.0)
    db.session.commit()
    day = calllog.day_and_slot(call.created_at)[0]
    sup = api_as(Role.SUPERVISOR)
    r = sup.get(f"/reports/calls?start={day}&end={day}&by=queue")
    assert r.status_code == 200
    row = r.get_json()["rows"][0]
    assert row["key"] == "support" and row["entered"] == 1 and row["abandoned"] == 1
    assert row["abandon_rate"] == 1.0 and row["service_level"] is None
    csv = sup.get(f"/reports/calls?start={day}&end={day}&by=interval&format=csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("interval,entered,answered") and lines[-1].startswith("total,1,0")
    bad = sup.get(f"/reports/calls?start={day}&end=2000-01-01")
    assert bad.status_code == 422
    assert sup.get(f"/reports/calls?start={day}&end={day}&by=weekday").status_code == 422
    assert api_as(Role.AGENT).get(f"/reports/calls?start={day}&end={day}").status_code == 403


CSV = """number;customer;amount;currency;issued_on;due_on;paid_on
F-1;{cid};9000,00;EUR;{d1};{d2};{d2}
F-2;best@example.com;1 200,50;eur;{d1};{d2};
F-3;nobody@example.com;10;EUR;{d1};{d2};
F-4;{cid};ten;EUR;{d1};{d2};
"""


def test_invoice_import_reports_non_numbers_per_line(api_as, customer_factory):
    """`NaN` parses as a decimal and then fails every comparison: it was a 500 for the file."""
    best = customer_factory(name="Best", emails=["best@example.com"])
    amounts = ["NaN", "sNaN", "Infinity", "-inf", "1e999"]
    lines = [f"F-{i};{best.id};{a};EUR;2026-01-01;2026-02-01;" for i, a in enumerate(amounts)]
    text = "number;customer;amount;currency;issued_on;due_on;paid_on\n" + "\n".join(lines)
    admin = api_as(Role.ADMIN)
    r = admin.client.post(
        "/api/v1/invoices/import",
        data=text.encode(),
        headers={**admin._headers(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422, r.get_data(as_text=True)  # no line can be imported
    fields = r.get_json()["error"]["fields"]
    assert sorted(fields) == [f"line {n}.amount" for n in range(2, 2 + len(amounts))]


def test_invoice_import_recompute_and_router_priority(api_as, customer_factory, queues):
    best = customer_factory(name="Best", emails=["best@example.com"])
    today = date.today()
    text = CSV.format(
        cid=best.id, d1=(today - timedelta(days=40)).isoformat(), d2=(today - timedelta(days=10))
    )
    admin = api_as(Role.ADMIN)
    r = admin.client.post(
        "/api/v1/invoices/import",
        data=text.encode(),
        headers={**admin._headers(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["created"] == 2 and body["updated"] == 0
    assert {(e["line"], e["field"]) for e in body["errors"]} == {(5, "amount"), (4, "customer")}
    again = admin.client.post(
        "/api/v1/invoices/import",
        data=text.encode(),
        headers={**admin._headers(), "Content-Type": "text/csv"},
    )
    assert again.get_json()["created"] == 0 and again.get_json()["updated"] == 0
    wrong = admin.client.post("/api/v1/invoices/import", data=b"x", headers=admin._headers())
    assert wrong.status_code == 415
    j = admin.post(
        "/invoices",
        json={
            "invoices": [
                {
                    "number": "F-9",
                    "customer": str(best.id),
                    "amount": -1,
                    "issued_on": "2026-01-01",
                    "due_on": "2026-01-31",
                }
            ]
        },
    )
    assert j.status_code == 422 and "invoices.0.amount" in j.get_json()["error"]["fields"]

    # The only paying customer is in the top fifth of paying customers: best, and new.
    assert admin.post("/value/recompute").get_json()["segments"] == {"best": 1}
    value = admin.get(f"/customers/{best.id}/value").get_json()
    assert value["revenue_cents"] == 1_020_050 and value["segment"] == "best"
    assert value["signals"] == [
        {"code": "top_revenue", "value": 1_020_050, "decisive": True},
        {"code": "new_customer", "value": 1_020_050, "decisive": False},
    ]
    assert admin.get("/customers/999999/value").status_code == 404
    report = api_as(Role.SUPERVISOR).get("/value/report").get_json()
    assert report["segments"][0]["segment"] == "best" and report["best"][0]["name"] == "Best"

    # The router reads the segment: a best customer's call is served first.
    assert db.session.get(CustomerValue, best.id).segment == "best"
    call, _ = calls.upsert_inbound(
        db.session,
        inbound=calls.InboundCall(
            call_sid="CA" + "7" * 32,
            from_number=best.phones[0].e164 if best.phones else "+33612000001",
            to_number="+331",
        ),
        region="FR",
    )
    calls.enqueue(
        db.session, call=call, queue=db.session.scalar(select(CallQueue).filter_by(name="support"))
    )
    db.session.expire_all()
    assert db.session.get(Call, call.id).priority == 30
