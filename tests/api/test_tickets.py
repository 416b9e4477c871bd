from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from helpdesk.auth.models import Role
from helpdesk.extensions import db


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _ticket(api, customer_id, **body):
    r = api.post("/tickets", json={"subject": "Printer off", "requester_id": customer_id, **body})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_create_defaults_and_history(api, customer_factory, recorded):
    c = customer_factory()
    t = _ticket(api, c.id, priority="high", channel="phone", tags=["Printer"])
    assert (t["status"], t["priority"], t["channel"], t["tags"]) == (
        "new",
        "high",
        "phone",
        ["printer"],
    )
    assert t["requester"] == {"id": c.id, "name": c.name}
    history = api.get(f"/tickets/{t['id']}/history").get_json()["items"]
    assert history[0]["action"] == "created" and history[0]["actor"]["id"] == api.user.id
    created = recorded.named("ticket.created")
    assert created[-1].payload["ticket_id"] == t["id"]
    assert f"customer:{c.id}" in created[-1].rooms


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"priority": "critical"}, "priority"),
        ({"channel": "fax"}, "channel"),
        ({"status": "closed"}, "status"),
        ({"assignee_id": 999999}, "assignee_id"),
        ({"group_id": 999999}, "group_id"),
        ({"requester_id": 999999}, "requester_id"),
        ({"requester_id": "abc"}, "requester_id"),
        ({"tags": "not-a-list"}, "tags"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_create_bad_input(api, customer_factory, body, field):
    payload = {"subject": "x", "requester_id": customer_factory().id} | body
    r = api.post("/tickets", json=payload)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_workflow_enforced(api, customer_factory):
    t = _ticket(api, customer_factory().id)
    r = api.patch(f"/tickets/{t['id']}", json={"status": "closed"})
    assert r.status_code == 422
    assert "new to closed" in r.get_json()["error"]["fields"]["status"]
    for status in ("open", "pending", "solved", "closed"):
        r = api.patch(f"/tickets/{t['id']}", json={"status": status})
        assert r.status_code == 200 and r.get_json()["status"] == status
    closed = r.get_json()
    assert closed["solved_at"] and closed["closed_at"]
    r = api.patch(f"/tickets/{t['id']}", json={"priority": "urgent"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ticket_closed"
    r = api.post(f"/tickets/{t['id']}/comments", json={"body": "hello?"})
    assert r.status_code == 409


def test_update_records_who_what(api_as, customer_factory, make_user):
    sup = api_as(Role.SUPERVISOR)
    agent = make_user(Role.AGENT, name="Karim")
    t = _ticket(sup, customer_factory().id)
    r = sup.patch(
        f"/tickets/{t['id']}",
        json={"assignee_id": agent.id, "priority": "urgent", "subject": "Printer on fire"},
    )
    assert r.get_json()["assignee"] == {"id": agent.id, "name": "Karim"}
    change = sup.get(f"/tickets/{t['id']}/history").get_json()["items"][-1]
    assert change["actor"]["id"] == sup.user.id
    assert change["changes"]["assignee_id"] == [None, agent.id]
    assert change["changes"]["priority"] == ["normal", "urgent"]
    assert change["changes"]["subject"] == ["Printer off", "Printer on fire"]
    # A no-op update writes no history.
    sup.patch(f"/tickets/{t['id']}", json={"priority": "urgent"})
    assert len(sup.get(f"/tickets/{t['id']}/history").get_json()["items"]) == 2


def test_comments_reply_note_and_reopen(api, customer_factory, recorded):
    from helpdesk.tickets import service
    from helpdesk.tickets.workflow import Status

    c = customer_factory()
    t = _ticket(api, c.id)
    r = api.post(f"/tickets/{t['id']}/comments", json={"body": "We are on it", "status": "pending"})
    assert r.status_code == 201 and r.get_json()["author"]["id"] == api.user.id
    assert api.get(f"/tickets/{t['id']}").get_json()["status"] == "pending"
    api.post(f"/tickets/{t['id']}/comments", json={"body": "Customer is grumpy", "public": False})
    ticket = service.get(db.session, t["id"])
    service.add_comment(db.session, ticket, body="Still broken", author_customer_id=c.id)
    assert api.get(f"/tickets/{t['id']}").get_json()["status"] == "open"
    comments = api.get(f"/tickets/{t['id']}/comments").get_json()["items"]
    assert [(x["public"], x["from_customer"]) for x in comments] == [
        (True, False),
        (False, False),
        (True, True),
    ]
    assert ticket.status is Status.OPEN
    # Each event says whether the customer wrote it (the ticket page words its notice so).
    assert [e.payload["from_customer"] for e in recorded.named("ticket.comment")] == [
        False,
        False,
        True,
    ]
    r = api.post(f"/tickets/{t['id']}/comments", json={"body": ""})
    assert r.status_code == 422 and "body" in r.get_json()["error"]["fields"]


def test_reference_lookup(api, customer_factory):
    t = _ticket(api, customer_factory().id)
    for ref in (t["reference"], t["reference"].lower().replace("-", "")):
        assert api.get(f"/tickets/by-reference/{ref}").get_json()["id"] == t["id"]
    assert api.get("/tickets/by-reference/T-99999999").status_code == 404
    assert api.get("/tickets/by-reference/nonsense").status_code == 404
    assert api.get(f"/tickets?q={t['reference']}").get_json()["items"][0]["id"] == t["id"]


def test_filters(api_as, customer_factory, make_user):
    sup = api_as(Role.SUPERVISOR)
    me = api_as(Role.AGENT)
    a, b = customer_factory(), customer_factory()
    t1 = _ticket(sup, a.id, priority="urgent", assignee_id=me.user.id, tags=["outage"])
    t2 = _ticket(sup, b.id, priority="low", channel="sms")
    t3 = _ticket(sup, a.id, priority="urgent")
    sup.patch(f"/tickets/{t3['id']}", json={"status": "open"})

    def ids(query):
        r = me.get("/tickets?" + query)
        assert r.status_code == 200, r.get_json()
        return [t["id"] for t in r.get_json()["items"]]

    assert ids("") == [t3["id"], t2["id"], t1["id"]]
    assert ids("sort=created") == [t1["id"], t2["id"], t3["id"]]
    assert ids("priority=urgent") == [t3["id"], t1["id"]]
    assert ids("status=open") == [t3["id"]]
    assert ids("status=open&status=new") == [t3["id"], t2["id"], t1["id"]]
    assert ids("assignee=me") == [t1["id"]]
    assert ids("assignee=none") == [t3["id"], t2["id"]]
    assert ids(f"requester_id={a.id}") == [t3["id"], t1["id"]]
    assert ids("tag=OUTAGE") == [t1["id"]]
    assert ids("channel=sms") == [t2["id"]]
    assert ids("q=printer") == [t3["id"], t2["id"], t1["id"]]
    assert ids("sort=-updated")[0] == t3["id"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status.0"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=abc", "limit"),
        ("assignee=someone", "assignee"),
        ("sort=random", "sort"),
        ("cursor=!!", "cursor"),
        ("foo=bar", "foo"),
    ],
)
def test_list_bad_query(api, query, field):
    r = api.get("/tickets?" + query)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_cursor_pagination_covers_everything_once(api, customer_factory):
    c = customer_factory()
    made = [_ticket(api, c.id)["id"] for _ in range(7)]
    for sort in ("-created", "created", "-updated"):
        seen, cursor = [], None
        while True:
            url = f"/tickets?limit=3&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
            page = api.get(url).get_json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(made) and len(seen) == len(set(seen)), sort


def test_list_query_count_does_not_grow(api, customer_factory, make_user):
    agents = [make_user(Role.AGENT) for _ in range(3)]
    for i in range(30):
        c = customer_factory()
        _ticket(api, c.id, assignee_id=agents[i % 3].id, tags=["a", "b"])
    counts = {}
    for limit in (2, 10, 30):
        api.get("/users/me")  # the token's last-used stamp is written at most once a minute
        with count_queries() as statements:
            r = api.get(f"/tickets?limit={limit}")
        assert len(r.get_json()["items"]) == limit
        counts[limit] = len(statements)
    assert counts[2] == counts[10] == counts[30], counts
    assert counts[30] <= 5, counts


def test_ids_unknown_404(api):
    assert api.get("/tickets/424242").status_code == 404
    assert api.patch("/tickets/424242", json={"status": "open"}).status_code == 404
    assert api.get("/tickets/424242/comments").status_code == 404
    assert api.get("/customers/424242/timeline").status_code == 404
    r = api.get("/no-such-endpoint")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = api.client.put("/api/v1/tickets", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 405 and "error" in r.get_json()


def test_staffing_endpoint(api_as):
    sup = api_as(Role.SUPERVISOR)
    r = sup.get(
        "/staffing?calls=100&interval_s=1800&aht_s=180&answer_within_s=20&service_level=0.8"
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["agents"] == 14 and abs(body["service_level"] - 0.888) < 0.001
    assert {"agents", "service_level", "asa_s", "occupancy", "p_wait"} <= set(body)
    bad = sup.get("/staffing?calls=100&aht_s=0")
    assert bad.status_code == 422 and "aht_s" in bad.get_json()["error"]["fields"]
    assert sup.get("/staffing?aht_s=180").status_code == 422  # calls missing


@pytest.mark.timeout(10, func_only=True)  # the app fixture may be slow; the requests not
def test_staffing_refuses_what_it_cannot_compute_at_once(api_as):
    """Values the query accepts but no calculator should loop over: 422 naming a field, fast."""
    sup = api_as(Role.SUPERVISOR)
    r = sup.get("/staffing?calls=999999&aht_s=86400&interval_s=1")
    assert r.status_code == 422 and "interval_s" in r.get_json()["error"]["fields"]
    r = sup.get("/staffing?calls=999999&aht_s=86400&interval_s=60")
    assert r.status_code == 422 and "calls" in r.get_json()["error"]["fields"]
    r = sup.get("/staffing?calls=1000000&aht_s=3600")
    assert r.status_code == 422 and "calls" in r.get_json()["error"]["fields"]
