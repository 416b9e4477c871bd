"""The machine a run happened on, recorded next to its figures (they mean little without it)."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import pg

ROOT = Path(__file__).resolve().parent.parent


def describe(server: str) -> dict[str, Any]:
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": code_version(),
        "load_average": load_average(),
        "cpus": os.cpu_count(),
        "memory": _memory(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg.server_version(server),
    }


def code_version() -> str:
    """The commit measured, marked when the application's files differ from it."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--", "helpdesk", "migrations", "Procfile")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes" if dirty else "")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def load_average() -> str:
    """What else the machine is doing: a shared machine's figures move with its load."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _memory() -> str:
    """Total and available memory as `free -h` prints them."""
    try:
        out = subprocess.run(["free", "-h"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    mem = next((line.split() for line in out.splitlines() if line.startswith("Mem:")), None)
    return f"{mem[1]} total, {mem[6]} available" if mem and len(mem) > 6 else "unknown"


def one_line(info: dict[str, Any]) -> str:
    return (
        f"{info['date_utc']}; code {info['code']}; {info['cpus']} CPUs, {info['memory']}; "
        f"Linux {info['kernel']}; Python {info['python']}; PostgreSQL {info['postgresql']}; "
        f"load average {info['load_average']}"
    )
