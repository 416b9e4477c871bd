"""`python -m bench instructions`: instructions executed per request, counted by callgrind.

Why: CPU time on a shared two-core machine varies by a third from one run to the next, more
than most single changes save, so alternated timings need many rounds to tell a 10 % change.
Instructions executed by our process are the same for the same code and data whatever else the
machine does (valgrind's callgrind counts them), so one run of each side tells it. They are not
time: a system call or a cache miss counts as the instructions around it, and PostgreSQL's and
Redis's own work is not counted. Read them as the application's CPU, in ratios.

Each figure runs in a child process under `valgrind --tool=callgrind --instr-atstart=no`: it
sets up and warms up uninstrumented, and the count covers exactly its measured requests
(`bench/instructions_child.py`). With `--against REV` the same figures run on the tree of that
commit (exported from git beside this one, with this virtualenv) and the report gives ratios.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from tqdm import tqdm

from bench import machine, pg
from bench.foundation import RESULTS
from bench.report import Figure, Run, save

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "instructions_child.py"
FIGURES = {
    "create": "POST /api/v1/tickets",
    "fetch": "GET /api/v1/tickets/<id>",
    "call": "whole call",
}
READY_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    requests: int = 200  # creates and fetches measured
    calls: int = 20  # whole calls measured
    against: str = ""  # a git revision to measure beside this tree


def count(tree: Path, figure: str, n: int) -> int:
    """Instructions our process executes for `n` requests of `figure`, on `tree`'s code."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="instr-") as tmp:
        directory = Path(tmp)
        out = directory / "callgrind.out"
        # A fixed hash seed: string hashes decide the layout of every dict and set, and with
        # them a few per cent of the count from one process to the next.
        env = os.environ | {"PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
        with open(directory / "child.log", "wb") as log:
            child = subprocess.Popen(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    f"--callgrind-out-file={out}",
                    sys.executable,
                    str(CHILD),
                    figure,
                    str(n),
                    str(directory),
                ],
                cwd=tree,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _instrument(child, directory)
            finally:
                if child.poll() is None:
                    child.kill()
                child.wait()
        if child.returncode != 0:
            tail = (directory / "child.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{figure} on {tree} failed:\n{tail}")
        return _totals(out)


def _instrument(child: subprocess.Popen[bytes], directory: Path) -> None:
    """Instrumentation on for exactly the child's measured requests."""
    started = time.monotonic()
    while not (directory / "ready").exists():
        if child.poll() is not None:
            return
        if time.monotonic() - started > READY_TIMEOUT_S:
            raise SystemExit("the measured process did not get ready in time")
        time.sleep(0.2)
    pid = (directory / "ready").read_text().strip()
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    (directory / "go").touch()
    while not (directory / "done").exists():
        if child.poll() is not None:
            return
        time.sleep(0.2)
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    (directory / "go").unlink()
    child.wait(timeout=600)


def _totals(out: Path) -> int:
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {out}")


def exported(revision: str, into: Path) -> Path:
    """The tree of `revision`, as git holds it, under `into`."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(opts: Options) -> Run:
    current = Run(options=opts, machine=machine.describe(pg.server_url()))
    sizes = {"create": opts.requests, "fetch": opts.requests, "call": opts.calls}
    with tempfile.TemporaryDirectory(prefix="instr-tree-") as tmp:
        trees = {"this tree": ROOT}
        if opts.against:
            trees = {opts.against: exported(opts.against, Path(tmp))} | trees
        counts: dict[str, dict[str, float]] = {name: {} for name in trees}
        steps = [(name, figure) for figure in FIGURES for name in trees]
        for name, figure in tqdm(steps, desc="instructions", unit="figure"):
            counts[name][figure] = count(trees[name], figure, sizes[figure]) / sizes[figure]
    for figure, label in FIGURES.items():
        mine = counts["this tree"][figure]
        measured = f"{mine / 1e6:.2f} M"
        if opts.against:
            theirs = counts[opts.against][figure]
            measured = (
                f"{theirs / 1e6:.2f} M -> {mine / 1e6:.2f} M ({(mine / theirs - 1) * 100:+.1f} %)"
            )
        current.add(Figure(f"{label}: instructions per request", "reported", measured, None))
    current.details["instructions"] = counts
    save(current, "instructions", RESULTS)
    return current
