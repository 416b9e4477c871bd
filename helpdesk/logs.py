"""Structured logs with a request id that follows a call across processes, and no secrets in them.

A request id is taken from the `X-Request-Id` header (a load balancer's) or made up when a request
arrives, and sent back in the response. Tasks queued while handling the request carry it in their
Celery headers, so the worker's log lines and the events it emits carry it too; Socket.IO events
carry it in their payload as `request_id`. One id therefore ties together a webhook, the task it
queued and the screen pop that task sent.

Every handler installed here redacts bearer tokens, API tokens, socket tokens and `password=` /
`token=` style values before a line is written, whatever logged them (our code, a library, or a
traceback that quoted a form).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "helpdesk_request_id", default=None
)

REDACTED = "[redacted]"
_SECRET_PATTERNS = (
    # Authorization headers and anything that looks like one.
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    # Our API tokens, wherever they appear.
    re.compile(r"hdk_[A-Za-z0-9_-]{8,}"),
    # key=value and "key": "value" pairs whose key names a secret.
    re.compile(
        r"(?i)((?:password|passwd|secret|token|auth_token|api_key|csrf_token|signature)"
        r"[\"']?\s*[:=]\s*[\"']?)([^\s&\"',}]+)"
    ),
)

# Attributes every LogRecord has; anything else was passed in `extra=` and goes into the JSON.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def redact(text: str) -> str:
    """`text` with every secret-looking value replaced by `[redacted]`."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_PATTERNS[1].sub(REDACTED, text)
    return _SECRET_PATTERNS[2].sub(lambda m: m.group(1) + REDACTED, text)


def current_request_id() -> str | None:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_id_context(request_id: str | None) -> Iterator[None]:
    """Run a block (a Celery task, a background job) under a given request id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class RedactingFormatter(logging.Formatter):
    """The text format, with secrets redacted from the message and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in out:
                out[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, ensure_ascii=False, default=str))


def make_handler(fmt: str, stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            RedactingFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    return handler


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler in `fmt` ("text"/"json")."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_helpdesk", False):
            root.removeHandler(old)
    handler = make_handler(fmt)
    handler._helpdesk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # gunicorn's access and error logs go through the same handler (and its redaction).
    for name in ("gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    return handler


def init_request_ids(app: Flask) -> None:
    """Give every HTTP request an id (the caller's if it sent a sane one) and echo it back."""

    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _VALID_ID.match(given) else new_request_id()
        g.request_id = rid
        g.request_id_token = _request_id.set(rid)

    @app.after_request
    def _echo(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers.setdefault(REQUEST_ID_HEADER, rid)
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            _request_id.reset(token)
