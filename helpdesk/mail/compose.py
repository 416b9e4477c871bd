"""Building an outgoing e-mail, as pure functions: subject, fixed text, HTML part, MIME message.

Nothing here touches the database or the network, so that what a customer receives can be tested
on its own. The MIME message is built only from what the outbox row stores (and its Date from the
row's creation time, its boundary from its Message-ID): a message sent again after an interrupted
attempt is the same message, byte for byte, which is what lets a mailbox recognise it.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

import nh3

# Kinds of outgoing mail that no person wrote: they carry `Auto-Submitted: auto-replied` (RFC
# 3834), so that well-behaved auto-responders do not answer them and no loop starts.
AUTO_KINDS = frozenset({"ack", "auto", "notification", "portal_link", "survey"})

# Tags and attributes an outgoing HTML part may use: what a reply needs to read well, nothing
# that runs, loads from elsewhere or restyles the customer's mail client.
_HTML_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "a", "ul", "ol", "li", "blockquote",
    "pre", "code", "h1", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
    "div", "span", "small",
}  # fmt: skip
_HTML_ATTRIBUTES = {"a": {"href", "title"}}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}

_CRLF = re.compile(r"[\r\n]")
_REFERENCE_TAG = re.compile(r"\s*\[T-?\d+\]\s*", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|réf|ref|tr|fwd?)\s*:\s*)+", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"']+")


class HeaderInjection(ValueError):
    """A header value (subject, address, name) with a line break: refused, never folded in."""

    def __init__(self, field_name: str) -> None:
        super().__init__(f"{field_name} must be a single line (no CR or LF)")
        self.field_name = field_name


def check_line(field_name: str, value: str) -> str:
    """`value` unchanged if it is one line; a CR or LF would start a header of the sender's
    choosing (`Bcc:`), so it is refused rather than cleaned."""
    if _CRLF.search(value) or "\x00" in value:
        raise HeaderInjection(field_name)
    return value


def check_address(field_name: str, value: str) -> str:
    """A bare address `local@domain`, one line, nothing around it."""
    check_line(field_name, value)
    _, address = parseaddr(value)
    if not address or address != value.strip() or "@" not in address or " " in address:
        raise ValueError(f"{field_name} is not an e-mail address")
    local, _, domain = address.rpartition("@")
    if not local or not domain or "," in address or ";" in address:
        raise ValueError(f"{field_name} is not an e-mail address")
    return address


def one_line(text: str) -> str:
    """A ticket subject typed with line breaks, as the one line a mail subject must be."""
    return " ".join(text.split())


def reply_subject(subject: str, reference: str, *, reply: bool = True) -> str:
    """`Re: [T-10234] The printer is broken`: the ticket's reference once, whatever the
    customer's mail client did to the subject on the way (several `Re:`, `AW:`, our tag moved)."""
    bare = _REFERENCE_TAG.sub(" ", subject)
    bare = _REPLY_PREFIX.sub("", bare).strip()
    tagged = f"[{reference}] {bare}".strip()
    return f"Re: {tagged}" if reply else tagged


# -- fixed text in the customer's language -----------------------------------------------------

_FIXED = {
    "en": {
        "footer": "Reference {reference}. Reply to this e-mail to add to your request; please "
        "keep the reference in the subject.",
        "auto_note": "This message was sent automatically.",
    },
    "fr": {
        "footer": "Référence {reference}. Répondez à ce message pour compléter votre demande ; "
        "merci de garder la référence dans l'objet.",
        "auto_note": "Ce message a été envoyé automatiquement.",
    },
}


def fixed_text(language: str, key: str, **values: str) -> str:
    table = _FIXED.get((language or "en").split("-")[0].lower(), _FIXED["en"])
    return table[key].format(**values)


@dataclass(frozen=True)
class Signed:
    """What goes around the agent's words: who signs, for which team, under which reference."""

    agent: str | None
    team: str
    reference: str | None
    language: str = "en"
    auto: bool = False


def full_text(body: str, signed: Signed) -> str:
    """The plain-text part as sent: the words, the signature, the footer."""
    lines = [body.rstrip(), ""]
    lines += [f"-- \n{signed.agent}, {signed.team}" if signed.agent else f"-- \n{signed.team}"]
    if signed.reference:
        lines += [fixed_text(signed.language, "footer", reference=signed.reference)]
    if signed.auto:
        lines += [fixed_text(signed.language, "auto_note")]
    return "\n".join(lines) + "\n"


def sanitise_html(markup: str) -> str:
    """HTML that may be shown in any mail client: no script, no style, no remote images, links
    limited to web, mail and phone addresses and marked `noopener noreferrer`."""
    return nh3.clean(
        markup,
        tags=_HTML_TAGS,
        attributes=_HTML_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _paragraphs(text: str) -> str:
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        out.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return "\n".join(out)


def html_part(body: str, signed: Signed, *, markup: str | None = None) -> str:
    """The HTML part as sent, sanitised: the agent's HTML if given, else their text as
    paragraphs, then the same signature and footer as the text part."""
    main = markup if markup is not None else _paragraphs(body)
    who = f"{signed.agent}, {signed.team}" if signed.agent else signed.team
    tail = [f"<p>-- <br>{html.escape(who)}</p>"]
    if signed.reference:
        footer = fixed_text(signed.language, "footer", reference=signed.reference)
        tail.append(f"<p><small>{html.escape(footer)}</small></p>")
    if signed.auto:
        tail.append(
            f"<p><small>{html.escape(fixed_text(signed.language, 'auto_note'))}</small></p>"
        )
    return sanitise_html(main + "\n" + "\n".join(tail))


# -- the MIME message --------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A file carried by a message."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Outgoing:
    """Everything one outgoing message is made of (an outbox row, read back)."""

    message_id: str  # without angle brackets
    from_address: str
    from_name: str
    to: Sequence[str]
    subject: str
    text: str
    html: str
    date: datetime
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    auto: bool = False
    reply_to: str | None = None
    cc: Sequence[str] = ()
    attachments: Sequence[Part] = field(default_factory=tuple)
    list_unsubscribe: str | None = None  # an https URL: one-click unsubscribe (RFC 8058)


def _bracket(message_id: str) -> str:
    return f"<{check_line('Message-ID', message_id).strip('<>')}>"


def _address_header(address: str, name: str = "") -> Address:
    local, _, domain = check_address("address", address).rpartition("@")
    return Address(display_name=check_line("name", name), username=local, domain=domain)


def build(out: Outgoing) -> EmailMessage:
    """The MIME message: multipart/alternative (text, then sanitised HTML), inside
    multipart/mixed when files come with it. Every header value is checked for line breaks."""
    msg = EmailMessage(policy=SMTP)
    msg["Message-ID"] = _bracket(out.message_id)
    msg["Date"] = format_datetime(out.date)
    msg["From"] = _address_header(out.from_address, out.from_name)
    msg["To"] = [_address_header(a) for a in out.to]
    if out.cc:
        msg["Cc"] = [_address_header(a) for a in out.cc]
    if out.reply_to:
        msg["Reply-To"] = _address_header(out.reply_to)
    msg["Subject"] = check_line("subject", out.subject)
    if out.in_reply_to:
        msg["In-Reply-To"] = _bracket(out.in_reply_to)
    if out.references:
        msg["References"] = " ".join(_bracket(r) for r in out.references)
    if out.auto:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # Exchange's auto-replies stay quiet too
    if out.list_unsubscribe:
        msg["List-Unsubscribe"] = f"<{check_line('List-Unsubscribe', out.list_unsubscribe)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(out.text, subtype="plain", charset="utf-8")
    msg.add_alternative(out.html or html_part(out.text, Signed(None, "", None)), subtype="html")
    for part in out.attachments:
        maintype, _, subtype = part.content_type.partition("/")
        msg.add_attachment(
            part.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=check_line("filename", part.filename),
        )
    _fix_boundaries(msg, out.message_id)
    return msg


def _fix_boundaries(msg: EmailMessage, message_id: str) -> None:
    """Boundaries derived from the Message-ID instead of random ones: the same row always
    serialises to the same bytes."""
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    for depth, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_{seed}_{depth}")


def serialise(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=SMTP)
