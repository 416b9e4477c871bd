"""`/api/v1/macros`: personal macros for any staff member, shared ones for supervisors (audited),
bad input refused naming the field, a macro rendered on a ticket before the reply, and its
changes made once, with the reply posted with `macro_id`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Group, Role
from helpdesk.dispatch.models import WorkOrder
from helpdesk.dispatch.workflow import WorkOrderStatus
from helpdesk.extensions import db
from helpdesk.tickets.models import Comment, TicketChange


def _make(client, **body):
    r = client.post("/macros", json={"title": "Thanks", "body": "Thank you!"} | body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _fields(r):
    return r.get_json()["error"].get("fields", {})


@pytest.fixture
def supervisor(api_as):
    return api_as(Role.SUPERVISOR, name="Sam Super")


@pytest.fixture
def agent(api_as):
    return api_as(Role.AGENT, name="Léa Martin")


def test_personal_macro_crud_and_search(agent, api_as):
    made = _make(agent, title="Refund on its way", body="Hello {{customer.first_name}}")
    assert made["visibility"] == "personal" and made["owner_id"] == agent.user.id
    assert made["editable"] is True
    _make(agent, title="Bonjour", body="Bonjour {{customer.name}}", language="fr")

    titles = [m["title"] for m in agent.get("/macros").get_json()["items"]]
    assert titles == ["Bonjour", "Refund on its way"]
    assert [m["title"] for m in agent.get("/macros?q=refund").get_json()["items"]] == [
        "Refund on its way"
    ]
    assert [m["title"] for m in agent.get("/macros?language=fr").get_json()["items"]] == ["Bonjour"]

    r = agent.patch(
        f"/macros/{made['id']}", json={"add_tags": ["Billing "], "set_status": "solved"}
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["add_tags"] == ["billing"] and r.get_json()["set_status"] == "solved"

    # Another agent does not see it at all.
    other = api_as(Role.AGENT)
    assert other.get(f"/macros/{made['id']}").status_code == 404
    assert other.patch(f"/macros/{made['id']}", json={"title": "Mine"}).status_code == 404
    assert other.get("/macros").get_json()["items"] == []

    assert agent.delete(f"/macros/{made['id']}").status_code == 204
    assert agent.get(f"/macros/{made['id']}").status_code == 404
    # Personal macros are their owner's business: nothing in the audit log.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_shared_macros_are_written_by_supervisors_and_audited(agent, supervisor):
    r = agent.post("/macros", json={"title": "All", "body": "x", "visibility": "shared"})
    assert r.status_code == 403 and _fields(r) == {"visibility": "must be personal"}

    shared = _make(supervisor, title="Billing answer", visibility="shared")
    seen = agent.get("/macros").get_json()["items"]
    assert [(m["id"], m["editable"]) for m in seen] == [(shared["id"], False)]
    assert agent.patch(f"/macros/{shared['id']}", json={"title": "Mine"}).status_code == 403
    assert agent.delete(f"/macros/{shared['id']}").status_code == 403
    mine = _make(agent, title="Mine")
    assert agent.patch(f"/macros/{mine['id']}", json={"visibility": "shared"}).status_code == 403

    r = supervisor.patch(f"/macros/{shared['id']}", json={"title": "Billing: refund"})
    assert r.status_code == 200
    assert supervisor.delete(f"/macros/{shared['id']}").status_code == 204

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_id) for e in entries] == [
        ("macro.create", str(shared["id"])),
        ("macro.update", str(shared["id"])),
        ("macro.delete", str(shared["id"])),
    ]
    assert entries[1].details["title"] == "Billing: refund"
    assert {e.actor_id for e in entries} == {supervisor.user.id}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"body": "Hi {{customer.nmae}} and {{ order }}"}, "body", "{{customer.nmae}}, {{order}}"),
        ({"body": "   "}, "body", "blank"),
        ({"title": ""}, "title", ""),
        ({"language": "de"}, "language", ""),
        ({"visibility": "team"}, "visibility", ""),
        ({"set_status": "closed"}, "set_status", ""),
        ({"set_group_id": 999999}, "set_group_id", "no such group"),
        ({"add_tags": ["x" * 65]}, "add_tags.0", ""),
        ({"colour": "red"}, "colour", ""),
    ],
)
def test_bad_input_names_the_field(agent, body, field, words):
    r = agent.post("/macros", json={"title": "T", "body": "B"} | body)
    assert r.status_code == 422, r.get_json()
    assert field in _fields(r), _fields(r)
    assert words in _fields(r)[field]
    assert agent.get("/macros").get_json()["items"] == []


def test_patch_refuses_an_unknown_placeholder(agent):
    made = _make(agent)
    r = agent.patch(f"/macros/{made['id']}", json={"body": "{{ticket.id}}"})
    assert r.status_code == 422 and "{{ticket.id}}" in _fields(r)["body"]
    assert agent.get(f"/macros/{made['id']}").get_json()["body"] == "Thank you!"


TEXT = (
    "Hello {{customer.first_name}}, {{customer.name}} / {{ticket.reference}}: "
    "visit {{technician.eta}}. {{agent.name}}"
)


def test_apply_renders_the_text_and_changes_nothing(agent, supervisor, ticket_factory):
    group = Group(name="Billing")
    db.session.add(group)
    db.session.commit()
    ticket = ticket_factory(subject="Invoice")
    shared = _make(
        supervisor,
        title="Refund",
        body=TEXT,
        visibility="shared",
        set_status="pending",
        add_tags=["billing"],
        set_group_id=group.id,
    )
    requester = ticket.requester_id
    r = agent.post(f"/tickets/{ticket.id}/macros/{shared['id']}/apply")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    from helpdesk.customers.models import Customer

    name = db.session.get(Customer, requester).name
    assert body["text"] == (
        f"Hello {name.split()[0]}, {name} / {ticket.reference}: visit not scheduled yet. Léa Martin"
    )
    assert body["actions"] == {
        "status": "pending",
        "add_tags": ["billing"],
        "group": {"id": group.id, "name": "Billing"},
    }
    got = agent.get(f"/tickets/{ticket.id}").get_json()
    assert got["status"] == "new" and got["tags"] == [] and got["group"] is None
    assert agent.get(f"/tickets/{ticket.id}/comments").get_json()["items"] == []


def test_apply_tells_the_scheduled_visit_in_the_macro_language(agent, ticket_factory):
    ticket = ticket_factory()
    eta = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    db.session.add(
        WorkOrder(
            ticket_id=ticket.id,
            customer_id=ticket.requester_id,
            summary="Boiler",
            address="1 rue de la Paix, Paris",
            lat=48.87,
            lon=2.33,
            window_start=eta - timedelta(hours=1),
            window_end=eta + timedelta(hours=1),
            day=eta.date().isoformat(),
            status=WorkOrderStatus.EN_ROUTE,
            eta_at=eta,
        )
    )
    db.session.commit()
    fr = _make(agent, title="Visite", body="Arrivée : {{technician.eta}}", language="fr")
    text = agent.post(f"/tickets/{ticket.id}/macros/{fr['id']}/apply").get_json()["text"]
    from zoneinfo import ZoneInfo

    local = eta.astimezone(ZoneInfo("Europe/Paris"))
    assert text.startswith("Arrivée : ") and text.endswith(local.strftime("%H:%M"))
    other = ticket_factory()
    text = agent.post(f"/tickets/{other.id}/macros/{fr['id']}/apply").get_json()["text"]
    assert text == "Arrivée : pas encore planifiée"


def test_apply_refuses_what_the_agent_cannot_see(agent, api_as, ticket_factory):
    ticket = ticket_factory()
    theirs = _make(api_as(Role.AGENT))
    assert agent.post(f"/tickets/{ticket.id}/macros/{theirs['id']}/apply").status_code == 404
    mine = _make(agent)
    assert agent.post(f"/tickets/999999/macros/{mine['id']}/apply").status_code == 404


def test_reply_with_a_macro_applies_its_changes_once(agent, supervisor, ticket_factory):
    group = Group(name="Billing")
    db.session.add(group)
    db.session.commit()
    ticket = ticket_factory(tags=["vip"])
    macro = _make(
        supervisor,
        title="Solved",
        body="Done, {{customer.first_name}}.",
        visibility="shared",
        set_status="solved",
        add_tags=["billing", "vip"],
        set_group_id=group.id,
    )
    text = agent.post(f"/tickets/{ticket.id}/macros/{macro['id']}/apply").get_json()["text"]
    r = agent.post(
        f"/tickets/{ticket.id}/comments",
        json={"body": text, "public": False, "macro_id": macro["id"]},
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["body"] == text
    got = agent.get(f"/tickets/{ticket.id}").get_json()
    assert got["status"] == "solved"
    assert got["tags"] == ["billing", "vip"]
    assert got["group"] == {"id": group.id, "name": "Billing"}
    notes = db.session.scalars(
        select(TicketChange.note).where(
            TicketChange.ticket_id == ticket.id, TicketChange.action == "updated"
        )
    ).all()
    assert "macro: Solved" in notes

    # A second reply without the macro changes nothing more.
    agent.patch(f"/tickets/{ticket.id}", json={"status": "open", "tags": []})
    r = agent.post(f"/tickets/{ticket.id}/comments", json={"body": "More", "public": False})
    assert r.status_code == 201
    got = agent.get(f"/tickets/{ticket.id}").get_json()
    assert got["status"] == "open" and got["tags"] == []


def test_reply_status_wins_over_the_macro(agent, ticket_factory):
    ticket = ticket_factory()
    macro = _make(agent, set_status="solved", add_tags=["thanks"])
    r = agent.post(
        f"/tickets/{ticket.id}/comments",
        json={"body": "x", "public": False, "status": "pending", "macro_id": macro["id"]},
    )
    assert r.status_code == 201
    got = agent.get(f"/tickets/{ticket.id}").get_json()
    assert got["status"] == "pending" and got["tags"] == ["thanks"]


def test_a_refused_change_leaves_no_reply(agent, ticket_factory):
    ticket = ticket_factory()
    agent.patch(f"/tickets/{ticket.id}", json={"status": "solved"})
    macro = _make(agent, set_status="pending", add_tags=["late"])
    r = agent.post(
        f"/tickets/{ticket.id}/comments",
        json={"body": "x", "public": False, "macro_id": macro["id"]},
    )
    assert r.status_code == 422 and "status" in _fields(r)
    count = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.ticket_id == ticket.id)
    )
    assert count == 0
    assert agent.get(f"/tickets/{ticket.id}").get_json()["tags"] == []


def test_reply_with_an_unknown_or_hidden_macro_names_the_field(agent, api_as, ticket_factory):
    ticket = ticket_factory()
    theirs = _make(api_as(Role.AGENT))
    for macro_id in (999999, theirs["id"]):
        r = agent.post(
            f"/tickets/{ticket.id}/comments",
            json={"body": "x", "public": False, "macro_id": macro_id},
        )
        assert r.status_code == 422 and _fields(r) == {"macro_id": "no such macro"}
    assert agent.get(f"/tickets/{ticket.id}/comments").get_json()["items"] == []
