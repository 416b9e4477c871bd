"""`GET /api/v1/surveys`: staff read the surveys sent and their answers, filtered by ticket,
customer, agent and period; bad filters are refused with the field named."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from helpdesk.auth.models import Role
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.surveys import service as surveys
from helpdesk.tickets import service as tickets
from helpdesk.tickets.workflow import Channel, Status


def _solved(ticket_factory, customer, agent=None):
    ticket = ticket_factory(
        requester_id=customer.id, channel=Channel.EMAIL, assignee_id=agent.id if agent else None
    )
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    return ticket


def test_staff_list_surveys_with_filters(api_as, client, customer_factory, ticket_factory):
    reader = api_as(Role.AGENT)
    agent = api_as(Role.AGENT).user
    ann = customer_factory(language="fr", phones=[], emails=["ann@example.com"])
    bob = customer_factory(language="en", phones=[], emails=["bob@example.com"])
    first = _solved(ticket_factory, ann, agent)
    _solved(ticket_factory, bob)
    answered = surveys.recent(db.session, ticket_id=first.id)[0]
    assert surveys.record_answer(db.session, answered, score=5, comment="Parfait", via="link")

    everything = reader.get("/surveys")
    assert everything.status_code == 200
    items = everything.get_json()["items"]
    assert [i["customer_id"] for i in items] == [bob.id, ann.id]  # newest first
    by_agent = reader.get(f"/surveys?agent_id={agent.id}").get_json()["items"]
    assert len(by_agent) == 1
    one = by_agent[0]
    assert (one["ticket_id"], one["score"], one["comment"], one["state"]) == (
        first.id,
        5,
        "Parfait",
        "answered",
    )
    assert one["channel"] == "email" and one["trigger"] == "ticket"
    assert [
        i["customer_id"] for i in reader.get(f"/surveys?customer_id={bob.id}").get_json()["items"]
    ] == [bob.id]
    assert reader.get(f"/surveys?ticket_id={first.id}").get_json()["items"][0]["id"] == one["id"]
    assert [i["id"] for i in reader.get("/surveys?answered=true").get_json()["items"]] == [
        one["id"]
    ]
    later = quote((utcnow() + timedelta(hours=1)).isoformat())
    assert reader.get(f"/surveys?from={later}").get_json()["items"] == []
    paged = reader.get("/surveys?limit=1").get_json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    rest = reader.get(f"/surveys?limit=1&cursor={paged['next_cursor']}").get_json()
    assert [i["customer_id"] for i in rest["items"]] == [ann.id] and rest["next_cursor"] is None
    assert client.get("/api/v1/surveys").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=yesterday", "from"),
        ("to=2026-12-01T00:00:00", "to"),  # no offset
        ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to"),
        ("limit=0", "limit"),
        ("agent_id=me", "agent_id"),
        ("colour=blue", "colour"),
    ],
)
def test_bad_filters_name_the_field(api, query, field):
    r = api.get(f"/surveys?{query}")
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]
