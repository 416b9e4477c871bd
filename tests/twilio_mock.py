"""A mock of Twilio's REST API built from its OpenAPI document, shared by the tests.

Each request must name an operation of the document, carry every required parameter, no unknown
one, and only allowed enum values; otherwise it answers 422, as a contract-checking mock would.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

SPEC = Path(__file__).resolve().parents[2] / "shared" / "twilio" / "twilio_api_v2010.json"
ACCOUNT = "AC" + "0" * 32


class ContractMock:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.routes = []
        for path, ops in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            self.routes.append((pattern, ops))
        self.seen: list[tuple[str, str, dict[str, list[str]]]] = []
        self.messages: list[dict[str, str]] = []
        self.hold = threading.Event()
        self.hold.set()

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
        if method == "GET" and path.endswith("Messages.json"):
            return self._list_messages(environ, start_response)
        errors = self._check(method, path, form)
        if errors:
            body = {"code": 20001, "message": "; ".join(errors), "status": 422}
            start_response("422 Unprocessable Entity", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        kind = "SM" if "Messages" in path else "CA"
        sid = f"{kind}{len(self.seen):032d}"
        created = path.endswith(("Calls.json", "Messages.json"))
        record = {"sid": sid, "account_sid": ACCOUNT, "status": "queued"}
        if kind == "SM" and created:
            record |= {
                "to": form.get("To", [""])[0],
                "from": form.get("From", [""])[0],
                "body": form.get("Body", [""])[0],
            }
            self.messages.append(record)
        self.hold.wait(timeout=30)  # a test may hold the answer back
        start_response(
            "201 Created" if created else "200 OK", [("Content-Type", "application/json")]
        )
        return [json.dumps(record).encode()]

    def _list_messages(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        found = [
            m
            for m in self.messages
            if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])
        ]
        page = {
            "messages": found,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": len(found),
            "first_page_uri": environ["PATH_INFO"],
            "next_page_uri": None,
            "previous_page_uri": None,
            "uri": environ["PATH_INFO"],
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(page).encode()]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def start_mock() -> tuple[ContractMock, str, Any]:
    """Serve the mock on a free loopback port; returns (mock, base URL, server)."""
    if not SPEC.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Twilio's OpenAPI document is missing at {SPEC}")
        pytest.skip(f"Twilio's OpenAPI document is not at {SPEC}")
    spec = json.loads(SPEC.read_text())
    mock = ContractMock(spec)
    mock.spec_schemas = spec.get("components", {}).get("schemas", {})
    server = make_server("127.0.0.1", 0, mock, server_class=_ThreadingServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return mock, f"http://127.0.0.1:{server.server_port}", server
