"""Macros in the console: written by the API's rules (refusals shown under the field, in the
agent's language), shared ones kept to supervisors and audited, offered in the reply box rendered
for the ticket, and their changes made once, with the reply sent with them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Group, Role, User
from helpdesk.extensions import db
from helpdesk.macros.models import Macro
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment, Ticket, TicketChange
from helpdesk.tickets.workflow import Status
from tests.functional.test_console import compiled_catalogues  # noqa: F401 (French pages)
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _form(**extra: str) -> dict[str, str]:
    return {
        "title": "Thanks",
        "body": "Thank you {{customer.first_name}}!",
        "language": "en",
    } | extra


@pytest.fixture
def signed_in(
    browser: Callable[[], FlaskClient],  # noqa: F811
    make_user: Callable[..., User],
) -> Callable[..., FlaskClient]:
    def make(role: Role = Role.AGENT, **kwargs: Any) -> FlaskClient:
        client = _sign_in(browser(), make_user(role, **kwargs))
        client.user = db.session.scalar(  # type: ignore[attr-defined]
            select(User).order_by(User.id.desc())
        )
        return client

    return make


def test_agent_writes_a_personal_macro(signed_in):
    agent = signed_in(Role.AGENT, name="Léa Martin")
    assert "No macro yet" in html(agent.get("/macros"))
    r = agent.post("/macros", data=_form(add_tags="Billing, refund ", set_status="solved"))
    assert r.status_code == 302
    macro = db.session.scalar(select(Macro))
    assert (macro.title, macro.visibility, macro.owner_id) == ("Thanks", "personal", agent.user.id)
    assert macro.add_tags == ["billing", "refund"] and macro.set_status == "solved"
    page = html(agent.get("/macros"))
    assert "Thanks" in page and "set status Solved, add tag billing, add tag refund" in page
    # Personal macros are not audited.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0

    agent.post("/macros", data=_form(title="Rendez-vous", language="fr"))
    found = html(agent.get("/macros?q=thanks")).split('id="macro-list"')[1]
    assert "Thanks" in found and "Rendez-vous" not in found
    found = html(agent.get("/macros?language=fr")).split('id="macro-list"')[1]
    assert "Rendez-vous" in found and ">Thanks<" not in found
    assert "No macro matches this search." in html(agent.get("/macros?q=nothing-like-it"))
    db.session.delete(db.session.scalar(select(Macro).where(Macro.title == "Rendez-vous")))
    db.session.commit()

    r = agent.post(f"/macros/{macro.id}", data=_form(title="Thanks a lot"))
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Macro, macro.id).title == "Thanks a lot"
    r = agent.post(f"/macros/{macro.id}/delete")
    assert r.status_code == 302
    assert db.session.scalar(select(Macro)) is None


def test_refusals_are_shown_under_their_fields_in_french(signed_in):
    agent = signed_in(Role.AGENT, locale="fr")
    r = agent.post("/macros", data=_form(body="Bonjour {{client.nom}}", title=" "))
    assert r.status_code == 422
    page = unescape(html(r))
    body_error = re.search(r'id="macro-body-error">([^<]*)<', page)
    assert body_error and body_error.group(1).startswith("Champ inconnu : {{client.nom}}.")
    assert 'id="macro-title-error"' in page
    assert "Bonjour {{client.nom}}" in page  # what was typed is kept
    r = agent.post("/macros", data=_form(set_group_id="999999"))
    assert r.status_code == 422
    assert "Ce groupe n'existe plus." in unescape(html(r))
    # An agent cannot share, even by posting the field the form does not offer.
    r = agent.post("/macros", data=_form(visibility="shared"))
    assert r.status_code == 422 and 'id="macro-visibility-error"' in html(r)
    assert db.session.scalar(select(Macro)) is None


def test_shared_macros_are_supervisors_and_audited(signed_in):
    supervisor = signed_in(Role.SUPERVISOR, name="Sam Super")
    assert 'name="visibility"' in html(supervisor.get("/macros/new"))
    r = supervisor.post("/macros", data=_form(visibility="shared"))
    assert r.status_code == 302
    macro_id = db.session.scalar(select(Macro.id))
    agent = signed_in(Role.AGENT)
    page = html(agent.get("/macros"))
    assert "Thanks" in page and f"/macros/{macro_id}" not in page  # no edit link
    assert agent.get(f"/macros/{macro_id}").status_code == 403
    assert agent.post(f"/macros/{macro_id}", data=_form(title="Mine")).status_code == 403
    assert agent.post(f"/macros/{macro_id}/delete").status_code == 403
    assert (
        supervisor.post(f"/macros/{macro_id}", data=_form(visibility="shared")).status_code == 302
    )
    assert supervisor.post(f"/macros/{macro_id}/delete").status_code == 302
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_id, e.channel) for e in entries] == [
        ("macro.create", str(macro_id), "console"),
        ("macro.update", str(macro_id), "console"),
        ("macro.delete", str(macro_id), "console"),
    ]


def _picker(page: str) -> list[dict[str, Any]]:
    found = re.search(r'data-macros="([^"]*)"', page)
    assert found, "no macro picker on the page"
    return list(json.loads(unescape(found.group(1))))


def test_reply_box_offers_rendered_macros_and_applies_them_once(
    signed_in, ticket_factory, customer_factory
):
    group = Group(name="Billing")
    db.session.add(group)
    db.session.commit()
    supervisor = signed_in(Role.SUPERVISOR)
    supervisor.post(
        "/macros",
        data=_form(
            title="Refund done",
            body="Hello {{customer.first_name}}, {{ticket.reference}} is refunded. {{agent.name}}",
            visibility="shared",
            set_status="solved",
            add_tags="billing",
            set_group_id=str(group.id),
        ),
    )
    macro = db.session.scalar(select(Macro))
    ticket = ticket_factory(requester_id=customer_factory(name="<Camille> Durand").id)
    agent = signed_in(Role.AGENT, name="Léa Martin")
    page = html(agent.get(f"/tickets/{ticket.id}"))
    assert "<Camille>" not in page  # the customer's name is inert in the page
    [offered] = _picker(page)
    assert offered["text"] == (f"Hello <Camille>, {ticket.reference} is refunded. Léa Martin")
    assert offered["also"] == "Will also set status Solved, add tag billing, set group Billing."

    r = agent.post(
        f"/tickets/{ticket.id}/reply",
        data={
            "reply-body": offered["text"],
            "reply-visibility": "internal",
            "reply-status": "",
            "reply-macro_id": str(macro.id),
        },
    )
    assert r.status_code == 302, html(r)
    db.session.expire_all()
    found = db.session.get(Ticket, ticket.id)
    assert found.status.value == "solved" and found.tags == ["billing"]
    assert found.group_id == group.id
    bodies = db.session.scalars(select(Comment.body).where(Comment.ticket_id == ticket.id)).all()
    assert bodies == [offered["text"]]
    macro_notes = db.session.scalars(
        select(TicketChange.note).where(TicketChange.note == "macro: Refund done")
    ).all()
    assert len(macro_notes) == 1

    # The next reply, without the macro, changes nothing of what the macro set.
    tickets.update(db.session, found, actor=None, status=Status.OPEN, group_id=None)
    r = agent.post(
        f"/tickets/{ticket.id}/reply",
        data={"reply-body": "Anything else?", "reply-visibility": "internal", "reply-status": ""},
    )
    assert r.status_code == 302
    db.session.expire_all()
    found = db.session.get(Ticket, ticket.id)
    assert found.status.value == "open" and found.group_id is None
    assert (
        len(
            db.session.scalars(
                select(TicketChange.note).where(TicketChange.note == "macro: Refund done")
            ).all()
        )
        == 1
    )


def test_a_macro_deleted_meanwhile_is_refused_with_the_text_kept(signed_in, ticket_factory):
    agent = signed_in(Role.AGENT)
    agent.post("/macros", data=_form(set_status="pending"))
    macro_id = db.session.scalar(select(Macro.id))
    ticket = ticket_factory()
    agent.post(f"/macros/{macro_id}/delete")
    r = agent.post(
        f"/tickets/{ticket.id}/reply",
        data={
            "reply-body": "Kept text",
            "reply-visibility": "internal",
            "reply-macro_id": str(macro_id),
        },
    )
    assert r.status_code == 422
    page = html(r)
    assert "That macro no longer exists." in page and "Kept text" in page
    assert db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id)) is None


def test_a_new_macro_starts_in_the_agents_language(signed_in):
    """A French agent writes French macros unless they choose otherwise: the macro's fixed
    words (its "not scheduled yet") reach customers in the macro's language."""
    for locale, chosen in (("fr", "fr"), ("en", "en")):
        page = html(signed_in(Role.AGENT, locale=locale).get("/macros/new"))
        selected = re.search(r'<option[^>]*value="(\w+)"[^>]*selected', page)
        assert selected and selected.group(1) == chosen, locale
