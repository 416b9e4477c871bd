"""The live connection's handshake, as a browser opens it, under every loopback name and port."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from helpdesk.app import create_app
from helpdesk.config import Settings

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def _handshake(app: Flask, *, origin: str, host: str) -> int:
    client = app.test_client()
    response = client.get(HANDSHAKE, headers={"Origin": origin}, base_url=f"http://{host}")
    return response.status_code


@pytest.mark.parametrize("host", ["127.0.0.1:5301", "localhost:5301"])
def test_a_console_on_another_port_accepts_its_own_origin(settings: Settings, host: str) -> None:
    """`PORT=5301 make run`, browsed by either loopback name: the handshake is accepted."""
    settings.PUBLIC_BASE_URL = ""
    settings.PORT = 5301
    settings.fill_defaults()
    assert settings.PUBLIC_BASE_URL == "http://127.0.0.1:5301"
    app = create_app(settings)
    assert _handshake(app, origin=f"http://{host}", host=host) == 200


def test_a_foreign_origin_is_refused(app: Flask) -> None:
    assert _handshake(app, origin="http://evil.example", host="127.0.0.1:5000") == 400
    assert _handshake(app, origin="http://evil.example:5000", host="evil.example:5000") == 400


def test_the_public_base_url_follows_the_port(tmp_path: Path) -> None:
    settings = Settings.from_env({"PORT": "5302", "HELPDESK_INSTANCE_PATH": str(tmp_path)})
    assert settings.PUBLIC_BASE_URL == "http://127.0.0.1:5302"
    explicit = Settings.from_env(
        {
            "PORT": "5302",
            "PUBLIC_BASE_URL": "https://help.example.com",
            "HELPDESK_INSTANCE_PATH": str(tmp_path),
        }
    )
    assert explicit.PUBLIC_BASE_URL == "https://help.example.com"


def test_an_https_public_address_makes_the_session_cookie_secure(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"PUBLIC_BASE_URL": "https://help.example.com", "HELPDESK_INSTANCE_PATH": str(tmp_path)}
    )
    assert settings.SESSION_COOKIE_SECURE
    assert settings.flask_config()["SESSION_COOKIE_SECURE"] is True
    plain = Settings.from_env({"PORT": "5301", "HELPDESK_INSTANCE_PATH": str(tmp_path)})
    assert not plain.SESSION_COOKIE_SECURE


def test_head_on_the_sign_in_page_answers_like_get(app: Flask) -> None:
    client = app.test_client()
    assert client.head("/login").status_code == 200
