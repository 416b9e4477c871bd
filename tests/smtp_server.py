"""A real SMTP server for the e-mail tests and benchmark: aiosmtpd on a loopback port.

It keeps every message it accepts (envelope and bytes as received), can be told to answer the
next messages with chosen replies (`4xx` to test the back-off, `5xx` to test giving up), and
can hold its answer to a message until the test lets it go (`hold`), as a slow server would.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Recorder:
    """The handler: what was accepted, what to answer next, and a gate before answering."""

    accepted: list[Received] = field(default_factory=list)
    seen: list[Received] = field(default_factory=list)  # everything that reached the end of DATA
    replies: list[str] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    logins: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.hold.set()

    # aiosmtpd's hook name
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        got = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        self.seen.append(got)
        if not self.hold.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 60)
        reply = self.replies.pop(0) if self.replies else "250 2.0.0 Message accepted"
        if reply.startswith("250"):
            self.accepted.append(got)
        return reply


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (made with the openssl command)."""
    if shutil.which("openssl") is None:
        import pytest

        pytest.skip("no openssl command to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def start_smtp(
    *,
    cert: tuple[Path, Path] | None = None,
    implicit_tls: bool = False,
    credentials: tuple[str, str] | None = None,
) -> tuple[Recorder, Controller, int]:
    """Start a server; with `cert`, STARTTLS (or TLS from the start with `implicit_tls`); with
    `credentials`, AUTH is required. Stop it with `controller.stop()`."""
    recorder = Recorder()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        if implicit_tls:
            kwargs["ssl_context"] = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
    if credentials is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> Any:
            ok = (
                isinstance(data, LoginPassword)
                and (data.login.decode(), data.password.decode()) == credentials
            )
            if ok:
                recorder.logins.append(data.login.decode())
            return AuthResult(success=ok)

        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=True)
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return recorder, controller, port
