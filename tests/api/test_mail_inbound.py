"""Inbound e-mail through the raw-MIME ingress: threading into tickets, loops and bounces, files,
limits, the integration role, the download, the live event and the customer's timeline."""

from __future__ import annotations

import base64
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.auth.models import Role, User
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.events import RecordingBackend
from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.models import Attachment, BouncingAddress, MailMessage
from helpdesk.mail.store import attachment_store
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Comment, Ticket, TicketChange
from helpdesk.tickets.workflow import Channel, Status
from helpdesk.timeline.models import TimelineEntry

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture
def post_mail(
    client: FlaskClient, make_user: Callable[..., User], token_for: Callable[[User], str]
) -> Callable[..., Any]:
    token = token_for(make_user(Role.INTEGRATION))

    def post(raw: bytes, *, expect: int = 200) -> dict[str, Any]:
        response = client.post(
            "/api/v1/mail/inbound",
            data=raw,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"},
        )
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    return post


def _our_message(ticket: Ticket, message_id: str) -> MailMessage:
    row = MailMessage(
        message_id=message_id,
        direction="outbound",
        kind="message",
        from_address="support@helpdesk.example",
        to_addresses=["jeanne.martin@gmail.example"],
        subject=f"[{ticket.reference}] {ticket.subject}",
        customer_id=ticket.requester_id,
        ticket_id=ticket.id,
        status="sent",
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_the_ingress_needs_an_integration_or_admin_token_and_a_raw_message(
    client: FlaskClient, api_as: Callable[..., Any], post_mail: Callable[..., Any]
) -> None:
    raw = load("encoded_subject.eml")
    assert client.post("/api/v1/mail/inbound", data=raw).status_code == 401
    agent = api_as(Role.AGENT)
    refused = agent.client.post(
        "/api/v1/mail/inbound",
        data=raw,
        headers={**agent._headers(), "Content-Type": "message/rfc822"},
    )
    assert refused.status_code == 403
    admin = api_as(Role.ADMIN)
    as_json = admin.post("/mail/inbound", json={"raw": "x"})
    assert as_json.status_code == 415
    assert post_mail(b"   ", expect=422)["error"]["fields"] == {"body": "expected a raw message"}
    # The integration token opens nothing else.
    integration = api_as(Role.INTEGRATION)
    assert integration.get("/tickets").status_code == 403


def test_a_new_message_opens_an_email_ticket_once(
    app: Flask, post_mail: Callable[..., Any], recorded: RecordingBackend
) -> None:
    first = post_mail(load("encoded_subject.eml"))
    assert first["outcome"] == "created"
    again = post_mail(load("encoded_subject.eml"))
    assert again == {**first, "outcome": "duplicate", "reason": "already received"}
    ticket = db.session.get(Ticket, first["ticket_id"])
    assert ticket.channel is Channel.EMAIL
    assert ticket.subject == "Commande n°42 : livraison retardée \u2013 urgent"
    assert "ma commande n°42 n'est toujours pas arrivée" in ticket.description
    customer = db.session.get(Customer, ticket.requester_id)
    assert customer.name == "Élodée Dupont" and customer.language == "fr"
    assert [e.email for e in customer.emails] == ["elodee.dupont@example.fr"]
    # The message, received once, and the one acknowledgement it earned.
    rows = db.session.execute(select(MailMessage.direction, MailMessage.kind)).all()
    assert sorted(map(tuple, rows)) == [("inbound", "message"), ("outbound", "ack")]
    row = db.session.get(MailMessage, first["mail_message_id"])
    assert attachment_store(app).open(row.raw_key) == load("encoded_subject.eml")  # original kept
    names = [e.name for e in recorded.events]
    assert "ticket.created" in names and "mail.received" in names
    event = next(e for e in recorded.events if e.name == "mail.received")
    assert f"ticket:{ticket.id}" in event.rooms and event.payload["outcome"] == "created"
    kinds = set(
        db.session.scalars(
            select(TimelineEntry.kind).where(TimelineEntry.customer_id == customer.id)
        )
    )
    assert {"ticket_created", "email"} <= kinds


def test_a_reply_threads_by_in_reply_to_with_only_its_new_part(
    post_mail: Callable[..., Any], customer_factory: Callable[..., Any]
) -> None:
    jeanne = customer_factory(name="Jeanne Martin", emails=["jeanne.martin@gmail.example"])
    ticket = tickets.create(
        db.session, actor=None, subject="Imprimante", requester_id=jeanne.id, channel=Channel.EMAIL
    )
    _our_message(ticket, "reply-10001-1@helpdesk.example")
    result = post_mail(load("gmail_reply_fr.eml"))
    assert result["outcome"] == "threaded" and result["ticket_id"] == ticket.id
    comment = db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id))
    assert "fonctionne de nouveau" in comment.body and "a écrit" not in comment.body
    assert comment.author_customer_id == jeanne.id and comment.channel is Channel.EMAIL
    row = db.session.get(MailMessage, result["mail_message_id"])
    assert row.comment_id == comment.id and "a écrit" in row.full_text
    assert "<script" not in row.body_html and "gmail_quote" not in row.body_html


def test_the_subject_reference_threads_only_for_the_same_customer(
    post_mail: Callable[..., Any],
    customer_factory: Callable[..., Any],
) -> None:
    emma = customer_factory(name="Emma Brown", emails=["EMMA.BROWN@icloud.example"])
    other = customer_factory(name="Someone Else")
    # T-10001 belongs to someone else: Emma's mail naming it opens her own ticket.
    theirs = tickets.create(db.session, actor=None, subject="x", requester_id=other.id)
    raw = load("apple_reply_en.eml").replace(b"[T-10004]", f"[{theirs.reference}]".encode())
    raw = raw.replace(b"In-Reply-To:", b"X-Old-In-Reply-To:").replace(b"References:", b"X-Ref:")
    created = post_mail(raw)
    assert created["outcome"] == "created" and created["ticket_id"] != theirs.id
    assert db.session.get(Ticket, created["ticket_id"]).requester_id == emma.id  # case-insensitive
    mine = db.session.get(Ticket, created["ticket_id"])
    again = raw.replace(f"[{theirs.reference}]".encode(), f"[{mine.reference}]".encode())
    again = again.replace(b"Message-Id: <A1B2", b"Message-Id: <Z9B2")
    assert post_mail(again)["outcome"] == "threaded"


def test_a_reply_reopens_a_solved_ticket_and_follows_up_a_closed_one(
    post_mail: Callable[..., Any], customer_factory: Callable[..., Any]
) -> None:
    jeanne = customer_factory(name="Jeanne Martin", emails=["jeanne.martin@gmail.example"])
    solved = tickets.create(db.session, actor=None, subject="Imprimante", requester_id=jeanne.id)
    tickets.update(db.session, solved, actor=None, status=Status.SOLVED)
    _our_message(solved, "reply-10001-1@helpdesk.example")
    result = post_mail(load("gmail_reply_fr.eml"))
    assert result["outcome"] == "reopened"
    assert db.session.get(Ticket, solved.id).status is Status.OPEN

    closed = tickets.create(db.session, actor=None, subject="Chaudière", requester_id=jeanne.id)
    tickets.update(db.session, closed, actor=None, status=Status.SOLVED)
    tickets.update(db.session, closed, actor=None, status=Status.CLOSED)
    _our_message(closed, "reply-10005-1@helpdesk.example")
    raw = load("apple_reply_fr.eml").replace(b"lucas.bernard@icloud", b"jeanne.martin@gmail")
    follow = post_mail(raw)
    assert follow["outcome"] == "follow_up" and follow["ticket_id"] != closed.id
    assert db.session.get(Ticket, closed.id).status is Status.CLOSED
    links = {
        (c.ticket_id, c.action): c.changes
        for c in db.session.scalars(select(TicketChange).where(TicketChange.action.like("follow%")))
    }
    assert links[(follow["ticket_id"], "follow_up")] == {"follow_up_of": [None, closed.id]}
    assert links[(closed.id, "followed_up")] == {"follow_up_id": [None, follow["ticket_id"]]}


def test_automatic_and_bulk_mail_open_nothing_and_get_no_acknowledgement(
    post_mail: Callable[..., Any], fake_outbox: list[dict[str, Any]]
) -> None:
    assert post_mail(load("newsletter.eml"))["outcome"] == "ignored"
    ooo = post_mail(load("out_of_office.eml"))
    assert ooo["outcome"] == "ignored" and "Auto-Submitted" in ooo["reason"]
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert db.session.scalar(select(func.count(Customer.id))) == 0
    assert fake_outbox == []


def test_an_out_of_office_on_a_ticket_is_a_note_that_reopens_nothing(
    post_mail: Callable[..., Any], customer_factory: Callable[..., Any]
) -> None:
    jeanne = customer_factory(name="Jeanne Martin", emails=["jeanne.martin@gmail.example"])
    ticket = tickets.create(db.session, actor=None, subject="Imprimante", requester_id=jeanne.id)
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    _our_message(ticket, "reply-10001-2@helpdesk.example")
    result = post_mail(load("out_of_office.eml"))
    assert result["outcome"] == "threaded" and result["ticket_id"] == ticket.id
    assert db.session.get(Ticket, ticket.id).status is Status.SOLVED
    note = db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id))
    assert not note.public and note.author_customer_id is None
    assert "Je suis absente" in note.body
    # Once the ticket is closed, an automatic reply opens no follow-up.
    tickets.update(db.session, ticket, actor=None, status=Status.CLOSED)
    again = post_mail(load("out_of_office.eml").replace(b"<ooo-1@", b"<ooo-2@"))
    assert again["outcome"] == "ignored"
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


@pytest.fixture
def fake_outbox(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The outbox's interface (`queue_message`), writing its row as the real one does."""
    sent: list[dict[str, Any]] = []

    def queue_message(session: Any, **kw: Any) -> MailMessage:
        sent.append(kw)
        row = MailMessage(
            message_id=f"ack-{len(sent)}@helpdesk.example",
            direction="outbound",
            kind=kw["kind"],
            from_address="support@helpdesk.example",
            to_addresses=[kw["to"]],
            subject=kw["subject"],
            customer_id=kw.get("customer_id"),
            ticket_id=kw["ticket"].id if kw.get("ticket") else None,
        )
        session.add(row)
        return row

    module = types.ModuleType("helpdesk.mail.outbox")
    module.queue_message = queue_message  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "helpdesk.mail.outbox", module)
    return sent


def test_one_acknowledgement_per_sender_and_period(
    post_mail: Callable[..., Any], fake_outbox: list[dict[str, Any]]
) -> None:
    first = post_mail(load("iso_8859_1.eml"))
    second = post_mail(load("iso_8859_1.eml").replace(b"<latin1-1@", b"<latin1-2@"))
    assert first["outcome"] == second["outcome"] == "created"
    assert len(fake_outbox) == 1
    ack = fake_outbox[0]
    assert ack["kind"] == "ack" and ack["auto"] is True and ack["language"] == "fr"
    assert ack["to"] == "renee.francois@wanadoo.example"
    assert ack["in_reply_to"] == "latin1-1@wanadoo.example"
    reference = ack["ticket"].reference
    assert reference.startswith("T-1000") and ack["subject"].startswith(f"[{reference}]")
    # The reference footer and the automatic-message line are the outbox's, added once.
    assert reference not in ack["text"] and "automati" not in ack["text"]


def test_a_bounce_marks_the_address_and_the_reply_and_opens_no_ticket(
    post_mail: Callable[..., Any], customer_factory: Callable[..., Any]
) -> None:
    gone = customer_factory(name="Nobody", emails=["nobody@gone.example"])
    ticket = tickets.create(db.session, actor=None, subject="Request", requester_id=gone.id)
    comment = Comment(
        ticket_id=ticket.id,
        body="Hello",
        public=True,
        delivery_channel="email",
        delivery_to="nobody@gone.example",
        delivery_status="sent",
        delivery_ref="reply-10006-1@helpdesk.example",
    )
    db.session.add(comment)
    db.session.flush()
    ours = _our_message(ticket, "reply-10006-1@helpdesk.example")
    ours.comment_id = comment.id
    db.session.commit()
    result = post_mail(load("dsn_bounce.eml"))
    assert result["outcome"] == "bounced" and "5.1.1" in result["reason"]
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    assert db.session.get(MailMessage, ours.id).status == "bounced"
    assert db.session.get(Comment, comment.id).delivery_status == "bounced"
    bouncing = db.session.scalar(select(BouncingAddress))
    assert bouncing.address == "nobody@gone.example" and bouncing.bounces == 1
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.kind == "email_bounced"))
    assert entry.customer_id == gone.id


def test_bad_input_gets_a_clear_outcome_and_is_kept(
    app: Flask, post_mail: Callable[..., Any]
) -> None:
    nofrom = post_mail(load("missing_from.eml"))
    assert nofrom["outcome"] == "rejected" and "From" in nofrom["reason"]
    row = db.session.get(MailMessage, nofrom["mail_message_id"])
    assert row.status == "rejected" and attachment_store(app).exists(row.raw_key)
    broken = post_mail(load("malformed_mime.eml"))
    assert broken["outcome"] == "created"
    ticket = db.session.get(Ticket, broken["ticket_id"])
    assert "my box is broken" in ticket.description and "photo.jpg" in ticket.description
    deep = b"From: deep@example.com\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n" + b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(10_000)
    )
    nested = post_mail(deep)
    assert nested["outcome"] == "created"
    assert "The original is kept" in db.session.get(Ticket, nested["ticket_id"]).description


def test_a_thirty_megabyte_attachment_is_named_but_not_kept(
    app: Flask, post_mail: Callable[..., Any]
) -> None:
    data = b"%PDF-1.4\n" + b"\x01" * (30 * 1024 * 1024)
    raw = (
        b"From: big@example.com\r\nSubject: big file\r\nMessage-ID: <big@example.com>\r\n"
        b'Content-Type: multipart/mixed; boundary="Z"\r\n\r\n--Z\r\nContent-Type: text/plain\r\n'
        b"\r\nPlease see the scan.\r\n--Z\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=scan.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data) + b"--Z--\r\n"
    )
    result = post_mail(raw)
    assert result["outcome"] == "created"
    description = db.session.get(Ticket, result["ticket_id"]).description
    assert "Please see the scan." in description
    assert "scan.pdf (30.0 MB, over the limit: not kept)" in description
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    app.extensions["mail_inbound"].max_message_bytes = 1024
    assert post_mail(raw.replace(b"<big@", b"<big2@"), expect=413)["error"]["code"] == "too_large"


def test_attachments_are_stored_sniffed_and_served_only_to_staff_as_downloads(
    post_mail: Callable[..., Any], api_as: Callable[..., Any]
) -> None:
    result = post_mail(load("alternative_with_attachments.eml"))
    files = {a.filename: a for a in db.session.scalars(select(Attachment))}
    assert set(files) == {"part-1", "invoice-2026-11.pdf", "reçu.html"}
    assert files["part-1"].inline and files["part-1"].content_type == "image/png"
    assert files["invoice-2026-11.pdf"].content_type == "application/pdf"
    page = files["reçu.html"]
    assert page.content_type == "text/plain" and page.declared_type == "application/pdf"
    assert all(a.ticket_id == result["ticket_id"] for a in files.values())
    agent = api_as(Role.AGENT)
    got = agent.get(f"/mail/attachments/{page.id}")
    assert got.status_code == 200 and got.data == b"<html><script>alert(1)</script></html>"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''re%C3%A7u.html" in got.headers["Content-Disposition"]
    assert got.mimetype == "text/plain"
    assert api_as(Role.INTEGRATION).get(f"/mail/attachments/{page.id}").status_code == 403
    assert agent.get("/mail/attachments/999").status_code == 404
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.kind == "email"))
    assert entry.data["attachments"] == ["invoice-2026-11.pdf", "reçu.html"]


def test_a_flood_from_one_address_opens_no_more_tickets(
    app: Flask, post_mail: Callable[..., Any]
) -> None:
    from limits import parse

    app.extensions["mail_inbound"].limit = parse("2 per minute")
    outcomes = [
        post_mail(load("windows_1252.eml").replace(b"<cp1252-1@", f"<flood-{i}@".encode()))[
            "outcome"
        ]
        for i in range(4)
    ]
    assert outcomes == ["created", "created", "ignored", "ignored"]
    inbound_rows = select(func.count(MailMessage.id)).where(MailMessage.direction == "inbound")
    assert db.session.scalar(inbound_rows) == 4  # each one recorded
    acks = select(func.count(MailMessage.id)).where(MailMessage.kind == "ack")
    assert db.session.scalar(acks) == 1  # a flood earns one acknowledgement at most


def test_erasing_the_customer_erases_their_mail_and_files(
    app: Flask, post_mail: Callable[..., Any]
) -> None:
    from helpdesk.customers import erasure as privacy

    result = post_mail(load("alternative_with_attachments.eml"))
    row = db.session.get(MailMessage, result["mail_message_id"])
    keys = [row.raw_key, *db.session.scalars(select(Attachment.storage_key))]
    store = attachment_store(app)
    assert all(store.exists(k) for k in keys)
    customer = db.session.get(Customer, row.customer_id)
    exported = privacy.export(db.session, customer)
    assert exported.mail_messages[0].subject == "Invoice dispute"
    privacy.erase(db.session, customer, actor_id=None)
    db.session.commit()
    row = db.session.get(MailMessage, result["mail_message_id"])
    assert row.from_address == "[erased]" and row.body_text == "" and row.raw_key is None
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not any(store.exists(k) for k in keys)
    assert db.session.scalar(select(func.count(CustomerEmail.id))) == 0


def test_ingest_is_callable_directly(app: Flask) -> None:
    result = inbound.ingest(db.session, load("html_only.eml"), source="simulator")
    assert result.outcome == "created"
    row = db.session.get(MailMessage, result.mail_message_id)
    assert row.source == "simulator" and "<script" not in row.body_html
    assert row.body_text.startswith("My order 12345 has not arrived.")


def test_a_reply_to_a_merged_duplicate_threads_onto_the_ticket_it_was_merged_into(
    post_mail: Callable[..., Any],
    customer_factory: Callable[..., Any],
    make_user: Callable[..., User],
) -> None:
    from helpdesk.tickets import ticket_merge

    jeanne = customer_factory(name="Jeanne Martin", emails=["jeanne.martin@gmail.example"])
    dup = tickets.create(db.session, actor=None, subject="Imprimante", requester_id=jeanne.id)
    target = tickets.create(db.session, actor=None, subject="Printer", requester_id=jeanne.id)
    target_id = target.id
    # The message the customer answers stayed on the duplicate (the merge's own notice does).
    ticket_merge.merge(db.session, source=dup, target=target, actor=make_user(Role.AGENT))
    _our_message(db.session.get(Ticket, dup.id), "reply-10001-1@helpdesk.example")

    result = post_mail(load("gmail_reply_fr.eml"))

    assert result["outcome"] == "threaded" and result["ticket_id"] == target_id
