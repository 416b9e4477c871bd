"""The mail simulator page (when no SMTP server is configured): the mail the helpdesk sent, and a
form to write to it as a customer.

Without `MAIL_SMTP_URL` outgoing mail never leaves the machine: it is kept, and this page lists
it with its state, so `make run` shows the whole channel offline. What a "customer" writes here
is turned into a real RFC 5322 message and handed to the same pipeline as mail fetched by IMAP or
posted to `/api/v1/mail/inbound` (`helpdesk.mail.inbound.ingest`): threading, quotes, loops and
attachments behave exactly as they will with a real mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from agents_ui import reply_delivery, safety
from agents_ui.blueprint import bp
from agents_ui.phone import wants_json
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel, reference_for

RECENT_MAIL = 50
DEMO_ADDRESSES = 40
RECENT_TICKETS = 30
BODY_MAX = 20_000
SOURCE = "simulator"

# What the page says of each outcome of `inbound.ingest` (its `Ingested.outcome`).
OUTCOME: dict[str, Any] = {
    "created": _l("A new ticket was opened."),
    "threaded": _l("The message joined its ticket."),
    "reopened": _l("The message reopened its ticket."),
    "follow_up": _l("The ticket was closed: a follow-up ticket was opened."),
    "duplicate": _l("This message had already been received: nothing changed."),
    "ignored": _l("Taken in as automatic or bulk mail: no ticket, no acknowledgement."),
    "bounced": _l("Read as a bounce: the address is marked as bouncing."),
    "rejected": _l("The message was refused."),
}


@dataclass(frozen=True)
class Written:
    """What the simulated customer typed into the form."""

    from_address: str
    from_name: str
    subject: str
    body: str
    to: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachment: tuple[str, str, bytes] | None = None  # filename, type, bytes


def compose(written: Written, *, domain: str = "simulator.invalid") -> bytes:
    """The message a mail program would send for `written` (pure: the unit tests read it back)."""
    msg = EmailMessage()
    msg["From"] = formataddr((written.from_name, written.from_address))
    msg["To"] = written.to
    msg["Subject"] = written.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=domain)
    if written.in_reply_to:
        msg["In-Reply-To"] = f"<{written.in_reply_to}>"
        refs = [*written.references, written.in_reply_to]
        msg["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(refs))
    msg.set_content(written.body)
    if written.attachment is not None:
        filename, content_type, data = written.attachment
        main, _slash, sub = (content_type or "application/octet-stream").partition("/")
        msg.add_attachment(data, maintype=main, subtype=sub or "octet-stream", filename=filename)
    return msg.as_bytes()


def _settings() -> Any:
    return current_app.config.get("HELPDESK_SETTINGS")


def mail_simulator_on() -> bool:
    """The simulator stands in for the SMTP server when none is configured."""
    return not getattr(_settings(), "MAIL_SMTP_URL", "")


@bp.context_processor
def _mail_simulator_flag() -> dict[str, Any]:
    return {"mail_simulator_on": mail_simulator_on()}


def helpdesk_address() -> str:
    return str(getattr(_settings(), "MAIL_FROM", "") or "support@helpdesk.localhost")


def _sent() -> list[MailMessage]:
    return list(
        db.session.scalars(
            select(MailMessage)
            .where(MailMessage.direction == "outbound")
            .order_by(MailMessage.id.desc())
            .limit(RECENT_MAIL)
        )
    )


def _addresses() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(CustomerEmail.email, Customer.name)
        .join(Customer, Customer.id == CustomerEmail.customer_id)
        .where(Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
        .order_by(Customer.id, CustomerEmail.id)
        .limit(DEMO_ADDRESSES)
    )
    return [(email, name) for email, name in rows]


def _tickets() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Ticket.id, Ticket.subject)
        .where(Ticket.channel == Channel.EMAIL)
        .order_by(Ticket.id.desc())
        .limit(RECENT_TICKETS)
    )
    return [(tid, f"{reference_for(tid)} {subject}") for tid, subject in rows]


@bp.get("/simulator/mail", endpoint="mail_simulator")
@login_required
def mail_simulator_page() -> ResponseReturnValue:
    if not mail_simulator_on():
        return render_template("simulator_mail.html", off=True)
    sent = _sent()
    if wants_json():
        return jsonify({"sent": [_sent_out(m) for m in sent]})
    return render_template(
        "simulator_mail.html",
        off=False,
        sent=sent,
        addresses=_addresses(),
        tickets=_tickets(),
        to=helpdesk_address(),
        body_max=BODY_MAX,
        status_label=reply_delivery.status_label,
        linked=safety.linked,
    )


def _sent_out(m: MailMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "to": list(m.to_addresses or []),
        "subject": m.subject,
        "text": m.body_text,
        "status": m.status,
        "kind": m.kind,
        "ticket_id": m.ticket_id,
        "created_at": m.created_at.isoformat(),
    }


def _thread_of(ticket_id: int) -> tuple[str, str | None, tuple[str, ...]]:
    """The subject, In-Reply-To and References of a reply to the ticket's latest message."""
    ticket = db.session.get(Ticket, ticket_id)
    last = db.session.scalar(
        select(MailMessage)
        .where(MailMessage.ticket_id == ticket_id)
        .order_by(MailMessage.id.desc())
        .limit(1)
    )
    subject = f"Re: {ticket.subject if ticket else ''} [{reference_for(ticket_id)}]"
    if last is None:
        return subject, None, ()
    return subject, last.message_id, tuple(last.references or ())


def _written() -> Written | str:
    """The form read into a `Written`, or what is wrong with it, in the agent's words."""
    form = request.form
    address = (form.get("from_address") or "").strip()
    if "@" not in address or len(address) > 254 or any(c in address for c in " \r\n<>,"):
        return str(_("Type the customer's e-mail address."))
    body = form.get("body") or ""
    if not body.strip() or len(body) > BODY_MAX:
        return str(_("Write a message of at most %(n)s characters.", n=BODY_MAX))
    subject = " ".join((form.get("subject") or "").split())[:200]
    in_reply_to: str | None = None
    refs: tuple[str, ...] = ()
    ticket = form.get("ticket") or ""
    if ticket.isdigit():
        default_subject, in_reply_to, refs = _thread_of(int(ticket))
        subject = subject or default_subject
    upload = request.files.get("attachment")
    attachment = None
    if upload is not None and upload.filename:
        attachment = (upload.filename, upload.mimetype or "", upload.read())
    return Written(
        from_address=address,
        from_name=" ".join((form.get("from_name") or "").split())[:100],
        subject=subject or str(_("(no subject)")),
        body=body,
        to=helpdesk_address(),
        in_reply_to=in_reply_to,
        references=refs,
        attachment=attachment,
    )


@bp.post("/simulator/mail", endpoint="mail_simulator_send")
@login_required
def mail_simulator_send() -> ResponseReturnValue:
    """A simulated customer writes to the helpdesk: the message goes through the inbound
    pipeline as if it had been fetched from the mailbox."""
    back = url_for("console.mail_simulator")
    if not mail_simulator_on():
        return redirect(back)
    written = _written()
    if isinstance(written, str):
        if wants_json():
            return jsonify({"error": {"code": "validation_error", "message": written}}), 400
        flash(written, "error")
        return redirect(back)
    from helpdesk.mail import inbound  # type: ignore[attr-defined,unused-ignore]

    result = inbound.ingest(db.session, compose(written), source=SOURCE)
    db.session.commit()
    said = str(OUTCOME.get(result.outcome, result.outcome))
    if wants_json():
        return jsonify(
            {"outcome": result.outcome, "ticket_id": result.ticket_id, "message": said}
        ), 201
    flash(said, "error" if result.outcome == "rejected" else "success")
    if result.ticket_id:
        return redirect(url_for("console.ticket", ticket_id=result.ticket_id))
    return redirect(back)
