"""The Procfile's lines run as real processes, for the tests that start a formation."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
START_S = 60  # each process must be up within this


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(
        (role.strip(), command.strip())
        for role, _, command in (ln.partition(":") for ln in lines if ln.strip())
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """The Procfile's long-running lines, each in a process group of its own, logged to files."""

    def __init__(self, cwd: Path, env: dict[str, str], logs: Path) -> None:
        self.cwd, self.env, self.logs = cwd, env, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def run(self, command: str, timeout: float = 60, **env: str) -> str:
        """A one-off command (release, users create, check), as a shell would run it."""
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def start(self, name: str, command: str, **env: str) -> None:
        with (self.logs / f"{name}.log").open("wb") as out:
            self.running[name] = subprocess.Popen(
                ["bash", "-c", "exec " + command],
                cwd=self.cwd,
                env=self.env | env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def alive(self) -> None:
        for name, proc in self.running.items():
            assert proc.poll() is None, f"{name} exited with {proc.returncode}:\n{self.log(name)}"

    def children(self, name: str) -> list[int]:
        """The process ids a line's process started (a gunicorn master's workers)."""
        pid = self.running[name].pid
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(p) for p in found]

    def stop(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.running.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def wait_until(
    what: str, check: Callable[[], Any], procs: Processes, timeout: float = START_S
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        procs.alive()
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
