"""Saved views in the console: saved from a filtered list, listed in the menu with their counts,
counted in one query however many there are, personal views seen by their owner only, shared
ones by all staff and changed (audited) by supervisors; renamed, reordered, deleted, and chosen
as the list's default."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.saved_views.models import SavedView
from helpdesk.tickets.workflow import Priority, Status
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)


@pytest.fixture
def sign_in(
    browser: Callable[[], FlaskClient],  # noqa: F811
    make_user: Callable[..., User],
) -> Callable[..., FlaskClient]:
    def make(role: Role = Role.AGENT) -> FlaskClient:
        user = make_user(role)
        client = _sign_in(browser(), user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _save(client: FlaskClient, name: str, **filters: Any) -> SavedView:
    r = client.post("/tickets/views", data={"name": name, **filters})
    assert r.status_code == 302, html(r)
    return db.session.scalars(select(SavedView).where(SavedView.name == name)).one()


def _menu(client: FlaskClient, url: str = "/tickets?all=1") -> dict[str, int]:
    """The saved views' menu as the agent reads it: name and count."""
    page = html(client.get(url))
    menu = page.split('class="saved-views"')[1].split("</nav>")[0]
    found = re.findall(
        r'data-view-id="\d+"[^>]*>([^<]+)(?:<span class="visually-hidden">[^<]*</span>)? '
        r'<span class="count" data-view-count="\d+">(\d+)</span>',
        menu,
    )
    return {unescape(name): int(count) for name, count in found}


def _counts(client: FlaskClient) -> dict[int, int]:
    body = client.get("/tickets/views/counts").get_json()
    return {int(k): v for k, v in body["counts"].items()}


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_save_from_a_filtered_list_then_see_it_with_its_count(sign_in, ticket_factory):
    agent = sign_in()
    ticket_factory(subject="Fire", priority=Priority.URGENT, status=Status.OPEN)
    ticket_factory(subject="Flood", priority=Priority.URGENT, status=Status.PENDING)
    ticket_factory(subject="Leak", priority=Priority.LOW, status=Status.OPEN)
    r = agent.post(
        "/tickets/views",
        data={"name": "Urgent and open", "priority": "urgent", "status": ["open", "new"]},
    )
    assert r.status_code == 302
    # The view opens as the list it was saved from.
    assert "priority=urgent" in r.headers["Location"] and "status=open" in r.headers["Location"]
    page = html(agent.get(r.headers["Location"]))
    assert "Fire" in page and "Flood" not in page and "Leak" not in page
    assert _menu(agent) == {"Urgent and open": 1}
    view = db.session.scalars(select(SavedView)).one()
    assert view.owner_id == agent.user.id and view.filters == {
        "priority": "urgent",
        "status": ["open", "new"],
    }

    ticket_factory(subject="Smoke", priority=Priority.URGENT)  # new, urgent: matches
    assert _counts(agent) == {view.id: 2}


def test_counts_take_one_query_however_many_views(sign_in, ticket_factory):
    agent = sign_in()
    ticket_factory(tags=["vip"], priority=Priority.HIGH)
    ticket_factory(assignee_id=agent.user.id)
    views = [
        _save(agent, "VIP", tag="vip"),
        _save(agent, "High", priority="high"),
        _save(agent, "Mine", assignee="me"),
        _save(agent, "Nothing", q="no such subject"),
        _save(agent, "Everything"),
    ]
    with counting_queries() as seen:
        counts = _counts(agent)
    assert [counts[v.id] for v in views] == [1, 1, 1, 0, 2]
    on_tickets = [s for s in seen if "FROM tickets" in s]
    assert len(on_tickets) == 1, on_tickets


def test_personal_views_are_their_owners_shared_ones_everyones(sign_in, ticket_factory):
    supervisor = sign_in(Role.SUPERVISOR)
    agent = sign_in()
    other = sign_in()
    ticket_factory(assignee_id=agent.user.id)
    shared = _save(supervisor, "My tickets, for all", assignee="me", shared="on")
    _save(other, "Other's own", priority="low")
    assert shared.owner_id is None
    # Each reads the shared view with themselves as "me".
    assert _menu(agent) == {"My tickets, for all": 1}
    assert _menu(supervisor) == {"My tickets, for all": 0}
    assert _menu(other) == {"My tickets, for all": 0, "Other's own": 0}

    # An agent may not share, nor change a shared view; an agent's own is out of others' reach.
    r = agent.post("/tickets/views", data={"name": "Not shared", "shared": "on"})
    assert r.status_code == 403
    assert db.session.scalars(select(SavedView).where(SavedView.name == "Not shared")).all() == []
    r = agent.post(f"/tickets/views/{shared.id}/rename", data={"name": "Mine now"})
    assert r.status_code == 403
    own = db.session.scalars(select(SavedView).where(SavedView.name == "Other's own")).one()
    assert agent.post(f"/tickets/views/{own.id}/delete").status_code == 404

    actions = [(e.action, e.target_id) for e in db.session.scalars(select(AuditEntry))]
    assert actions == [("view.create", str(shared.id))]


def test_rename_reorder_delete_and_default(sign_in, ticket_factory):
    agent = sign_in()
    ticket_factory(subject="Modem", priority=Priority.LOW)
    first = _save(agent, "First", priority="high")
    second = _save(agent, "Second", priority="low")
    r = agent.post(f"/tickets/views/{second.id}/move", data={"direction": "up"})
    assert r.status_code == 302
    assert list(_menu(agent)) == ["Second", "First"]
    agent.post(f"/tickets/views/{first.id}/rename", data={"name": "Highs"})
    assert list(_menu(agent)) == ["Second", "Highs"]
    r = agent.post(f"/tickets/views/{first.id}/rename", data={"name": " "})
    assert r.status_code == 302 and "Give the view a name" in html(agent.get(r.headers["Location"]))

    # The list with no filter opens on the default view.
    agent.post("/tickets/views/default", data={"view_id": str(second.id)})
    page = html(agent.get("/tickets"))
    assert "Modem" in page
    assert re.search(rf'data-view-id="{second.id}" aria-current="true"', page)
    agent.post("/tickets/views/default", data={"view_id": ""})
    assert "Modem" not in html(agent.get("/tickets"))  # back to "my unresolved tickets"

    agent.post(f"/tickets/views/{second.id}/delete")
    assert _menu(agent) == {"Highs": 0}
    page = html(agent.get("/tickets/views"))
    assert "Highs" in page and "No shared view yet." in page
    # Each view says what it shows.
    assert "Priority: High · Newest first" in page


def test_empty_menu_and_manage_page_say_what_to_do(sign_in):
    agent = sign_in()
    page = html(agent.get("/tickets"))
    assert "No saved view yet" in page
    page = html(agent.get("/tickets/views"))
    assert "You have no view of your own yet" in page


def test_the_views_in_french(
    browser: Callable[[], FlaskClient],  # noqa: F811
    make_user: Callable[..., User],
    ticket_factory: Callable[..., Any],
) -> None:
    agent = _sign_in(browser(), make_user(Role.AGENT, locale="fr"))
    page = html(agent.get("/tickets?priority=high"))
    assert "Vues enregistrées" in page and "Enregistrer ces filtres comme vue" in page
    r = agent.post("/tickets/views", data={"name": "Hautes", "priority": "high"})
    assert "Vue « Hautes » enregistrée." in html(agent.get(r.headers["Location"]))
    page = html(agent.get("/tickets/views"))
    assert "Mes vues" in page and "Aucune vue partagée pour l\u2019instant." in page
    assert "Ouvrir par défaut" in page
    assert "Priorité : Haute" in page
