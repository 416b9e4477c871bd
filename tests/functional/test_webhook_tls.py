"""HTTPS receivers: the post connects to the checked address yet checks the certificate against
the URL's host name (SNI included), and refuses a certificate it cannot trust."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helpdesk.webhooks.addresses import Target
from helpdesk.webhooks.transport import HttpSender


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.test",
            "-addext",
            "subjectAltName=DNS:hooks.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_receiver(certificate: tuple[Path, Path]) -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers.get("Host", ""))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1]), seen
    server.shutdown()
    server.server_close()


def _target(host: str, port: int) -> Target:
    return Target("https", host, port, "/hook", address="127.0.0.1")


def test_an_untrusted_certificate_is_refused(tls_receiver):
    port, seen = tls_receiver
    answer = HttpSender(timeout_s=5).post(_target("hooks.test", port), b"{}", {})
    assert answer.status_code is None and "CERTIFICATE_VERIFY_FAILED" in answer.error
    assert seen == []


def test_the_host_name_is_checked_on_the_pinned_address(tls_receiver, certificate):
    port, seen = tls_receiver
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    sender = HttpSender(timeout_s=5, tls=trusting)
    answer = sender.post(_target("hooks.test", port), b"{}", {})
    assert answer.status_code == 204, answer.error
    assert seen == [f"hooks.test:{port}"]
    wrong_name = sender.post(_target("other.test", port), b"{}", {})
    assert wrong_name.status_code is None and "hostname" in wrong_name.error.lower()
