"""A ticket create and a comment write their rows in one statement on PostgreSQL (several in
process on SQLite); a create reads neither the assignee nor the group while the per-process
caches hold them, and a change to either is seen by the next create; what the statements store
is what the ORM used to store."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.auth import service as auth
from helpdesk.auth.models import Group, Role
from helpdesk.extensions import db
from helpdesk.tickets.creation import reference_sql
from helpdesk.tickets.models import TicketChange, TicketTag
from helpdesk.tickets.workflow import reference_for
from helpdesk.timeline.models import TimelineEntry
from tests.conftest import Api
from tests.statements import statements


def _setup(make_user, token_for, client):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, email="create-admin@example.com", name="Ada Admin")
    api = Api(client, token_for(admin))
    group = Group(name="Tier 1")
    db.session.add(group)
    db.session.commit()
    customer = api.post("/customers", json={"name": "Zoé <b>Laurent</b>"}).get_json()["id"]
    return admin, api, group.id, customer


def test_one_statement_stores_what_the_answer_says(app, client, make_user, token_for, backend):
    admin, api, group_id, customer = _setup(make_user, token_for, client)
    body = {
        "subject": "  Box   blinks red ",
        "requester_id": customer,
        "assignee_id": admin.id,
        "group_id": group_id,
        "priority": "high",
        "channel": "phone",
        "tags": ["Fibre", "outage", "fibre"],
    }
    api.post("/tickets", json=body)  # the caches are filled
    with statements() as seen:
        answer = api.post("/tickets", json=body)
    assert answer.status_code == 201, answer.get_json()
    out = answer.get_json()
    writes = [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    if backend == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH requester AS")
    assert not [s for s in writes if "FROM users" in s or "FROM groups" in s]
    assert out["subject"] == "Box   blinks red"
    assert out["requester"] == {"id": customer, "name": "Zoé <b>Laurent</b>"}
    assert out["assignee"] == {"id": admin.id, "name": "Ada Admin"}
    assert out["group"] == {"id": group_id, "name": "Tier 1"}
    assert out["tags"] == ["fibre", "outage"]
    ticket_id = out["id"]
    db.session.expire_all()
    again = api.get(f"/tickets/{ticket_id}").get_json()
    assert {k: again[k] for k in out if k != "updated_at"} == {
        k: out[k] for k in out if k != "updated_at"
    }
    change = db.session.scalars(select(TicketChange).filter_by(ticket_id=ticket_id)).one()
    assert (change.action, change.actor_user_id, change.note) == ("created", admin.id, "")
    assert change.changes == {
        "status": [None, "new"],
        "priority": [None, "high"],
        "assignee_id": [None, admin.id],
        "group_id": [None, group_id],
    }
    entry = db.session.scalars(select(TimelineEntry).filter_by(ticket_id=ticket_id)).one()
    assert entry.summary == f"{reference_for(ticket_id)} Box blinks red"
    assert (entry.kind, entry.subject_type, entry.subject_id) == (
        "ticket_created",
        "ticket",
        ticket_id,
    )
    assert entry.data == {"channel": "phone", "priority": "high"}
    tags = db.session.scalars(select(TicketTag.tag).filter_by(ticket_id=ticket_id)).all()
    assert sorted(tags) == ["fibre", "outage"]


def test_a_deactivated_agent_or_renamed_group_is_seen_by_the_next_create(
    app, client, make_user, token_for
):
    _admin, api, group_id, customer = _setup(make_user, token_for, client)
    agent = make_user(Role.AGENT, email="leaving@example.com")
    body = {"subject": "Hi", "requester_id": customer, "assignee_id": agent.id}
    assert api.post("/tickets", json={**body, "group_id": group_id}).status_code == 201
    db.session.get(Group, group_id).name = "Tier 2"
    db.session.commit()
    assert api.post("/tickets", json={**body, "group_id": group_id}).get_json()["group"] == {
        "id": group_id,
        "name": "Tier 2",
    }
    auth.update_user(session=db.session, user=agent, active=False)
    refused = api.post("/tickets", json=body)
    assert refused.status_code == 422
    assert "assignee_id" in refused.get_json()["error"]["fields"]


def test_a_merged_requester_hands_the_ticket_on_and_a_missing_one_is_refused(
    app, client, make_user, token_for
):
    _admin, api, _group, kept = _setup(make_user, token_for, client)
    gone = api.post("/customers", json={"name": "Duplicate"}).get_json()["id"]
    merged = api.post(f"/customers/{kept}/merge", json={"source_id": gone})
    assert merged.status_code in (200, 201), merged.get_json()
    answer = api.post("/tickets", json={"subject": "To the kept one", "requester_id": gone})
    assert answer.get_json()["requester"]["id"] == kept
    missing = api.post("/tickets", json={"subject": "Nobody", "requester_id": 999_999})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {"requester_id": "no such customer"}


def test_merges_are_followed_to_the_end_and_an_erased_end_is_said(
    app, client, make_user, token_for
):
    _admin, api, _group, first = _setup(make_user, token_for, client)
    middle = api.post("/customers", json={"name": "Middle"}).get_json()["id"]
    last = api.post("/customers", json={"name": "Last"}).get_json()["id"]
    assert api.post(f"/customers/{middle}/merge", json={"source_id": first}).status_code < 300
    assert api.post(f"/customers/{last}/merge", json={"source_id": middle}).status_code < 300
    answer = api.post("/tickets", json={"subject": "Twice merged", "requester_id": first})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["requester"]["id"] == last
    assert api.delete(f"/customers/{last}").status_code == 204
    refused = api.post("/tickets", json={"subject": "Erased", "requester_id": first})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"requester_id": "customer was erased"}


def test_the_reference_in_sql_is_the_reference(app, backend):
    for ticket_id in (1, 42, 99_999, 123_456_789):
        assert db.session.scalar(select(reference_sql(ticket_id))) == reference_for(ticket_id)


def test_a_note_is_one_statement_and_changes_nothing_else_on_the_ticket(
    app, client, make_user, token_for, backend
):
    admin, api, _group, customer = _setup(make_user, token_for, client)
    ticket = api.post(
        "/tickets", json={"subject": "Modem", "requester_id": customer, "channel": "email"}
    ).get_json()
    with statements() as seen:
        answer = api.post(
            f"/tickets/{ticket['id']}/comments", json={"body": "Rang twice", "public": False}
        )
    assert answer.status_code == 201, answer.get_json()
    out = answer.get_json()
    assert (out["body"], out["public"], out["author"]) == (
        "Rang twice",
        False,
        {"id": admin.id, "name": "Ada Admin"},
    )
    writes = [
        s
        for s in seen
        if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "SELECT tickets"))
    ]
    if backend == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH new_comment AS")
    db.session.expire_all()
    after = api.get(f"/tickets/{ticket['id']}").get_json()
    assert (after["channel"], after["requester"]["id"]) == ("email", customer)
    assert after["updated_at"] > ticket["updated_at"]
    listed = api.get(f"/tickets/{ticket['id']}/comments").get_json()["items"]
    assert [c["id"] for c in listed] == [out["id"]]
    change = db.session.scalars(
        select(TicketChange).filter_by(ticket_id=ticket["id"], action="note")
    ).one()
    assert change.changes == {"comment_id": [None, out["id"]]}
    entry = db.session.scalars(
        select(TimelineEntry).filter_by(ticket_id=ticket["id"], kind="ticket_note")
    ).one()
    assert (entry.subject_type, entry.subject_id) == ("comment", out["id"])
    assert entry.summary == f"{reference_for(ticket['id'])} Ada Admin: Rang twice"
    assert entry.data == {"public": False, "from_customer": False}
