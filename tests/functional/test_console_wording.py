"""The console in French words what telephony and the timeline store as codes or English:
timeline entries, IVR paths, dispositions, counts, decimals; the IVR says its minutes right."""

# The phone tests' fixtures are imported, and pytest hands them in by the same names.
# ruff: noqa: F811

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from agents_ui import value_labels
from helpdesk.auth.models import Role, User
from helpdesk.db import utcnow
from helpdesk.dispatch import service as dispatch
from helpdesk.extensions import db
from helpdesk.sla.models import CalendarModel
from helpdesk.tickets import service as tickets
from helpdesk.tickets.workflow import Status
from telephony.simulator import Simulator
from tests.functional.test_console import html, sign_in
from tests.functional.test_console_phone import (  # noqa: F401  (fixtures)
    JSON,
    client,
    compiled_catalogues,
    go_available,
    panel_snapshot,
    ring,
    sim,
)

NUMBER = "+33611111111"


def visible(page: str) -> str:
    """The page without its data attributes (the phone panel's snapshot carries the stored
    English summaries as data for the script; they are not shown as such)."""
    return re.sub(r'data-[a-z-]+="[^"]*"', "", page)


def _french_agent(client: FlaskClient, make_user: Callable[..., User]) -> User:
    agent = make_user(
        Role.AGENT, name="Éloïse", locale="fr", skills={"support": 3}, languages=["fr", "en"]
    )
    assert sign_in(client, agent).status_code == 302
    return agent


def _history(client: FlaskClient, sim: Simulator, customer_id: int) -> None:
    """A call answered and wrapped up as "follow-up needed", then a ticket solved and closed."""
    go_available(client)
    first = ring(sim, NUMBER, "11")
    assert client.post(f"/phone/calls/{first.id}/accept", headers=JSON).status_code == 200
    db.session.rollback()
    sim.hang_up(first.call_sid)
    r = client.post(
        f"/phone/calls/{first.id}/wrap-up",
        data={"disposition": "follow_up", "notes": "Rappeler demain"},
        headers=JSON,
    )
    assert r.status_code == 200, r.get_json()
    ticket = tickets.create(db.session, actor=None, subject="Box", requester_id=customer_id)
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    tickets.update(db.session, ticket, actor=None, status=Status.CLOSED)


def test_caller_screen_and_customer_page_word_the_timeline_in_french(
    client: FlaskClient,
    sim: Simulator,
    make_user: Callable[..., User],
    customer_factory: Callable[..., Any],
) -> None:
    _french_agent(client, make_user)
    hugo = customer_factory(name="Hugo Martin", language="fr", phones=[NUMBER])
    _history(client, sim, hugo.id)
    second = ring(sim, NUMBER, "11")
    for page in (
        visible(html(client.get(f"/calls/{second.id}"))),
        visible(html(client.get(f"/customers/{hugo.id}"))),
    ):
        assert "solved → closed" not in page and "Résolu → Clos" in page
        assert "inbound call" not in page and "Entrant · Répondu" in page
        assert "Wrap-up (follow_up)" not in page
        assert "Après-appel (Suivi nécessaire) : Rappeler demain" in page
    screen = visible(html(client.get(f"/calls/{second.id}")))
    assert "menu:1:queue" not in screen and "language:fr" not in screen
    # A known caller is not asked for a language again: the menu choice alone.
    assert "<dt>Choix du menu</dt><dd >1 · File : Assistance</dd>" in screen


def test_phone_panel_words_the_ivr_path_and_the_screen_pop_timeline(
    client: FlaskClient,
    sim: Simulator,
    make_user: Callable[..., User],
    customer_factory: Callable[..., Any],
) -> None:
    _french_agent(client, make_user)
    hugo = customer_factory(name="Hugo Martin", language="fr", phones=[NUMBER])
    _history(client, sim, hugo.id)
    ring(sim, NUMBER, "11")
    page = html(client.get("/tickets"))
    # The ringing panel as the server draws it.
    ringing = page[page.index('data-field="ivr"') :]
    assert ringing[: ringing.index("</dd>")].endswith(">1 · File : Assistance")
    # What phone.js and caller_screen.js word the live offer with.
    found = re.search(r'data-strings="([^"]*)"', page)
    assert found, "no phone strings on the page"
    strings = json.loads(unescape(found.group(1)))
    assert strings["ivr"]["menu:1:queue"] == "1 · File : Assistance"
    assert strings["ivr"]["language:fr"] == "Langue : français"
    words = strings["screen"]["timeline"]
    assert words["disposition"]["follow_up"] == "Suivi nécessaire"
    assert words["status"] == "{ref} {old} → {new}" and words["sec"] == "{n} s"
    # More open tickets than the screen lists: one, or several (French plurals differ).
    assert strings["screen"]["one_more_ticket"] == "et 1 autre"
    assert strings["screen"]["more_tickets"] == "et {n} autres"
    # The screen pop carries the facts the script words the entries from.
    offer = panel_snapshot(page)["offer"]
    rows: dict[str, Any] = {}
    for e in offer["timeline"]:  # newest first
        rows.setdefault(e["kind"], e)
    assert rows["ticket_status"]["data"] == {"from": "solved", "to": "closed"}
    assert rows["ticket_status"]["ticket_ref"].startswith("T-")
    assert rows["call_note"]["data"]["disposition"] == "follow_up"
    assert rows["call"]["data"]["direction"] == "inbound"


def test_numbers_and_counts_in_french(client: FlaskClient, make_user: Callable[..., User]) -> None:
    supervisor = make_user(Role.SUPERVISOR, locale="fr")
    assert sign_in(client, supervisor).status_code == 302
    page = html(
        client.get(
            "/staffing?calls=100&interval_min=30&aht_s=180&answer_within_s=20&service_level=80"
        )
    )
    speed = re.search(r"<dd>([0-9][^<]*) s</dd>", page)
    assert speed, "no average speed of answer"
    assert re.fullmatch(r"[0-9]+,[0-9]", speed.group(1)), speed.group(1)


def test_auto_dispatch_counts_visits_in_french(
    client: FlaskClient, make_user: Callable[..., User], customer_factory: Callable[..., Any]
) -> None:
    dispatcher = make_user(Role.DISPATCHER, locale="fr")
    assert sign_in(client, dispatcher).status_code == 302
    calendar = CalendarModel(name="Technicians 24/7", timezone="Europe/Paris", always_open=True)
    db.session.add(calendar)
    db.session.commit()
    dispatch.create_technician(
        db.session,
        name="Hugo Martin",
        phone="+33600000099",
        home_lat=48.86,
        home_lon=2.34,
        calendar_id=calendar.id,
    )
    # A visit tomorrow morning in Paris: whatever the hour the suite runs at, it fits a
    # technician's day (a window starting now can run past the day's end late in the evening).
    paris = ZoneInfo("Europe/Paris")
    tomorrow = utcnow().astimezone(paris).date() + timedelta(days=1)
    now = datetime.combine(tomorrow, time(9, 0), tzinfo=paris).astimezone(UTC)
    customer = customer_factory()
    wo = dispatch.create_work_order(
        db.session,
        actor=None,
        summary="Box",
        address="1 rue X",
        lat=48.85,
        lon=2.35,
        window_start=now,
        window_end=now + timedelta(hours=3),
        customer_id=customer.id,
    )
    r = client.post("/dispatch/auto", follow_redirects=True)
    page = html(r)
    assert "1 sur 1 intervention attribuée." in page and "interventions sur" not in page
    # The visit's steps on the customer's timeline, in French.
    timeline = visible(html(client.get(f"/customers/{customer.id}")))
    assert "visit requested" not in timeline and "visit scheduled" not in timeline
    assert f"{wo.reference} intervention demandée : Box" in timeline
    assert f"{wo.reference} intervention planifiée avec Hugo Martin" in timeline


def test_the_at_risk_colour_is_the_same_on_every_page() -> None:
    static = Path(__file__).parents[2] / "agents_ui" / "static"
    console = (static / "console.css").read_text(encoding="utf-8")

    def rule(css: str, selector: str) -> str:
        found = re.search(re.escape(selector) + r" \{([^}]*)\}", css)
        assert found, selector
        return found.group(1).strip()

    # console.css is on every page (the caller screen and the phone panel show segments too).
    assert rule(console, ".seg-at_risk") == rule(console, ".sla-at_risk")
    assert ".seg-at_risk" not in (static / "supervision.css").read_text(encoding="utf-8")


def test_value_signals_count_in_the_singular(app: Flask) -> None:
    with app.test_request_context(), force_locale("fr"):
        assert value_labels.signal_text({"code": "late_payer", "value": 1}) == (
            "1 facture payée en retard ou impayée à échéance en 12 mois"
        )
        assert value_labels.signal_text({"code": "repeated_complaints", "value": 3}) == (
            "3 réclamations ces 90 derniers jours"
        )
    with app.test_request_context(), force_locale("en"):
        assert value_labels.signal_text({"code": "sla_breaches", "value": 1}) == (
            "1 service-level target missed in the last 90 days"
        )
        assert value_labels.signal_text({"code": "info_only", "value": 1}) == (
            "1 contact and never an invoice"
        )
