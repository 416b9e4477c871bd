"""The customer portal: sign-in by one-time link, a customer's own requests and nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.auth.models import Role, User
from helpdesk.events import RecordingBackend
from helpdesk.extensions import db, limiter
from helpdesk.mail.models import MailMessage
from helpdesk.portal import links
from helpdesk.portal.models import PortalLink, PortalSession
from helpdesk.slots import Slot
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.tickets.workflow import Channel, Status
from telephony.models import SmsMessage
from tests.conftest import PASSWORD, Clock

LINK = re.compile(r"http://localhost(/portal/link/[A-Za-z0-9_\-]+)")


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def portal_mail() -> list[MailMessage]:
    return list(db.session.scalars(select(MailMessage).where(MailMessage.kind == "portal_link")))


def ask_link(client: FlaskClient, address: str) -> Any:
    return client.post("/portal/sign-in", data={"address": address})


def link_path(row: MailMessage | SmsMessage) -> str:
    text = row.body_text if isinstance(row, MailMessage) else row.body
    found = LINK.search(text)
    assert found, text
    return found.group(1)


def sign_in(client: FlaskClient, address: str) -> None:
    before = len(portal_mail())
    assert ask_link(client, address).status_code == 200
    rows = portal_mail()
    assert len(rows) == before + 1
    answer = client.post(link_path(rows[-1]))
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/portal/requests")


@pytest.fixture(autouse=True)
def fresh_limits(app: Flask) -> None:
    """The limiter's counters outlive an app in this process: each test starts from none."""
    limiter.reset()


@pytest.fixture
def alice(customer_factory: Callable[..., Any]) -> Any:
    return customer_factory(name="Alice Martin", emails=["alice@example.com"], language="en")


@pytest.fixture
def bob(customer_factory: Callable[..., Any]) -> Any:
    return customer_factory(name="Bob Durand", emails=["bob@example.com"], language="fr")


def test_a_link_signs_in_once_and_shows_the_customers_requests(
    client: FlaskClient, alice: Any, ticket_factory: Callable[..., Any]
) -> None:
    ticket_factory(requester_id=alice.id, subject="Invoice <b>twice</b>")
    answer = ask_link(client, "  Alice@Example.COM ")
    assert answer.status_code == 200
    assert 'id="portal-sent"' in html(answer)
    [row] = portal_mail()
    assert row.to_addresses == ["alice@example.com"] and row.customer_id == alice.id
    path = link_path(row)
    stored = db.session.scalar(select(PortalLink))
    assert stored is not None and path.rsplit("/", 1)[1] not in stored.token_hash

    assert 'id="portal-open"' in html(client.get(path))  # a button: opening spends nothing
    opened = client.post(path)
    assert opened.status_code == 302
    assert (
        "HttpOnly" in opened.headers["Set-Cookie"]
        and "Path=/portal" in opened.headers["Set-Cookie"]
    )
    page = html(client.get("/portal/requests"))
    assert "Invoice &lt;b&gt;twice&lt;/b&gt;" in page and "<b>twice" not in page
    assert "Alice Martin" in page

    other = FlaskClient(client.application, client.response_wrapper)
    assert other.post(path).status_code == 410  # single use
    assert other.get(path).status_code == 410
    assert other.get("/portal/requests").status_code == 302


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(
    client: FlaskClient, alice: Any
) -> None:
    known = ask_link(client, "alice@example.com")
    unknown = ask_link(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200

    def sent(r: Any) -> str:
        return re.search(r'id="portal-sent">(.*?)</p>', html(r), re.S).group(1)  # type: ignore[union-attr]

    assert sent(known) == sent(unknown)
    assert len(portal_mail()) == 1


def test_a_link_expires_after_fifteen_minutes(
    app_clock: Clock, client: FlaskClient, alice: Any
) -> None:
    ask_link(client, "alice@example.com")
    path = link_path(portal_mail()[0])
    app_clock.advance(minutes=15, seconds=1)
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410
    assert db.session.scalar(select(PortalSession)) is None


def test_links_are_limited_per_address_and_per_client(
    app: Flask, client: FlaskClient, alice: Any
) -> None:
    app.config["HELPDESK_PORTAL_ADDRESS_LIMIT"] = "2 per hour"
    app.config["HELPDESK_PORTAL_IP_LIMIT"] = "5 per hour"
    assert [ask_link(client, "alice@example.com").status_code for _ in range(3)] == [200, 200, 429]
    assert len(portal_mail()) == 2
    assert ask_link(client, "x1@example.com").status_code == 200
    assert ask_link(client, "x2@example.com").status_code == 200
    # Each request counts for the client too: the sixth from here is refused whatever
    # it names.
    limited = ask_link(client, "x3@example.com")
    assert limited.status_code == 429 and 'id="portal-limited"' in html(limited)


def test_a_mobile_number_gets_its_link_by_text(
    client: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    carol = customer_factory(name="Carol", phones=["+33612345678"])
    assert ask_link(client, "06 12 34 56 78").status_code == 200
    [text] = db.session.scalars(select(SmsMessage).where(SmsMessage.kind == "portal_link"))
    assert text.to_number == "+33612345678" and text.customer_id == carol.id
    assert client.post(link_path(text)).status_code == 302
    assert "Carol" in html(client.get("/portal/requests"))


def test_no_sms_channel_is_said_plainly(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, customer_factory: Callable[..., Any]
) -> None:
    customer_factory(name="Dan", phones=["+33612345679"])
    monkeypatch.setattr(links, "TEXTS", Slot("SMS outbox"))
    answer = client.post("/portal/sign-in?lang=en", data={"address": "+33612345679"})
    assert answer.status_code == 503
    assert "cannot send links by text message" in html(answer)
    assert ask_link(client, "not an address").status_code == 400


def test_a_customer_sees_and_answers_only_their_own_requests(
    client: FlaskClient, alice: Any, bob: Any, ticket_factory: Callable[..., Any]
) -> None:
    mine = ticket_factory(requester_id=alice.id, subject="My router")
    theirs = ticket_factory(requester_id=bob.id, subject="Bob's boiler")
    sign_in(client, "alice@example.com")
    listed = html(client.get("/portal/requests"))
    assert "My router" in listed and "boiler" not in listed
    assert client.get(f"/portal/requests/{mine.id}").status_code == 200
    assert client.get(f"/portal/requests/{theirs.id}").status_code == 404
    assert (
        client.post(f"/portal/requests/{theirs.id}/reply", data={"body": "hi"}).status_code == 404
    )
    assert db.session.scalar(select(Comment).where(Comment.ticket_id == theirs.id)) is None


def test_internal_notes_are_never_shown(
    client: FlaskClient, alice: Any, ticket_factory: Callable[..., Any], make_user: Any
) -> None:
    agent = make_user(Role.AGENT)
    ticket = ticket_factory(requester_id=alice.id)
    tickets.add_comment(
        db.session, ticket, body="Internal: refund refused", public=False, actor=agent
    )
    tickets.add_comment(db.session, ticket, body="We are on it", public=True, actor=agent)
    sign_in(client, "alice@example.com")
    page = html(client.get(f"/portal/requests/{ticket.id}"))
    assert "We are on it" in page and agent.name in page
    assert "refund refused" not in page


def test_a_reply_reopens_a_solved_request_and_reaches_agents_live(
    client: FlaskClient,
    alice: Any,
    ticket_factory: Callable[..., Any],
    recorded: RecordingBackend,
) -> None:
    ticket = ticket_factory(requester_id=alice.id, channel=Channel.EMAIL)
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    sign_in(client, "alice@example.com")
    recorded.clear()
    answer = client.post(
        f"/portal/requests/{ticket.id}/reply", data={"body": "Still <i>broken</i>"}
    )
    assert answer.status_code == 302
    comment = db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id))
    assert comment is not None
    assert (comment.public, comment.author_customer_id, comment.channel) == (
        True,
        alice.id,
        Channel.WEB,
    )
    assert comment.delivery_channel is None  # the customer's own words go nowhere
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status is Status.OPEN
    [event] = recorded.named("ticket.comment")
    assert f"ticket:{ticket.id}" in event.rooms and event.payload["from_customer"] is True
    page = html(client.get(f"/portal/requests/{ticket.id}"))
    assert "Still &lt;i&gt;broken&lt;/i&gt;" in page


def test_a_new_request_opens_a_web_ticket(client: FlaskClient, alice: Any) -> None:
    sign_in(client, "alice@example.com")
    answer = client.post(
        "/portal/requests/new", data={"subject": "New phone", "description": "It is blue"}
    )
    assert answer.status_code == 302
    ticket = db.session.scalar(select(Ticket).where(Ticket.requester_id == alice.id))
    assert (
        ticket is not None and ticket.channel is Channel.WEB and ticket.description == "It is blue"
    )
    assert (
        client.post("/portal/requests/new", data={"subject": " ", "description": ""}).status_code
        == 400
    )


def test_portal_and_staff_sessions_are_apart(
    client: FlaskClient, alice: Any, make_user: Any, ticket_factory: Callable[..., Any]
) -> None:
    ticket_factory(requester_id=alice.id)
    sign_in(client, "alice@example.com")
    assert client.get("/tickets").status_code == 302  # to the staff sign-in page
    assert "/login" in client.get("/tickets").headers["Location"]
    assert client.get("/api/v1/tickets").status_code == 401

    staff = FlaskClient(client.application, client.response_wrapper)
    agent: User = make_user(Role.ADMIN)
    staff.post("/login", data={"email": agent.email, "password": PASSWORD})
    assert staff.get("/tickets").status_code == 200
    assert staff.get("/portal/requests").status_code == 302
    assert staff.get("/portal/requests").headers["Location"].endswith("/portal")


def test_signing_out_ends_the_session_on_the_server(client: FlaskClient, alice: Any) -> None:
    sign_in(client, "alice@example.com")
    cookie = client.get_cookie("helpdesk_portal", path="/portal")
    assert cookie is not None
    assert client.post("/portal/sign-out").status_code == 302
    copy = FlaskClient(client.application, client.response_wrapper)
    copy.set_cookie("helpdesk_portal", cookie.value, path="/portal")
    assert copy.get("/portal/requests").status_code == 302


def test_the_language_follows_the_customer_and_can_be_switched(
    client: FlaskClient, bob: Any
) -> None:
    sign_in(client, "bob@example.com")
    assert "Mes demandes" in html(client.get("/portal/requests"))
    client.post("/portal/language", data={"locale": "en"})
    assert "My requests" in html(client.get("/portal/requests"))


def test_portal_forms_need_their_csrf_token(app: Flask, client: FlaskClient, alice: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    assert ask_link(client, "alice@example.com").status_code == 400
    assert portal_mail() == []


def test_an_erasure_ends_the_customers_portal_access(client: FlaskClient, alice: Any) -> None:
    from helpdesk.customers import erasure

    sign_in(client, "alice@example.com")
    ask_link(client, "alice@example.com")
    assert client.get("/portal/requests").status_code == 200
    erasure.erase(db.session, alice, actor_id=None)
    db.session.commit()
    assert db.session.scalar(select(PortalLink)) is None
    assert db.session.scalar(select(PortalSession)) is None
    assert client.get("/portal/requests").status_code == 302


def test_a_closed_request_takes_no_reply_and_says_so(
    client: FlaskClient, alice: Any, ticket_factory: Callable[..., Any]
) -> None:
    ticket = ticket_factory(requester_id=alice.id)
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    tickets.update(db.session, ticket, actor=None, status=Status.CLOSED)
    sign_in(client, "alice@example.com")
    page = html(client.get(f"/portal/requests/{ticket.id}"))
    assert 'id="portal-closed"' in page and 'id="portal-reply"' not in page
    answer = client.post(f"/portal/requests/{ticket.id}/reply", data={"body": "One more thing"})
    assert answer.status_code == 409 and 'id="portal-closed"' in html(answer)
    assert db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id)) is None


def test_a_new_sign_in_ends_the_browsers_earlier_portal_session(
    client: FlaskClient, alice: Any, bob: Any
) -> None:
    sign_in(client, "alice@example.com")
    sign_in(client, "bob@example.com")
    sessions = list(db.session.scalars(select(PortalSession).order_by(PortalSession.id)))
    assert [s.ended_at is not None for s in sessions] == [True, False]
    assert "Bob Durand" in html(client.get("/portal/requests"))


def test_no_mail_channel_is_said_plainly(
    app: Flask, client: FlaskClient, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(app.extensions, "mail_transport")
    answer = client.post("/portal/sign-in?lang=en", data={"address": "alice@example.com"})
    assert answer.status_code == 503 and "cannot send links by e-mail" in html(answer)
    assert portal_mail() == [] and db.session.scalar(select(PortalLink)) is None


def test_the_link_and_the_forms_speak_the_customers_language(client: FlaskClient, bob: Any) -> None:
    """Bob writes in French: the link's page, and the errors of the portal's forms, are in
    French even in a browser that asks for English."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"
    assert ask_link(client, "bob@example.com").status_code == 200
    text = portal_mail()[-1].body_text
    assert "?lang=fr" in text
    landing = client.get(link_path(portal_mail()[-1]) + "?lang=fr")
    assert "Connectez-vous pour suivre vos demandes" in html(landing)
    assert client.post(link_path(portal_mail()[-1])).status_code == 302
    answer = client.post("/portal/requests/new", data={"subject": "", "description": ""})
    assert answer.status_code == 400
    assert "Ce champ est requis." in html(answer) and "This field is required." not in html(answer)
