"""The local mail simulator: where outgoing mail goes when no SMTP server is configured.

`make run` needs no mail server, yet the whole channel should be visible: each message the outbox
sends is kept as an `.eml` file under `instance/mail_simulator/sent/`, named after its Message-ID,
and the simulator's page and API list them. Files rather than memory, so that a Celery worker and
the web process on one machine see the same mail and a restart loses none.

Unlike an SMTP server, the simulator can be asked whether it holds a message, and storing the same
Message-ID twice keeps one file: through it, mail is sent exactly once even across a crash.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from helpdesk.mail.compose import check_address


@dataclass(frozen=True)
class SentMail:
    """One message the simulator received, as its page and API show it."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    from_header: str
    to_header: str
    subject: str
    date: str
    in_reply_to: str
    references: tuple[str, ...]
    auto_submitted: str
    text: str
    html: str
    attachments: tuple[str, ...]
    stored_at: datetime
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "from_header": self.from_header,
            "to_header": self.to_header,
            "subject": self.subject,
            "date": self.date,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "auto_submitted": self.auto_submitted,
            "text": self.text,
            "html": self.html,
            "attachments": list(self.attachments),
            "stored_at": self.stored_at,
            "size": self.size,
        }


def _name(message_id: str) -> str:
    return hashlib.sha256(message_id.strip("<>").encode()).hexdigest()[:40] + ".eml"


class SimulatorTransport:
    """A transport that files each message instead of sending it."""

    name = "simulator"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.sent_dir = Path(root) / "sent"

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str], message_id: str) -> None:
        check_address("sender", sender)
        for rcpt in recipients:
            check_address("recipient", rcpt)
        self.sent_dir.mkdir(parents=True, exist_ok=True)
        envelope = f"X-Simulator-Envelope: {sender} -> {', '.join(recipients)}\r\n".encode()
        # Written aside, then renamed over the final name: a reader never sees half a file, and
        # a second copy of the same Message-ID replaces the first instead of adding one.
        fd, tmp = tempfile.mkstemp(dir=self.sent_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(envelope + raw)
        os.replace(tmp, self.sent_dir / _name(message_id))

    def find(self, message_id: str) -> bool | None:
        return (self.sent_dir / _name(message_id)).exists()

    def sent(self, *, limit: int = 50, to: str | None = None) -> list[SentMail]:
        """The latest messages first; `to` keeps those sent to one address."""
        if not self.sent_dir.is_dir():
            return []
        files = sorted(
            self.sent_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True
        )
        found: list[SentMail] = []
        for path in files:
            try:
                mail = read_sent(path)
            except (OSError, ValueError):
                continue  # removed meanwhile, or not one of ours
            if to and to.lower() not in (r.lower() for r in mail.recipients):
                continue
            found.append(mail)
            if len(found) >= limit:
                break
        return found

    def get(self, message_id: str) -> SentMail | None:
        path = self.sent_dir / _name(message_id)
        return read_sent(path) if path.exists() else None

    def files_to(self, addresses: Iterable[str]) -> list[Path]:
        """The files of the messages sent to any of these addresses (case-insensitively)."""
        wanted = {a.lower() for a in addresses}
        if not wanted or not self.sent_dir.is_dir():
            return []
        found = []
        for path in self.sent_dir.glob("*.eml"):
            try:
                recipients = read_sent(path).recipients
            except (OSError, ValueError):
                continue
            if wanted & {r.lower() for r in recipients}:
                found.append(path)
        return found

    def delete(self, paths: Iterable[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    def clear(self) -> None:
        for path in self.sent_dir.glob("*.eml"):
            path.unlink(missing_ok=True)


def _body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    return str(part.get_content())


def read_sent(path: Path) -> SentMail:
    raw = path.read_bytes()
    msg = message_from_bytes(raw, policy=default)
    if not isinstance(msg, EmailMessage):
        raise ValueError("not a message")
    envelope = str(msg.get("X-Simulator-Envelope", ""))
    sender, _, rcpts = envelope.partition(" -> ")
    return SentMail(
        message_id=str(msg.get("Message-ID", "")).strip().strip("<>"),
        sender=sender,
        recipients=tuple(r.strip() for r in rcpts.split(",") if r.strip()),
        from_header=str(msg.get("From", "")),
        to_header=str(msg.get("To", "")),
        subject=str(msg.get("Subject", "")),
        date=str(msg.get("Date", "")),
        in_reply_to=str(msg.get("In-Reply-To", "")).strip().strip("<>"),
        references=tuple(r.strip("<>") for r in str(msg.get("References", "")).split()),
        auto_submitted=str(msg.get("Auto-Submitted", "")),
        text=_body(msg, "plain"),
        html=_body(msg, "html"),
        attachments=tuple(str(p.get_filename() or "") for p in msg.iter_attachments()),
        stored_at=datetime.fromtimestamp(path.stat().st_mtime, tz=UTC),
        size=len(raw),
    )
