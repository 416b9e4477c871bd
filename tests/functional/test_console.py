"""The agents' console: sign-in and its throttle, the ticket list and page, customers, languages,
and the escaping and CSRF protections that keep customer-written text harmless."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from agents_ui.safety import safe_next
from helpdesk.auth.models import Group, Role, User
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.tickets.workflow import Channel, Priority, Status
from helpdesk.timeline import service as timeline
from tests.conftest import PASSWORD

TRANSLATIONS = Path(__file__).resolve().parents[2] / "agents_ui" / "translations"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """Compile the .po catalogues as `make install` does, so the French tests see the French text
    even when pytest is run on its own. Only a missing or older .mo is rewritten."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parents[1].name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


# -- helpers -------------------------------------------------------------------------------------


class SessionPerRequestClient(FlaskClient):
    """Runs each request in its own app context, so with its own database session, as a server
    does. A session shared with the test would hand the views objects the factories already
    loaded, and hide a relationship that a page forgets to load.

    The test's own transaction is committed first: SQLite transactions here begin IMMEDIATE, and
    one left open would block the request's writes.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD, **extra: str) -> Any:
    return client.post("/login", data={"email": user.email, "password": password, **extra})


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def row_subjects(page: str) -> list[str]:
    found = re.findall(r'class="row-link" href="/tickets/\d+">([^<]*)</a>', page)
    return [unescape(s) for s in found]


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, name="Alice Agent", groups=["Billing"])


@pytest.fixture
def console(client: FlaskClient, agent: User) -> FlaskClient:
    """A test client signed in as `agent`."""
    assert sign_in(client, agent).status_code == 302
    return client


# -- signing in and out --------------------------------------------------------------------------


def test_login_page_has_a_labelled_form(client: FlaskClient) -> None:
    page = html(client.get("/login"))
    assert '<label class="field-label" for="email">E-mail</label>' in page
    assert 'name="password"' in page and 'type="password"' in page
    assert "Sign in to the helpdesk" in page


def test_login_success_goes_to_the_ticket_list(client: FlaskClient, agent: User) -> None:
    response = sign_in(client, agent)
    assert response.status_code == 302
    assert response.headers["Location"] == "/tickets"
    page = html(client.get("/tickets"))
    assert "Alice Agent" in page
    assert "Sign out" in page


def test_wrong_password_answers_401_with_a_message(client: FlaskClient, agent: User) -> None:
    response = sign_in(client, agent, password="not the password")
    assert response.status_code == 401
    assert "Wrong e-mail or password." in html(response)
    assert client.get("/tickets").status_code == 302  # still signed out


def test_unknown_email_answers_401(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "nobody@example.test", "password": "x"})
    assert response.status_code == 401
    assert "Wrong e-mail or password." in html(response)


def test_failed_logins_are_throttled(app: Flask, client: FlaskClient, agent: User) -> None:
    app.config["HELPDESK_LOGIN_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert sign_in(client, agent, password="wrong password").status_code == 401
    response = sign_in(client, agent)  # even the right password waits now
    assert response.status_code == 429
    page = html(response)
    assert "Too many failed sign-in attempts. Wait a minute" in page
    assert response.headers["Retry-After"] == "60"
    assert client.get("/tickets").status_code == 302


def test_successful_logins_are_not_throttled(app: Flask, client: FlaskClient, agent: User) -> None:
    app.config["HELPDESK_LOGIN_LIMIT"] = "2 per minute"
    for _ in range(4):
        assert sign_in(client, agent).status_code == 302
        client.post("/logout")


def test_logout_signs_out(console: FlaskClient) -> None:
    response = console.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert console.get("/tickets").status_code == 302


@pytest.mark.parametrize(
    "path", ["/", "/tickets", "/tickets/1", "/customers", "/customers/1", "/settings"]
)
def test_pages_require_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_redirect_to_login_says_why(client: FlaskClient) -> None:
    page = html(client.get(client.get("/customers").headers["Location"]))
    assert '<p class="flash flash-info" role="status">Please sign in to see this page.</p>' in page


def test_login_returns_to_the_page_asked_for(client: FlaskClient, agent: User) -> None:
    response = sign_in(client, agent, next="/customers?q=dup")
    assert response.headers["Location"] == "/customers?q=dup"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "http:/evil.example",
    ],
)
def test_login_refuses_off_site_next(client: FlaskClient, agent: User, target: str) -> None:
    assert safe_next(target) is None
    response = sign_in(client, agent, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/tickets"


def test_login_page_keeps_only_a_same_site_next(client: FlaskClient) -> None:
    assert 'value="/customers"' in html(client.get("/login?next=/customers"))
    assert "evil.example" not in html(client.get("/login?next=//evil.example"))


def test_root_redirects_to_tickets(console: FlaskClient) -> None:
    response = console.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tickets"


# -- ticket list ---------------------------------------------------------------------------------


def test_ticket_list_shows_newest_first_with_columns(
    console: FlaskClient,
    ticket_factory: Callable[..., Ticket],
    customer_factory: Callable[..., Any],
) -> None:
    requester = customer_factory(name="Camille Bernard")
    older = ticket_factory(subject="Older ticket", requester_id=requester.id)
    newer = ticket_factory(subject="Newer ticket", priority=Priority.URGENT)
    page = html(console.get("/tickets?all=1"))
    assert row_subjects(page) == ["Newer ticket", "Older ticket"]
    assert newer.reference in page and older.reference in page
    assert "Camille Bernard" in page
    assert '<span class="badge status status-new">New</span>' in page
    assert '<span class="badge priority priority-urgent">Urgent</span>' in page
    assert "Unassigned" in page


def test_empty_states(console: FlaskClient) -> None:
    assert "No tickets yet" in html(console.get("/tickets?all=1"))
    assert "No ticket matches these filters" in html(console.get("/tickets?priority=urgent"))


def test_ticket_list_filters(
    console: FlaskClient,
    agent: User,
    make_user: Callable[..., User],
    ticket_factory: Callable[..., Ticket],
) -> None:
    other = make_user(Role.AGENT, name="Bob Other")
    billing = db.session.query(Group).filter_by(name="Billing").one()
    ticket_factory(subject="Mine and open", assignee_id=agent.id, status=Status.OPEN)
    ticket_factory(subject="Bob's pending", assignee_id=other.id, status=Status.PENDING)
    ticket_factory(
        subject="Billing urgent", priority=Priority.URGENT, group_id=billing.id, tags=["refund"]
    )
    ticket_factory(subject="Came by SMS", channel=Channel.SMS)

    def subjects(query: str) -> set[str]:
        response = console.get("/tickets?" + query)
        assert response.status_code == 200
        return set(row_subjects(html(response)))

    assert subjects("status=open&status=pending") == {"Mine and open", "Bob's pending"}
    assert subjects("status=pending") == {"Bob's pending"}
    assert subjects("priority=urgent") == {"Billing urgent"}
    assert subjects("assignee=me") == {"Mine and open"}
    assert subjects("assignee=none") == {"Billing urgent", "Came by SMS"}
    assert subjects(f"group={billing.id}") == {"Billing urgent"}
    assert subjects("tag=REFUND") == {"Billing urgent"}
    assert subjects("channel=sms") == {"Came by SMS"}
    assert subjects("q=urgent") == {"Billing urgent"}
    assert subjects("status=bogus&priority=nope") == {
        "Mine and open",
        "Bob's pending",
        "Billing urgent",
        "Came by SMS",
    }
    # The chosen filters are shown again in the form.
    page = html(console.get("/tickets?status=pending&assignee=me"))
    assert 'name="status" value="pending" checked' in page
    assert '<option value="me" selected>' in page


def test_search_by_reference(console: FlaskClient, ticket_factory: Callable[..., Ticket]) -> None:
    wanted = ticket_factory(subject="The one")
    ticket_factory(subject="Another")
    for q in (wanted.reference, wanted.reference.lower().replace("-", "")):
        assert row_subjects(html(console.get("/tickets", query_string={"q": q}))) == ["The one"]


def test_ticket_list_pages_with_a_cursor(
    console: FlaskClient,
    ticket_factory: Callable[..., Ticket],
    customer_factory: Callable[..., Any],
) -> None:
    requester = customer_factory()
    for n in range(30):
        ticket_factory(subject=f"Ticket number {n:02d}", requester_id=requester.id)
    first = html(console.get("/tickets?all=1"))
    first_rows = row_subjects(first)
    assert len(first_rows) == 25
    assert first_rows[0] == "Ticket number 29"
    match = re.search(r'<a href="([^"]+)" rel="next"', first)
    assert match, "no next-page link"
    second = html(console.get(match.group(1).replace("&amp;", "&")))
    second_rows = row_subjects(second)
    assert second_rows == [f"Ticket number {n:02d}" for n in range(4, -1, -1)]
    assert 'rel="next"' not in second
    assert "« First page" in second


def test_broken_cursor_shows_the_first_page(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket_factory(subject="Still listed")
    response = console.get("/tickets?all=1&cursor=not-a-cursor")
    assert response.status_code == 200
    assert "That page link is no longer valid" in html(response)
    assert row_subjects(html(response)) == ["Still listed"]


def test_updated_time_is_in_the_site_time_zone(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket_factory(subject="Winter", created_at=datetime(2024, 1, 15, 12, 0, tzinfo=UTC))
    page = html(console.get("/tickets?all=1"))
    assert "1/15/24, 1:00" in page  # noon UTC is 13:00 in Paris in January
    assert 'datetime="2024-01-15T12:00:00+00:00"' in page


# -- ticket page ---------------------------------------------------------------------------------


def test_ticket_page_shows_everything_an_agent_needs(
    console: FlaskClient,
    agent: User,
    ticket_factory: Callable[..., Ticket],
    customer_factory: Callable[..., Any],
) -> None:
    customer = customer_factory(
        name="Manon Petit", phones=["+33612345678"], language="fr", tags=["vip"]
    )
    ticket = ticket_factory(
        subject="Box is down", description="Since this morning.", requester_id=customer.id
    )
    tickets.add_comment(db.session, ticket, body="We are on it.", public=True, actor=agent)
    tickets.add_comment(
        db.session, ticket, body="Check the DSLAM first.", public=False, actor=agent
    )
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert "Box is down" in page and "Since this morning." in page
    assert f'href="/customers/{customer.id}">Manon Petit</a>' in page
    assert "+33 6 12 34 56 78" in page
    assert "French" in page and '<li class="tag">vip</li>' in page
    public = page.index("We are on it.")
    internal = page.index("Check the DSLAM first.")
    assert public < internal
    assert page.rfind('class="comment comment-public"', 0, public) > -1
    assert page.rfind('class="comment comment-internal"', public, internal) > -1
    assert "Internal note" in page
    # The first reply moved the ticket from New to Open: the history says who and what.
    assert "Alice Agent</strong> changed the ticket" in page
    assert '<span class="old">New</span> → <span class="new">Open</span>' in page
    assert 'id="reply-body"' in page and 'id="props-status"' in page


def test_public_reply_with_status_change(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(subject="Refund please")
    response = console.post(
        f"/tickets/{ticket.id}/reply",
        data={
            "reply-body": "Refund approved.",
            "reply-visibility": "public",
            "reply-status": "pending",
        },
    )
    assert response.status_code == 302
    page = html(console.get(response.headers["Location"]))
    # The requester has a mobile number: the reply goes by text (to the simulator here, with no
    # Twilio account), and the message says so.
    assert "Reply saved, not sent: SMS to +33 6" in page and "Status is now “Pending”." in page
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status is Status.PENDING
    comment = db.session.query(Comment).filter_by(ticket_id=ticket.id).one()
    assert comment.public and comment.body == "Refund approved."


def test_internal_note_keeps_status(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(subject="Odd one", status=Status.OPEN)
    response = console.post(
        f"/tickets/{ticket.id}/reply",
        data={"reply-body": "Customer sounded upset.", "reply-visibility": "internal"},
    )
    assert response.status_code == 302
    assert "Internal note added." in html(console.get(response.headers["Location"]))
    db.session.expire_all()
    comment = db.session.query(Comment).filter_by(ticket_id=ticket.id).one()
    assert comment.public is False
    assert db.session.get(Ticket, ticket.id).status is Status.OPEN


def test_empty_reply_is_refused_without_losing_the_page(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory()
    response = console.post(f"/tickets/{ticket.id}/reply", data={"reply-body": "  "})
    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert db.session.query(Comment).filter_by(ticket_id=ticket.id).count() == 0


def test_invalid_transition_is_a_readable_error(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(subject="New one")
    response = console.post(
        f"/tickets/{ticket.id}/properties",
        data={
            "props-status": "closed",
            "props-priority": "normal",
            "props-assignee": "",
            "props-group": "",
        },
    )
    assert response.status_code == 422
    page = html(response)
    assert "A ticket cannot go from “New” to “Closed”." in page
    assert 'class="flash flash-error" role="alert"' in page
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status is Status.NEW


def test_invalid_transition_in_a_reply_keeps_the_text(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(subject="New one")
    response = console.post(
        f"/tickets/{ticket.id}/reply",
        data={
            "reply-body": "Closing this.",
            "reply-visibility": "public",
            "reply-status": "closed",
        },
    )
    assert response.status_code == 422
    page = html(response)
    assert "A ticket cannot go from “New” to “Closed”." in page
    assert re.search(r'id="reply-body"[^>]*>\s*Closing this\.</textarea>', page)
    assert db.session.query(Comment).filter_by(ticket_id=ticket.id).count() == 0


def test_properties_form_updates_the_ticket(
    console: FlaskClient, agent: User, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(subject="Assign me")
    billing = db.session.query(Group).filter_by(name="Billing").one()
    response = console.post(
        f"/tickets/{ticket.id}/properties",
        data={
            "props-status": "open",
            "props-priority": "high",
            "props-assignee": str(agent.id),
            "props-group": str(billing.id),
        },
    )
    assert response.status_code == 302
    page = html(console.get(response.headers["Location"]))
    assert "Ticket updated." in page
    assert '<span class="new">Alice Agent</span>' in page
    assert '<span class="new">Billing</span>' in page
    db.session.expire_all()
    saved = db.session.get(Ticket, ticket.id)
    assert (saved.status, saved.priority, saved.assignee_id, saved.group_id) == (
        Status.OPEN,
        Priority.HIGH,
        agent.id,
        billing.id,
    )


def test_closed_ticket_is_read_only(
    console: FlaskClient, agent: User, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory(subject="Done and dusted")
    tickets.update(db.session, ticket, actor=agent, status=Status.SOLVED)
    tickets.update(db.session, ticket, actor=agent, status=Status.CLOSED)
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert "This ticket is closed and can no longer be changed." in page
    assert 'name="reply-body"' not in page and 'name="props-status"' not in page
    response = console.post(
        f"/tickets/{ticket.id}/reply", data={"reply-body": "Sneaky", "reply-visibility": "public"}
    )
    assert response.status_code == 409
    assert "This ticket is closed" in html(response)
    assert db.session.query(Comment).filter_by(ticket_id=ticket.id).count() == 0


def test_missing_ticket_is_an_html_404(console: FlaskClient) -> None:
    response = console.get("/tickets/999999")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is nothing at this address." in html(response)


def test_an_address_nothing_serves_is_the_consoles_page_in_the_readers_language(
    client: FlaskClient,
) -> None:
    response = client.get("/nope", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    page = unescape(html(response))
    assert "Il n'y a rien à cette adresse." in page and '<html lang="fr">' in page
    assert "The requested URL was not found" not in page
    # Programs still get what they read: the API's JSON, a webhook's bare status.
    api = client.get("/api/v1/nope")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
    assert client.post("/twilio/nope").status_code == 404


def test_a_signed_in_agent_lost_on_a_wrong_address_keeps_the_console(console: FlaskClient) -> None:
    response = console.get("/tickets-old/42")
    assert response.status_code == 404
    page = html(response)
    assert "There is nothing at this address." in page and 'href="/tickets"' in page


# -- customers -----------------------------------------------------------------------------------


def test_customer_page_card_tickets_and_timeline(
    console: FlaskClient,
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Ticket],
) -> None:
    from helpdesk.customers.models import CustomerKind

    company = customer_factory(name="Garage Fontaine", kind=CustomerKind.COMPANY, phones=[])
    customer = customer_factory(
        name="Hugo Leroy",
        phones=["06 12 34 56 78", "+1 415 555 0100"],
        emails=["hugo@example.com"],
        tags=["loyal"],
        notes="Prefers calls after 6 pm.",
        company_id=company.id,
        language="en",
    )
    ticket = ticket_factory(subject="Heating is broken", requester_id=customer.id)
    page = html(console.get(f"/customers/{customer.id}"))
    assert '<h1 id="customer-title">Hugo Leroy</h1>' in page
    assert "+33 6 12 34 56 78" in page and "+1 415-555-0100" in page
    assert "hugo@example.com" in page and "Prefers calls after 6 pm." in page
    assert f'href="/customers/{company.id}">Garage Fontaine</a>' in page
    assert "Person" in page and "English" in page
    assert f'href="/tickets/{ticket.id}">Heating is broken</a>' in page
    assert "Ticket opened" in page and f"{ticket.reference} Heating is broken" in page
    assert "Load more" not in page


def test_timeline_status_changes_read_in_the_agents_language(
    client: FlaskClient, make_user: Callable[..., User], ticket_factory: Callable[..., Ticket]
) -> None:
    user = make_user(Role.AGENT, locale="fr")
    ticket = ticket_factory(subject="Suivi")
    tickets.update(db.session, ticket, actor=user, status=Status.PENDING)
    sign_in(client, user)
    page = html(client.get(f"/customers/{ticket.requester_id}"))
    assert f"{ticket.reference} Nouveau → En attente" in page
    assert "Changement de statut" in page


def test_timeline_load_more(console: FlaskClient, customer_factory: Callable[..., Any]) -> None:
    customer = customer_factory(name="Long History")
    start = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    for n in range(60):
        timeline.append(
            db.session,
            customer_id=customer.id,
            kind="call",
            summary=f"Call number {n:02d}",
            occurred_at=start + timedelta(hours=n),
        )
    db.session.commit()
    page = html(console.get(f"/customers/{customer.id}"))
    assert "Call number 59" in page and "Call number 10" in page
    assert "Call number 09" not in page
    match = re.search(r'href="(/customers/\d+\?before=[^"#]+)#timeline"', page)
    assert match, "no load-more link"
    more_url = match.group(1).replace("&amp;", "&")
    older = html(console.get(more_url))
    assert "Call number 09" in older and "Call number 00" in older
    assert "Call number 10" not in older
    assert "Showing older entries." in older
    fragment = html(console.get(more_url + "&fragment=timeline"))
    assert fragment.lstrip().startswith("<ol")
    assert "Call number 00" in fragment and "<html" not in fragment


def test_merged_customer_redirects_to_the_survivor(
    console: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    from helpdesk.customers import service as customers

    source = customer_factory(name="Dup One")
    target = customer_factory(name="Dup Two")
    customers.merge(db.session, source=source, target=target, actor_id=None)
    response = console.get(f"/customers/{source.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{target.id}"


def test_customer_search(console: FlaskClient, customer_factory: Callable[..., Any]) -> None:
    from helpdesk.customers.models import CustomerKind

    company = customer_factory(name="Atelier Rousseau", kind=CustomerKind.COMPANY, phones=[])
    customer_factory(
        name="Élodie Moreau",
        phones=["+33612340001"],
        emails=["elodie@example.com"],
        company_id=company.id,
    )
    customer_factory(name="Noah Smith", phones=["+14155550123"])

    def names(q: str) -> list[str]:
        page = html(console.get("/customers", query_string={"q": q}))
        return re.findall(r'class="row-link" href="/customers/\d+">([^<]*)</a>', page)

    assert names("elodie") == ["Élodie Moreau"]
    assert names("moreau") == ["Élodie Moreau"]
    assert names("06 12 34 00 01") == ["Élodie Moreau"]
    assert names("elodie@example.com") == ["Élodie Moreau"]
    assert names("smith") == ["Noah Smith"]
    page = html(console.get("/customers?q=moreau"))
    assert '<span class="muted">· Atelier Rousseau</span>' in page
    assert "+33 6 12 34 00 01" in page
    assert "No customer found" in html(console.get("/customers?q=zzz"))


# -- languages -----------------------------------------------------------------------------------


def test_french_agent_sees_french(
    client: FlaskClient, make_user: Callable[..., User], ticket_factory: Callable[..., Ticket]
) -> None:
    ticket_factory(subject="Ma box ne marche plus")
    user = make_user(Role.AGENT, name="Amélie Dubois", locale="fr")
    sign_in(client, user)
    page = html(client.get("/tickets"))
    assert '<html lang="fr">' in page
    assert "Se déconnecter" in page
    assert "Aller au contenu principal" in page
    assert '<span class="badge status status-new">Nouveau</span>' in page
    assert "Sign out" not in page


def test_settings_switch_the_language(console: FlaskClient, agent: User) -> None:
    page = html(console.get("/settings"))
    assert '<option selected value="en">English</option>' in page
    response = console.post("/settings", data={"locale": "fr", "timezone": "America/Montreal"})
    assert response.status_code == 302
    page = html(console.get("/settings"))
    assert "Paramètres enregistrés." in page
    assert '<option selected value="America/Montreal">' in page
    db.session.expire_all()
    assert db.session.get(User, agent.id).locale == "fr"


def test_sign_in_page_language_switch(client: FlaskClient) -> None:
    client.post("/language", data={"locale": "fr"})
    assert "Se connecter" in html(client.get("/login"))


# -- security ------------------------------------------------------------------------------------

EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_COMMENT = "<script>alert(1)</script>"


def test_customer_text_is_escaped_everywhere(
    console: FlaskClient,
    agent: User,
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Ticket],
) -> None:
    customer = customer_factory(name=EVIL_NAME, notes=EVIL_COMMENT)
    ticket = ticket_factory(subject=EVIL_COMMENT, description=EVIL_NAME, requester_id=customer.id)
    tickets.add_comment(
        db.session, ticket, body=EVIL_COMMENT, public=True, author_customer_id=customer.id
    )
    pages = {
        "list": html(console.get("/tickets?all=1")),
        "ticket": html(console.get(f"/tickets/{ticket.id}")),
        "customer": html(console.get(f"/customers/{customer.id}")),
        "search": html(console.get("/customers")),
    }
    for name, page in pages.items():
        assert EVIL_NAME not in page, name
        assert EVIL_COMMENT not in page, name
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["ticket"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["customer"]


def test_pages_have_no_inline_script_and_send_a_csp(
    console: FlaskClient, ticket_factory: Callable[..., Ticket]
) -> None:
    ticket = ticket_factory()
    for path in (
        "/tickets",
        f"/tickets/{ticket.id}",
        f"/customers/{ticket.requester_id}",
        "/customers",
        "/settings",
    ):
        response = console.get(path)
        page = html(response)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], path
        assert re.findall(r"\son[a-z]+\s*=", page) == [], path
        assert " style=" not in page, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_post_without_csrf_token_is_refused(
    app: Flask, client: FlaskClient, agent: User, ticket_factory: Callable[..., Ticket]
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    refused = sign_in(client, agent)
    assert refused.status_code == 400
    assert "This form has expired" in html(refused)
    assert client.get("/tickets").status_code == 302

    page = html(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "the login form carries no CSRF token"
    assert sign_in(client, agent, csrf_token=token.group(1)).status_code == 302

    ticket = ticket_factory()
    response = client.post(f"/tickets/{ticket.id}/reply", data={"reply-body": "no token"})
    assert response.status_code == 400
    assert db.session.query(Comment).filter_by(ticket_id=ticket.id).count() == 0
    ticket_page = html(client.get(f"/tickets/{ticket.id}"))
    assert 'name="reply-csrf_token"' in ticket_page and 'name="props-csrf_token"' in ticket_page


# -- assets --------------------------------------------------------------------------------------


def test_static_files_and_vendor_whitelist(client: FlaskClient) -> None:
    for path in ("/static/console.js", "/static/console.css"):
        with client.get(path) as response:
            assert response.status_code == 200
    assert client.get("/vendor/socket.io-client/package.json").status_code == 404
    assert client.get("/vendor/../views.py").status_code == 404
    node_modules = Path(__file__).resolve().parents[2] / "agents_ui" / "node_modules"
    if (node_modules / "socket.io-client/dist/socket.io.min.js").exists():
        with client.get("/vendor/socket.io-client/dist/socket.io.min.js") as response:
            assert response.status_code == 200
            assert response.mimetype == "text/javascript"
