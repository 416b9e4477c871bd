"""E-mail in the console: the thread on the ticket page, the original in a sandbox, files as
downloads, files attached to replies (console and API), the reply box's e-mail warnings, e-mail
entries on the timeline, and the mail simulator page.

The messages are written here as the inbound pipeline and the outbox store them
(`helpdesk.mail.models`); the store the app holds is a folder of this test's own.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.mail.models import Attachment, BouncingAddress, MailMessage
from helpdesk.tickets import delivery
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment
from helpdesk.tickets.workflow import Channel
from helpdesk.timeline import service as timeline
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    html,
    sign_in,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class FolderStore:
    """An attachment store in a folder: the interface of `helpdesk.mail.store`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.n = 0

    def put(self, data: bytes, *, kind: str = "file") -> Any:
        self.n += 1
        key = f"{kind}-{self.n:032d}"
        (self.root / key).write_bytes(data)
        return type("Stored", (), {"key": key, "size": len(data)})()

    def open(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


@pytest.fixture
def store(app: Flask, tmp_path: Path) -> FolderStore:
    folder = tmp_path / "files"
    folder.mkdir()
    found = FolderStore(folder)
    app.extensions["mail_store"] = found
    return found


@pytest.fixture
def agent(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, name="Amélie Agent")


@pytest.fixture
def console(app: Flask, agent: User) -> FlaskClient:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    assert sign_in(client, agent).status_code == 302
    return client


def _mail(**values: Any) -> MailMessage:
    values.setdefault("message_id", f"m{values.get('subject', '')!s:.8}{id(values)}@example.com")
    values.setdefault("direction", "inbound")
    values.setdefault("status", "received")
    row = MailMessage(**values)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def email_ticket(
    customer_factory: Callable[..., Any], store: FolderStore
) -> Iterator[dict[str, Any]]:
    customer = customer_factory(name="Manon Petit", emails=["manon@example.com"])
    ticket = tickets.create(
        db.session,
        actor=None,
        subject="Box <b>down</b>",
        description="My box is down.",
        requester_id=customer.id,
        channel=Channel.EMAIL,
    )
    opening = _mail(
        message_id="first@example.com",
        from_address="manon@example.com",
        from_name="Manon <Petit>",
        to_addresses=["support@helpdesk.test"],
        cc_addresses=["paul@example.com"],
        subject="Box <b>down</b>",
        body_text="My box is down.",
        full_text="My box is down.",
        body_html="<p>My box is <b>down</b>.</p><img src='https://tracker.example/p.gif'>",
        ticket_id=ticket.id,
        customer_id=customer.id,
        raw_key=store.put(b"From: manon@example.com\r\n\r\nMy box is down.\r\n", kind="raw").key,
    )
    comment = tickets.add_comment(
        db.session,
        ticket,
        body="Still down <script>alert(1)</script>",
        author_customer_id=customer.id,
        channel=Channel.EMAIL,
    )
    reply = _mail(
        message_id="second@example.com",
        from_address="manon@example.com",
        to_addresses=["support@helpdesk.test"],
        subject="Re: Box down [T-1]",
        body_text="Still down <script>alert(1)</script>",
        full_text="Still down <script>alert(1)</script>\n\nOn Monday, Support wrote:\n> Try again",
        ticket_id=ticket.id,
        customer_id=customer.id,
        comment_id=comment.id,
    )
    photo = Attachment(
        mail_message_id=reply.id,
        comment_id=comment.id,
        ticket_id=ticket.id,
        customer_id=customer.id,
        filename="box <1>.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        storage_key=store.put(PDF).key,
    )
    logo = Attachment(
        mail_message_id=reply.id,
        ticket_id=ticket.id,
        filename="logo.png",
        content_type="image/png",
        size=10,
        sha256="0" * 64,
        storage_key="inline-logo",
        inline=True,
    )
    db.session.add_all([photo, logo])
    db.session.commit()
    yield {
        "ticket": ticket,
        "customer": customer,
        "opening": opening,
        "reply": reply,
        "comment": comment,
        "photo": photo,
    }


def test_thread_shows_sender_recipients_files_and_folds_the_quote(
    console: FlaskClient, email_ticket: dict[str, Any]
) -> None:
    t = email_ticket
    page = html(console.get(f"/tickets/{t['ticket'].id}"))
    opening = page[page.index('id="mail-opening"') :]
    assert "Manon &lt;Petit&gt;" in opening and "&lt;manon@example.com&gt;" in opening
    assert "support@helpdesk.test" in opening and "paul@example.com" in opening
    block = page[page.index(f'id="mail-{t["comment"].id}"') :]
    assert "Still down &lt;script&gt;alert(1)&lt;/script&gt;" in block
    assert "<script>alert(1)" not in page
    quoted = re.search(r'<details class="mail-quoted">(.*?)</details>', block, re.S)
    assert quoted is not None
    assert "Show quoted text" in quoted.group(1) and "&gt; Try again" in quoted.group(1)
    assert f'href="/attachments/{t["photo"].id}"' in block
    assert "box &lt;1&gt;.pdf" in block and "logo.png" not in page  # inline parts are not listed
    assert f'href="/tickets/{t["ticket"].id}/mail/{t["reply"].id}"' in block


def test_original_shows_headers_and_html_only_in_a_sandbox(
    console: FlaskClient, email_ticket: dict[str, Any]
) -> None:
    t = email_ticket
    base = f"/tickets/{t['ticket'].id}/mail/{t['opening'].id}"
    page = html(console.get(base))
    assert "&lt;first@example.com&gt;" in page
    frame = re.search(r"<iframe[^>]*>", page)
    assert frame is not None and " sandbox " in frame.group(0)
    assert "tracker.example" not in page  # the HTML is never inlined in the console
    answer = console.get(base + "/html")
    policy = answer.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "img-src data:" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    raw = console.get(base + "/raw")
    assert raw.status_code == 200 and raw.data.startswith(b"From: manon@example.com")
    assert raw.headers["Content-Disposition"].startswith("attachment;")
    # A message is only reached through its own ticket.
    other = tickets.create(db.session, actor=None, subject="x", requester_id=t["customer"].id)
    db.session.commit()
    assert console.get(f"/tickets/{other.id}/mail/{t['opening'].id}").status_code == 404


def test_attachment_is_a_download_for_staff_only(
    app: Flask,
    console: FlaskClient,
    email_ticket: dict[str, Any],
    make_user: Callable[..., User],
) -> None:
    url = f"/attachments/{email_ticket['photo'].id}"
    answer = console.get(url)
    assert answer.status_code == 200 and answer.data == PDF
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="box _1_.pdf"')
    stranger = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    assert stranger.get(url).status_code == 302  # to the sign-in page


def _post_reply(console: FlaskClient, ticket_id: int, files: list[tuple[bytes, str]]) -> Any:
    data: dict[str, Any] = {
        "reply-body": "Here is the form.",
        "reply-visibility": "internal",
        "reply-status": "",
        "reply-files": [(io.BytesIO(b), name) for b, name in files],
    }
    return console.post(
        f"/tickets/{ticket_id}/reply", data=data, content_type="multipart/form-data"
    )


def test_reply_carries_files_and_refuses_what_cannot_be_sent(
    console: FlaskClient, email_ticket: dict[str, Any], store: FolderStore
) -> None:
    ticket = email_ticket["ticket"]
    refused = _post_reply(console, ticket.id, [(b"<html><script>x</script>", "form.pdf")])
    assert refused.status_code == 422
    assert "“form.pdf” cannot be sent" in html(refused)
    assert db.session.scalar(select(Comment).where(Comment.body == "Here is the form.")) is None
    kept = sorted(p.name for p in store.root.iterdir())
    answer = _post_reply(console, ticket.id, [(PDF, "../../form.pdf")])
    assert answer.status_code == 302, html(answer)
    comment = db.session.scalar(select(Comment).where(Comment.body == "Here is the form."))
    assert comment is not None
    [row] = db.session.scalars(select(Attachment).where(Attachment.comment_id == comment.id))
    assert (row.filename, row.content_type, row.size) == ("form.pdf", "application/pdf", len(PDF))
    assert len(list(store.root.iterdir())) == len(kept) + 1
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert f'href="/attachments/{row.id}"' in page


def test_api_uploads_then_sends_files_with_a_reply(
    api_as: Callable[..., Any], email_ticket: dict[str, Any], store: FolderStore
) -> None:
    ticket = email_ticket["ticket"]
    agent = api_as(Role.AGENT)
    up = agent.client.post(
        f"/api/v1/tickets/{ticket.id}/attachments",
        data={"file": (io.BytesIO(PDF), "quote.pdf", "text/html")},
        headers=agent._headers(),
        content_type="multipart/form-data",
    )
    assert up.status_code == 201, up.get_json()
    assert up.get_json()["content_type"] == "application/pdf"  # sniffed, not declared
    file_id = up.get_json()["id"]
    other = api_as(Role.AGENT)
    stolen = other.post(
        f"/tickets/{ticket.id}/comments",
        json={"body": "Mine now", "public": False, "attachment_ids": [file_id]},
    )
    assert stolen.status_code == 422 and "attachment_ids" in stolen.get_json()["error"]["fields"]
    sent = agent.post(
        f"/tickets/{ticket.id}/comments",
        json={"body": "Your quote", "public": False, "attachment_ids": [file_id]},
    )
    assert sent.status_code == 201, sent.get_json()
    assert [a["id"] for a in sent.get_json()["attachments"]] == [file_id]
    again = agent.post(
        f"/tickets/{ticket.id}/comments",
        json={"body": "Twice", "public": False, "attachment_ids": [file_id]},
    )
    assert again.status_code == 422  # a file goes with one reply only
    listed = agent.get(f"/tickets/{ticket.id}/comments").get_json()["items"]
    assert [a["filename"] for c in listed for a in c["attachments"]] == ["box <1>.pdf", "quote.pdf"]
    html_file = agent.client.post(
        f"/api/v1/tickets/{ticket.id}/attachments",
        data={"file": (io.BytesIO(b"<!DOCTYPE html><p>hi"), "page.txt")},
        headers=agent._headers(),
        content_type="multipart/form-data",
    )
    assert html_file.status_code == 422
    assert html_file.get_json()["error"]["code"] == "attachment_type"


def _route_warning(page: str) -> str:
    found = re.search(r'<p class="reply-route-warning[^>]*>(.*?)</p>', page, re.S)
    return " ".join(found.group(1).split()) if found else ""


def test_reply_box_says_why_mail_cannot_go_or_may_not_arrive(
    console: FlaskClient,
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    no_address = customer_factory(name="Léo", phones=["+33612345678"])
    ticket = ticket_factory(requester_id=no_address.id, channel=Channel.EMAIL)
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert _route_warning(page) == (
        "This ticket came by e-mail, but the customer has no e-mail address on record. "
        "The reply goes by another channel instead."
    )
    with_address = customer_factory(name="Inès", phones=[], emails=["ines@example.com"])
    ticket = ticket_factory(requester_id=with_address.id, channel=Channel.EMAIL)
    # Where the outbound pipeline is not installed, a stand-in carries e-mail for this test.
    stand_in = delivery.deliverer("email") is None
    if stand_in:
        delivery.register("email", lambda session, ticket, comment: None)
    try:
        db.session.add(
            BouncingAddress(address="INES@example.com", reason="550 no such user", bounces=2)
        )
        db.session.commit()
        page = html(console.get(f"/tickets/{ticket.id}"))
        assert "A public reply will be sent by e-mail to ines@example.com." in page
        assert _route_warning(page).startswith(
            "Mail to ines@example.com has come back 2 times (last: 550 no such user)"
        )
        card = html(console.get(f"/customers/{with_address.id}"))
        assert "Bouncing" in card
    finally:
        if stand_in:
            delivery.unregister("email")


def test_reply_box_says_when_email_is_not_set_up(
    console: FlaskClient,
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    if delivery.deliverer("email") is not None:
        pytest.skip("e-mail is set up in this installation")
    customer = customer_factory(name="Inès", phones=[], emails=["ines@example.com"])
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.EMAIL)
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert _route_warning(page) == (
        "E-mail is not set up on this server, so replies cannot go to ines@example.com."
    )


def test_email_entries_are_worded_on_the_timeline(
    console: FlaskClient, customer_factory: Callable[..., Any]
) -> None:
    customer = customer_factory(name="Zoé", emails=["zoe@example.com"])
    timeline.append(
        db.session,
        customer_id=customer.id,
        kind="email",
        summary="E-mail from zoe@example.com: <img src=x onerror=alert(1)>",
        data={"direction": "inbound", "outcome": "created", "attachments": ["a.pdf", "b.png"]},
    )
    timeline.append(
        db.session,
        customer_id=customer.id,
        kind="email",
        summary="E-mail from mailer-daemon@example.net: Undelivered",
        data={"direction": "inbound", "outcome": "bounced"},
    )
    db.session.commit()
    page = html(console.get(f"/customers/{customer.id}"))
    assert "E-mail from zoe@example.com: &lt;img src=x onerror=alert(1)&gt; · 2 attachments" in page
    assert "A mail to this customer came back undelivered (bounce)" in page
    assert "<img src=x" not in page


def test_mail_simulator_lists_sent_mail(console: FlaskClient, email_ticket: dict[str, Any]) -> None:
    ticket = email_ticket["ticket"]
    _mail(
        message_id="out1@helpdesk.test",
        direction="outbound",
        status="sent",
        from_address="support@helpdesk.test",
        to_addresses=["manon@example.com"],
        subject=f"[{ticket.reference}] Re: <i>Box</i>",
        body_text="We are on it.",
        ticket_id=ticket.id,
    )
    db.session.commit()
    page = html(console.get("/simulator/mail"))
    assert "manon@example.com" in page and "&lt;i&gt;Box&lt;/i&gt;" in page
    assert 'id="sim-mail-form"' in page and f">{ticket.reference} Box &lt;b&gt;down" in page
    listed = console.get("/simulator/mail", headers={"Accept": "application/json"}).get_json()
    assert listed["sent"][0]["status"] == "sent"


def test_mail_simulator_refuses_a_message_without_an_address(console: FlaskClient) -> None:
    answer = console.post(
        "/simulator/mail",
        data={"from_address": "not an address", "body": "Hello"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 400


def test_mail_simulator_sends_a_message_in_as_a_customer(console: FlaskClient) -> None:
    """Needs the inbound pipeline (helpdesk.mail.inbound)."""
    pytest.importorskip("helpdesk.mail.inbound", reason="the inbound pipeline is not installed")
    answer = console.post(
        "/simulator/mail",
        data={
            "from_address": "newcomer@example.com",
            "from_name": "Nina New",
            "subject": "Invoice question",
            "body": "Why was I charged twice?",
        },
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    found = answer.get_json()
    assert found["outcome"] == "created" and found["ticket_id"]
    page = html(console.get(f"/tickets/{found['ticket_id']}"))
    assert "Why was I charged twice?" in page and "newcomer@example.com" in page


def test_thread_and_reply_box_in_french(
    app: Flask, make_user: Callable[..., User], email_ticket: dict[str, Any]
) -> None:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    assert sign_in(client, make_user(Role.AGENT, name="Fanny", locale="fr")).status_code == 302
    page = html(client.get(f"/tickets/{email_ticket['ticket'].id}"))
    apostrophe = "\u2019"  # French typography's apostrophe, as the catalogue writes it
    assert "Afficher le texte cité" in page
    assert f"Voir le message d{apostrophe}origine" in page
    assert "Joindre des fichiers" in page
    assert f"Jusqu{apostrophe}à 5 fichiers, 10 Mo en tout" in page


def test_a_failed_reply_shows_the_server_s_reason(
    console: FlaskClient, email_ticket: dict[str, Any], agent: User
) -> None:
    ticket = email_ticket["ticket"]
    comment = tickets.add_comment(
        db.session, ticket, body="We sent a new box.", public=True, actor=db.session.merge(agent)
    )
    _mail(
        message_id="out-failed@helpdesk.test",
        direction="outbound",
        status="failed",
        error="550 5.1.1 <manon@example.com>: mailbox unavailable",
        from_address="support@helpdesk.test",
        from_name="Amélie Agent",
        to_addresses=["manon@example.com"],
        subject=f"[{ticket.reference}] Box down",
        body_text="We sent a new box.",
        ticket_id=ticket.id,
        comment_id=comment.id,
    )
    db.session.commit()
    page = html(console.get(f"/tickets/{ticket.id}"))
    block = page[page.index(f'id="mail-{comment.id}"') :]
    assert "The mail server said: 550 5.1.1 &lt;manon@example.com&gt;: mailbox unavailable" in block


def test_mail_simulator_reply_joins_its_ticket(console: FlaskClient) -> None:
    """Needs the inbound pipeline (helpdesk.mail.inbound)."""
    pytest.importorskip("helpdesk.mail.inbound", reason="the inbound pipeline is not installed")
    first = console.post(
        "/simulator/mail",
        data={"from_address": "lea@example.com", "subject": "Wifi", "body": "No wifi."},
        headers={"Accept": "application/json"},
    ).get_json()
    assert first["outcome"] == "created"
    again = console.post(
        "/simulator/mail",
        data={
            "from_address": "LEA@example.com",
            "ticket": str(first["ticket_id"]),
            "body": "Still no wifi.",
            "attachment": (io.BytesIO(PDF), "speedtest.pdf"),
        },
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    ).get_json()
    assert (again["outcome"], again["ticket_id"]) == ("threaded", first["ticket_id"])
    page = html(console.get(f"/tickets/{first['ticket_id']}"))
    assert "Still no wifi." in page and "speedtest.pdf" in page


def test_acknowledgements_and_automatic_mail_are_listed_apart(
    console: FlaskClient, email_ticket: dict[str, Any]
) -> None:
    ticket = email_ticket["ticket"]
    _mail(
        message_id="ack@helpdesk.test",
        direction="outbound",
        kind="ack",
        status="sent",
        from_address="support@helpdesk.test",
        to_addresses=["manon@example.com"],
        subject=f"[{ticket.reference}] We received your message",
        body_text="We received your message.",
        ticket_id=ticket.id,
    )
    _mail(
        message_id="ooo@example.com",
        kind="auto",
        from_address="manon@example.com",
        subject="Out of office",
        body_text="I am away.",
        ticket_id=ticket.id,
    )
    db.session.commit()
    page = html(console.get(f"/tickets/{ticket.id}"))
    others = page[page.index('id="mail-others"') :]
    assert "2 other e-mails on this ticket" in others
    assert "to manon@example.com" in others and "Acknowledgement" in others
    assert "Out of office" in others and "Automatic reply" in others
    opening = page[page.index('id="mail-opening"') : page.index('id="mail-opening"') + 600]
    assert "My box is down." in opening  # the opening message is still the customer's own


def test_the_quote_toggle_folds_what_the_pipeline_kept_as_history(
    console: FlaskClient, agent: User, store: FolderStore
) -> None:
    """Through the real pipeline: a Gmail reply shows its new part and folds the quote; the
    helpdesk's own mail (the acknowledgement, the agent's reply) has no quote to fold."""
    from helpdesk.mail import inbound

    first = (
        b"From: John Smith <john.smith@gmail.example>\r\nTo: support@helpdesk.example\r\n"
        b"Subject: Router offline\r\nMessage-ID: <reply-10001-1@helpdesk.example>\r\n"
        b"Content-Type: text/plain\r\n\r\nMy router is offline.\r\n"
    )
    opened = inbound.ingest(db.session, first, source="test")
    db.session.commit()
    raw = Path(__file__).resolve().parents[1] / "fixtures" / "mail" / "gmail_reply_en.eml"
    reply = inbound.ingest(db.session, raw.read_bytes(), source="test")
    db.session.commit()
    assert reply.outcome == "threaded" and reply.ticket_id == opened.ticket_id
    ticket = tickets.get(db.session, opened.ticket_id)
    tickets.add_comment(db.session, ticket, body="Glad it works again.", actor=agent)
    row = db.session.get(MailMessage, reply.mail_message_id)
    page = html(console.get(f"/tickets/{ticket.id}"))
    block = page[page.index(f'id="mail-{row.comment_id}"') :]
    block = block[: block.index("</details>") + len("</details>")]
    text = re.search(r'<div class="text-body mail-text">(.*?)</div>', block, re.S)
    assert text is not None and "The router is back online." in text.group(1)
    assert "Please restart the router." not in text.group(1)
    assert "&gt; Please restart the router." in block.split('class="mail-quoted"')[1]
    # One toggle in the whole thread: the customer's reply's.
    assert page.count('<details class="mail-quoted">') == 1
