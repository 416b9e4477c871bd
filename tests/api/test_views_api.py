"""`/api/v1/views`: saved views, personal or shared, their tickets and their counts; bad filters
refused with the field named; shared views audited, personal ones not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.tickets.workflow import Channel, Priority


@pytest.fixture
def supervisor(api_as):
    return api_as(Role.SUPERVISOR)


def _create(client, **body):
    r = client.post("/views", json={"name": "Urgent", **body})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_personal_view_lists_its_tickets_and_counts(api, api_as, ticket_factory):
    me = api.user
    urgent_mine = ticket_factory(subject="Server down", priority=Priority.URGENT, assignee_id=me.id)
    ticket_factory(subject="Password", priority=Priority.URGENT)
    ticket_factory(subject="Printer", priority=Priority.LOW, assignee_id=me.id)
    view = _create(api, filters={"priority": "urgent", "assignee": "me"}, sort="created")
    assert view["shared"] is False and view["owner_id"] == me.id and view["editable"] is True
    assert view["filters"]["priority"] == "urgent" and view["sort"] == "created"

    page = api.get(f"/views/{view['id']}/tickets").get_json()
    assert [t["id"] for t in page["items"]] == [urgent_mine.id]
    counts = api.get("/views/counts").get_json()["items"]
    assert counts == [{"id": view["id"], "count": 1}]

    # Another agent neither sees nor reaches it.
    other = api_as(Role.AGENT)
    assert other.get("/views").get_json()["items"] == []
    assert other.get(f"/views/{view['id']}").status_code == 404
    assert other.get(f"/views/{view['id']}/tickets").status_code == 404
    assert other.delete(f"/views/{view['id']}").status_code == 404


def test_shared_view_seen_by_all_with_each_ones_count(supervisor, api, api_as, ticket_factory):
    agent = api.user
    ticket_factory(assignee_id=agent.id)
    ticket_factory(assignee_id=agent.id)
    ticket_factory(assignee_id=supervisor.user.id)
    shared = _create(supervisor, name="My open tickets", filters={"assignee": "me"}, shared=True)
    assert shared["shared"] is True and shared["owner_id"] is None

    seen = api.get("/views").get_json()["items"]
    assert [(v["id"], v["editable"]) for v in seen] == [(shared["id"], False)]
    # "me" is whoever looks.
    assert api.get("/views/counts").get_json()["items"] == [{"id": shared["id"], "count": 2}]
    assert supervisor.get("/views/counts").get_json()["items"] == [{"id": shared["id"], "count": 1}]
    # Agents may not change or delete it, nor share one of their own.
    r = api.patch(f"/views/{shared['id']}", json={"name": "Mine"})
    assert r.status_code == 403
    assert api.delete(f"/views/{shared['id']}").status_code == 403
    r = api.post("/views", json={"name": "Everyone", "shared": True})
    assert r.status_code == 403 and "shared" in r.get_json()["error"]["fields"]


def test_rename_refilter_reorder_and_delete(api, ticket_factory):
    first = _create(api, name="One")
    second = _create(api, name="Two")
    third = _create(api, name="Three")
    r = api.patch(f"/views/{third['id']}", json={"position": 1, "name": "Three, first"})
    assert r.status_code == 200 and r.get_json()["name"] == "Three, first"
    order = [v["id"] for v in api.get("/views").get_json()["items"]]
    assert order == [third["id"], first["id"], second["id"]]

    ticket_factory(tags=["vip"])
    r = api.patch(f"/views/{first['id']}", json={"filters": {"tag": " VIP "}})
    assert r.get_json()["filters"]["tag"] == "vip"
    counts = {c["id"]: c["count"] for c in api.get("/views/counts").get_json()["items"]}
    assert counts[first["id"]] == 1 and counts[second["id"]] == 1  # no filter: every ticket

    assert api.delete(f"/views/{second['id']}").status_code == 204
    assert api.get(f"/views/{second['id']}").status_code == 404


def test_default_view(api):
    view = _create(api)
    r = api.put("/views/default", json={"view_id": view["id"]})
    assert r.status_code == 200 and r.get_json() == {"view_id": view["id"]}
    assert api.get(f"/views/{view['id']}").get_json()["default"] is True
    assert api.put("/views/default", json={"view_id": None}).status_code == 200
    assert api.get(f"/views/{view['id']}").get_json()["default"] is False
    r = api.put("/views/default", json={"view_id": 999999})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filters": {"status": ["bogus"]}}, "filters.status.0"),
        ({"filters": {"priority": "extreme"}}, "filters.priority"),
        ({"filters": {"assignee": "someone"}}, "filters.assignee"),
        ({"filters": {"colour": "red"}}, "filters.colour"),
        ({"filters": {"group": "abc"}}, "filters.group"),
        ({"filters": {"group": 99999}}, "filters.group"),
        ({"filters": {"requester": 99999}}, "filters.requester"),
        ({"sort": "sideways"}, "sort"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
    ],
)
def test_bad_input_names_the_field(api, body, field):
    r = api.post("/views", json={"name": "Bad", **body})
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_bad_position_and_cursor_name_the_field(api):
    view = _create(api)
    r = api.patch(f"/views/{view['id']}", json={"position": 0})
    assert r.status_code == 422 and "position" in r.get_json()["error"]["fields"]
    r = api.get(f"/views/{view['id']}/tickets?limit=0")
    assert r.status_code == 422 and "limit" in r.get_json()["error"]["fields"]


def test_shared_views_are_audited_personal_ones_not(supervisor, api):
    personal = _create(supervisor, name="Mine")
    api.patch(f"/views/{_create(api)['id']}", json={"name": "Renamed"})
    shared = _create(supervisor, name="Team", shared=True)
    supervisor.patch(f"/views/{shared['id']}", json={"name": "Team, renamed"})
    supervisor.delete(f"/views/{shared['id']}")
    supervisor.delete(f"/views/{personal['id']}")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_id) for e in entries] == [
        ("view.create", str(shared["id"])),
        ("view.update", str(shared["id"])),
        ("view.delete", str(shared["id"])),
    ]
    assert entries[0].details["shared"] is True


def test_every_filter_counts_as_the_list_pages(api, customer_factory, ticket_factory):
    """The counts and the pages agree, filter by filter (one query for all the counts)."""
    requester = customer_factory()
    ticket_factory(subject="Modem 100% dead", tags=["vip"], requester_id=requester.id)
    ticket_factory(subject="Modem slow", channel=Channel.SMS)
    ticket_factory(subject="Invoice", assignee_id=api.user.id)
    filters = [
        {"q": "modem"},
        {"q": "100%"},
        {"tag": "vip"},
        {"channel": "sms"},
        {"requester": requester.id},
        {"assignee": "none"},
        {"assignee": "me", "status": ["new"]},
        {"q": "nothing like this"},
    ]
    views = [_create(api, name=f"View {n}", filters=f) for n, f in enumerate(filters)]
    counts = {c["id"]: c["count"] for c in api.get("/views/counts").get_json()["items"]}
    for view in views:
        page = api.get(f"/views/{view['id']}/tickets?limit=100").get_json()
        assert counts[view["id"]] == len(page["items"]), view["filters"]
    assert [counts[v["id"]] for v in views] == [2, 1, 1, 1, 1, 2, 1, 0]
