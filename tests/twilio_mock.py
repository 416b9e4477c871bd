"""A mock of Twilio's REST API built from its OpenAPI document, shared by the tests.

Each request must name an operation of the document, carry every required parameter, no unknown
one, only allowed enum values, integers and booleans where the document says so, and TwiML whose
`<Dial><Conference>` uses only the attributes Twilio documents; otherwise it answers 422, as a
contract-checking mock would. Each path parameter must fit its schema (pattern, length): a
conference addressed by its friendly name where the document wants its `CF...` SID is refused
with 404, as Twilio refuses a resource it cannot find. Creating a conference participant answers
a participant whose `call_sid` is the new leg's and whose `conference_sid` is the room's, as
Twilio does.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

if TYPE_CHECKING:
    from flask import Flask

    from tests.conftest import Database

# Beside the checkout by default; TWILIO_OPENAPI_DOCUMENT names another copy.
SPEC = Path(
    os.environ.get("TWILIO_OPENAPI_DOCUMENT")
    or Path(__file__).resolve().parents[2] / "shared" / "twilio" / "twilio_api_v2010.json"
)
ACCOUNT = "AC" + "0" * 32
ACCOUNT_PATH = re.compile(r"/Accounts/(?P<sid>AC[0-9a-fA-F]{32})\.json$")
# What Twilio reads in a date filter: a day, or an ISO 8601 instant (the client sends those).
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$")
PARTICIPANTS = re.compile(r"/Conferences/(?P<conference>[^/]+)/Participants\.json$")
# A recording's audio: its resource address with the format's extension (Twilio's "Fetch a
# Recording media file"), which the OpenAPI document, describing JSON resources only, leaves out.
RECORDING_MEDIA = re.compile(r"/Accounts/AC[0-9a-fA-F]{32}/Recordings/RE[0-9a-zA-Z]+\.(mp3|wav)$")
MEDIA_BYTES = b"ID3\x03\x00\x00\x00\x00\x00\x00fake audio"

# The <Conference> noun's attributes and their allowed values, from Twilio's TwiML reference
# (https://www.twilio.com/docs/voice/twiml/conference); None: any value.
BOOLEAN = ("true", "false")
CONFERENCE_ATTRIBUTES: dict[str, tuple[str, ...] | None] = {
    "muted": BOOLEAN,
    "beep": ("true", "false", "onEnter", "onExit"),
    "startConferenceOnEnter": BOOLEAN,
    "endConferenceOnExit": BOOLEAN,
    "waitUrl": None,
    "waitMethod": ("GET", "POST"),
    "maxParticipants": None,
    "record": ("do-not-record", "record-from-start"),
    "region": None,
    "coach": None,
    "trim": ("trim-silence", "do-not-trim"),
    "statusCallbackEvent": None,
    "statusCallback": None,
    "statusCallbackMethod": ("GET", "POST"),
    "recordingStatusCallback": None,
    "recordingStatusCallbackMethod": ("GET", "POST"),
    "recordingStatusCallbackEvent": None,
    "eventCallbackUrl": None,
    "jitterBufferSize": ("off", "small", "medium", "large"),
    "participantLabel": None,
}
DIAL_NOUNS = {"Client", "Number", "Conference", "Queue", "Sip", "Sim", "Application"}


def twiml_errors(twiml: str) -> list[str]:
    """What Twilio would refuse in a TwiML document: unreadable XML, a root other than
    <Response>, a <Dial> noun it does not know, or a <Conference> attribute or value outside
    its reference."""
    try:
        root = ET.fromstring(twiml)  # noqa: S314 (TwiML the app under test built)
    except ET.ParseError as exc:
        return [f"TwiML is not XML: {exc}"]
    if root.tag != "Response":
        return [f"TwiML root is <{root.tag}>, not <Response>"]
    errors = []
    for dial in root.iter("Dial"):
        errors += [f"<Dial> cannot hold <{n.tag}>" for n in dial if n.tag not in DIAL_NOUNS]
    for conference in root.iter("Conference"):
        if not (conference.text or "").strip():
            errors.append("<Conference> has no room name")
        for name, value in conference.attrib.items():
            if name not in CONFERENCE_ATTRIBUTES:
                errors.append(f"<Conference> has no attribute {name}")
            elif (allowed := CONFERENCE_ATTRIBUTES[name]) and value not in allowed:
                errors.append(f"<Conference {name}={value!r}> not in {allowed}")
    return errors


class ContractMock:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.routes = []
        for path, ops in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", path) + "$")
            self.routes.append((pattern, ops))
        self.seen: list[tuple[str, str, dict[str, list[str]]]] = []
        # SIDs stay unique for the mock's life, even when a test clears `seen`.
        self._serial = itertools.count(1)
        self.messages: list[dict[str, str]] = []
        # Conferences by friendly name -> SID: opened when a participant is added by name.
        self.conferences: dict[str, str] = {}
        self.hold = threading.Event()
        self.hold.set()

    def _operation(self, method: str, path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The operation a request names, and its path parameters' values."""
        for pattern, ops in self.routes:
            if (found := pattern.match(path)) and method.lower() in ops:
                return ops[method.lower()], found.groupdict()
        return None

    def _check(self, method: str, path: str, form: dict[str, list[str]]) -> list[str]:
        named = self._operation(method, path)
        if named is None:
            return [f"no operation {method} {path}"]
        op = named[0]
        if method == "GET":
            return self._check_query(op, form)
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
            if prop.get("type") == "boolean":
                errors += [f"{name}={v!r} not a boolean" for v in values if v not in BOOLEAN]
            if name == "Twiml":
                errors += [e for v in values for e in twiml_errors(v)]
        return errors

    @staticmethod
    def path_errors(op: dict[str, Any], values: dict[str, str]) -> list[str]:
        """Each path parameter against its schema: Twilio finds no resource for a value that
        does not fit (a friendly name where a SID is due)."""
        errors = []
        for param in op.get("parameters", []):
            name = param["name"]
            if param.get("in") != "path" or name not in values:
                continue
            schema, value = param.get("schema", {}), values[name]
            low, high = schema.get("minLength", 0), schema.get("maxLength", len(value))
            if "pattern" in schema and not re.search(schema["pattern"], value):
                errors.append(f"path parameter {name}={value!r} does not match {schema['pattern']}")
            elif not low <= len(value) <= high:
                errors.append(f"path parameter {name}={value!r} has the wrong length")
        return errors

    def _check_query(self, op: dict[str, Any], query: dict[str, list[str]]) -> list[str]:
        """A GET's query string against the operation's query parameters: known names only,
        integers where integers are due, and dates Twilio can read where dates are due."""
        params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
        errors = [f"missing {n}" for n, p in params.items() if p.get("required") and n not in query]
        for name, values in query.items():
            if name not in params:
                errors.append(f"unknown query parameter {name}")
                continue
            schema = params[name].get("schema", {})
            if schema.get("type") == "integer":
                errors += [f"{name} not an integer" for v in values if not v.lstrip("-").isdigit()]
            if schema.get("format") == "date-time":
                errors += [f"{name}={v!r} not a date" for v in values if not DATE.match(v)]
            if schema.get("enum"):
                errors += [f"{name}={v!r} not in enum" for v in values if v not in schema["enum"]]
        return errors

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(size).decode()
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if method == "GET":  # a GET's parameters are in its query string
            raw = environ.get("QUERY_STRING", "")
        form: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            form.setdefault(key, []).append(value)
        self.seen.append((method, path, form))
        if method == "GET" and RECORDING_MEDIA.search(path):
            start_response("200 OK", [("Content-Type", "audio/mpeg")])
            return [MEDIA_BYTES]
        named = self._operation(method, path)
        if named is not None and (errors := self.path_errors(*named)):
            body = {"code": 20404, "message": "; ".join(errors), "status": 404}
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        errors = self._check(method, path, form)
        if errors:
            body = {"code": 20001, "message": "; ".join(errors), "status": 422}
            start_response("422 Unprocessable Entity", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        if method == "GET" and path.endswith("/Conferences.json"):
            return self._list_conferences(form, start_response)
        if method == "GET" and path.endswith("Messages.json"):
            return self._list_messages(environ, start_response)
        if method == "GET" and (account := ACCOUNT_PATH.search(path)):
            start_response("200 OK", [("Content-Type", "application/json")])
            fetched = {"sid": account["sid"], "status": "active", "type": "Full"}
            return [json.dumps(fetched).encode()]
        kind = "SM" if "Messages" in path else "RE" if "/Recordings" in path else "CA"
        sid = f"{kind}{next(self._serial):032d}"
        participant = PARTICIPANTS.search(path) if method == "POST" else None
        created = path.endswith(("Calls.json", "Messages.json")) or participant is not None
        record: dict[str, Any] = {"sid": sid, "account_sid": ACCOUNT, "status": "queued"}
        if participant is not None:
            record = self._participant(sid, form)
            record["conference_sid"] = self.open_conference(participant["conference"])
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

    @staticmethod
    def _participant(call_sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        """A participant as Twilio answers its creation: the new leg's CallSid and its settings."""

        def flag(name: str, default: bool) -> bool:
            return form.get(name, [str(default).lower()])[0] == "true"

        coach = form.get("CallSidToCoach", [None])[0]
        return {
            "account_sid": ACCOUNT,
            "call_sid": call_sid,
            "conference_sid": None,
            "label": form.get("Label", [None])[0],
            "call_sid_to_coach": coach,
            "coaching": flag("Coaching", coach is not None),
            "muted": flag("Muted", False),
            "hold": False,
            "start_conference_on_enter": flag("StartConferenceOnEnter", True),
            "end_conference_on_exit": flag("EndConferenceOnExit", False),
            "status": "queued",
            "date_created": None,
            "date_updated": None,
            "uri": "",
        }

    def open_conference(self, name_or_sid: str) -> str:
        """The SID of the conference a participant joins, opening it when named for the first
        time (as Twilio starts a room on its first participant)."""
        if name_or_sid.startswith("CF"):
            return name_or_sid
        if name_or_sid not in self.conferences:
            self.conferences[name_or_sid] = f"CF{next(self._serial):032x}"
        return self.conferences[name_or_sid]

    def _list_conferences(self, query: dict[str, list[str]], start_response: Any) -> list[bytes]:
        """The conferences in progress, filtered by friendly name as Twilio does."""
        name = query.get("FriendlyName", [None])[0]
        found = [
            {"sid": sid, "account_sid": ACCOUNT, "friendly_name": n, "status": "in-progress"}
            for n, sid in self.conferences.items()
            if name in (None, n)
        ]
        page = {"conferences": found, "page": 0, "page_size": 50, "start": 0, "end": len(found)}
        page |= {"first_page_uri": "", "next_page_uri": None, "previous_page_uri": None, "uri": ""}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(page).encode()]

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


def app_in_twilio_mode(database: Database, tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """The application in Twilio mode (credentials set) on `database`, in an app context, and
    the database emptied afterwards. `overrides` replace or add settings (a REST base URL aimed
    at the contract mock, an API key for the softphone...)."""
    from helpdesk.app import create_app
    from helpdesk.config import Settings
    from helpdesk.extensions import db

    values: dict[str, Any] = {
        "DATABASE_URL": database.url,
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "PUBLIC_BASE_URL": "http://localhost",
        "TESTING": True,
        "HELPDESK_SCHEDULER": False,
        "extra": {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False},
    }
    app = create_app(Settings.from_env(env={}, **(values | overrides)))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    database.reset()
