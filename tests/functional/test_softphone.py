"""The browser softphone: with Twilio and an API key, each agent gets a Voice SDK access token
for the identity calls are bridged to, the console loads the SDK and allows it in its
Content-Security-Policy; without them, the console says how calls connect and issues nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from tests.conftest import Database
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    compiled_catalogues,
    html,
    sign_in,
)
from tests.twilio_mock import app_in_twilio_mode

ACCOUNT = "AC" + "1" * 32
KEY = "SK" + "2" * 32
SECRET = "voice-key-secret-of-at-least-32-bytes"
APP_SID = "AP" + "3" * 32


def _twilio_app(database: Database, tmp_path: Path, **extra: str) -> Iterator[Flask]:
    yield from app_in_twilio_mode(database, tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT, **extra)


@pytest.fixture
def twilio_app(sqlite_db: Database, tmp_path: Path) -> Iterator[Flask]:
    yield from _twilio_app(
        sqlite_db,
        tmp_path,
        TWILIO_API_KEY_SID=KEY,
        TWILIO_API_KEY_SECRET=SECRET,
        TWILIO_TWIML_APP_SID=APP_SID,
        HELPDESK_VOICE_TOKEN_TTL_S="1800",
    )


def _agent_console(app: Flask) -> tuple[FlaskClient, User]:
    from helpdesk.auth import service as auth_service

    user = auth_service.create_user(
        session=db.session,
        role=Role.AGENT,
        email="agent@example.com",
        password="correct horse battery",
        name="Agent",
    )
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client, user


def test_agents_get_a_voice_token_for_their_identity(twilio_app: Flask) -> None:
    client, user = _agent_console(twilio_app)
    r = client.get("/phone/voice-token")
    assert r.status_code == 200
    body = r.get_json()
    assert body["identity"] == f"agent-{user.id}"
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["iss"] == KEY and claims["sub"] == ACCOUNT
    assert claims["exp"] - claims["nbf"] == 1800 and abs(body["expires_at"] - claims["exp"]) <= 5
    assert jwt.get_unverified_header(body["token"])["cty"] == "twilio-fpa;v=1"
    grants = claims["grants"]
    assert grants["identity"] == f"agent-{user.id}"
    assert grants["voice"]["incoming"] == {"allow": True}
    assert grants["voice"]["outgoing"]["application_sid"] == APP_SID
    # A token signed with another secret is not this one: the signature is real.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["token"], "another secret of at least 32 bytes", algorithms=["HS256"])


def test_console_loads_the_sdk_and_allows_twilio_in_its_policy(twilio_app: Flask) -> None:
    client, _ = _agent_console(twilio_app)
    r = client.get("/tickets")
    page = html(r)
    assert 'data-kind="twilio"' in page
    assert "/vendor/@twilio/voice-sdk/dist/twilio.min.js" in page and "softphone.js" in page
    policy = r.headers["Content-Security-Policy"]
    connect = next(d for d in policy.split("; ") if d.startswith("connect-src "))
    assert "wss://*.twilio.com" in connect and "https://*.twilio.com" in connect
    assert "media-src 'self' https://sdk.twilio.com" in policy
    assert "script-src 'self';" in policy  # the SDK is served from this site
    sdk = client.get("/vendor/@twilio/voice-sdk/dist/twilio.min.js")
    assert sdk.status_code == 200 and sdk.mimetype == "text/javascript"
    assert b"Device" in sdk.get_data()
    sdk.close()


def test_no_token_without_an_api_key(sqlite_db: Database, tmp_path: Path) -> None:
    for app in _twilio_app(sqlite_db, tmp_path):
        client, _ = _agent_console(app)
        r = client.get("/phone/voice-token")
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "no_softphone"
        page = html(client.get("/tickets"))
        assert 'data-kind="unconfigured"' in page and "twilio.min.js" not in page


def test_simulator_mode_has_no_browser_softphone(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    assert sign_in(client, make_user(Role.AGENT)).status_code == 302
    assert client.get("/phone/voice-token").status_code == 404
    r = client.get("/tickets")
    page = html(r)
    assert 'data-kind="simulator"' in page and "twilio.min.js" not in page
    assert "Phone line: simulator" in page
    assert "twilio.com" not in r.headers["Content-Security-Policy"]
    assert client.get("/phone/voice-token", follow_redirects=False).is_json
