"""The help center's contact form: a ticket for anyone, matched to the customer by address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.extensions import db, limiter
from helpdesk.mail.models import MailMessage
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel

FORM = {
    "name": "Eve Leroy",
    "email": "Eve.Leroy@Example.org",
    "subject": "Where is my order?",
    "message": "Ordered <script>alert(1)</script> last week.",
}


@pytest.fixture(autouse=True)
def fresh_limits(app: Flask) -> None:
    limiter.reset()


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def tickets() -> list[Ticket]:
    return list(db.session.scalars(select(Ticket)))


def test_a_request_from_a_known_address_goes_on_that_customer(
    client: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    eve = customer_factory(name="Eve L.", emails=["eve.leroy@example.org"])
    assert 'id="help-contact"' in html(client.get("/help/en"))
    assert client.get("/help/en/contact").status_code == 200
    sent = client.post("/help/en/contact", data=FORM)
    assert sent.status_code == 302
    [ticket] = tickets()
    assert ticket.requester_id == eve.id and ticket.channel is Channel.WEB
    assert ticket.subject == "Where is my order?"
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
    [ack] = db.session.scalars(select(MailMessage).where(MailMessage.kind == "ack"))
    assert ack.to_addresses == ["eve.leroy@example.org"] and ack.ticket_id == ticket.id
    page = client.get(sent.headers["Location"])
    assert ticket.reference in html(page) and 'id="contact-received"' in html(page)


def test_a_request_from_a_new_address_makes_the_customer(client: FlaskClient) -> None:
    assert client.post("/help/fr/contact", data=FORM).status_code == 302
    [ticket] = tickets()
    customer = db.session.get(Customer, ticket.requester_id)
    assert customer is not None and customer.name == "Eve Leroy" and customer.language == "fr"
    assert [e.email for e in customer.emails] == ["eve.leroy@example.org"]


def test_the_received_page_confirms_only_what_this_browser_sent(client: FlaskClient) -> None:
    answer = client.get("/help/en/contact/received")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/help/en/contact")


def test_a_filled_honeypot_opens_nothing_and_says_so(client: FlaskClient) -> None:
    answer = client.post("/help/en/contact", data={**FORM, "website": "http://spam.example"})
    assert answer.status_code == 400 and 'id="contact-error"' in html(answer)
    assert tickets() == []
    assert db.session.scalar(select(CustomerEmail)) is None


def test_invalid_fields_are_named_and_open_nothing(client: FlaskClient) -> None:
    answer = client.post("/help/en/contact", data={**FORM, "email": "not-an-address"})
    assert answer.status_code == 400 and 'id="email-error"' in html(answer)
    assert tickets() == []


def test_requests_are_limited_per_client_address(app: Flask, client: FlaskClient) -> None:
    app.config["HELPDESK_CONTACT_LIMIT"] = "2 per hour"
    codes = [client.post("/help/en/contact", data=FORM).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert len(tickets()) == 2


def test_customer_text_is_inert_on_the_console(client: FlaskClient, make_user: Any) -> None:
    from tests.conftest import PASSWORD

    client.post("/help/en/contact", data=FORM)
    [ticket] = tickets()
    agent = make_user("agent")
    staff = FlaskClient(client.application, client.response_wrapper)
    staff.post("/login", data={"email": agent.email, "password": PASSWORD})
    page = html(staff.get(f"/tickets/{ticket.id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_the_contact_form_needs_its_csrf_token(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/help/en/contact", data=FORM).status_code == 400
    assert tickets() == []


def test_the_french_form_says_what_is_wrong_in_french(client: FlaskClient) -> None:
    """The form library's own messages follow the page's language, not the browser's."""
    headers = {"Accept-Language": "en-US,en;q=0.9"}
    answer = client.post(
        "/help/fr/contact",
        data={**FORM, "email": "pas-une-adresse", "subject": ""},
        headers=headers,
    )
    page = html(answer)
    assert answer.status_code == 400
    assert "Ce champ est requis." in page and "Adresse électronique non valide." in page
    assert "This field is required." not in page and "Invalid email address." not in page


def test_the_form_librarys_messages_are_read_once_per_language(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A language's messages are read from their file once in the process, not by every
    request that builds a form."""
    from babel.support import Translations

    from agents_ui.forms import wtforms_messages

    wtforms_messages.cache_clear()
    reads: list[Any] = []
    load = Translations.load

    def counted(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("domain") == "wtforms":
            reads.append(args[1])
        return load(*args, **kwargs)

    monkeypatch.setattr(Translations, "load", counted)
    for _ in range(3):
        page = html(client.post("/help/fr/contact", data={**FORM, "subject": ""}))
        assert "Ce champ est requis." in page
    assert reads == [["fr"]]
