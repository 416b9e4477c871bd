"""New tickets, new customers and customer changes from the console: checked by the API's rules
(the same refusals as the API, shown next to the field), saved by the API's services."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.auth.models import Role, User
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel, Priority
from tests.functional.test_console import SessionPerRequestClient, html, sign_in


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, name="Alice Agent")


@pytest.fixture
def console(app: Flask, agent: User) -> FlaskClient:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    assert sign_in(client, agent).status_code == 302
    return client


def _error_of(page: str, field_id: str) -> str:
    """The error shown under a field, which the field names with aria-describedby."""
    assert re.search(
        rf'id="{field_id}"[^>]*aria-invalid="true" aria-describedby="{field_id}-error"', page
    ), f"{field_id} is not marked invalid"
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', page)
    assert found, f"no error under {field_id}"
    return found.group(1)


# -- new ticket ----------------------------------------------------------------------------------


def test_the_lists_and_the_customer_page_lead_to_the_forms(
    console: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    customer = customer_factory(name="Camille Bernard")
    assert 'href="/tickets/new"' in html(console.get("/tickets"))
    assert 'href="/customers/new"' in html(console.get("/customers"))
    page = html(console.get(f"/customers/{customer.id}"))
    assert f'href="/customers/{customer.id}/edit"' in page
    assert f'href="/tickets/new?requester={customer.id}"' in page


def test_the_customer_is_found_then_the_ticket_created(
    console: FlaskClient, agent: User, customer_factory: Callable[..., Any]
) -> None:
    customer = customer_factory(name="Camille Bernard")
    customer_factory(name="Dominique Petit")
    page = html(console.get("/tickets/new"))
    assert 'id="customer-q"' in page and "new-ticket-form" not in page
    found = html(console.get("/tickets/new?customer_q=camille"))
    assert f'name="requester_id" value="{customer.id}"' in found
    assert "Dominique" not in found
    answer = console.post(
        "/tickets/new?customer_q=camille",
        data={
            "requester_id": str(customer.id),
            "subject": "  Router keeps rebooting ",
            "description": "Since the storm.",
            "priority": "high",
            "channel": "email",
            "assignee_id": str(agent.id),
            "group_id": "",
            "tags": "router, storm",
        },
    )
    assert answer.status_code == 302
    ticket = db.session.scalar(select(Ticket).where(Ticket.requester_id == customer.id))
    assert ticket is not None
    assert answer.headers["Location"].endswith(f"/tickets/{ticket.id}")
    assert ticket.subject == "Router keeps rebooting"
    assert ticket.priority is Priority.HIGH and ticket.channel is Channel.EMAIL
    assert ticket.assignee_id == agent.id and ticket.created_by_id == agent.id
    assert sorted(ticket.tags) == ["router", "storm"]


def test_a_ticket_refused_by_the_apis_rules_keeps_what_was_typed(
    console: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    customer = customer_factory(name="Camille Bernard")
    answer = console.post(
        "/tickets/new",
        data={
            "requester_id": str(customer.id),
            "subject": "x" * 251,  # the API's limit is 250
            "description": "Kept as typed",
            "priority": "soon",  # not a priority
            "channel": "phone",
        },
    )
    assert answer.status_code == 422
    page = html(answer)
    assert _error_of(page, "ticket-subject") == "At most 250 characters."
    assert _error_of(page, "ticket-priority") == "Choose one of the options."
    assert "Kept as typed" in page and customer.name in page
    assert db.session.scalar(select(Ticket.id)) is None


def test_a_ticket_needs_a_customer_and_a_subject(console: FlaskClient) -> None:
    answer = console.post("/tickets/new", data={"subject": "", "priority": "normal"})
    assert answer.status_code == 422
    page = html(answer)
    assert _error_of(page, "customer-q") == "Required."
    assert db.session.scalar(select(Ticket.id)) is None


def test_the_services_refusals_show_too(
    console: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    customer = customer_factory(name="Camille Bernard")
    answer = console.post(
        "/tickets/new",
        data={"requester_id": str(customer.id), "subject": "Hello", "assignee_id": "999999"},
    )
    assert answer.status_code == 422
    assert _error_of(html(answer), "ticket-assignee") == "no such active agent"


# -- customers -----------------------------------------------------------------------------------


def test_a_new_customer_with_phones_and_emails(console: FlaskClient) -> None:
    form = html(console.get("/customers/new?name=Jo"))
    assert 'value="Jo"' in form and 'name="csrf_token"' in form
    answer = console.post(
        "/customers/new",
        data={
            "name": "Jo Martin",
            "kind": "person",
            "language": "en",
            "phone": ["06 12 34 56 78", ""],
            "phone_label": ["work", "mobile"],
            "email": ["Jo@Example.com", ""],
            "email_label": ["home", "work"],
            "tags": "vip",
            "notes": "Prefers mornings.",
        },
    )
    assert answer.status_code == 302
    customer = db.session.scalar(select(Customer).where(Customer.name == "Jo Martin"))
    assert customer is not None
    assert answer.headers["Location"].endswith(f"/customers/{customer.id}")
    assert [(p.e164, p.label) for p in customer.phones] == [("+33612345678", "work")]
    assert [(e.email, e.label) for e in customer.emails] == [("jo@example.com", "home")]
    assert customer.language == "en" and customer.tags == ["vip"]


def test_a_customer_made_while_creating_a_ticket_comes_back_to_it(console: FlaskClient) -> None:
    answer = console.post("/customers/new?next=ticket", data={"name": "Noa Leroy"})
    customer = db.session.scalar(select(Customer).where(Customer.name == "Noa Leroy"))
    assert customer is not None
    assert answer.headers["Location"].endswith(f"/tickets/new?requester={customer.id}")
    page = html(console.get(answer.headers["Location"]))
    assert f'name="requester_id" value="{customer.id}"' in page and "Noa Leroy" in page


def test_a_name_of_spaces_is_refused_as_missing(console: FlaskClient) -> None:
    answer = console.post("/customers/new", data={"name": "   "})
    assert answer.status_code == 422
    assert _error_of(html(answer), "customer-name") == "Required."
    assert db.session.scalar(select(Customer.id)) is None


def test_refusals_show_next_to_the_row_they_concern(console: FlaskClient) -> None:
    answer = console.post(
        "/customers/new",
        data={
            "name": "",
            "phone": ["", "not a number"],
            "phone_label": ["mobile", "mobile"],
            "email": ["", "", "nobody-at-example"],
            "email_label": ["work", "work", "work"],
        },
    )
    assert answer.status_code == 422
    page = html(answer)
    assert _error_of(page, "customer-name") == "Required."
    assert _error_of(page, "customer-email-2") == "This is not in the expected form."
    assert 'value="not a number"' in page
    assert db.session.scalar(select(Customer.id)) is None
    # The number is refused by the service (after the model): its row says so too.
    answer = console.post(
        "/customers/new",
        data={"name": "Jo", "phone": ["", "not a number"], "phone_label": ["mobile", "mobile"]},
    )
    assert answer.status_code == 422
    assert _error_of(html(answer), "customer-phone-1")
    assert db.session.scalar(select(Customer.id)) is None


def test_editing_a_customer(console: FlaskClient, customer_factory: Callable[..., Any]) -> None:
    customer = customer_factory(name="Camille Bernard", phones=["+33612000001"])
    form = html(console.get(f"/customers/{customer.id}/edit"))
    assert 'value="Camille Bernard"' in form and 'value="+33612000001"' in form
    answer = console.post(
        f"/customers/{customer.id}/edit",
        data={
            "name": "Camille Bernard-Petit",
            "kind": "person",
            "language": "fr",
            "phone": ["+33612000001", "01 23 45 67 89"],
            "phone_label": ["mobile", "home"],
            "email": [""],
            "email_label": ["work"],
            "tags": "",
            "notes": "",
        },
    )
    assert answer.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Customer, customer.id)
    assert changed.name == "Camille Bernard-Petit"
    assert [(p.e164, p.label) for p in changed.phones] == [
        ("+33612000001", "mobile"),
        ("+33123456789", "home"),
    ]
    refused = console.post(f"/customers/{customer.id}/edit", data={"name": "", "language": "de"})
    assert refused.status_code == 422
    assert _error_of(html(refused), "customer-name") == "Required."
    assert _error_of(html(refused), "customer-language") == "This is not in the expected form."
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Camille Bernard-Petit"


def test_the_forms_carry_a_csrf_token_and_need_it(
    app: Flask, console: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    customer = customer_factory(name="Camille Bernard")
    for path in (
        "/customers/new",
        f"/customers/{customer.id}/edit",
        f"/tickets/new?requester={customer.id}",
    ):
        assert 'name="csrf_token"' in html(console.get(path)), path
    app.config["WTF_CSRF_ENABLED"] = True
    refused = console.post("/customers/new", data={"name": "No Token"})
    assert refused.status_code == 400
    assert db.session.scalar(select(Customer).where(Customer.name == "No Token")) is None


def test_the_forms_and_their_refusals_in_french(
    app: Flask, make_user: Callable[..., User], customer_factory: Callable[..., Any]
) -> None:
    customer = customer_factory(name="Camille Bernard")
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    sign_in(client, make_user(Role.AGENT, locale="fr"))
    page = html(client.get(f"/tickets/new?requester={customer.id}"))
    assert "Nouveau ticket" in page and "Créer le ticket" in page
    refused = html(client.post("/tickets/new", data={"requester_id": str(customer.id)}))
    assert _error_of(refused, "ticket-subject") == "Obligatoire."
    form = html(client.get("/customers/new"))
    assert "Numéros de téléphone" in form and "Créer le client" in form


def test_a_name_not_found_starts_the_new_customer(console: FlaskClient) -> None:
    assert 'href="/customers/new?name=Zo%C3%A9"' in html(console.get("/customers?q=Zoé"))
    assert 'href="/customers/new"' in html(console.get("/customers?q=0612345678"))
    page = html(console.get("/tickets/new?customer_q=Zoé"))
    assert "No customer found." in page
    assert 'href="/customers/new?next=ticket&amp;name=Zo%C3%A9"' in page
