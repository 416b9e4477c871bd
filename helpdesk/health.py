"""`GET /healthz`: the database, broker and telephony backend in use, and whether each answers."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from helpdesk.extensions import db

bp = Blueprint("health", __name__)


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


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    database = _database()
    broker = _broker()
    telephony = {"backend": current_app.config["HELPDESK_TELEPHONY_BACKEND"], "ok": True}
    healthy = database["ok"] and broker["ok"]
    body = {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "broker": broker,
        "telephony": telephony,
    }
    # A web process that cannot reach its database should be taken out of rotation.
    return jsonify(body), 200 if database["ok"] else 503
