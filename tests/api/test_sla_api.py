from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.tickets.models import TicketChange

WEEKDAYS = {
    d: [["08:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}


def _calendar(admin, **body):
    payload = {
        "name": "Office",
        "timezone": "Europe/Paris",
        "weekly": WEEKDAYS,
        "holiday_country": "FR",
    } | body
    r = admin.post("/sla/calendars", json=payload)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _policy(admin, calendar_id, **body):
    payload = {
        "name": "Standard",
        "calendar_id": calendar_id,
        "targets": {
            p: {"first_response": 3600, "resolution": 8 * 3600}
            for p in ("low", "normal", "high", "urgent")
        },
    } | body
    r = admin.post("/sla/policies", json=payload)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_calendar_crud(api_as):
    admin = api_as(Role.ADMIN)
    cal = _calendar(
        admin,
        exceptions=[
            {
                "kind": "closure",
                "starts_at": "2026-12-24T12:00:00+01:00",
                "ends_at": "2026-12-26T00:00:00+01:00",
                "label": "Christmas Eve afternoon",
            }
        ],
    )
    assert cal["exceptions"][0]["label"] == "Christmas Eve afternoon"
    assert isinstance(cal["open_now"], bool)
    r = admin.put(
        f"/sla/calendars/{cal['id']}",
        json={"name": "Office", "always_open": True, "timezone": "UTC"},
    )
    assert r.status_code == 200 and r.get_json()["open_now"] is True
    assert [c["name"] for c in api_as(Role.AGENT).get("/sla/calendars").get_json()["items"]] == [
        "Office"
    ]
    assert (
        admin.post("/sla/calendars", json={"name": "Office", "always_open": True}).status_code
        == 409
    )
    assert admin.delete(f"/sla/calendars/{cal['id']}").status_code == 204
    assert admin.get(f"/sla/calendars/{cal['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"weekly": {"monday": [["09:00", "10:00"]]}}, "weekly"),
        ({"weekly": {"mon": [["9h", "10h"]]}}, "weekly"),
        ({"holiday_country": "XX"}, "holiday_country"),
        (
            {
                "exceptions": [
                    {
                        "kind": "closure",
                        "starts_at": "2026-12-24T12:00:00",
                        "ends_at": "2026-12-25T12:00:00+01:00",
                    }
                ]
            },
            "exceptions.0.starts_at",
        ),
        (
            {
                "exceptions": [
                    {
                        "kind": "closure",
                        "starts_at": "2026-12-25T12:00:00+01:00",
                        "ends_at": "2026-12-24T12:00:00+01:00",
                    }
                ]
            },
            "exceptions.0.ends_at",
        ),
        (
            {
                "exceptions": [
                    {
                        "kind": "party",
                        "starts_at": "2026-12-24T12:00:00+01:00",
                        "ends_at": "2026-12-25T12:00:00+01:00",
                    }
                ]
            },
            "exceptions.0.kind",
        ),
    ],
)
def test_calendar_validation(api_as, body, field):
    r = api_as(Role.ADMIN).post("/sla/calendars", json={"name": "X"} | body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"], r.get_json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"targets": {"critical": {"resolution": 60}}}, "targets.critical"),
        ({"targets": {"normal": {"lunch": 60}}}, "targets.normal.lunch"),
        ({"targets": {"normal": {"resolution": -5}}}, "targets.normal.resolution"),
        ({"conditions": {"weather": ["rain"]}}, "conditions.weather"),
        ({"escalations": [{"on": "never"}]}, "escalations.0.on"),
        (
            {"escalations": [{"on": "breached", "actions": [{"type": "panic"}]}]},
            "escalations.0.actions.0",
        ),
        (
            {"escalations": [{"on": "breached", "actions": [{"type": "reassign_group"}]}]},
            "escalations.0.actions.0.group_id",
        ),
        ({"calendar_id": 99999}, "calendar_id"),
        ({"at_risk_ratio": 1.5}, "at_risk_ratio"),
    ],
)
def test_policy_validation(api_as, body, field):
    admin = api_as(Role.ADMIN)
    cal = _calendar(admin)
    payload = {
        "name": "P",
        "calendar_id": cal["id"],
        "targets": {"normal": {"resolution": 60}},
    } | body
    r = admin.post("/sla/policies", json=payload)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"], r.get_json()


def test_ticket_clocks_at_risk_and_compliance(app, api_as, customer_factory, monkeypatch):
    admin = api_as(Role.ADMIN)
    sup = api_as(Role.SUPERVISOR)
    cal = _calendar(admin, name="24/7", always_open=True, timezone="UTC", weekly={})
    _policy(admin, cal["id"])
    start = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)
    for module in ("helpdesk.tickets.service", "helpdesk.sla.api"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: start)
    c = customer_factory()
    ids = [
        sup.post("/tickets", json={"subject": f"t{i}", "requester_id": c.id}).get_json()["id"]
        for i in range(3)
    ]
    clocks = sup.get(f"/tickets/{ids[0]}/sla").get_json()["clocks"]
    assert [(k["metric"], k["target_seconds"]) for k in clocks] == [
        ("first_response", 3600),
        ("resolution", 28800),
    ]
    # Reply to the first in time; the others breach their first response.
    sup.post(f"/tickets/{ids[0]}/comments", json={"body": "On it"})
    sla.scan(db.session, now=start + timedelta(hours=2))
    later = start + timedelta(hours=2)
    monkeypatch.setattr("helpdesk.sla.api.utcnow", lambda: later)
    risky = sup.get("/sla/at-risk?within_s=0").get_json()["items"]
    assert {(i["ticket_id"], i["metric"], i["state"]) for i in risky} == {
        (ids[1], "first_response", "breached"),
        (ids[2], "first_response", "breached"),
    }
    report = sup.get(
        "/sla/compliance?by=metric&start=2026-06-01T00:00:00Z&end=2026-06-30T00:00:00Z"
    ).get_json()
    assert report["overall"] == {
        "key": "all",
        "met": 1,
        "breached": 2,
        "total": 3,
        "compliance": round(1 / 3, 4),
    }
    # It adds up with the ticket histories: one decided target per sla history entry.
    decided = 0
    for change in db.session.scalars(select(TicketChange).where(TicketChange.action == "sla")):
        decided += sum(
            1 for old_new in change.changes.values() if old_new[1] in ("met", "breached")
        )
    assert decided == report["overall"]["total"]
    assert sup.get("/sla/compliance?by=galaxy").status_code == 422
    assert (
        sup.get("/sla/compliance?start=2026-06-30T00:00:00Z&end=2026-06-01T00:00:00Z").status_code
        == 422
    )
    assert api_as(Role.AGENT).get("/sla/at-risk").status_code == 403


def test_a_calendar_never_open_is_refused_naming_the_field(api_as):
    admin = api_as(Role.ADMIN)
    for weekly in ({}, {"mon": [], "sat": []}):
        r = admin.post("/sla/calendars", json={"name": "Shut", "weekly": weekly})
        assert r.status_code == 422, r.get_json()
        assert "opening hours" in r.get_json()["error"]["fields"]["weekly"]
    cal = _calendar(admin)
    r = admin.put(f"/sla/calendars/{cal['id']}", json={"name": "Office", "weekly": {}})
    assert r.status_code == 422 and "weekly" in r.get_json()["error"]["fields"]
    assert admin.get(f"/sla/calendars/{cal['id']}").get_json()["weekly"] == WEEKDAYS
    # Around the clock needs no hours.
    r = admin.post("/sla/calendars", json={"name": "24/7", "always_open": True})
    assert r.status_code == 201


class _Now:
    """A settable clock for the ticket and SLA modules."""

    def __init__(self, monkeypatch, start):
        self.at = start
        for module in ("helpdesk.tickets.service", "helpdesk.sla.service", "helpdesk.sla.api"):
            monkeypatch.setattr(f"{module}.utcnow", self)

    def __call__(self):
        return self.at


MONDAY_9_PARIS = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)


def _clock(api, ticket_id, metric="first_response"):
    clocks = api.get(f"/tickets/{ticket_id}/sla").get_json()["clocks"]
    return next(c for c in clocks if c["metric"] == metric)


def test_running_clocks_report_the_business_time_used_so_far(
    app, api_as, customer_factory, monkeypatch
):
    admin, sup = api_as(Role.ADMIN), api_as(Role.SUPERVISOR)
    cal = _calendar(admin, holiday_country=None)
    _policy(admin, cal["id"], targets={"normal": {"first_response": 8 * 3600}})
    now = _Now(monkeypatch, MONDAY_9_PARIS)
    customer = customer_factory()
    tid = sup.post("/tickets", json={"subject": "x", "requester_id": customer.id}).get_json()["id"]
    assert _clock(sup, tid)["elapsed_seconds"] == 0
    # 09:00-12:00, lunch closed, 13:00-13:30 in Paris: three and a half business hours.
    now.at = MONDAY_9_PARIS + timedelta(hours=4, minutes=30)
    running = _clock(sup, tid)
    assert running["running"] and running["elapsed_seconds"] == 3.5 * 3600
    assert running["remaining_seconds"] == 4.5 * 3600
    assert sup.patch(f"/tickets/{tid}", json={"status": "pending"}).status_code == 200
    now.at += timedelta(days=1)
    paused = _clock(sup, tid)
    assert paused["state"] == "paused" and paused["elapsed_seconds"] == 3.5 * 3600


def test_editing_a_calendar_moves_the_deadlines_of_its_running_clocks(
    app, api_as, customer_factory, monkeypatch, recorded
):
    admin, sup = api_as(Role.ADMIN), api_as(Role.SUPERVISOR)
    cal = _calendar(admin, holiday_country=None)
    _policy(admin, cal["id"], targets={"normal": {"first_response": 4 * 3600}})
    now = _Now(monkeypatch, MONDAY_9_PARIS)
    customer = customer_factory()
    running, paused = (
        sup.post("/tickets", json={"subject": s, "requester_id": customer.id}).get_json()["id"]
        for s in ("running", "paused")
    )
    # Four business hours from Monday 09:00: 12:00, then an hour after lunch.
    assert _clock(sup, running)["due_at"] == "2026-06-08T12:00:00+00:00"
    now.at = MONDAY_9_PARIS + timedelta(hours=1)
    sup.patch(f"/tickets/{paused}", json={"status": "pending"})
    recorded.clear()
    # From 10:00 the office opens only 09:00-11:00: the hour used stays, three are left.
    short = {d: [["09:00", "11:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    r = admin.put(
        f"/sla/calendars/{cal['id']}",
        json={"name": "Office", "timezone": "Europe/Paris", "weekly": short},
    )
    assert r.status_code == 200, r.get_json()
    moved = _clock(sup, running)
    assert moved["elapsed_seconds"] == 3600
    assert moved["due_at"] == "2026-06-09T09:00:00+00:00"  # Tuesday 11:00 in Paris
    assert moved["at_risk_at"] == "2026-06-09T08:12:00+00:00"  # 80 % of 4 h: 3.2 h used
    assert _clock(sup, paused)["due_at"] is None  # paused: nothing to move
    events = recorded.named("sla.updated")
    assert [e.payload["ticket_id"] for e in events] == [running]
    assert events[0].payload["clocks"][0]["due_at"] == moved["due_at"]
    # A time zone change moves them as well: it is 04:00 in Montreal, so two of the three hours
    # left are this Monday's 09:00-11:00 there, the last one Tuesday 09:00-10:00 (14:00 UTC).
    admin.put(
        f"/sla/calendars/{cal['id']}",
        json={"name": "Office", "timezone": "America/Montreal", "weekly": short},
    )
    assert _clock(sup, running)["due_at"] == "2026-06-09T14:00:00+00:00"
