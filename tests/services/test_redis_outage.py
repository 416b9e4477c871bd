"""Redis stops: inbound texts are still recorded and staff can still sign in (a Redis of the
test's own, never the shared one). Calls already survived the same outage (test_faults.py)."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.config import Settings
from helpdesk.extensions import db
from telephony.models import SmsMessage
from tests.conftest import PASSWORD, Database
from tests.services.test_faults import _redis_server


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_texts_and_sign_ins_survive_a_redis_outage(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    port = _port()
    server = _redis_server(port, tmp_path / "redis")
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    app = create_app(settings)
    try:
        with app.app_context():
            user = auth.create_user(
                session=db.session, email="ana@example.com", password=PASSWORD, role=Role.AGENT
            )
            email = user.email
        client = app.test_client()
        # Up: a sign-in and a text, as usual.
        assert (
            client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        ).status_code == 201
        server.terminate()
        server.wait(timeout=10)
        # Down: three texts arrive; every one is answered and recorded.
        for n in range(3):
            form = {
                "MessageSid": f"SM{n:032d}",
                "AccountSid": "AC" + "0" * 32,
                "From": "+33612345678",
                "To": "+15005550006",
                "Body": f"text {n} while Redis is away",
            }
            sig = RequestValidator("test-auth-token").compute_signature(
                "http://localhost/twilio/sms", form
            )
            r = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": sig})
            assert r.status_code == 200, r.get_data(as_text=True)
        with app.app_context():
            bodies = sorted(
                db.session.scalars(select(SmsMessage.body).where(SmsMessage.direction == "inbound"))
            )
        assert bodies == [f"text {n} while Redis is away" for n in range(3)]
        # Staff can still sign in, and a wrong password is still a 401, not a 500.
        ok = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert ok.status_code == 201
        bad = client.post("/api/v1/auth/token", json={"email": email, "password": "nope nope"})
        assert bad.status_code == 401
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    finally:
        if server.poll() is None:
            server.kill()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        database.reset()
