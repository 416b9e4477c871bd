"""The HTTP post of one delivery, behind a small interface so that tests can run a real local
receiver or hand in their own sender.

Standard library only (`http.client`): the request goes to the address `addresses.check`
approved (the TLS certificate is still checked against the host name), redirects are never
followed, and one timeout bounds the connection and each read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Protocol

from helpdesk.webhooks.addresses import Target

MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: str = ""


class Sender(Protocol):
    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Answer: ...


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with SNI and certificate checks for the host name."""

    def __init__(
        self, host: str, address: str, port: int, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


@dataclass
class HttpSender:
    timeout_s: float = 10.0
    user_agent: str = "helpdesk-webhooks/1"
    # Which certificates HTTPS receivers must present: the system's trust store by default.
    tls: ssl.SSLContext = field(default_factory=ssl.create_default_context)

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Answer:
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = _PinnedHTTPS(target.host, target.address, target.port, self.timeout_s, self.tls)
        else:
            conn = _PinnedHTTP(target.host, target.address, target.port, self.timeout_s)
        started = time.monotonic()
        try:
            conn.request(
                "POST",
                target.path,
                body=body,
                headers={
                    **headers,
                    "Content-Type": "application/json",
                    "User-Agent": self.user_agent,
                },
            )
            response = conn.getresponse()
            response.read(64 * 1024)  # the answer is not used; read a little to end cleanly
            status = response.status
            error = "" if 200 <= status < 300 else f"HTTP {status} {response.reason}"
            return Answer(status, _ms(started), error[:MAX_ERROR_CHARS])
        except (OSError, http.client.HTTPException) as exc:
            text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Answer(None, _ms(started), text[:MAX_ERROR_CHARS])
        finally:
            conn.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
