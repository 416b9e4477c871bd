"""The three systems of the side-by-side run, each started on a loopback port and stopped after.

- ours: the Procfile's web line (`bench.server.WebServer`), on PostgreSQL and on a Redis server of
  its own, as a deployment runs it;
- the peer: django-helpdesk, installed by the benchmark into its own virtualenv (never a
  dependency of the project), in a Django project written to a temporary directory, served by
  gunicorn with two sync workers;
- the floor: a Flask app doing one INSERT, served by the Procfile's web line with only the
  application module changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import psycopg
import redis
import requests
from tqdm import tqdm

from bench import pg
from bench.peer import project
from bench.server import (
    CLOCK_TICKS,
    ROOT,
    _read_stat,
    children_of,
    expand,
    free_port,
    process_cpu,
    procfile_command,
)

DEFAULT_PEER_VENV = Path.home() / ".cache" / "helpdesk-bench" / "peer-venv"


# -- the peer's virtualenv ---------------------------------------------------------------------


def peer_python(venv: Path) -> Path:
    """The peer's interpreter, installing the pinned release first unless the venv has it."""
    python = venv / "bin" / "python"
    if python.exists() and installed_version(python) == project.PEER_VERSION:
        tqdm.write(f"peer: reusing {venv} ({project.PEER_PACKAGE} {project.PEER_VERSION})")
        return python
    tqdm.write(f"peer: installing {project.PEER_PACKAGE} {project.PEER_VERSION} into {venv}")
    venv.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *project.PEER_REQUIREMENTS], check=True
    )
    return python


def installed_version(python: Path) -> str | None:
    """The peer's version in that interpreter, or None when it (or gunicorn) is missing."""
    code = (
        "import importlib.metadata as m, gunicorn, psycopg; "
        f"print(m.version({project.PEER_PACKAGE!r}))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def versions(python: Path) -> dict[str, str]:
    """The peer's and its framework's versions, for the record."""
    code = (
        "import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in "
        f"({project.PEER_PACKAGE!r}, 'Django', 'djangorestframework', 'gunicorn', 'psycopg')}}))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and every child it has had, ended ones included.

    A worker that ends during a round (gunicorn kills a worker whose request passes its timeout)
    would take its CPU with it if workers were read one by one: so the arbiter's own time is read
    with that of the children it has reaped (`cutime`, `cstime`), plus its live children's.
    """
    stat = _read_stat(root)
    if stat is None:
        return 0.0
    # utime, stime, cutime, cstime of the root
    own = sum(int(v) for v in stat[11:15]) / CLOCK_TICKS
    return own + sum(process_cpu(pid) for pid in children_of(root))


# -- a server process --------------------------------------------------------------------------


@dataclass
class Served:
    """A server command started in its own session; `ready()` is true once it answers."""

    args: list[str]
    ready: Callable[[], bool]
    log_path: Path
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.args[0]} exited; see {self.log_path}")
            if self.ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.args[0]} did not answer in {timeout:.0f} s; see {self.log_path}")

    def cpu(self) -> float:
        """CPU seconds the server and its workers (ended ones included) have used so far."""
        return tree_cpu(self.process.pid) if self.process is not None else 0.0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()


def http_ready(url: str) -> Callable[[], bool]:
    """Ready once `url` answers at all (any status: the peer's API root wants a token)."""

    def ready() -> bool:
        try:
            requests.get(url, timeout=2)
        except (requests.ConnectionError, requests.Timeout):
            return False
        return True

    return ready


def start_redis(log_path: Path) -> tuple[Served, str]:
    """A Redis of our own on a free loopback port, without persistence, for ours only (the
    machine's shared Redis is left alone); answers it and its URL."""
    port = free_port()
    client = redis.Redis(host="127.0.0.1", port=port)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    served = Served(
        args=[
            shutil.which("redis-server") or "redis-server",
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
        ],
        ready=ready,
        log_path=log_path,
    )
    served.start()
    return served, f"redis://127.0.0.1:{port}/0"


# -- the floor ---------------------------------------------------------------------------------


def floor_command(port: int, directory: Path) -> list[str]:
    """The Procfile's web line with the floor's module in place of the application's."""
    args = expand(procfile_command(), port)
    if not re.fullmatch(r"[\w.]+:\w+", args[-1]):
        raise SystemExit(f"the Procfile's web line does not end with an app module: {args[-1]}")
    return [*args[:-1], "--chdir", str(directory), "floor_app:app"]


def start_floor(server: str, dbname: str, directory: Path, log_path: Path) -> Served:
    pg.create_database(server, dbname)
    with psycopg.connect(pg.libpq_url(server, dbname), autocommit=True) as conn:
        conn.execute(project.FLOOR_SCHEMA)
    for name, text in project.floor_files().items():
        (directory / name).write_text(text)
    port = free_port()
    floor = Served(
        args=floor_command(port, directory),
        ready=http_ready(f"http://127.0.0.1:{port}/healthz"),
        log_path=log_path,
        env={"FLOOR_DATABASE_URL": pg.libpq_url(server, dbname)},
        base_url=f"http://127.0.0.1:{port}",
    )
    floor.start()
    return floor


# -- the peer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerSetup:
    token: str
    queue_id: int
    user_id: int


def write_peer_project(server: str, dbname: str, directory: Path) -> None:
    parts = urlsplit(server)
    files = project.peer_files(
        dbname=dbname,
        user=parts.username or "postgres",
        password=parts.password or "",
        host=parts.hostname or "127.0.0.1",
        port=str(parts.port or 5432),
    )
    for name, text in files.items():
        (directory / name).write_text(text)


def setup_peer(python: Path, server: str, dbname: str, directory: Path) -> PeerSetup:
    """Its database created and migrated, with a superuser, its API token and one queue."""
    pg.create_database(server, dbname)
    write_peer_project(server, dbname, directory)
    done = subprocess.run(
        [str(python), "peer_setup.py"], cwd=directory, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"the peer's setup failed:\n{done.stderr[-3000:]}")
    values = json.loads(done.stdout.strip().splitlines()[-1])
    return PeerSetup(str(values["token"]), int(values["queue_id"]), int(values["user_id"]))


def seed_peer(server: str, dbname: str, setup: PeerSetup, tickets: int) -> list[int]:
    """`tickets` tickets, each with the follow-up the peer writes when it opens one, in bulk SQL;
    answers their ids."""
    with psycopg.connect(pg.libpq_url(server, dbname)) as conn:
        conn.execute(
            """
            INSERT INTO helpdesk_ticket (title, created, modified, submitter_email, status,
                on_hold, description, priority, queue_id, secret_key)
            SELECT 'Ticket ' || g, now() - g * interval '1 minute', now() - g * interval '1 minute',
                'caller' || (g %% 1000) || '@example.com', CASE WHEN g %% 5 = 0 THEN 4 ELSE 1 END,
                false, 'Caller explained the problem; steps tried are in the call notes.',
                1 + g %% 5, %(queue)s, md5(g::text)::uuid::text
            FROM generate_series(1, %(n)s) AS g
            """,
            {"queue": setup.queue_id, "n": tickets},
        )
        conn.execute(
            """
            INSERT INTO helpdesk_followup (date, title, comment, public, ticket_id, user_id,
                email_recipients)
            SELECT created, 'Ticket Opened', description, true, id, %(user)s, '[]'::jsonb
            FROM helpdesk_ticket
            """,
            {"user": setup.user_id},
        )
        ids = [r[0] for r in conn.execute("SELECT id FROM helpdesk_ticket ORDER BY id")]
    with psycopg.connect(pg.libpq_url(server, dbname), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return ids


def start_peer(python: Path, directory: Path, log_path: Path) -> Served:
    port = free_port()
    gunicorn = python.parent / "gunicorn"
    peer = Served(
        args=[
            str(gunicorn),
            *("--workers", str(project.PEER_WORKERS)),
            *("--timeout", str(project.PEER_TIMEOUT)),
            *("--bind", f"127.0.0.1:{port}"),
            *("--access-logfile", "-"),
            "peer_wsgi:application",
        ],
        ready=http_ready(f"http://127.0.0.1:{port}/api/"),
        log_path=log_path,
        cwd=directory,
        base_url=f"http://127.0.0.1:{port}",
    )
    peer.start()
    return peer


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
