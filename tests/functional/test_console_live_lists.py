"""The ticket and SMS lists: ordered by the time they show, each role's default view, and the
rows their script asks for when an event names a ticket (static/list_live.js)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.auth.models import Role, User
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel, Status
from tests.functional.test_console import SessionPerRequestClient, html, row_subjects, sign_in


def _client(app: Flask, user: User) -> FlaskClient:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    assert sign_in(client, user).status_code == 302
    return client


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, name="Alice Agent")


@pytest.fixture
def console(app: Flask, agent: User) -> FlaskClient:
    return _client(app, agent)


def _live_config(page: str) -> dict[str, Any]:
    import json

    found = re.search(r'data-live-list="([^"]*)"', page)
    assert found, "the list has no live configuration"
    return dict(json.loads(unescape(found.group(1))))


# -- order ---------------------------------------------------------------------------------------


def test_newest_first_is_by_creation_time_which_the_list_shows(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    today = ticket_factory(subject="Today's ticket")
    # Imported afterwards (a higher id) with its September date.
    september = ticket_factory(
        subject="September ticket", created_at=datetime(2026, 9, 3, 9, 0, tzinfo=UTC)
    )
    assert september.id > today.id
    page = html(console.get("/tickets?all=1"))
    assert row_subjects(page) == ["Today's ticket", "September ticket"]
    assert '<th scope="col">Created</th>' in page
    shown = [float(v) for v in re.findall(r'data-sort-at="([0-9.]+)"', page)]
    assert shown == sorted(shown, reverse=True)
    oldest_first = html(console.get("/tickets?all=1&sort=created"))
    assert row_subjects(oldest_first) == ["September ticket", "Today's ticket"]
    updated = html(console.get("/tickets?all=1&sort=-updated"))
    assert '<th scope="col">Updated</th>' in updated


def test_pages_follow_the_creation_time_without_gaps(
    console: FlaskClient, ticket_factory: Callable[..., Ticket], customer_factory: Any
) -> None:
    requester = customer_factory()
    start = utcnow() - timedelta(days=40)
    # Ids in the opposite order of the dates.
    for n in range(30):
        ticket_factory(
            subject=f"Day {n:02d}", requester_id=requester.id, created_at=start - timedelta(days=n)
        )
    first = html(console.get("/tickets?all=1"))
    match = re.search(r'<a href="([^"]+)" rel="next"', first)
    assert match
    second = html(console.get(match.group(1).replace("&amp;", "&")))
    assert row_subjects(first) + row_subjects(second) == [f"Day {n:02d}" for n in range(30)]


# -- default views -------------------------------------------------------------------------------


def test_an_agents_default_view_is_their_own_unresolved_tickets(
    console: FlaskClient, agent: User, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket_factory(subject="Mine", assignee_id=agent.id)
    solved = ticket_factory(subject="Mine, solved", assignee_id=agent.id)
    tickets.update(db.session, solved, actor=None, status=Status.SOLVED)
    ticket_factory(subject="Nobody's")
    page = html(console.get("/tickets"))
    assert row_subjects(page) == ["Mine"]
    assert re.search(r'aria-current="true">My unresolved tickets<', page)
    # Everything stays one click away.
    assert 'href="/tickets?all=1">All tickets<' in page
    everything = html(console.get("/tickets?all=1"))
    assert set(row_subjects(everything)) == {"Mine", "Mine, solved", "Nobody's"}
    assert re.search(r'aria-current="true">All tickets<', everything)
    # A search from the header looks at every ticket.
    assert row_subjects(html(console.get("/tickets?q=Nobody"))) == ["Nobody's"]


def test_a_supervisors_default_view_is_every_unresolved_ticket(
    app: Flask, make_user: Callable[..., User], ticket_factory: Callable[..., Ticket]
) -> None:
    ticket_factory(subject="Open one")
    closed = ticket_factory(subject="Closed one")
    tickets.update(db.session, closed, actor=None, status=Status.SOLVED)
    page = html(_client(app, make_user(Role.SUPERVISOR)).get("/tickets"))
    assert row_subjects(page) == ["Open one"]
    assert re.search(r'aria-current="true">All unresolved<', page)


# -- live rows -----------------------------------------------------------------------------------


def test_ticket_events_carry_the_channel(
    recorded: Any, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(channel=Channel.SMS)
    tickets.update(db.session, ticket, actor=None, status=Status.OPEN)
    for name in ("ticket.created", "ticket.updated"):
        assert recorded.named(name)[-1].payload["channel"] == "sms"


def test_the_rows_an_event_names_as_the_page_draws_them(
    console: FlaskClient, agent: User, ticket_factory: Callable[..., Ticket]
) -> None:
    mine = ticket_factory(subject="Mine <b>now</b>", assignee_id=agent.id)
    other = ticket_factory(subject="Someone else's")
    page = html(console.get("/tickets"))
    config = _live_config(page)
    assert config["first_page"] is True and config["filter"]["assignee"] == agent.id
    answer = console.get(config["rows_url"] + f"&ids={mine.id},{other.id},999999")
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body["rows"]) == {str(mine.id)}
    assert body["gone"] == [other.id, 999999]
    row = body["rows"][str(mine.id)]
    assert row.strip() in page  # exactly the page's own row
    assert "Mine &lt;b&gt;now&lt;/b&gt;" in row
    # Solved, it leaves the agent's unresolved list.
    tickets.update(db.session, mine, actor=None, status=Status.SOLVED)
    again = console.get(config["rows_url"] + f"&ids={mine.id}").get_json()
    assert again["rows"] == {} and again["gone"] == [mine.id]
    # After a reconnection the page asks for its whole first page.
    first = console.get(config["rows_url"] + "&page=first").get_json()
    assert first["order"] == []


def test_the_sms_list_follows_its_feeds(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    thread = ticket_factory(subject="Text thread", channel=Channel.SMS)
    web = ticket_factory(subject="A web form", channel=Channel.WEB)
    page = html(console.get("/sms"))
    config = _live_config(page)
    assert 'data-live-feed="sms tickets"' in page
    assert config["filter"]["channel"] == "sms"
    body = console.get(config["rows_url"] + f"&ids={thread.id},{web.id}").get_json()
    assert list(body["rows"]) == [str(thread.id)] and body["gone"] == [web.id]
    assert body["rows"][str(thread.id)].strip() in page
    first = console.get(config["rows_url"] + "&page=first").get_json()
    assert first["order"] == [thread.id]


def test_an_empty_list_has_a_table_for_rows_that_arrive(console: FlaskClient) -> None:
    page = html(console.get("/tickets"))
    assert 'data-live-list="' in page and "data-live-empty" in page
    assert re.search(r'<div class="table-scroll" hidden>', page)
    assert "list_live.js" in page and "list_live.js" in html(console.get("/sms"))
