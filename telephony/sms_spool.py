"""Inbound texts that arrive while the database fails are kept on disk and recorded later.

Twilio does not retry an SMS webhook: a text whose webhook answers 500 is gone. Voice has its
own fallback (`telephony.degraded`); for SMS the webhook, once the signature is checked and the
database fails under it, writes the message to the spool (one JSON file per `MessageSid`, written
to a temporary name and renamed, so a reader never sees half a file) and answers Twilio an empty
TwiML with 200. A thread of the same web process then replays the spool every few seconds
through the same `sms_inbound.receive` (which finds a `MessageSid` already recorded, so a replay
never doubles a text) and deletes each file once its text is committed. A process that starts
with files in its spool replays them too, and `helpdesk sms replay` does it by hand.

The spool is under the web process's instance path (`HELPDESK_INSTANCE_PATH/sms_spool`): the
process that took the webhook replays it, so it needs no shared disk. The recorded text carries
the time it arrived, not the time it was replayed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import DBAPIError

from helpdesk.db import utcnow
from helpdesk.extensions import db
from telephony import adapters, sms, sms_inbound, webhook_forms

log = logging.getLogger(__name__)

EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'
REPLAY_EVERY_S = 5.0
INBOUND_ENDPOINT = "twilio_sms.incoming"
_SAFE = re.compile(r"[^A-Za-z0-9_-]")
_lock = threading.Lock()
_threads: dict[str, threading.Thread] = {}


def spool_dir(app: Flask) -> Path:
    return Path(app.instance_path) / "sms_spool"


def pending(app: Flask) -> list[Path]:
    folder = spool_dir(app)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"))


def write(app: Flask, msg: sms_inbound.InboundSms, received_at: datetime) -> Path:
    """Keep one inbound text on disk, durably (fsync before the rename)."""
    folder = spool_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    name = _SAFE.sub("_", msg.message_sid)[:80] or "unnamed"
    final = folder / f"{name}.json"
    tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
    data = {**asdict(msg), "received_at": received_at.isoformat()}
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(final)
    return final


def _read(path: Path) -> tuple[sms_inbound.InboundSms, datetime]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    received_at = datetime.fromisoformat(data.pop("received_at"))
    data["media_urls"] = tuple(data.get("media_urls") or ())
    return sms_inbound.InboundSms(**data), received_at


def replay(app: Flask) -> tuple[int, int]:
    """Record every spooled text; (recorded, still waiting). Runs in its own app context."""
    done = left = 0
    with app.app_context():
        settings: sms.SmsSettings = adapters.sms_settings(app)
        for path in pending(app):
            try:
                msg, received_at = _read(path)
            except (OSError, ValueError, TypeError, KeyError):
                log.exception("unreadable SMS spool file %s left in place", path.name)
                left += 1
                continue
            try:
                row = sms_inbound.receive(db.session, msg, settings, received_at=received_at)
                if row is None:  # recorded meanwhile by a copy of its webhook
                    sms_inbound.backdate(db.session, msg.message_sid, received_at)
            except DBAPIError:
                db.session.rollback()
                left += 1
                continue  # the database is still away: the next round tries again
            except Exception:
                db.session.rollback()
                log.exception("spooled SMS %s could not be recorded; kept", msg.message_sid)
                left += 1
                continue
            path.unlink(missing_ok=True)
            done += 1
            log.warning("spooled SMS %s recorded", msg.message_sid)
        db.session.remove()
    return done, left


def _replay_until_empty(app: Flask) -> None:
    try:
        while True:
            time.sleep(REPLAY_EVERY_S)
            _, left = replay(app)
            if not left:
                return
    finally:
        with _lock:
            _threads.pop(app.instance_path, None)


def ensure_replaying(app: Flask) -> None:
    """Start this process's replay thread for `app` unless it runs already."""
    with _lock:
        if app.instance_path in _threads:
            return
        thread = threading.Thread(
            target=_replay_until_empty, args=(app,), name="sms-spool", daemon=True
        )
        _threads[app.instance_path] = thread
        thread.start()


def resume(app: Flask) -> None:
    """At start-up: texts spooled before a restart are replayed by this process."""
    if pending(app):
        log.warning("%d spooled SMS waiting: replaying", len(pending(app)))
        ensure_replaying(app)


def _database_failed(exc: Exception) -> Response:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone altogether; the pool replaces it
        log.warning("rollback after a database failure failed too", exc_info=True)
    msg = inbound_from(request.form) if request.endpoint == INBOUND_ENDPOINT else None
    if msg is None:
        raise exc  # a status callback, or no text to keep: the failure stands
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    path = write(app, msg, utcnow())
    log.error(
        "database failed under an inbound SMS (%s): %s spooled to %s",
        type(exc).__name__,
        msg.message_sid,
        path,
    )
    ensure_replaying(app)
    return Response(EMPTY, mimetype="text/xml")


def inbound_from(form: Any) -> sms_inbound.InboundSms | None:
    """The text a webhook form carries, read as the webhook reads it (the same checks, so an
    over-long value is never spooled to fail on every replay); None when there is none to keep."""
    try:
        return webhook_forms.inbound_sms(form)
    except webhook_forms.BadWebhook:
        return None


def install(bp: Blueprint) -> None:
    """Spool instead of failing when the database fails under `bp`'s inbound-text webhook."""
    bp.register_error_handler(DBAPIError, _database_failed)
