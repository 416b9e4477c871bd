"""What each kind of serving process answers (helpdesk.process_roles), and how a console page
finds the sockets process when it is reached without a proxy (SOCKETS_PUBLIC_URL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from helpdesk.app import create_app
from helpdesk.auth.models import Role
from helpdesk.config import Settings
from helpdesk.extensions import db
from tests.functional.test_console import sign_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The sockets process on port 5001 of this machine, the console on the test client's host.
    settings.SOCKETS_PUBLIC_URL = "http://127.0.0.1:5001"
    return settings


@pytest.fixture
def role_app(settings: Settings) -> Iterator[Any]:
    made: list[Flask] = []

    def make(role: str) -> Flask:
        app = create_app(settings, role=role)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()


def _meta(page: str) -> str:
    found = re.search(r'<meta name="helpdesk-socket-url" content="([^"]*)">', page)
    assert found, "no helpdesk-socket-url meta"
    return found.group(1)


def test_a_console_page_names_the_sockets_process_under_its_own_loopback_name(
    app: Flask, make_user: Any
) -> None:
    user = make_user(Role.AGENT)
    for host, expected in (
        ("localhost:5000", "http://localhost:5001"),
        ("127.0.0.1:8123", "http://127.0.0.1:5001"),
    ):
        client = app.test_client()
        client.environ_base["HTTP_HOST"] = host
        assert sign_in(client, user).status_code == 302
        response = client.get("/tickets?all=1", headers={"Host": host})
        assert _meta(response.get_data(as_text=True)) == expected
        policy = response.headers["Content-Security-Policy"]
        connect = next(d for d in policy.split("; ") if d.startswith("connect-src"))
        for origin in ("http://localhost:5001", "ws://localhost:5001", "ws://127.0.0.1:5001"):
            assert origin in connect.split(), connect


def test_without_the_setting_the_page_connects_to_its_own_origin(
    app: Flask, make_user: Any
) -> None:
    app.config["SOCKETS_PUBLIC_URL"] = ""
    client = app.test_client()
    assert sign_in(client, make_user(Role.AGENT)).status_code == 302
    page = client.get("/tickets?all=1").get_data(as_text=True)
    assert _meta(page) == ""


def test_the_sockets_process_answers_only_the_live_connection_and_its_operator(
    role_app: Any,
) -> None:
    client = role_app("sockets").test_client()
    for path in ("/api/v1/tickets", "/login", "/twilio/voice", "/static/live.js", "/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "only the live connection" in response.get_json()["error"]["message"]
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/metrics").status_code == 200
    # The Engine.IO endpoint itself answers (a polling handshake).
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status_code == 200 and handshake.get_data(as_text=True).startswith("0{")


def test_a_web_process_of_the_split_form_refuses_the_live_connection(role_app: Any) -> None:
    client = role_app("api").test_client()
    for path in ("/socket.io/?EIO=4&transport=polling", "/socket.io/", "/socket.io"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "sockets processes" in response.get_json()["error"]["message"]
    assert client.get("/login").status_code == 200
    assert client.get("/socket.iox").status_code == 404  # an ordinary missing page


def test_the_embedded_form_still_serves_both(role_app: Any) -> None:
    client = role_app("web").test_client()
    assert client.get("/login").status_code == 200
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status_code == 200 and handshake.get_data(as_text=True).startswith("0{")
