"""The Twilio gateway's requests, checked against Twilio's own OpenAPI description.

A mock of Twilio's REST API is built from `shared/twilio/twilio_api_v2010.json`: each request must
name an operation of the document, carry every required parameter, no unknown one, and only
allowed enum values; otherwise the mock answers 422, as a contract-checking mock server would.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient

from telephony.gateway import TwilioGateway

SPEC = Path(__file__).resolve().parents[3] / "shared" / "twilio" / "twilio_api_v2010.json"
ACCOUNT = "AC" + "0" * 32


class ContractMock:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.routes = []
        for path, ops in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            self.routes.append((pattern, ops))
        self.seen: list[tuple[str, str, dict[str, list[str]]]] = []

    def _check(self, method: str, path: str, form: dict[str, list[str]]) -> list[str]:
        for pattern, ops in self.routes:
            if pattern.match(path) and method.lower() in ops:
                op = ops[method.lower()]
                break
        else:
            return [f"no operation {method} {path}"]
        body = op.get("requestBody", {}).get("content", {})
        schema = body.get("application/x-www-form-urlencoded", {}).get("schema", {})
        props = schema.get("properties", {})
        errors = [f"missing {name}" for name in schema.get("required", []) if name not in form]
        for name, values in form.items():
            if name not in props:
                errors.append(f"unknown parameter {name}")
                continue
            prop = props[name]
            allowed = prop.get("enum") or prop.get("items", {}).get("enum")
            if prop.get("$ref"):
                ref = prop["$ref"].rsplit("/", 1)[-1]
                allowed = self.spec_schemas.get(ref, {}).get("enum")
            if allowed:
                errors += [f"{name}={v!r} not in enum" for v in values if v not in allowed]
            if prop.get("type") == "integer":
                errors += [f"{name} not an integer" for v in values if not v.lstrip("-").isdigit()]
        return errors

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(size).decode()
        form: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            form.setdefault(key, []).append(value)
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        self.seen.append((method, path, form))
        errors = self._check(method, path, form)
        if errors:
            body = {"code": 20001, "message": "; ".join(errors), "status": 422}
            start_response("422 Unprocessable Entity", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        sid = ("SM" if "Messages" in path else "CA") + "1" * 32
        status = "201 Created" if path.endswith(("Calls.json", "Messages.json")) else "200 OK"
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps({"sid": sid, "account_sid": ACCOUNT, "status": "queued"}).encode()]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def twilio_mock():
    if not SPEC.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Twilio's OpenAPI document is missing at {SPEC}")
        pytest.skip(f"Twilio's OpenAPI document is not at {SPEC}")
    spec = json.loads(SPEC.read_text())
    mock = ContractMock(spec)
    mock.spec_schemas = spec.get("components", {}).get("schemas", {})
    server = make_server("127.0.0.1", 0, mock, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield mock, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


class RewritingClient(TwilioHttpClient):
    """The twilio library has no base-URL setting: send its requests to the mock instead."""

    def __init__(self, base: str) -> None:
        super().__init__(timeout=5)
        self.base = base

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        url = re.sub(r"^https://api\.twilio\.com", self.base, url)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def gateway(twilio_mock):
    mock, base = twilio_mock
    mock.seen.clear()
    return TwilioGateway.from_credentials(ACCOUNT, "token", http_client=RewritingClient(base)), mock


def test_every_gateway_request_fits_the_contract(gateway):
    gw, mock = gateway
    sid = "CA" + "2" * 32
    gw.bridge(sid, "client:agent-7")
    gw.bridge(sid, "+33612345678")
    assert gw.place_call(
        "+33612345678",
        "+15005550006",
        "https://example.com/twilio/voice/cb",
        "https://example.com/twilio/voice/status",
    ).startswith("CA")
    gw.redirect(sid, "https://example.com/twilio/voice/ivr/menu")
    gw.hangup(sid)
    assert gw.send_sms(
        "+33612345678",
        "+15005550006",
        "Votre ticket T-10001",
        "https://example.com/twilio/sms/status",
    ).startswith("SM")
    methods = [(m, p.rsplit("/", 1)[-1]) for m, p, _ in mock.seen]
    assert methods == [("POST", f"{sid}.json")] * 2 + [("POST", "Calls.json")] + [
        ("POST", f"{sid}.json")
    ] * 2 + [("POST", "Messages.json")]
    create = mock.seen[2][2]
    assert create["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert "<Client>agent-7</Client>" in mock.seen[0][2]["Twiml"][0]
    assert "<Number>+33612345678</Number>" in mock.seen[1][2]["Twiml"][0]


def test_the_mock_refuses_a_broken_request(gateway):
    gw, _ = gateway
    with pytest.raises(TwilioRestException) as info:
        gw.client.calls.create(
            to="+33612345678", from_="+15005550006", method="PUNCH", url="https://x.test/"
        )
    assert info.value.status == 422 and "not in enum" in str(info.value.msg)
    with pytest.raises(TwilioRestException) as info:
        gw.client.api.v2010.accounts(ACCOUNT).queues("QU" + "3" * 32).members(
            "CA" + "4" * 32
        ).update(url="https://x.test/", method="PUNCH")
    assert "Method='PUNCH' not in enum" in str(info.value.msg)
