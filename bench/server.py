"""The production web process, started from the Procfile's `web` line, and CPU accounting.

The command is read from the Procfile rather than copied here, so the benchmark measures whatever
the project deploys (today: gunicorn, gthread, one worker per core for `web`, and a `sockets`
process for the live connection) and follows it when it changes. The server binds to 127.0.0.1
only and is stopped, with every process it started, at the end.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def procfile_command(process: str = "web") -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == process:
            return command.strip()
    raise SystemExit(f"no {process!r} line in the Procfile")


def expand(command: str, port: int, env: dict[str, str] | None = None) -> list[str]:
    """The Procfile line as arguments, with `$PORT` / `${PORT:-5000}` replaced by `port` and any
    other `${NAME:-default}` by NAME from `env` (else its default), as a shell would.

    The executable is taken from this interpreter's virtualenv when it is there, so the benchmark
    runs the gunicorn installed for the project and not another one on the PATH.
    """
    command = re.sub(r"\$\{PORT(:-[^}]*)?\}|\$PORT\b", str(port), command)
    values = env or {}
    command = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: values.get(m.group(1), m.group(2)), command)
    args = shlex.split(command)
    local = Path(sys.executable).parent / args[0]
    if local.exists():
        args[0] = str(local)
    return args


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The server model before the Procfile split the live connection from the web processes: one
# gunicorn worker serving pages, API, webhooks and Socket.IO (helpdesk.wsgi:app), as `make run`
# still does. Kept to measure the split against it.
ONE_PROCESS_LINE = (
    "gunicorn --no-control-socket --worker-class gthread --workers 1 --threads ${WEB_THREADS:-256}"
    " --bind 127.0.0.1:${PORT:-5000} helpdesk.wsgi:app"
)


@dataclass
class WebServer:
    """One Procfile `web` process (or another serving line, `kind="sockets"`, or a `line` of
    one's own) on a free loopback port, pointed at `database_url`."""

    database_url: str
    log_path: Path
    port: int = 0
    # More environment for the process; a value of None removes that variable.
    extra_env: dict[str, str | None] = field(default_factory=dict)
    kind: str = "web"  # the Procfile line it runs
    line: str = ""
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    _instance: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.port = self.port or free_port()
        self._instance = tempfile.mkdtemp(prefix="helpdesk-bench-web-")
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PORT": str(self.port),
            "SOCKETS_PORT": str(self.port),
            "SECRET_KEY": "bench-only-secret-key",
            "HELPDESK_INSTANCE_PATH": self._instance,
            "HELPDESK_SCHEDULER": "0",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.pop("REDIS_URL", None)
        for key, value in self.extra_env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            expand(self.line or procfile_command(self.kind), self.port, env),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the web process exited; see {self.log_path}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or the worker is still importing the application
            time.sleep(0.2)
        raise RuntimeError(f"the web process did not answer /healthz in {timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM to the gunicorn master (it stops its workers), SIGKILL to its group if stuck."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        if self._instance:
            shutil.rmtree(self._instance, ignore_errors=True)

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.process is None:
            return []
        return [self.process.pid, *children_of(self.process.pid)]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _read_stat(int(entry.name))
            if stat is not None and int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _read_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state on (the command name may contain spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (0 once it is gone)."""
    stat = _read_stat(pid)
    return 0.0 if stat is None else (int(stat[11]) + int(stat[12])) / CLOCK_TICKS


def postgres_pids(database: str | None = None) -> list[int]:
    """PostgreSQL's processes; with `database`, only the backends connected to it (the server is
    shared, and other work's backends would otherwise count as the benchmark's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                if database is not None:
                    title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if f" {database} " not in title:
                        continue
                pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far by the benchmark client, the web server, PostgreSQL and the machine.

    Per-process times are kept by pid, so a PostgreSQL backend that starts during the run counts
    from zero and one that ends does not make the difference negative.
    """

    client: float
    server: dict[int, float]
    postgres: dict[int, float]
    busy: float
    total: float

    @classmethod
    def take(cls, server_pids: list[int], database: str | None = None) -> CpuSample:
        times = os.times()
        busy, total = machine_cpu()
        return cls(
            client=times.user + times.system,
            server={p: process_cpu(p) for p in server_pids},
            postgres={p: process_cpu(p) for p in postgres_pids(database)},
            busy=busy,
            total=total,
        )

    def used_since(self, before: CpuSample) -> dict[str, float]:
        def diff(now: dict[int, float], then: dict[int, float]) -> float:
            return sum(max(0.0, cpu - then.get(pid, 0.0)) for pid, cpu in now.items())

        return {
            "client_s": self.client - before.client,
            "server_s": diff(self.server, before.server),
            "postgres_s": diff(self.postgres, before.postgres),
            "machine_busy_s": self.busy - before.busy,
            "machine_total_s": self.total - before.total,
        }
