"""Two real web processes on one PostgreSQL and one Redis: a process that has the IVR's
configuration cached (read by every webhook and by `/healthz`) drops it when another process
commits a new version, through Redis, well before the cache's own expiry."""

from __future__ import annotations

import dataclasses
import time

import requests
from sqlalchemy import update

from helpdesk.app import create_app
from helpdesk.extensions import db
from telephony import ivr, ivr_versions
from telephony.models import CallQueue
from tests.services.test_cache_invalidation import _until
from tests.services.test_realtime_processes import _port, _up, _web


def _dead_keys(base: str) -> list[str]:
    body = requests.get(f"{base}/healthz", timeout=10).json()
    return [d["key"] for d in body["ivr"]["dead_keys"]]


def test_a_published_version_reaches_the_other_process_cache(
    settings, database, redis_url, tmp_path
):
    app = create_app(dataclasses.replace(settings, REDIS_URL=redis_url))
    with app.app_context():
        for name in ("support", "billing", "repairs"):
            db.session.add(CallQueue(name=name, skills={name: 1}))
        db.session.commit()
        db.session.remove()
    port = _port()
    proc = _web(database.url, redis_url, port, tmp_path)
    other = f"http://127.0.0.1:{port}"
    try:
        _up(port)
        for _ in range(3):  # read, then from its cache: the packaged menu (key 2: billing)
            assert _dead_keys(other) == []
        with app.app_context():
            config = ivr.load_file(app.instance_path)
            config = {
                **config,
                "menu": {**config["menu"], "2": {"action": "queue", "queue": "repairs"}},
            }
            ivr_versions.publish(db.session, config=config, note="repairs", actor=None)
            # Not a change the IVR's cache watches: only the new version can make key 2 dead.
            db.session.execute(
                update(CallQueue).where(CallQueue.name == "repairs").values(active=False)
            )
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        started = time.monotonic()
        _until(lambda: _dead_keys(other) == ["2"], "the other process kept its cached menu")
        assert time.monotonic() - started < 5  # the cache itself keeps a menu for 60 s
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    database.reset()
