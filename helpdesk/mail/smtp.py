"""The SMTP adapter: `MAIL_SMTP_URL` read into settings, and a transport that hands one message
to the server and says how it went.

`smtp://user:pass@host:587?starttls=1` (STARTTLS upgrade, then AUTH), `smtps://user:pass@host:465`
(TLS from the first byte), `smtp://host:25` (no TLS, no AUTH: a local relay). The user and
password are percent-decoded, so a password with `@` or `/` is written `%40`, `%2F`. `timeout=`
sets the seconds to wait on the server (30), `verify=0` accepts a certificate no CA signed (a
relay on the same network with a self-made certificate; never across the Internet).

What SMTP can and cannot tell us: a `250` after the message's final dot means the server took
responsibility for it; a `4xx` is worth retrying later; a `5xx` will not change by retrying. SMTP
has no way to ask a server afterwards whether it took a given message (`find` answers None), so
after a crash the outbox cannot tell a message the server took from one it never saw (see
helpdesk.mail.outbox for what it does then).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from helpdesk.mail.compose import check_address


class SendFailed(Exception):
    """The server refused the message, or could not be reached. `permanent` says whether
    trying again cannot help (a 5xx); `code` is the SMTP reply code when there was one."""

    def __init__(self, reason: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.permanent = permanent
        self.code = code


class MailTransport(Protocol):
    """Where the outbox hands messages: an SMTP server, or the local simulator."""

    name: str

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str], message_id: str) -> None:
        """Returns once the message is accepted; raises SendFailed otherwise."""

    def find(self, message_id: str) -> bool | None:
        """Whether the message with this Message-ID was accepted: True, False, or None when
        this transport cannot know (SMTP)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool = False  # smtps: TLS from the start
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout_s: float = 30.0
    verify: bool = True  # the certificate checked against the system's CAs and the host name


_YES = {"1", "true", "yes", "on"}
# A kept connection used less than this many seconds ago is used again without a NOOP first.
FRESH_S = 10.0


def parse_smtp_url(url: str) -> SmtpSettings:
    """`MAIL_SMTP_URL` as settings; a malformed URL is refused at start-up, not at first send."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError("MAIL_SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("MAIL_SMTP_URL names no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    tls = scheme == "smtps"
    starttls = query.get("starttls", "").lower() in _YES
    if tls and starttls:
        raise ValueError("MAIL_SMTP_URL: smtps:// is TLS already; starttls=1 is for smtp://")
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        tls=tls,
        starttls=starttls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        timeout_s=float(query.get("timeout", "30")),
        verify=query.get("verify", "1").lower() in _YES,
    )


def classify(exc: Exception) -> SendFailed:
    """An smtplib or socket error as a retry-or-give-up decision with the server's words."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()] or [0]
        detail = "; ".join(
            f"{rcpt}: {code} {msg.decode('utf-8', 'replace')}"
            for rcpt, (code, msg) in exc.recipients.items()
        )
        return SendFailed(
            f"recipient refused: {detail}",
            permanent=all(500 <= c < 600 for c in codes),
            code=max(codes),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return SendFailed(
            f"{exc.smtp_code} {text}".strip(),
            permanent=500 <= exc.smtp_code < 600,
            code=exc.smtp_code,
        )
    # Disconnections, timeouts, refused connections, TLS failures: the server may be back later.
    return SendFailed(f"{type(exc).__name__}: {exc}", permanent=False)


class SmtpTransport:
    """One connection per thread, kept open between messages (a worker sending a backlog pays
    the TLS handshake and AUTH once) and opened again when the server has dropped it."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._local = threading.local()

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        return cls(parse_smtp_url(url))

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.settings.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        client: smtplib.SMTP
        if s.tls:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._context())
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        client.ehlo_or_helo_if_needed()
        if s.starttls:
            client.starttls(context=self._context())
            client.ehlo()
        if s.username:
            client.login(s.username, s.password)
        return client

    def _client(self) -> smtplib.SMTP:
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        idle = time.monotonic() - getattr(self._local, "used", 0.0)
        if client is not None and idle < FRESH_S:
            return client  # used a moment ago: servers wait minutes before closing (RFC 5321)
        if client is not None:
            try:  # a kept connection the server may have closed while it sat idle
                if client.noop()[0] == 250:
                    return client
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        client = self._connect()
        self._local.client = client
        return client

    def _drop(self) -> None:
        client = getattr(self._local, "client", None)
        self._local.client = None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str], message_id: str) -> None:
        check_address("sender", sender)
        for rcpt in recipients:
            check_address("recipient", rcpt)
        try:
            self._client().sendmail(sender, list(recipients), raw)
            self._local.used = time.monotonic()
        except (smtplib.SMTPException, OSError) as exc:
            # Never tried again here: a connection lost after the final dot may have delivered
            # the message. The outbox decides, with the same Message-ID.
            self._drop()
            raise classify(exc) from exc

    def find(self, message_id: str) -> bool | None:
        return None

    def close(self) -> None:
        self._drop()
