"""A whole visit: created from a ticket, assigned to the suggested technician, texted to the
technician and the customer through the simulator; the technician replies OMW then DONE; the
customer answers the survey; the timeline, the ticket and the IVR all tell the same story."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.db import utcnow
from helpdesk.dispatch import notify, service
from helpdesk.dispatch.models import Technician, WorkOrder
from helpdesk.extensions import db
from helpdesk.sla.models import CalendarModel
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.timeline.models import TimelineEntry
from telephony.models import SmsMessage

CUSTOMER = "+33612345678"
TECH = "+33698765432"

# Visit windows open around "now" and routes are planned per local day: on the app's clock at
# local noon, a window never straddles midnight, whatever the time the tests run at.
pytestmark = pytest.mark.usefixtures("app_clock")


@pytest.fixture
def sim(app):
    return app.extensions["telephony_simulator"]


@pytest.fixture
def always_open(app):
    cal = CalendarModel(name="Technicians 24/7", timezone="Europe/Paris", always_open=True)
    db.session.add(cal)
    db.session.commit()
    return cal


@pytest.fixture
def dispatcher(api_as):
    return api_as(Role.DISPATCHER)


def _technician(always_open, **kw):
    values = {
        "name": "Hugo Martin",
        "phone": TECH,
        "home_lat": 48.8600,
        "home_lon": 2.3400,
        "skills": ["fiber"],
        "language": "fr",
        "calendar_id": always_open.id,
    }
    values.update(kw)
    return service.create_technician(db.session, **values)


def _window():
    now = utcnow()
    return (now - timedelta(minutes=10)).isoformat(), (now + timedelta(hours=3)).isoformat()


def _visit(dispatcher, ticket, **kw):
    start, end = _window()
    body = {
        "ticket_id": ticket.id,
        "summary": "Fibre box offline",
        "address": "10 rue de Rivoli, Paris",
        "lat": 48.8556,
        "lon": 2.3600,
        "required_skills": ["Fiber"],
        "duration_min": 45,
        "window_start": start,
        "window_end": end,
    }
    body.update(kw)
    return dispatcher.post("/work-orders", json=body)


def test_a_whole_visit_by_sms(sim, dispatcher, customer_factory, ticket_factory, always_open):
    camille = customer_factory(name="Camille Durand", language="fr", phones=[CUSTOMER])
    ticket = ticket_factory(requester_id=camille.id, subject="Plus d'internet")
    hugo = _technician(always_open)
    _technician(always_open, name="Far Away", phone="+33611112222", home_lat=45.76, home_lon=4.83)
    _technician(always_open, name="No Fiber", phone="+33611113333", skills=["copper"])

    r = _visit(dispatcher, ticket)
    assert r.status_code == 201, r.get_json()
    wo = r.get_json()
    assert wo["status"] == "unscheduled" and wo["customer_id"] == camille.id
    assert wo["required_skills"] == ["fiber"] and wo["reference"].startswith("W-")

    found = dispatcher.get(f"/work-orders/{wo['id']}/suggestions").get_json()
    names = [s["name"] for s in found["suggestions"]]
    assert names[0] == "Hugo Martin"
    assert "km detour" in found["suggestions"][0]["reason"]
    assert {e["name"]: e["code"] for e in found["excluded"]}["No Fiber"] == "missing_skills"

    r = dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "scheduled" and r.get_json()["eta_at"]

    tech_inbox = sim.inbox(TECH)
    assert len(tech_inbox) == 1 and wo["reference"] in tech_inbox[0]
    assert "10 rue de Rivoli" in tech_inbox[0] and "Camille Durand" in tech_inbox[0]
    link = re.search(r"http://localhost(/m/jobs/\S+)", tech_inbox[0]).group(1)
    customer_inbox = sim.inbox(CUSTOMER)
    assert len(customer_inbox) == 1 and "est prévue" in customer_inbox[0]

    sim.text(TECH, "OMW")
    db.session.expire_all()
    row = db.session.get(WorkOrder, wo["id"])
    assert row.status.value == "en_route" and row.eta_at is not None
    eta = row.eta_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    assert (
        sim.inbox(CUSTOMER)[-1] == f"Votre technicien Hugo est en route, arrivée prévue vers {eta}."
    )
    assert sim.inbox(TECH)[-1].startswith(f"{wo['reference']} : en route")

    # The IVR's "where is my technician" reads the same ETA.
    call = sim.call(CUSTOMER, digits="3")
    assert any(f"Arrivée prévue vers {eta}" in line for line in call.transcript), call.transcript

    sim.text(TECH, "DONE")
    db.session.expire_all()
    row = db.session.get(WorkOrder, wo["id"])
    assert row.status.value == "completed" and row.arrived_at and row.completed_at
    assert "Répondez par un chiffre de 1" in sim.inbox(CUSTOMER)[-1]
    assert db.session.get(Technician, hugo.id).status == "available"

    sim.text(CUSTOMER, "5 merci")
    db.session.expire_all()
    assert db.session.get(WorkOrder, wo["id"]).survey_score == 5
    assert sim.inbox(CUSTOMER)[-1] == "Merci pour votre réponse (5/5)."

    # No conversation ticket was opened by the technician's texts or the survey answer.
    assert db.session.scalars(select(Ticket)).all() == [db.session.get(Ticket, ticket.id)]
    assert not db.session.scalars(
        select(SmsMessage).where(
            SmsMessage.kind.in_(("dispatch",)), SmsMessage.customer_id.is_not(None)
        )
    ).all()

    steps = [
        e.summary
        for e in db.session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.customer_id == camille.id, TimelineEntry.kind == "visit")
            .order_by(TimelineEntry.id)
        )
    ]
    ref = wo["reference"]
    assert steps[0] == f"{ref} visit requested: Fibre box offline"
    assert steps[1] == f"{ref} visit scheduled with Hugo Martin"
    assert steps[2] == f"{ref} technician on the way, arriving around {eta}"
    assert steps[3] == f"{ref} visit completed"
    assert steps[4] == f"{ref} satisfaction 5/5"

    db.session.expire_all()
    t = db.session.get(Ticket, ticket.id)
    assert t.status.value == "solved"  # HELPDESK_DISPATCH_ON_COMPLETION defaults to solve
    notes = [c.body for c in db.session.scalars(select(Comment).where(Comment.ticket_id == t.id))]
    assert any(n.startswith(f"Visit {ref} scheduled with Hugo Martin") for n in notes)
    assert any(n.startswith(f"Visit {ref} completed.") for n in notes)

    history = dispatcher.get(f"/work-orders/{wo['id']}").get_json()["history"]
    assert [(h["action"], h["to_status"], h["source"]) for h in history] == [
        ("created", "unscheduled", "api"),
        ("assigned", "scheduled", "api"),
        ("status", "en_route", "sms"),
        ("completed", "completed", "sms"),
        ("survey", "completed", "sms"),
    ]

    # The mobile link still opens the finished job; a forged one does not.
    client = dispatcher.client
    page = client.get(link)
    assert page.status_code == 200 and "Fibre box offline" in page.get_data(as_text=True)
    assert client.get(link[:-3] + "xyz").status_code == 404


def test_technician_texts_in_french_and_unknown_words(
    sim, dispatcher, customer_factory, ticket_factory, always_open
):
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER]).id)
    hugo = _technician(always_open)
    wo = _visit(dispatcher, ticket).get_json()
    dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    sim.text(TECH, "bonjour")
    assert sim.inbox(TECH)[-1].startswith("Répondez EN ROUTE, ARRIVE ou TERMINE")
    sim.text(TECH, "Arrivé")
    db.session.expire_all()
    assert db.session.get(WorkOrder, wo["id"]).status.value == "on_site"
    sim.text(TECH, f"terminé {wo['reference']} box changée")
    db.session.expire_all()
    row = db.session.get(WorkOrder, wo["id"])
    assert row.status.value == "completed" and row.completion_notes == "box changée"
    sim.text(TECH, "FINI")
    assert sim.inbox(TECH)[-1] == "Aucune intervention à mettre à jour pour votre numéro."


def test_mobile_page_drives_the_visit(
    app, sim, dispatcher, customer_factory, ticket_factory, always_open
):
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER], language="en").id)
    hugo = _technician(always_open, language="en")
    wo = _visit(dispatcher, ticket).get_json()
    dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    link = re.search(r"http://localhost(/m/jobs/\S+)", sim.inbox(TECH)[0]).group(1)
    client = app.test_client()  # no login
    page = client.get(link).get_data(as_text=True)
    assert "On my way" in page and 'name="viewport"' in page
    client.post(link, data={"action": "en_route"})
    assert sim.inbox(CUSTOMER)[-1].startswith("Your technician Hugo is on the way, arriving around")
    client.post(
        link,
        data={
            "action": "complete",
            "notes": "Replaced the <b>ONT</b>",
            "parts_used": "ONT, patch cord",
            "acknowledged_by": "C. Durand",
        },
    )
    db.session.expire_all()
    row = db.session.get(WorkOrder, wo["id"])
    assert row.status.value == "completed" and row.parts_used == ["ONT", "patch cord"]
    assert row.acknowledged_by == "C. Durand"
    page = client.get(link).get_data(as_text=True)
    assert "Completed at" in page
    # A job given to another technician: the old link stops working.
    other = _technician(always_open, name="Other", phone="+33611114444")
    wo2 = _visit(dispatcher, ticket).get_json()
    dispatcher.post(f"/work-orders/{wo2['id']}/assign", json={"technician_id": hugo.id})
    link2 = re.search(r"http://localhost(/m/jobs/\S+)", sim.inbox(TECH)[-1]).group(1)
    dispatcher.post(f"/work-orders/{wo2['id']}/assign", json={"technician_id": other.id})
    assert client.get(link2).status_code == 404
    assert "no longer yours" in sim.inbox(TECH)[-1]


@pytest.mark.parametrize("mode,expected", [("note", "new"), ("none", "new")])
def test_completion_setting(
    app, sim, dispatcher, customer_factory, ticket_factory, always_open, mode, expected
):
    app.config["HELPDESK_DISPATCH_ON_COMPLETION"] = mode
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER]).id)
    hugo = _technician(always_open)
    wo = _visit(dispatcher, ticket).get_json()
    dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    dispatcher.post(f"/work-orders/{wo['id']}/status", json={"status": "on_site"})
    r = dispatcher.post(
        f"/work-orders/{wo['id']}/complete", json={"notes": "ok", "parts_used": ["fuse"]}
    )
    assert r.status_code == 200 and r.get_json()["status"] == "completed"
    db.session.expire_all()
    t = db.session.get(Ticket, ticket.id)
    assert t.status.value == expected
    bodies = [c.body for c in db.session.scalars(select(Comment).where(Comment.ticket_id == t.id))]
    assert any("completed." in b for b in bodies) is (mode == "note")


def test_bad_input_names_the_field(dispatcher, api, customer_factory, always_open):
    c = customer_factory()
    start, end = _window()
    r = dispatcher.post(
        "/work-orders",
        json={
            "customer_id": c.id,
            "summary": "x",
            "address": "somewhere",
            "window_start": start,
            "window_end": end,
        },
    )
    assert r.status_code == 422 and "lat" in r.get_json()["error"]["fields"]
    r = dispatcher.post(
        "/work-orders",
        json={
            "customer_id": c.id,
            "summary": "x",
            "address": "a",
            "lat": 1,
            "lon": 1,
            "window_start": end,
            "window_end": start,
        },
    )
    assert r.status_code == 422 and "window_end" in r.get_json()["error"]["fields"]
    r = dispatcher.post(
        "/work-orders",
        json={
            "customer_id": c.id,
            "summary": "x",
            "address": "a",
            "lat": 1,
            "lon": 1,
            "window_start": "2026-12-02T10:00:00",
            "window_end": end,
        },
    )
    assert r.status_code == 422 and "window_start" in r.get_json()["error"]["fields"]
    r = dispatcher.post(
        "/work-orders",
        json={
            "summary": "x",
            "address": "a",
            "lat": 1,
            "lon": 1,
            "window_start": start,
            "window_end": end,
        },
    )
    assert r.status_code == 422 and "customer_id" in r.get_json()["error"]["fields"]
    r = dispatcher.post(
        "/technicians", json={"name": "T", "phone": "12", "home_lat": 1, "home_lon": 1}
    )
    assert r.status_code == 422 and "phone" in r.get_json()["error"]["fields"]
    r = dispatcher.post(
        "/technicians", json={"name": "T", "phone": TECH, "home_lat": 100, "home_lon": 1}
    )
    assert r.status_code == 422 and "home_lat" in r.get_json()["error"]["fields"]
    assert (
        dispatcher.post(
            "/technicians", json={"name": "T", "phone": TECH, "home_lat": 1, "home_lon": 1}
        ).status_code
        == 201
    )
    r = dispatcher.post(
        "/technicians", json={"name": "U", "phone": TECH, "home_lat": 1, "home_lon": 1}
    )
    assert r.status_code == 409 and "phone" in r.get_json()["error"]["fields"]
    wo = dispatcher.post(
        "/work-orders",
        json={
            "customer_id": c.id,
            "summary": "x",
            "address": "a",
            "lat": 1,
            "lon": 1,
            "window_start": start,
            "window_end": end,
        },
    ).get_json()
    r = dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": 999})
    assert r.status_code == 422 and "technician_id" in r.get_json()["error"]["fields"]
    r = dispatcher.post(f"/work-orders/{wo['id']}/complete", json={})
    assert r.status_code == 409
    # Agents may request a visit but not assign it.
    assert api.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": 1}).status_code == 403
    assert dispatcher.get("/work-orders/999").status_code == 404
    assert dispatcher.get("/work-orders?status=bogus").status_code == 422


def test_auto_dispatch_places_the_queue(dispatcher, customer_factory, ticket_factory, always_open):
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER]).id)
    a = _technician(
        always_open,
        name="A",
        phone="+33611110001",
        home_lat=48.86,
        home_lon=2.34,
        max_jobs_per_day=1,
    )
    b = _technician(
        always_open,
        name="B",
        phone="+33611110002",
        home_lat=48.90,
        home_lon=2.40,
        max_jobs_per_day=1,
    )
    first = _visit(dispatcher, ticket, priority="urgent").get_json()
    second = _visit(dispatcher, ticket).get_json()
    third = _visit(dispatcher, ticket, priority="low").get_json()
    results = dispatcher.post("/work-orders/auto-dispatch", json={}).get_json()["results"]
    by_id = {r["work_order_id"]: r["technician_id"] for r in results}
    assert by_id[first["id"]] == a.id  # the urgent one gets the closest
    assert by_id[second["id"]] == b.id  # A's day is full
    assert by_id[third["id"]] is None
    listed = dispatcher.get("/work-orders?status=unscheduled").get_json()["items"]
    assert [w["id"] for w in listed] == [third["id"]]
    route = dispatcher.get(f"/technicians/{a.id}/route").get_json()
    assert [v["work_order_id"] for v in route["visits"]] == [first["id"]]


def test_console_pages(app, client, make_user, customer_factory, ticket_factory, always_open):
    from tests.conftest import PASSWORD

    user = make_user(Role.DISPATCHER)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    ticket = ticket_factory(
        requester_id=customer_factory(name="<script>x</script>", phones=[CUSTOMER]).id
    )
    _technician(always_open)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Create a visit" in page
    r = client.post(
        f"/tickets/{ticket.id}/visit", data={"summary": "Box", "address": "", "lat": "x"}
    )
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "Enter the site" in body and "decimal degrees" in body
    # The form's day is a day in the helpdesk's time zone, not in UTC.
    day = utcnow().astimezone(ZoneInfo(app.config["HELPDESK_TIMEZONE"])).date().isoformat()
    r = client.post(
        f"/tickets/{ticket.id}/visit",
        data={
            "summary": "Box",
            "address": "1 rue X",
            "lat": "48.85",
            "lon": "2.35",
            "day": day,
            "start": "00:00",
            "end": "23:59",
            "duration_min": "30",
            "priority": "high",
        },
    )
    assert r.status_code == 302
    wo = db.session.scalar(select(WorkOrder))
    page = client.get(f"/dispatch/work-orders/{wo.id}").get_data(as_text=True)
    assert "Hugo Martin" in page and "Suggested technicians" in page
    board = client.get(f"/dispatch?day={wo.day}").get_data(as_text=True)
    assert wo.reference in board and "Hugo Martin" in board and "<svg" in board
    assert "<script>x</script>" not in board and "&lt;script&gt;" in board
    hugo_id = db.session.scalar(select(Technician.id))
    r = client.post(f"/dispatch/work-orders/{wo.id}/assign", data={"technician_id": str(hugo_id)})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(WorkOrder, wo.id).status.value == "scheduled"


def test_agents_do_not_see_the_board(client, make_user):
    from tests.conftest import PASSWORD

    user = make_user(Role.AGENT)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/dispatch").status_code == 403


def test_demo_seed_populates_the_board(app):
    from helpdesk import demo

    demo.seed(customers=60, tickets=300, seed=7)
    assert db.session.scalar(select(func.count(Technician.id))) == 8
    orders = list(db.session.scalars(select(WorkOrder)))
    assert len(orders) == 20 and all(w.ticket_id for w in orders)
    days = {w.day for w in orders}
    assert len(days) == 2
    tomorrow = max(days)
    assigned = [w for w in orders if w.day == tomorrow and w.technician_id]
    assert assigned and all(w.eta_at for w in assigned)


def test_unassign_cancel_and_the_texts_they_send(
    sim, dispatcher, customer_factory, ticket_factory, always_open
):
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER], language="en").id)
    hugo = _technician(always_open, language="en")
    wo = _visit(dispatcher, ticket).get_json()
    dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    r = dispatcher.post(f"/work-orders/{wo['id']}/unassign")
    assert r.status_code == 200 and r.get_json()["status"] == "unscheduled"
    assert r.get_json()["technician_id"] is None and r.get_json()["eta_at"] is None
    assert "is no longer yours" in sim.inbox(TECH)[-1]
    dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    r = dispatcher.post(
        f"/work-orders/{wo['id']}/status", json={"status": "cancelled", "note": "customer away"}
    )
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert sim.inbox(CUSTOMER)[-1].startswith(f"Your visit {wo['reference']} on")
    assert "is cancelled" in sim.inbox(CUSTOMER)[-1]
    # The IVR has nothing to say about a cancelled visit.
    call = sim.call(CUSTOMER, digits="3")
    assert any("There is no visit scheduled for your number." in line for line in call.transcript)


def test_ivr_reads_a_booked_visit_in_english(
    sim, dispatcher, customer_factory, ticket_factory, always_open
):
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER], language="en").id)
    hugo = _technician(always_open)
    wo = _visit(dispatcher, ticket).get_json()
    dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    db.session.expire_all()
    eta = db.session.get(WorkOrder, wo["id"]).eta_at.astimezone(ZoneInfo("Europe/Paris"))
    call = sim.call(CUSTOMER, digits="3")
    assert any(
        line.startswith("Your visit is booked for") and f"arrive around {eta:%H:%M}" in line
        for line in call.transcript
    ), call.transcript


def test_refresh_routes_moves_etas_with_the_clock(
    app, dispatcher, customer_factory, ticket_factory, always_open
):
    from helpdesk.dispatch import tasks

    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER]).id)
    hugo = _technician(always_open)
    wo = _visit(dispatcher, ticket).get_json()
    dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    db.session.expire_all()
    row = db.session.get(WorkOrder, wo["id"])
    row.eta_at = row.window_start  # stale
    db.session.commit()
    assert tasks.refresh_routes() == 1
    db.session.expire_all()
    assert db.session.get(WorkOrder, wo["id"]).eta_at > utcnow()


def test_board_drop_answers_json(
    app, client, make_user, customer_factory, ticket_factory, always_open
):
    from tests.conftest import PASSWORD

    user = make_user(Role.DISPATCHER)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER]).id)
    copper = _technician(always_open, skills=["copper"])
    hugo = _technician(always_open, name="Hugo", phone="+33611115555")
    start, end = _window()
    wo = service.create_work_order(
        db.session,
        actor=user,
        ticket_id=ticket.id,
        summary="Box",
        address="a",
        lat=48.85,
        lon=2.35,
        required_skills=["fiber"],
        window_start=datetime.fromisoformat(start),
        window_end=datetime.fromisoformat(end),
    )
    json_accept = {"Accept": "application/json"}
    r = client.post(
        f"/dispatch/work-orders/{wo.id}/assign",
        data={"technician_id": copper.id},
        headers=json_accept,
    )
    assert r.status_code == 422 and "missing skills: fiber" in r.get_json()["error"]["message"]
    r = client.post(
        f"/dispatch/work-orders/{wo.id}/assign",
        data={"technician_id": hugo.id},
        headers=json_accept,
    )
    assert r.status_code == 200 and r.get_json() == {"ok": True, "work_order_id": wo.id}
    token = notify.job_token(wo, hugo, service.current_settings())
    page = client.get(f"/m/jobs/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_technicians_pages(client, make_user, always_open):
    from tests.conftest import PASSWORD

    user = make_user(Role.SUPERVISOR)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "No technician yet" in client.get("/dispatch/technicians").get_data(as_text=True)
    form = {
        "name": "Zoé",
        "phone": "06 98 76 54 32",
        "language": "fr",
        "skills": "Fiber, tv",
        "home_lat": "48,85",
        "home_lon": "2.35",
        "calendar_id": str(always_open.id),
        "max_jobs_per_day": "4",
        "active": "on",
    }
    r = client.post("/dispatch/technicians/new", data=form | {"home_lon": "east"})
    assert r.status_code == 422 and 'id="tech-home_lon-error"' in r.get_data(as_text=True)
    r = client.post("/dispatch/technicians/new", data=form | {"phone": "12"})
    assert r.status_code == 422 and 'id="tech-phone-error"' in r.get_data(as_text=True)
    assert client.post("/dispatch/technicians/new", data=form).status_code == 302
    tech = db.session.scalar(select(Technician))
    assert (tech.phone, tech.skills, tech.home_lat, tech.calendar_id) == (
        TECH,
        ["fiber", "tv"],
        48.85,
        always_open.id,
    )
    listing = client.get("/dispatch/technicians").get_data(as_text=True)
    assert "Zoé" in listing and "Technicians 24/7" in listing
    r = client.post(
        f"/dispatch/technicians/{tech.id}", data=form | {"max_jobs_per_day": "9", "active": ""}
    )
    assert r.status_code == 302
    db.session.expire_all()
    tech = db.session.get(Technician, tech.id)
    assert tech.max_jobs_per_day == 9 and tech.active is False


def _tomorrows_visit(dispatcher, ticket, technician):
    start = utcnow() + timedelta(days=1)
    wo = _visit(
        dispatcher,
        ticket,
        window_start=start.isoformat(),
        window_end=(start + timedelta(hours=3)).isoformat(),
    ).get_json()
    r = dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": technician.id})
    assert r.status_code == 200, r.get_json()
    return wo


def test_on_the_way_only_on_the_day_of_the_visit(
    app, sim, dispatcher, customer_factory, ticket_factory, always_open
):
    """Setting off for tomorrow's job would text the customer an arrival time that means
    nothing: the API, the technician's page and their texts all refuse it, and nobody is told."""
    ticket = ticket_factory(requester_id=customer_factory(phones=[CUSTOMER], language="en").id)
    hugo = _technician(always_open, language="en")
    wo = _tomorrows_visit(dispatcher, ticket, hugo)
    texted = len(sim.inbox(CUSTOMER))

    r = dispatcher.post(f"/work-orders/{wo['id']}/status", json={"status": "en_route"})
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "not_today" and "status" in error["fields"]
    assert wo["day"] in error["message"]

    link = re.search(r"http://localhost(/m/jobs/\S+)", sim.inbox(TECH)[-1]).group(1)
    client = app.test_client()
    page = client.get(link).get_data(as_text=True)
    assert "On my way" not in page and "You can set off on the day of the visit" in page
    page = client.post(link, data={"action": "en_route"}, follow_redirects=True)
    body = page.get_data(as_text=True)
    assert "This job is for" in body and "you can set off on that day only" in body
    db.session.commit()
    with app.app_context():  # a context of its own: the locale is chosen once per context
        french = client.get(link, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Vous pourrez indiquer votre départ le jour de" in french

    sim.text(TECH, f"OMW {wo['reference']}")
    assert sim.inbox(TECH)[-1].startswith(f"{wo['reference']}: booked for ")
    db.session.expire_all()
    row = db.session.get(WorkOrder, wo["id"])
    assert row.status.value == "scheduled" and row.en_route_at is None
    assert len(sim.inbox(CUSTOMER)) == texted


def test_the_on_the_way_text_gives_a_time_and_a_date_when_not_today():
    from helpdesk.dispatch import texts

    paris = "Europe/Paris"
    now = datetime(2026, 12, 6, 10, 0, tzinfo=ZoneInfo(paris))
    assert texts.eta(now + timedelta(hours=2), paris, "en", now=now) == "12:00"
    late = now + timedelta(hours=14, minutes=30)  # after midnight, local time
    assert texts.eta(late, paris, "en", now=now) == "Dec 7 00:30"
    assert texts.eta(late, paris, "fr", now=now) == "7 déc. 00:30"


def test_the_job_link_by_sms_follows_the_port(request, settings):
    """`PORT=5399 make run` without PUBLIC_BASE_URL: the technician's link points at port 5399,
    where the console is, and opens the job."""
    settings.PUBLIC_BASE_URL = ""
    settings.PORT = 5399
    settings.fill_defaults()
    client = request.getfixturevalue("client")  # the app is made from the settings above
    sim, dispatcher = request.getfixturevalue("sim"), request.getfixturevalue("dispatcher")
    customer = request.getfixturevalue("customer_factory")(phones=[CUSTOMER])
    ticket = request.getfixturevalue("ticket_factory")(requester_id=customer.id)
    hugo = _technician(request.getfixturevalue("always_open"))
    wo = _visit(dispatcher, ticket).get_json()
    r = dispatcher.post(f"/work-orders/{wo['id']}/assign", json={"technician_id": hugo.id})
    assert r.status_code == 200, r.get_json()
    link = re.search(r"(\S+)(/m/jobs/\S+)", sim.inbox(TECH)[-1])
    assert link is not None and link.group(1) == "http://127.0.0.1:5399", sim.inbox(TECH)
    page = client.get(link.group(2))
    assert page.status_code == 200 and wo["reference"] in page.get_data(as_text=True)
