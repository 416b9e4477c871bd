"""The per-process caches: a load that overlapped a clear is not kept, entries expire, and a
scaled-out process caches nothing until it listens for invalidations."""

from __future__ import annotations

import time

from flask import Flask

from helpdesk import caches


def _app(redis_url: str = "") -> Flask:
    app = Flask(__name__)
    caches.init_app(app, redis_url=redis_url)
    return app


def test_a_value_is_served_from_the_cache_until_cleared():
    caches.watch("unit-a", ttl_s=60.0)
    loads: list[int] = []
    with _app().app_context():
        for _ in range(3):
            assert caches.cached("unit-a", "k", lambda: loads.append(1) or len(loads)) == 1
        assert len(loads) == 1
        caches.invalidate({"unit-a"})
        assert caches.cached("unit-a", "k", lambda: loads.append(1) or len(loads)) == 2


def test_a_load_that_overlapped_a_clear_is_not_kept():
    caches.watch("unit-b", ttl_s=60.0)
    with _app().app_context():

        def load_old_rows() -> str:
            caches.invalidate({"unit-b"})  # a change commits while the old rows are being read
            return "old"

        assert caches.cached("unit-b", "k", load_old_rows) == "old"
        assert caches.cached("unit-b", "k", lambda: "new") == "new"


def test_entries_expire():
    caches.watch("unit-c", ttl_s=0.05)
    with _app().app_context():
        assert caches.cached("unit-c", "k", lambda: 1) == 1
        assert caches.cached("unit-c", "k", lambda: 2) == 1
        time.sleep(0.1)
        assert caches.cached("unit-c", "k", lambda: 3) == 3


def test_scaled_out_nothing_is_cached_before_the_invalidations_are_heard():
    caches.watch("unit-d", ttl_s=60.0)
    # Port 9 (discard) has no Redis: the listener never subscribes, so every read loads.
    app = _app("redis://127.0.0.1:9/0")
    with app.app_context():
        assert caches.cached("unit-d", "k", lambda: 1) == 1
        assert caches.cached("unit-d", "k", lambda: 2) == 2
        assert app.extensions["helpdesk.caches"].listening is False
