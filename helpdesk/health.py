"""`GET /healthz`: the database, broker and telephony backend in use, whether each answers, and
whether every IVR menu key leads to a queue that can take the caller."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from helpdesk.db import DbSession
from helpdesk.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _timed(check: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        check()
        ok, error = True, None
    except Exception as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
    result: dict[str, Any] = {
        "ok": ok,
        "latency_ms": round((time.perf_counter() - start) * 1000, 2),
    }
    if error:
        result["error"] = error
    return result


def _database() -> dict[str, Any]:
    def check() -> None:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()

    return {"backend": db.engine.dialect.name, **_timed(check)}


def _broker() -> dict[str, Any]:
    url = current_app.config.get("REDIS_URL") or ""
    if not url:
        return {"backend": "in-process", "ok": True}
    import redis

    def check() -> None:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()

    return {"backend": "redis", **_timed(check)}


LOG_EVERY_S = 60.0
TELEPHONY_TTL_S = 60.0  # a load balancer polls every few seconds; Twilio is asked once a minute
_telephony_lock = threading.Lock()


def _telephony() -> dict[str, Any]:
    """The gateway's own check (Twilio: the credentials resolve the account, within the client's
    timeout; the simulator: it is attached), kept a minute per process, and what it leaves out."""
    backend: Callable[[], CheckedBackend] = current_app.extensions[TELEPHONY]
    gateway = backend()
    cache: dict[str, Any] = current_app.extensions.setdefault("health_telephony", {})
    with _telephony_lock:
        now = time.monotonic()
        if not cache or now - cache["at"] >= TELEPHONY_TTL_S:
            checked: list[str] = []
            result = _timed(lambda: checked.append(gateway.check()))
            result["checked"] = checked[0] if checked else None
            cache.update(at=now, result=result)
        result = dict(cache["result"])
        result["age_s"] = round(now - cache["at"], 1)
    return {
        "backend": current_app.config["HELPDESK_TELEPHONY_BACKEND"],
        **result,
        "not_checked": list(getattr(gateway, "not_checked", ())),
    }


class CheckedBackend(Protocol):
    """A telephony backend as the health report checks it (telephony's gateway); it may also
    list, as `not_checked`, what its check leaves out."""

    def check(self) -> str: ...


TELEPHONY = "health_telephony_backend"


def register_telephony(app: Flask, backend: Callable[[], CheckedBackend]) -> None:
    """Telephony owns the gateway; the app registers how to reach it at creation, so the health
    report checks it without the core importing telephony or knowing its adapters' keys."""
    app.extensions[TELEPHONY] = backend


class DeadKey(Protocol):
    """A menu key whose queue cannot take a caller, as the IVR check reports it."""

    def as_dict(self) -> dict[str, str]: ...


# The IVR check: the menu keys (under this instance path) that lead to no active queue.
IvrCheck = Callable[[DbSession, str], Sequence[DeadKey]]
IVR_CHECK = "health_ivr_check"


def register_ivr_check(app: Flask, check: IvrCheck) -> None:
    """Telephony owns the IVR menu and its queues; the app registers its check at creation, so
    the health report reads it without the core importing telephony."""
    app.extensions[IVR_CHECK] = check


def _ivr() -> dict[str, Any]:
    """Menu keys that lead to a missing or inactive queue: callers pressing them are lost."""
    try:
        check: IvrCheck = current_app.extensions[IVR_CHECK]
        dead = check(db.session, current_app.instance_path)
        db.session.rollback()
    except Exception as exc:
        db.session.rollback()
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": not dead, "dead_keys": [d.as_dict() for d in dead]}


def _sla() -> dict[str, Any]:
    """Calendars that never open: tickets under a policy on one get no SLA clock."""
    from helpdesk.sla.hours import never_open_calendars

    try:
        never_open = never_open_calendars(db.session)
        db.session.rollback()
    except Exception as exc:
        db.session.rollback()
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": not never_open, "never_open_calendars": never_open}


def _mail() -> dict[str, Any]:
    """Where outgoing mail goes: an SMTP server, or the local simulator when `MAIL_SMTP_URL` is
    unset (the mail then never leaves this machine; a deployment should say so loudly). Not a
    connection check: the outbox reports each send that fails."""
    transport = current_app.extensions.get("mail_transport")
    return {"backend": getattr(transport, "name", "none"), "ok": True}


def report() -> dict[str, Any]:
    """What `/healthz` answers and `helpdesk check` prints."""
    database = _database()
    broker = _broker()
    telephony = _telephony()
    ivr = _ivr()
    sla = _sla() if database["ok"] else {"ok": False, "error": "database unavailable"}
    healthy = all(part["ok"] for part in (database, broker, telephony, ivr, sla))
    return {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "broker": broker,
        "telephony": telephony,
        "mail": _mail(),
        "ivr": ivr,
        "sla": sla,
    }


def _redacted(body: dict[str, Any]) -> dict[str, Any]:
    """The report with error texts replaced: a driver's message names hosts, users, paths and
    versions, which an anonymous caller (or a load balancer's log) has no business reading.
    Administrators signed in to the console, and `helpdesk check`, see the full text."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "error"}
            if "error" in body[key]:
                value["error"] = "unavailable (details in the server log and `helpdesk check`)"
        out[key] = value
    return out


_logged: dict[tuple[str, str], float] = {}


def _log_errors(body: dict[str, Any]) -> None:
    """Each distinct failure once a minute per process, however often the balancer polls."""
    now = time.monotonic()
    for name, part in body.items():
        if isinstance(part, dict) and part.get("error"):
            key = (name, str(part["error"]))
            if now - _logged.get(key, -LOG_EVERY_S) >= LOG_EVERY_S:
                if len(_logged) > 64:
                    _logged.clear()
                _logged[key] = now
                log.warning("health: %s: %s", name, part["error"])


def _sees_details() -> bool:
    from flask_login import current_user

    from helpdesk.auth.models import Role

    return bool(current_user.is_authenticated and current_user.role is Role.ADMIN)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    body = report()
    _log_errors(body)
    if not _sees_details():
        body = _redacted(body)
    database = body["database"]
    # A web process that cannot reach its database should be taken out of rotation.
    return jsonify(body), 200 if database["ok"] else 503
