"""gunicorn hooks that profile the application inside its worker, for `python -m bench peer
--profile`: loaded with `GUNICORN_CMD_ARGS="--config python:bench.peer.profile_hooks"`, so the
Procfile's line and the application's code stay as they are.

cProfile follows one thread, and the gthread worker runs each request on a thread of its pool: the
WSGI callable is wrapped so that every request runs under its thread's own profiler, and the
profiles are merged when the worker exits. The profilers read each thread's CPU clock, not the
wall clock: time spent waiting for PostgreSQL, Redis or the GIL is not the process's CPU. SQL
statements are counted on every engine, by their beginning, so the report can say how many a
request makes and which. `BENCH_PROFILE_OUT` names the output file.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_local = threading.local()
_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()
_counts = {"requests": 0, "statements": 0}
_statements: Counter[str] = Counter()


def _count_statement(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    shape = re.sub(r"\s+", " ", statement).strip()[:90]
    with _lock:
        _counts["statements"] += 1
        _statements[shape] += 1


def _profiled(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        profile = getattr(_local, "profile", None)
        if profile is None:
            profile = _local.profile = cProfile.Profile(time.thread_time)
            with _lock:
                _profiles.append(profile)
        profile.enable()
        try:
            # The body is read, and closed, inside the profile: a lazy one works while iterated.
            body = app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        finally:
            profile.disable()
            with _lock:
                _counts["requests"] += 1

    return wsgi


def post_worker_init(worker: Any) -> None:
    event.listen(Engine, "before_cursor_execute", _count_statement)
    worker.wsgi = _profiled(worker.wsgi)


def worker_exit(server: Any, worker: Any) -> None:
    out = os.environ["BENCH_PROFILE_OUT"]
    with _lock:
        profiles = [p for p in _profiles if p.getstats()]
        if profiles:
            stats = pstats.Stats(profiles[0])
            for profile in profiles[1:]:
                stats.add(profile)
            stats.dump_stats(f"{out}.{worker.pid}.prof")
        with open(f"{out}.{worker.pid}.json", "w") as f:
            json.dump(_counts | {"by_statement": dict(_statements.most_common(20))}, f)
