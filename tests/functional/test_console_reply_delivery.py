"""The ticket page says where a public reply goes before it is sent, and what became of it after:
a reply that no channel can carry is never called "sent"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.tickets.models import Comment
from helpdesk.tickets.workflow import Channel
from telephony.models import SmsMessage
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    html,
    sign_in,
)

MOBILE = "+33612345678"
LANDLINE = "+33142685300"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def signed_in(client: FlaskClient, make_user: Callable[..., User]) -> Callable[..., FlaskClient]:
    def sign(locale: str = "en") -> FlaskClient:
        user = make_user(Role.AGENT, name="Amélie Agent", locale=locale)
        assert sign_in(client, user).status_code == 302
        return client

    return sign


def _reply_box(page: str) -> str:
    found = re.search(r'<p class="reply-route[^>]*>(.*?)</p>', page, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def _post_reply(console: FlaskClient, ticket_id: int, body: str) -> str:
    r = console.post(
        f"/tickets/{ticket_id}/reply",
        data={"reply-body": body, "reply-visibility": "public", "reply-status": ""},
    )
    assert r.status_code == 302, html(r)
    return html(console.get(r.headers["Location"]))


def _flashes(page: str) -> list[str]:
    return [
        " ".join(m.split())
        for m in re.findall(
            r'<(?:p|div) class="flash flash-\w+"[^>]*>(.*?)</(?:p|div)>', page, re.S
        )
    ]


def test_undeliverable_reply_is_named_before_and_never_called_sent(
    signed_in: Callable[..., FlaskClient],
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    console = signed_in()
    # A landline takes no texts and there is no address to write to.
    customer = customer_factory(name="Manon Petit", phones=[LANDLINE])
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.EMAIL)
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert _reply_box(page) == (
        "No channel can reach this customer: a public reply will be saved but not sent."
    )
    assert "data-sms-meter" not in page
    page = _post_reply(console, ticket.id, "We have reset your line.")
    assert "Reply saved but not sent: no channel can reach this customer." in _flashes(page)
    assert not any("Reply sent" in f for f in _flashes(page))
    # The reply itself says it did not go out.
    comment = db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id))
    assert comment is not None and comment.delivery_status == "undeliverable"
    assert re.search(
        rf'data-delivery="{comment.id}"><span class="badge delivery-undeliverable" '
        r"data-delivery-status>Not sent</span>",
        page,
    )
    assert "no channel could reach the customer" in page
    assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == 0


def test_an_email_ticket_is_answered_by_email(
    app: Flask,
    signed_in: Callable[..., FlaskClient],
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    from helpdesk.mail.smtp import SmtpTransport
    from tests.smtp_server import start_smtp

    recorder, controller, port = start_smtp()
    app.extensions["mail_transport"] = SmtpTransport.from_url(f"smtp://127.0.0.1:{port}")
    try:
        console = signed_in()
        customer = customer_factory(name="Manon Petit", phones=[LANDLINE], emails=["m@example.com"])
        ticket = ticket_factory(requester_id=customer.id, channel=Channel.EMAIL)
        page = html(console.get(f"/tickets/{ticket.id}"))
        assert _reply_box(page) == "A public reply will be sent by e-mail to m@example.com."
        page = _post_reply(console, ticket.id, "We have reset your line.")
        assert "Reply sent: e-mail to m@example.com." in _flashes(page)
        comment = db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id))
        assert comment is not None and comment.delivery_status == "sent"
        assert [m.rcpt_tos for m in recorder.accepted] == [["m@example.com"]]
        from helpdesk.tickets import delivery

        assert not delivery.simulated("email")  # the API's `simulated` is false too
    finally:
        app.extensions["mail_transport"].close()
        controller.stop()


def test_a_reply_kept_by_the_mail_simulator_is_not_called_sent(
    signed_in: Callable[..., FlaskClient],
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    """No SMTP server configured (`make run`): the mail goes to the simulator, and the agent is
    told so before and after, never "sent"."""
    console = signed_in()
    customer = customer_factory(name="Manon Petit", phones=[LANDLINE], emails=["m@example.com"])
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.EMAIL)
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert _reply_box(page) == (
        "A public reply will be sent by e-mail to m@example.com. "
        "No mail server is configured: it stays in the mail simulator."
    )
    page = _post_reply(console, ticket.id, "We have reset your line.")
    assert (
        "Reply saved, not sent: e-mail to m@example.com. "
        "No mail server is configured: it stays in the mail simulator."
    ) in _flashes(page)
    assert not any("Reply sent" in f for f in _flashes(page))
    assert 'class="badge delivery-sent" data-delivery-status>Simulated</span>' in page


def test_reply_box_names_the_sms_number_and_the_reply_shows_its_state(
    signed_in: Callable[..., FlaskClient],
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    console = signed_in()
    customer = customer_factory(name="Hugo Martin", phones=[LANDLINE, MOBILE])
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.PHONE)
    page = html(console.get(f"/tickets/{ticket.id}"))
    # No Twilio account here: the text goes to the simulator, and the page says so.
    assert _reply_box(page) == (
        "A public reply will be sent by SMS to +33 6 12 34 56 78. "
        "No Twilio account is configured: it goes to the simulator."
    )
    assert 'data-sms-meter="reply-body"' in page
    page = _post_reply(console, ticket.id, "The technician comes at 2 pm.")
    assert (
        "Reply saved, not sent: SMS to +33 6 12 34 56 78. "
        "No Twilio account is configured: it goes to the simulator."
    ) in _flashes(page)
    assert 'class="badge delivery-sent" data-delivery-status>Simulated</span>' in page
    assert "SMS to +33 6 12 34 56 78</span>" in page


def test_french_agent_reads_it_in_french(
    signed_in: Callable[..., FlaskClient],
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    console = signed_in("fr")
    nowhere = ticket_factory(requester_id=customer_factory(phones=[]).id, channel=Channel.WEB)
    texted = ticket_factory(requester_id=customer_factory(phones=[MOBILE]).id)
    assert _reply_box(html(console.get(f"/tickets/{nowhere.id}"))) == (
        "Aucun canal ne permet de joindre ce client : une réponse publique sera enregistrée "
        "mais pas envoyée."
    )
    assert _reply_box(html(console.get(f"/tickets/{texted.id}"))) == (
        "Une réponse publique sera envoyée par SMS au +33 6 12 34 56 78. "
        "Aucun compte Twilio n\u2019est configuré : elle part vers le simulateur."
    )
    page = _post_reply(console, nowhere.id, "Bonjour")
    assert (
        "Réponse enregistrée mais pas envoyée : aucun canal ne permet de joindre ce client."
        in _flashes(page)
    )
    assert "data-delivery-status>Non envoyée</span>" in page


def test_an_opted_out_customer_is_announced_and_the_reply_refused(
    app: Flask,
    signed_in: Callable[..., FlaskClient],
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    console = signed_in()
    customer = customer_factory(phones=[MOBILE])
    app.extensions["telephony_simulator"].text(MOBILE, "STOP")
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.SMS)
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert _reply_box(page).startswith("The customer opted out of text messages")
    r = console.post(
        f"/tickets/{ticket.id}/reply",
        data={"reply-body": "Hello?", "reply-visibility": "public", "reply-status": ""},
    )
    assert r.status_code == 409
    assert any(f.startswith("The customer opted out of text messages") for f in _flashes(html(r)))
    assert "Hello?" in html(r)  # the agent's text is kept in the form
