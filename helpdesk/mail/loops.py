"""Which inbound mail is automatic, bulk or a bounce: the rules that keep the helpdesk out of
reply loops with auto-responders and out of mailing lists.

Pure: it reads a `ParsedMail` and says what it is. The pipeline (inbound.py) decides what to do:
a bounce marks the address and opens no ticket; an automatic message (an out-of-office) is
recorded on a ticket it threads into but gets no acknowledgement and opens nothing new; bulk mail
(a newsletter, a list) is recorded and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpdesk.mail.parse import ParsedMail

_DAEMONS = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounce[s]?|no-?reply|do-?not-?reply)"
    r"([+.\-_].*)?@",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|absence|"
    r"r[ée]ponse automatique|absent\b|en cong[ée]s?)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status notification|failure|has failed)|returned mail|"
    r"non remis|non distribu|[ée]chec de (la )?remise)",
    re.IGNORECASE,
)
_FINAL_RECIPIENT = re.compile(
    r"^(?:Final|Original)-Recipient:\s*(?:rfc822|utf-8)\s*;\s*<?([^\s<>]+@[^\s<>]+)>?",
    re.IGNORECASE | re.MULTILINE,
)
_ACTION_FAILED = re.compile(r"^Action:\s*failed", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"^Status:\s*([245]\.\d{1,3}\.\d{1,3})", re.IGNORECASE | re.MULTILINE)
_DIAGNOSTIC = re.compile(r"^Diagnostic-Code:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Bounce:
    addresses: tuple[str, ...]
    reason: str
    # The Message-ID of our message that bounced, where the report quotes it.
    original_message_id: str | None


@dataclass(frozen=True)
class Verdict:
    """`kind`: "message" (a person wrote), "auto" (an automatic reply), "bulk" (lists and
    newsletters) or "bounce". `acknowledge`: whether an automatic acknowledgement may go back."""

    kind: str
    reason: str = ""
    bounce: Bounce | None = None

    @property
    def acknowledge(self) -> bool:
        return self.kind == "message"


def is_daemon(address: str) -> bool:
    return bool(_DAEMONS.match(address or ""))


def _bounce(mail: ParsedMail) -> Bounce | None:
    report = mail.delivery_status
    if report and not _ACTION_FAILED.search(report):
        return None  # a delay or a delivery notice, not a failure
    if not report and not (is_daemon(mail.from_address) and _BOUNCE_SUBJECT.search(mail.subject)):
        return None
    addresses = tuple(dict.fromkeys(a.lower() for a in _FINAL_RECIPIENT.findall(report)))
    status = _STATUS.search(report)
    diagnostic = _DIAGNOSTIC.search(report)
    reason = " ".join(
        p for p in ((status.group(1) if status else ""), diagnostic.group(1) if diagnostic else "")
        if p
    )  # fmt: skip
    original = _original_id(mail)
    return Bounce(addresses, (reason or mail.subject or "bounced")[:300], original)


def _original_id(mail: ParsedMail) -> str | None:
    """Our Message-ID the report answers: the returned headers carry it, else In-Reply-To."""
    for part in mail.files:
        if part.declared_type in ("message/rfc822", "text/rfc822-headers"):
            found = re.search(rb"^Message-ID:\s*<([^<>\s]+)>", part.data, re.I | re.M)
            if found:
                return found.group(1).decode("ascii", "replace")
    return mail.in_reply_to


def classify(mail: ParsedMail) -> Verdict:
    """What a message is, by its headers first (RFC 3834, RFC 2369, RFC 3464), then by sender
    and subject for the mail programs that set no header."""
    bounce = _bounce(mail)
    if bounce is not None:
        return Verdict("bounce", "delivery status notification", bounce)
    headers = mail.headers
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return Verdict("auto", f"Auto-Submitted: {auto[:40]}")
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return Verdict("bulk", f"Precedence: {precedence}")
    if "list-id" in headers or "list-unsubscribe" in headers:
        return Verdict("bulk", "mailing list (List-Id)")
    if is_daemon(mail.from_address):
        return Verdict("auto", "sent by a mailer daemon or a no-reply address")
    for name in ("x-autoreply", "x-autorespond"):
        if headers.get(name, "").strip():
            return Verdict("auto", f"{name}: {headers[name][:40]}")
    if _AUTO_SUBJECT.search(mail.subject):
        return Verdict("auto", "automatic reply (subject)")
    return Verdict("message")
