"""The console's ticket merge (search, confirmation, banner, read-only duplicate) and the list's
bulk actions (confirmation with the count, the change, the undo), audited."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Status
from tests.functional.test_console import (  # noqa: F401  (fixtures)
    agent,
    client,
    console,
    html,
    sign_in,
)


def test_merge_from_the_ticket_page(console: FlaskClient, customer_factory, ticket_factory) -> None:  # noqa: F811
    customer = customer_factory(name="Zoé Martin", phones=[])
    dup = ticket_factory(requester_id=customer.id, subject="Box <b>down</b>")
    target = ticket_factory(requester_id=customer.id, subject="No internet")
    other = ticket_factory(subject="Someone else's")
    dup_id, target_id, other_id = dup.id, target.id, other.id
    target_ref, dup_ref = target.reference, dup.reference

    page = html(console.get(f"/tickets/{dup_id}"))
    assert f'href="/tickets/{dup_id}/merge"' in page

    search = html(console.get(f"/tickets/{dup_id}/merge"))
    assert target_ref in search and "Someone else" not in search  # this customer's open ones

    # A search offers only what may be merged: another customer's ticket is not listed...
    found = html(console.get(f"/tickets/{dup_id}/merge?q={other.reference}"))
    assert 'id="merge-none"' in found and "Someone else" not in found
    # ...and asked for by its id, it is refused before any confirmation, promising nothing.
    refused = html(console.get(f"/tickets/{dup_id}/merge?into={other_id}"))
    assert 'id="merge-refusal"' in refused and "different customers" in refused
    assert 'id="merge-confirm"' not in refused and 'id="merge-notice"' not in refused

    confirm = html(console.get(f"/tickets/{dup_id}/merge?into={target_id}"))
    assert 'id="merge-confirm"' in confirm
    assert "will not be told" in confirm  # no phone, no e-mail: nothing claims otherwise

    r = console.post(f"/tickets/{dup_id}/merge", data={"into": str(target_id)})

    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tickets/{target_id}")
    landed = html(console.get(f"/tickets/{target_id}"))
    assert f"{dup_ref} was merged into this ticket." in landed
    assert "they were not told of the merge" in landed
    merged = html(console.get(f"/tickets/{dup_id}"))
    assert 'id="merged-banner"' in merged and target_ref in merged
    assert 'id="reply-body"' not in merged and 'id="merge-into"' not in merged
    assert "into a draft article" not in merged  # its conversation lives on the target
    assert "Box &lt;b&gt;down&lt;/b&gt;" in merged
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.merge")).one()
    assert (entry.target_type, entry.target_id) == ("ticket", str(dup_id))
    assert entry.details["into"] == str(target_id)


def test_bulk_status_with_confirmation_then_undo(
    app: Flask,
    console: FlaskClient,  # noqa: F811
    agent: User,  # noqa: F811
    customer_factory,
    ticket_factory,
) -> None:
    customer = customer_factory()
    tickets = [ticket_factory(requester_id=customer.id, assignee_id=agent.id) for _ in range(3)]
    ids = [t.id for t in tickets]
    listing = html(console.get("/tickets?all=1"))
    assert 'id="bulk-form"' in listing and "data-bulk-select" in listing

    form = {"action": "status", "status": "pending", "ids": [str(i) for i in ids]}
    confirm = console.post("/tickets/bulk?all=1", data=form)

    assert confirm.status_code == 200
    page = html(confirm)
    assert "Change 3 tickets?" in page and "Status: Pending" in page
    assert (
        db.session.scalars(select(Ticket.status).where(Ticket.id.in_(ids))).all()
        == [Status.NEW] * 3
    )
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ticket.bulk_change")
    ).all()

    done = console.post("/tickets/bulk?all=1", data={**form, "confirm": "1"})

    assert done.status_code == 302
    db.session.expire_all()
    assert set(db.session.scalars(select(Ticket.status).where(Ticket.id.in_(ids)))) == {
        Status.PENDING
    }
    after = html(console.get("/tickets?all=1"))
    assert "3 tickets changed." in after and 'id="bulk-undo-button"' in after
    assert db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ticket.bulk_change")
    ).one()

    # Signed in again, in another browser: the Undo is still offered for its ten minutes.
    elsewhere = app.test_client()
    assert sign_in(elsewhere, agent).status_code == 302
    assert 'id="bulk-undo-button"' in html(elsewhere.get("/tickets?all=1"))

    undo_action = after.split('id="bulk-undo" method="post" action="')[1].split('"')[0]
    undone = console.post(undo_action.replace("&amp;", "&"))

    assert undone.status_code == 302
    db.session.expire_all()
    assert set(db.session.scalars(select(Ticket.status).where(Ticket.id.in_(ids)))) == {Status.NEW}
    final = html(console.get("/tickets?all=1"))
    assert "Undone: 3 tickets restored." in final and 'id="bulk-undo-button"' not in final


def test_bulk_without_selection_or_action_says_so(console: FlaskClient, ticket_factory) -> None:  # noqa: F811
    t = ticket_factory()
    r = console.post("/tickets/bulk", data={"action": "status", "status": "open"})
    assert r.status_code == 302
    assert "Select at least one ticket first." in html(console.get("/tickets?all=1"))
    r = console.post("/tickets/bulk", data={"ids": [str(t.id)]})
    assert "Choose an action and its value." in html(console.get("/tickets?all=1"))


def test_french_console_has_the_new_words(
    client: FlaskClient,  # noqa: F811
    make_user: Callable[..., User],
    ticket_factory,
) -> None:
    user = make_user(Role.AGENT, name="Amélie Dubois", locale="fr")
    assert sign_in(client, user).status_code == 302
    t = ticket_factory()
    page = html(client.get(f"/tickets/{t.id}"))
    listing = html(client.get("/tickets?all=1"))
    assert "Fusionner dans…" in page
    assert "Aucun ticket sélectionné" in listing and "Choisir une action…" in listing
