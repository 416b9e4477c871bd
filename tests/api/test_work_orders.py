"""`/api/v1/work-orders` and `/api/v1/technicians` on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.auth.models import Role


def _always_open(admin):
    r = admin.post(
        "/sla/calendars",
        json={"name": "Field 24/7", "timezone": "Europe/Paris", "always_open": True},
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_work_order_lifecycle(app_clock, backend, api_as, customer_factory, ticket_factory):
    admin = api_as(Role.ADMIN)
    dispatcher = api_as(Role.DISPATCHER)
    calendar_id = _always_open(admin)
    customer = customer_factory(phones=["+33612345678"])
    ticket = ticket_factory(requester_id=customer.id)
    techs = []
    for i, (lat, skills) in enumerate(
        ((48.86, ["Fiber", "tv"]), (48.95, ["fiber"]), (48.86, ["tv"]))
    ):
        r = dispatcher.post(
            "/technicians",
            json={
                "name": f"Tech {i}",
                "phone": f"06 11 22 33 4{i}",
                "home_lat": lat,
                "home_lon": 2.35,
                "skills": skills,
                "calendar_id": calendar_id,
            },
        )
        assert r.status_code == 201, r.get_json()
        techs.append(r.get_json())
    assert techs[0]["phone"] == "+33611223340" and techs[0]["skills"] == ["fiber", "tv"]
    assert [t["name"] for t in dispatcher.get("/technicians").get_json()["items"]] == [
        "Tech 0",
        "Tech 1",
        "Tech 2",
    ]
    now = app_clock.now()  # local noon: the window and the technician's day stay on one day
    r = dispatcher.post(
        "/work-orders",
        json={
            "ticket_id": ticket.id,
            "summary": "Fibre",
            "address": "1 rue A",
            "lat": 48.861,
            "lon": 2.351,
            "required_skills": ["fiber"],
            "duration_min": 30,
            "priority": "high",
            "window_start": (now - timedelta(minutes=5)).isoformat(),
            "window_end": (now + timedelta(hours=2)).isoformat(),
        },
    )
    assert r.status_code == 201, r.get_json()
    wo = r.get_json()
    assert wo["customer_id"] == customer.id and wo["history"][0]["action"] == "created"
    found = dispatcher.get(f"/work-orders/{wo['id']}/suggestions").get_json()
    assert [s["technician_id"] for s in found["suggestions"]] == [techs[0]["id"], techs[1]["id"]]
    assert found["excluded"] == [
        {
            "technician_id": techs[2]["id"],
            "name": "Tech 2",
            "code": "missing_skills",
            "detail": "fiber",
        }
    ]
    r = dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": techs[2]["id"]})
    assert r.status_code == 422 and "technician_id" in r.get_json()["error"]["fields"]
    r = dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": techs[0]["id"]})
    assert r.status_code == 200 and r.get_json()["route_position"] == 0
    route = dispatcher.get(f"/technicians/{techs[0]['id']}/route?day={wo['day']}").get_json()
    assert [v["work_order_id"] for v in route["visits"]] == [wo["id"]]
    assert route["visits"][0]["eta_at"]
    r = dispatcher.post(f"/work-orders/{wo['id']}/status", json={"status": "en_route"})
    assert r.status_code == 200 and r.get_json()["en_route_at"]
    r = dispatcher.post(f"/work-orders/{wo['id']}/status", json={"status": "unscheduled"})
    assert r.status_code == 422 and "status" in r.get_json()["error"]["fields"]
    r = dispatcher.post(
        f"/work-orders/{wo['id']}/complete",
        json={"notes": "done", "parts_used": ["ONT"], "acknowledged_by": "Client"},
    )
    assert r.status_code == 200 and r.get_json()["parts_used"] == ["ONT"]
    r = dispatcher.post(f"/work-orders/{wo['id']}/status", json={"status": "cancelled"})
    assert r.status_code == 409
    listed = dispatcher.get(f"/work-orders?ticket_id={ticket.id}&status=completed").get_json()
    assert [w["id"] for w in listed["items"]] == [wo["id"]] and listed["next_cursor"] is None
    r = dispatcher.patch(
        f"/technicians/{techs[1]['id']}", json={"active": False, "skills": ["Copper"]}
    )
    assert r.status_code == 200 and r.get_json()["skills"] == ["copper"]
    r = dispatcher.patch(f"/technicians/{techs[1]['id']}", json={"phone": "+33611223340"})
    assert r.status_code == 409 and "phone" in r.get_json()["error"]["fields"]


def test_pages_of_work_orders(backend, api_as, customer_factory):
    dispatcher = api_as(Role.DISPATCHER)
    customer = customer_factory()
    base = datetime(2026, 12, 3, 9, tzinfo=UTC)
    ids = []
    for i in range(5):
        r = dispatcher.post(
            "/work-orders",
            json={
                "customer_id": customer.id,
                "summary": f"v{i}",
                "address": "a",
                "lat": 48.8,
                "lon": 2.3,
                "window_start": (base + timedelta(hours=i)).isoformat(),
                "window_end": (base + timedelta(hours=i + 2)).isoformat(),
            },
        )
        ids.append(r.get_json()["id"])
    seen, cursor = [], None
    while True:
        page = dispatcher.get(
            "/work-orders?limit=2" + (f"&cursor={cursor}" if cursor else "")
        ).get_json()
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    r = dispatcher.get("/work-orders?cursor=garbage")
    assert r.status_code == 422 and "cursor" in r.get_json()["error"]["fields"]
