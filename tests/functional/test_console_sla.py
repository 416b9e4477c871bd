"""Service levels in the console: badges and clocks on the ticket pages, the at-risk list, the
administrators' calendar and policy forms, the compliance report and its CSV export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.auth.models import Group, Role, User
from helpdesk.extensions import db
from helpdesk.realtime import user_for_socket_token
from helpdesk.sla import service as sla
from helpdesk.sla.models import CalendarModel, SlaPolicy
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel, Priority, Status
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    html,
    sign_in,
)

HOUR = 3600
MONDAY_9 = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)  # 09:00 in Paris
FRIDAY_17 = datetime(2026, 6, 5, 15, 0, tzinfo=UTC)  # 17:00 in Paris
SATURDAY_NOON = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)

SUPERVISOR_PAGES = ["/sla/at-risk", "/sla/report", "/sla/report.csv"]
ADMIN_PAGES = ["/sla/calendars", "/sla/calendars/new", "/sla/policies", "/sla/policies/new"]


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(MONDAY_9)
    for module in (
        "helpdesk.tickets.service",
        "helpdesk.sla.service",
        "helpdesk.customers.service",
    ):
        monkeypatch.setattr(f"{module}.utcnow", c)
    return c


@pytest.fixture
def office(app: Flask) -> CalendarModel:
    """Office hours 09:00-12:00 and 13:00-18:00 on weekdays (Paris) for the standard policy, and
    a 24/7 calendar for customers tagged vip."""
    cal = CalendarModel(
        name="Office",
        timezone="Europe/Paris",
        holiday_country="FR",
        weekly={
            d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        },
        is_default=True,
    )
    always = CalendarModel(name="24/7", timezone="Europe/Paris", always_open=True)
    db.session.add_all([cal, always])
    db.session.flush()
    db.session.add_all(
        [
            SlaPolicy(
                name="VIP",
                position=1,
                calendar_id=always.id,
                conditions={"customer_tags": ["vip"]},
                targets={
                    p: {"first_response": 1800, "resolution": 2 * HOUR}
                    for p in ("low", "normal", "high", "urgent")
                },
            ),
            SlaPolicy(
                name="Standard",
                position=10,
                calendar_id=cal.id,
                targets={
                    p: {"first_response": 4 * HOUR, "next_response": 8 * HOUR}
                    for p in ("low", "normal", "high", "urgent")
                },
            ),
        ]
    )
    db.session.commit()
    return cal


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def signed_in(client: FlaskClient, make_user: Callable[..., User]) -> Callable[..., FlaskClient]:
    """`signed_in(Role.ADMIN)`: the client, signed in as a new user with that role."""

    def sign(role: Role, **kwargs: Any) -> FlaskClient:
        user = make_user(role, **kwargs)
        assert sign_in(client, user).status_code == 302
        client.user = user  # type: ignore[attr-defined]
        return client

    return sign


@pytest.fixture
def vip(customer_factory: Callable[..., Any]) -> Any:
    return customer_factory(name="Very Important", tags=["vip"])


def badge(page: str, ticket_id: int) -> tuple[str, str]:
    """(state, text) of the SLA badge of one ticket on a page."""
    found = re.search(
        rf'data-sla-ticket="{ticket_id}"[^>]*>'
        r'<span class="badge sla-badge sla-(\w+)">([^<]*)</span>',
        page,
    )
    assert found, f"no SLA badge for ticket {ticket_id}"
    return found.group(1), unescape(found.group(2))


def clocks_attribute(page: str, ticket_id: int) -> list[dict[str, Any]]:
    found = re.search(rf'data-sla-ticket="{ticket_id}" data-sla-clocks="([^"]*)"', page)
    assert found, f"no clocks for ticket {ticket_id}"
    return json.loads(unescape(found.group(1)))  # type: ignore[no-any-return]


def table_rows(page: str, selector: str) -> list[list[str]]:
    """The text of each body row of the first table with `selector` in its opening tag."""
    start = page.index(selector)
    body = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


# -- badges --------------------------------------------------------------------------------------


def test_list_badges_count_business_time(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
) -> None:
    clock.now = FRIDAY_17
    weekend = ticket_factory(subject="Friday evening")
    waiting = ticket_factory(subject="Waiting on the customer")
    tickets.update(db.session, waiting, actor=None, status=Status.PENDING)
    clock.now = SATURDAY_NOON
    console = signed_in(Role.AGENT)
    page = html(console.get("/tickets?all=1"))
    # One business hour was used on Friday; the deadline is Monday 12:00, 46 wall hours away.
    assert badge(page, weekend.id) == ("running", "First reply in 3 h")
    assert badge(page, waiting.id) == ("paused", "Paused")
    clocks = clocks_attribute(page, weekend.id)
    assert clocks[0]["remaining_seconds"] == 3 * HOUR
    # The open periods between now and the deadline, for the live countdown: Monday morning.
    assert clocks[0]["open_periods"] == [["2026-06-08T07:00:00+00:00", "2026-06-08T10:00:00+00:00"]]
    assert clocks_attribute(page, waiting.id)[0]["open_periods"] == []


def test_list_badges_at_risk_overdue_met_and_none(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    make_user: Callable[..., User],
    vip: Any,
) -> None:
    agent = make_user(Role.AGENT)
    soon = ticket_factory(subject="At risk", requester_id=vip.id)
    late = ticket_factory(subject="Late", requester_id=vip.id)
    answered = ticket_factory(subject="Answered", requester_id=vip.id)
    clock.advance(minutes=10)
    tickets.add_comment(db.session, answered, body="On it", public=True, actor=agent)
    tickets.update(db.session, answered, actor=agent, status=Status.SOLVED)
    clock.now = MONDAY_9 + timedelta(minutes=25)
    page_soon = html(signed_in(Role.AGENT).get("/tickets?all=1"))
    clock.now = MONDAY_9 + timedelta(minutes=55)
    page_late = html(signed_in(Role.AGENT).get("/tickets?all=1"))
    # 25 of 30 minutes used: at risk (80 %); under an hour left, seconds show.
    assert badge(page_soon, soon.id) == ("at_risk", "First reply in 5 min 0 s")
    assert badge(page_late, late.id) == ("breached", "First reply overdue 25 min")
    assert badge(page_late, answered.id) == ("met", "Met")


def test_ticket_without_clocks_shows_a_dash(
    signed_in: Callable[..., FlaskClient], clock: Clock, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(subject="No policy at all")
    console = signed_in(Role.AGENT)
    assert f'data-sla-ticket="{ticket.id}" data-sla-clocks="[]"><span class="muted">—</span>' in (
        html(console.get("/tickets?all=1"))
    )
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert "No service-level target applies to this ticket." in page


def test_ticket_page_shows_every_clock(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    vip: Any,
) -> None:
    ticket = ticket_factory(subject="Router down", requester_id=vip.id)
    clock.advance(minutes=10)
    page = html(signed_in(Role.AGENT).get(f"/tickets/{ticket.id}"))
    assert badge(page, ticket.id) == ("running", "First reply in 20 min 0 s")
    rows = table_rows(page, "data-sla-table")
    # Metric, target, state, due time in the agent's time zone (Paris), business time left.
    assert rows == [
        ["First reply", "30 min", "Running", "6/8/26, 9:30\u202fAM", "20 min 0 s"],
        ["Resolution", "2 h", "Running", "6/8/26, 11:00\u202fAM", "1 h 50 min"],
    ]
    assert 'datetime="2026-06-08T07:30:00+00:00"' in page
    assert "updated the service level" in page  # the history names the change in words


def test_ticket_page_in_french_and_in_another_time_zone(
    client: FlaskClient,
    make_user: Callable[..., User],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    vip: Any,
) -> None:
    ticket = ticket_factory(subject="Box en panne", requester_id=vip.id)
    tickets.update(db.session, ticket, actor=None, status=Status.PENDING)
    user = make_user(Role.AGENT, locale="fr")
    sign_in(client, user)
    client.post("/settings", data={"locale": "fr", "timezone": "America/Montreal"})
    page = html(client.get(f"/tickets/{ticket.id}"))
    assert badge(page, ticket.id) == ("paused", "En pause")
    assert table_rows(page, "data-sla-table")[0] == [
        "Première réponse",
        "30 min",
        "En pause",
        "—",
        "reste 30 min",
    ]
    strings = re.search(r'<meta name="helpdesk-sla-strings" content="([^"]+)">', page)
    assert strings
    assert json.loads(unescape(strings.group(1)))["in"] == "{metric} dans {time}"
    assert '<meta name="helpdesk-timezone" content="America/Montreal">' in page


def test_history_names_sla_changes(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
) -> None:
    ticket = ticket_factory(subject="Slow")
    tickets.update(db.session, ticket, actor=None, status=Status.PENDING)
    page = html(signed_in(Role.AGENT).get(f"/tickets/{ticket.id}"))
    assert "First reply:" in page and '<span class="new">4 h</span>' in page
    assert '<span class="old">Running</span> → <span class="new">Paused</span>' in page


# -- live connection -----------------------------------------------------------------------------


def test_pages_carry_a_socket_token_and_a_fresh_one_is_served(
    signed_in: Callable[..., FlaskClient],
) -> None:
    console = signed_in(Role.AGENT)
    page = html(console.get("/tickets?all=1"))
    found = re.search(r'<meta name="helpdesk-socket-token" content="([^"]+)">', page)
    assert found
    assert user_for_socket_token(found.group(1)).id == console.user.id  # type: ignore[attr-defined,union-attr]
    fresh = console.get("/socket-token").get_json()["token"]
    assert user_for_socket_token(fresh).id == console.user.id  # type: ignore[attr-defined,union-attr]
    assert "socket.io.min.js" in page and "sla.js" in page and 'aria-live="assertive"' in page
    console.post("/logout")
    assert console.get("/socket-token").status_code == 302


def test_clock_snapshot_for_a_page(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
) -> None:
    one, two = ticket_factory(), ticket_factory()
    data = signed_in(Role.AGENT).get(f"/sla/clocks?ticket={one.id}&ticket={two.id}&ticket=x")
    clocks = data.get_json()["clocks"]
    assert set(clocks) == {str(one.id), str(two.id)}
    assert clocks[str(one.id)][0]["metric"] == "first_response"


# -- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SUPERVISOR_PAGES + ADMIN_PAGES)
def test_agents_may_not_open_supervisor_or_admin_pages(
    signed_in: Callable[..., FlaskClient], path: str
) -> None:
    response = signed_in(Role.AGENT).get(path)
    assert response.status_code == 403
    assert "Your role does not give access to this page." in html(response)


@pytest.mark.parametrize("path", SUPERVISOR_PAGES + ADMIN_PAGES)
def test_sla_pages_require_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_supervisors_see_their_pages_but_not_the_settings(
    signed_in: Callable[..., FlaskClient], office: CalendarModel
) -> None:
    console = signed_in(Role.SUPERVISOR)
    for path in SUPERVISOR_PAGES:
        assert console.get(path).status_code == 200, path
    for path in [*ADMIN_PAGES, "/sla/calendars/1", "/sla/policies/1"]:
        assert console.get(path).status_code == 403, path
    page = html(console.get("/tickets?all=1"))
    assert 'data-go="a" href="/sla/at-risk"' in page and 'data-go="l" href="/sla/report"' in page
    assert "/sla/policies" not in page
    assert "Go to the targets at risk" in page


def test_admins_see_every_page_and_dispatchers_none(
    signed_in: Callable[..., FlaskClient], office: CalendarModel
) -> None:
    console = signed_in(Role.ADMIN)
    for path in SUPERVISOR_PAGES + ADMIN_PAGES:
        assert console.get(path).status_code == 200, path
    assert 'data-go="p" href="/sla/policies"' in html(console.get("/tickets"))
    console.post("/logout")
    dispatcher = signed_in(Role.DISPATCHER)
    page = html(dispatcher.get("/tickets"))
    assert "/sla/at-risk" not in page and "/sla/policies" not in page
    assert dispatcher.get("/sla/at-risk").status_code == 403


# -- at-risk list --------------------------------------------------------------------------------


def test_at_risk_list_most_urgent_first_with_links(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    vip: Any,
) -> None:
    late = ticket_factory(subject="Already late", requester_id=vip.id)
    clock.advance(minutes=10)
    risky = ticket_factory(subject="Getting close", requester_id=vip.id)
    calm = ticket_factory(subject="Plenty of time")  # standard: 4 business hours
    waiting = ticket_factory(subject="On hold", requester_id=vip.id)
    tickets.update(db.session, waiting, actor=None, status=Status.PENDING)
    clock.advance(minutes=25)  # late: 35 of 30 min; risky: 25 of 30 min
    console = signed_in(Role.SUPERVISOR)
    page = html(console.get("/sla/at-risk"))
    links = re.findall(r'class="row-link" href="/tickets/(\d+)">([^<]*)</a>', page)
    assert [name for _, name in links] == ["Already late", "Getting close"]
    assert badge(page, late.id) == ("breached", "First reply overdue 5 min")
    assert badge(page, risky.id) == ("at_risk", "First reply in 5 min 0 s")
    assert str(calm.id) not in [i for i, _ in links]
    # A wider horizon adds the targets due within it (VIP resolution is 2 h, standard 4 h).
    wide = html(console.get("/sla/at-risk?within=86400"))
    names = re.findall(r'class="row-link" href="/tickets/\d+">([^<]*)</a>', wide)
    assert names[:2] == ["Already late", "Getting close"]
    assert names.count("Already late") == 2 and "Plenty of time" in names
    assert "On hold" not in names
    fragment = html(console.get("/sla/at-risk?fragment=list"))
    assert "<html" not in fragment and "Already late" in fragment


def test_at_risk_list_is_empty_without_risk(signed_in: Callable[..., FlaskClient]) -> None:
    assert "Nothing at risk" in html(signed_in(Role.SUPERVISOR).get("/sla/at-risk"))


EVIL = "<script>alert(1)</script>"


def test_at_risk_list_escapes_subjects(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    vip: Any,
) -> None:
    ticket_factory(subject=EVIL, requester_id=vip.id)
    clock.advance(minutes=29)
    console = signed_in(Role.SUPERVISOR)
    for path in ("/sla/at-risk", "/sla/at-risk?fragment=list"):
        page = html(console.get(path))
        assert EVIL not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_new_pages_have_no_inline_script_or_style(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
) -> None:
    ticket = ticket_factory()
    console = signed_in(Role.ADMIN)
    policy = db.session.scalars(select(SlaPolicy)).first()
    for path in [
        *SUPERVISOR_PAGES[:2],
        *ADMIN_PAGES,
        f"/sla/calendars/{office.id}",
        f"/sla/policies/{policy.id}",
        f"/tickets/{ticket.id}",
    ]:
        response = console.get(path)
        page = html(response)
        assert response.status_code == 200, path
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], path
        assert re.findall(r"\son[a-z]+\s*=", page) == [], path
        assert " style=" not in page, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# -- calendars -----------------------------------------------------------------------------------


def calendar_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Support desk",
        "timezone": "Europe/Paris",
        "holiday_country": "FR",
        "holiday_subdivision": "",
        "mon-0-start": "08:00",
        "mon-0-end": "12:00",
        "mon-1-start": "13:00",
        "mon-1-end": "18:00",
        "fri-0-start": "22:00",
        "fri-0-end": "06:00",
        "exceptions-0-kind": "closure",
        "exceptions-0-starts_at": "2026-12-24T12:00",
        "exceptions-0-ends_at": "2026-12-24T18:00",
        "exceptions-0-label": "Christmas Eve",
        "exceptions-1-kind": "opening",
        "exceptions-1-starts_at": "",
        "exceptions-1-ends_at": "",
        "exceptions-1-label": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_and_edits_a_calendar(signed_in: Callable[..., FlaskClient]) -> None:
    console = signed_in(Role.ADMIN)
    new = html(console.get("/sla/calendars/new"))
    assert 'name="mon-0-start" type="time" value="09:00"' in new  # weekdays 9-6 to start from
    assert 'name="sun-2-end" type="time" value=""' in new
    response = console.post("/sla/calendars/new", data=calendar_form(is_default="y"))
    assert response.status_code == 302, html(response)
    assert response.headers["Location"] == "/sla/calendars"
    db.session.expire_all()
    saved = db.session.scalars(select(CalendarModel)).one()
    assert saved.weekly == {
        "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
        "fri": [["22:00", "06:00"]],
    }
    assert saved.is_default and saved.holiday_country == "FR"
    (closure,) = saved.exceptions
    assert closure.kind == "closure" and closure.label == "Christmas Eve"
    assert closure.starts_at == datetime(2026, 12, 24, 11, 0, tzinfo=UTC)  # noon in Paris
    listing = html(console.get(response.headers["Location"]))
    assert "Calendar “Support desk” created." in listing
    assert "22:00\N{EN DASH}06:00 (overnight)" in listing
    assert "Open now" in listing or "Closed now" in listing

    page = html(console.get(f"/sla/calendars/{saved.id}"))
    assert 'name="fri-0-start" type="time" value="22:00"' in page
    assert 'name="exceptions-0-starts_at" type="datetime-local" value="2026-12-24T12:00"' in page
    edited = calendar_form(
        name="Support desk (winter)",
        timezone="America/Montreal",
        **{"mon-1-start": "", "mon-1-end": "", "exceptions-0-remove": "y"},
    )
    response = console.post(f"/sla/calendars/{saved.id}", data=edited)
    assert response.status_code == 302, html(response)
    db.session.expire_all()
    saved = db.session.get(CalendarModel, saved.id)
    assert saved.name == "Support desk (winter)" and saved.timezone == "America/Montreal"
    assert saved.weekly["mon"] == [["08:00", "12:00"]]
    assert saved.exceptions == []
    assert not saved.is_default  # the box was not ticked this time


@pytest.mark.parametrize(
    ("overrides", "status", "field", "message"),
    [
        ({"mon-0-end": ""}, 422, "mon-0-end", "Give both the opening and the closing time."),
        ({"tue-0-start": "9h", "tue-0-end": "12:00"}, 422, "tue-0-start", "Use hours and minutes"),
        ({"name": ""}, 422, "name", "This field is required."),
        (
            {"exceptions-0-ends_at": "2026-12-24T09:00"},
            422,
            "exceptions-0-ends_at",
            "Must end after it starts.",
        ),
        ({"exceptions-0-starts_at": "soon"}, 422, "exceptions-0-starts_at", "Give a date and time"),
        (
            {"holiday_subdivision": "ZZ"},
            422,
            "holiday_subdivision",
            "No public holidays are known for this country and region.",
        ),
        ({"timezone": "Mars/Olympus"}, 422, "timezone", "Not a valid choice"),
    ],
)
def test_calendar_form_errors_show_next_to_the_fields(
    signed_in: Callable[..., FlaskClient],
    overrides: dict[str, str],
    status: int,
    field: str,
    message: str,
) -> None:
    console = signed_in(Role.ADMIN)
    response = console.post("/sla/calendars/new", data=calendar_form(**overrides))
    assert response.status_code == status
    page = html(response)
    error = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert error, f"no error next to {field}"
    assert message in unescape(error.group(1))
    assert f'aria-describedby="{field}-error"' in page
    assert db.session.scalars(select(CalendarModel)).first() is None
    # What was typed is still there.
    assert 'value="Christmas Eve"' in page


def test_calendar_name_must_be_unique(
    signed_in: Callable[..., FlaskClient], office: CalendarModel
) -> None:
    response = signed_in(Role.ADMIN).post("/sla/calendars/new", data=calendar_form(name="Office"))
    assert response.status_code == 409
    assert "Another calendar already has this name." in html(response)


def test_a_calendar_without_opening_hours_is_refused(
    signed_in: Callable[..., FlaskClient],
) -> None:
    console = signed_in(Role.ADMIN)
    empty = {
        f"{d}-{i}-{end}": "" for d in ("mon", "fri") for i in (0, 1) for end in ("start", "end")
    }
    response = console.post("/sla/calendars/new", data=calendar_form(**empty))
    assert response.status_code == 422  # refused input, as on every other form
    page = html(response)
    error = re.search(r'id="hours-error">([^<]*)<', page)
    assert error and "Give at least one opening range" in unescape(error.group(1))
    assert 'aria-describedby="hours-error"' in page
    assert db.session.scalars(select(CalendarModel)).first() is None
    # Open around the clock, it needs no hours.
    response = console.post("/sla/calendars/new", data=calendar_form(always_open="y", **empty))
    assert response.status_code == 302, html(response)


def test_saving_a_calendar_in_the_console_moves_running_deadlines(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    recorded: Any,
) -> None:
    ticket = ticket_factory(subject="Running")
    (before,) = sla.views_for(db.session, [ticket.id])[ticket.id]
    assert before["due_at"] == "2026-06-08T12:00:00+00:00"  # Monday 14:00 in Paris
    clock.advance(hours=1)
    console = signed_in(Role.ADMIN)
    recorded.clear()
    hours = {
        f"{d}-0-{end}": t
        for d in ("mon", "tue", "wed", "thu", "fri")
        for end, t in (("start", "09:00"), ("end", "11:00"))
    }
    form = calendar_form(name="Office", **hours, **{"mon-1-start": "", "mon-1-end": ""})
    response = console.post(f"/sla/calendars/{office.id}", data=form)
    assert response.status_code == 302, html(response)
    db.session.expire_all()
    (after,) = sla.views_for(db.session, [ticket.id])[ticket.id]
    # One hour used; three left: Monday 10:00-11:00, then Tuesday 09:00-11:00.
    assert after["elapsed_seconds"] == HOUR
    assert after["due_at"] == "2026-06-09T09:00:00+00:00"
    assert [e.payload["ticket_id"] for e in recorded.named("sla.updated")] == [ticket.id]


def test_missing_calendar_and_policy_are_404(signed_in: Callable[..., FlaskClient]) -> None:
    console = signed_in(Role.ADMIN)
    assert console.get("/sla/calendars/999").status_code == 404
    assert console.get("/sla/policies/999").status_code == 404


# -- policies ------------------------------------------------------------------------------------


def policy_form(calendar_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Phone VIP",
        "position": "5",
        "active": "y",
        "calendar": str(calendar_id),
        "channels": ["phone", "sms"],
        "customer_tags": "VIP, gold ",
        "target_urgent_first_response_h": "0",
        "target_urgent_first_response_m": "15",
        "target_urgent_resolution_h": "4",
        "target_urgent_resolution_m": "",
        "target_normal_first_response_h": "2",
        "target_normal_first_response_m": "30",
        "pause_statuses": ["pending"],
        "at_risk_percent": "75",
        "escalations-0-on": "breached",
        "escalations-0-metrics": ["first_response"],
        "escalations-0-actions": ["notify_supervisors", "sms_oncall"],
        "escalations-0-group": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_and_edits_a_policy(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    customer_factory: Callable[..., Any],
) -> None:
    console = signed_in(Role.ADMIN)
    billing = Group(name="Billing")
    db.session.add(billing)
    db.session.commit()
    data = policy_form(office.id, **{"escalations-0-group": str(billing.id)})
    response = console.post("/sla/policies/new", data=data)
    assert response.status_code == 302, html(response)
    db.session.expire_all()
    policy = db.session.scalars(select(SlaPolicy).filter_by(name="Phone VIP")).one()
    assert policy.position == 5 and policy.active and policy.calendar_id == office.id
    assert policy.conditions == {"channel": ["phone", "sms"], "customer_tags": ["gold", "vip"]}
    assert policy.targets == {
        "urgent": {"first_response": 900, "resolution": 4 * HOUR},
        "normal": {"first_response": 2 * HOUR + 1800},
    }
    assert policy.pause_statuses == ["pending"] and policy.at_risk_ratio == 0.75
    assert policy.escalations == [
        {
            "on": "breached",
            "metrics": ["first_response"],
            "actions": [
                {"type": "notify_supervisors"},
                {"type": "sms_oncall"},
                {"type": "reassign_group", "group_id": billing.id},
            ],
        }
    ]
    listing = html(console.get("/sla/policies"))
    names = re.findall(r'class="row-link" href="/sla/policies/\d+">([^<]*)</a>', listing)
    assert names == ["VIP", "Phone VIP", "Standard"]  # matching order
    assert "Customer tagged: gold, vip" in listing
    # A new ticket that matches gets the policy's targets.
    gold = customer_factory(tags=["gold"])
    ticket = ticket_factory(requester_id=gold.id, channel=Channel.PHONE, priority=Priority.URGENT)
    first = next(c for c in sla.views_for(db.session, [ticket.id])[ticket.id])
    assert first["target_seconds"] == 900

    page = html(console.get(f"/sla/policies/{policy.id}"))
    assert 'name="target_normal_first_response_m" type="number" value="30"' in page
    assert re.search(r'value="sms_oncall" checked', page)
    response = console.post(
        f"/sla/policies/{policy.id}",
        data=policy_form(
            office.id,
            name="Phone VIP",
            active=None,
            **{"escalations-0-on": "", "target_normal_first_response_h": ""},
        ),
    )
    assert response.status_code == 302, html(response)
    db.session.expire_all()
    policy = db.session.get(SlaPolicy, policy.id)
    assert not policy.active and policy.escalations == []
    assert policy.targets["normal"] == {"first_response": 1800}


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        ({"target_urgent_first_response_m": "75"}, 422, "Number must be between 0 and 59."),
        (
            {"target_urgent_first_response_h": "0", "target_urgent_first_response_m": "0"},
            422,
            "A target must be longer than zero.",
        ),
        ({"target_urgent_resolution_h": "two"}, 422, "Not a valid integer value."),
        ({"escalations-0-actions": []}, 422, "Choose at least one action."),
        ({"at_risk_percent": "100"}, 422, "Number must be between 1 and 99."),
        ({"name": "Standard"}, 409, "Another policy already has this name."),
        ({"calendar": "999"}, 422, "Not a valid choice."),
    ],
)
def test_policy_form_errors(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    overrides: dict[str, Any],
    status: int,
    message: str,
) -> None:
    console = signed_in(Role.ADMIN)
    response = console.post("/sla/policies/new", data=policy_form(office.id, **overrides))
    assert response.status_code == status
    page = html(response)
    assert message in unescape(page)
    assert 'class="field-error"' in page or 'class="flash flash-error"' in page
    assert db.session.scalars(select(SlaPolicy).filter_by(name="Phone VIP")).first() is None


def test_policy_without_targets_is_refused(
    signed_in: Callable[..., FlaskClient], office: CalendarModel
) -> None:
    empty = {k: "" for k in policy_form(office.id) if k.startswith("target_")}
    response = signed_in(Role.ADMIN).post("/sla/policies/new", data=policy_form(office.id, **empty))
    assert response.status_code == 422
    assert "Set at least one target." in html(response)


def test_policy_pages_without_calendars(signed_in: Callable[..., FlaskClient]) -> None:
    page = html(signed_in(Role.ADMIN).get("/sla/policies"))
    assert "Create a calendar first." in page and "No policy yet" in page


# -- compliance report ---------------------------------------------------------------------------


@pytest.fixture
def decided(
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    make_user: Callable[..., User],
    vip: Any,
) -> None:
    """Three VIP tickets (first reply within 30 min, resolution within 2 h, around the clock):
    first replies met, late, and never given (breached by the scan); one resolution met."""
    agent = make_user(Role.AGENT)
    quick, slow, silent = (ticket_factory(requester_id=vip.id) for _ in range(3))
    clock.advance(minutes=10)
    tickets.add_comment(db.session, quick, body="Hello", public=True, actor=agent)
    clock.advance(minutes=30)
    tickets.add_comment(db.session, slow, body="Sorry", public=True, actor=agent)
    sla.scan(db.session, now=clock.now)
    tickets.update(db.session, quick, actor=agent, status=Status.SOLVED)
    assert silent.id
    clock.advance(minutes=5)


def test_report_table_totals(signed_in: Callable[..., FlaskClient], decided: None) -> None:
    console = signed_in(Role.SUPERVISOR)
    page = html(console.get("/sla/report?period=7&by=metric"))
    assert table_rows(page, "report-table") == [
        ["First reply", "1", "2", "3", "33.3%"],
        ["Resolution", "1", "0", "1", "100%"],
    ]
    foot = page[page.index("<tfoot>") : page.index("</tfoot>")]
    assert [unescape(c) for c in re.findall(r">([^<>]+)</t[hd]>", foot)] == [
        "All",
        "2",
        "2",
        "4",
        "50%",
    ]
    assert "50%</strong> of 4 targets met" in page
    chart = re.search(r'data-chart="([^"]+)"', page)
    assert chart
    assert json.loads(unescape(chart.group(1)))["compliance"] == [33.3, 100.0]
    day = html(console.get("/sla/report?period=30&by=day"))
    assert table_rows(day, "report-table") == [["Jun 8, 2026", "2", "2", "4", "50%"]]
    week = html(console.get("/sla/report?period=90&by=week"))
    assert table_rows(week, "report-table")[0][0] == "Week of Jun 8, 2026"


def test_report_chosen_dates(signed_in: Callable[..., FlaskClient], decided: None) -> None:
    console = signed_in(Role.SUPERVISOR)
    inside = html(console.get("/sla/report?period=custom&start=2026-06-08&end=2026-06-08&by=month"))
    assert table_rows(inside, "report-table") == [["June 2026", "2", "2", "4", "50%"]]
    assert "From Jun 8, 2026 to Jun 8, 2026" in inside
    before = html(console.get("/sla/report?period=custom&start=2026-06-01&end=2026-06-07"))
    assert "No target was decided in this period" in before


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("period=custom", "start", "Give a start date."),
        ("period=custom&start=2026-06-08&end=2026-06-01", "end", "must not be before"),
        ("period=custom&start=2026-06-08&end=junk", "end", "Not a date."),
        ("period=custom&start=2024-01-01&end=2026-06-01", "end", "Choose at most 400 days."),
    ],
)
def test_report_period_errors(
    signed_in: Callable[..., FlaskClient], query: str, field: str, message: str
) -> None:
    console = signed_in(Role.SUPERVISOR)
    response = console.get("/sla/report?" + query)
    assert response.status_code == 400
    error = re.search(rf'id="{field}-error">([^<]*)<', html(response))
    assert error and message in error.group(1)
    assert console.get("/sla/report.csv?" + query).status_code == 400


def test_report_in_french(
    client: FlaskClient, make_user: Callable[..., User], decided: None
) -> None:
    sign_in(client, make_user(Role.SUPERVISOR, locale="fr"))
    page = html(client.get("/sla/report?period=7&by=metric"))
    assert table_rows(page, "report-table")[0] == [
        "Première réponse",
        "1",
        "2",
        "3",
        "33,3\u00a0%",
    ]
    assert "Respect des niveaux de service" in page


def test_csv_export(signed_in: Callable[..., FlaskClient], decided: None) -> None:
    response = signed_in(Role.SUPERVISOR).get("/sla/report.csv?period=7&by=metric")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="sla-compliance-by-metric-2026-06-01-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["key", "label", "met", "breached", "total", "compliance_percent"],
        ["first_response", "First reply", "1", "2", "3", "33.3"],
        ["resolution", "Resolution", "1", "0", "1", "100.0"],
        ["all", "All", "2", "2", "4", "50.0"],
    ]


def test_csv_export_defuses_formulas_in_group_names(
    signed_in: Callable[..., FlaskClient],
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    make_user: Callable[..., User],
    vip: Any,
) -> None:
    group = Group(name='=HYPERLINK("http://evil.example","x")')
    db.session.add(group)
    db.session.commit()
    agent = make_user(Role.AGENT)
    ticket = ticket_factory(requester_id=vip.id, group_id=group.id)
    clock.advance(minutes=5)
    tickets.add_comment(db.session, ticket, body="Hi", public=True, actor=agent)
    clock.advance(minutes=1)  # the report's period ends now, and excludes its end
    body = signed_in(Role.SUPERVISOR).get("/sla/report.csv?period=7&by=group")
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True))))
    assert rows[1][:3] == ["'" + group.name, "'" + group.name, "1"]


# -- assets --------------------------------------------------------------------------------------


def test_chart_library_is_served_from_the_whitelist(client: FlaskClient) -> None:
    node_modules = Path(__file__).resolve().parents[2] / "agents_ui" / "node_modules"
    for path in ("/static/sla.js", "/static/sla-report.js"):
        with client.get(path) as response:
            assert response.status_code == 200
    assert client.get("/vendor/chart.js/package.json").status_code == 404
    if (node_modules / "chart.js/dist/chart.umd.min.js").exists():
        with client.get("/vendor/chart.js/dist/chart.umd.min.js") as response:
            assert response.status_code == 200
            assert response.mimetype == "text/javascript"


def test_the_caller_screen_carries_each_open_tickets_clocks(
    office: CalendarModel,
    clock: Clock,
    ticket_factory: Callable[..., Ticket],
    customer_factory: Callable[..., Any],
    vip: Any,
) -> None:
    from telephony.models import Call
    from telephony.screen import screen

    ticket = ticket_factory(subject="Router down", requester_id=vip.id)
    plain = customer_factory(name="No Ticket")
    calls = [
        Call(
            call_sid=f"CA{n:032d}",
            from_number="+33612345678",
            customer_id=who.id,
            status="in-progress",
            routing_state="waiting",
            created_at=datetime.now(UTC),
        )
        for n, who in enumerate((vip, plain))
    ]
    db.session.add_all(calls)
    db.session.commit()
    clock.advance(minutes=10)
    db.session.expire_all()
    pop = screen(db.session, calls[0], now=clock())
    (shown,) = pop["open_tickets"]
    assert shown["id"] == ticket.id
    clocks = {c["metric"]: c for c in shown["sla"]}
    assert set(clocks) == {"first_response", "resolution"}
    assert clocks["first_response"]["target_seconds"] == 1800
    assert clocks["first_response"]["state"] == "running"
    assert screen(db.session, calls[1], now=clock())["open_tickets"] == []
