"""The side-by-side benchmark's pure parts: the round arithmetic, the ratios against issue #23's
targets, and the files it writes at run time (the peer's Django project, the floor's Flask app)
being valid Python. The install and the servers themselves run only in `python -m bench peer`."""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.peer import figures, project
from bench.peer.figures import CREATE, FLOOR, LIST, OURS, PEER, Round
from bench.peer.run import PEER_PRIORITY, peer_body
from bench.peer.systems import floor_command, tree_cpu
from bench.server import procfile_command


def _round(system: str, figure: str, requests: int, seconds: float, cpu_s: float) -> Round:
    return Round(
        system=system,
        figure=figure,
        requests=requests,
        errors=0,
        seconds=seconds,
        latencies=tuple([0.010] * requests),
        server_cpu_s=cpu_s,
        postgres_cpu_s=cpu_s / 4,
    )


def test_rounds_of_a_system_are_summed_before_dividing() -> None:
    # 100 requests in 1 s, then 300 in 2 s: 400 in 3 s, not the mean of 100/s and 150/s.
    results = figures.combine(
        [_round(OURS, CREATE, 100, 1.0, 0.5), _round(OURS, CREATE, 300, 2.0, 1.5)]
    )
    mine = results[(CREATE, OURS)]
    assert mine.rounds == 2
    assert mine.requests == 400
    assert mine.per_second == pytest.approx(400 / 3)
    assert mine.server_cpu_ms == pytest.approx(5.0)
    assert mine.postgres_cpu_ms == pytest.approx(1.25)
    assert mine.latency.p50_ms == pytest.approx(10.0)


def test_a_round_with_no_request_divides_by_nothing() -> None:
    empty = _round(PEER, LIST, 0, 0.0, 0.0)
    assert empty.per_second == 0.0
    assert empty.server_cpu_ms == 0.0
    assert math.isnan(figures.combine([empty])[(LIST, PEER)].latency.p50_ms)


def _ratio(items: list[figures.Ratio], figure: str, quantity: str) -> figures.Ratio:
    return next(r for r in items if r.figure == figure and r.quantity == quantity)


def test_ratios_against_the_targets_over_the_run_and_per_round() -> None:
    rounds = [
        _round(OURS, CREATE, 600, 1.0, 1.2),  # 600/s, 2 ms per request
        _round(PEER, CREATE, 100, 1.0, 2.0),  # 100/s, 20 ms
        _round(FLOOR, CREATE, 800, 1.0, 0.8),  # 800/s, 1 ms
        _round(OURS, CREATE, 400, 1.0, 1.2),  # 400/s, 3 ms
        _round(PEER, CREATE, 100, 1.0, 2.0),
        _round(FLOOR, CREATE, 800, 1.0, 0.8),
        _round(OURS, LIST, 900, 1.0, 0.9),
        _round(PEER, LIST, 2, 1.0, 0.9),
    ]
    items = figures.ratios(rounds)
    rate = _ratio(items, CREATE, "rate, ours / peer")
    assert rate.value == pytest.approx(5.0)
    assert (rate.lowest, rate.highest) == (pytest.approx(4.0), pytest.approx(6.0))
    assert rate.met is True
    cpu = _ratio(items, CREATE, "server CPU per request, ours / floor")
    assert cpu.value == pytest.approx(2.4)  # 2.4 ms over 1 ms
    assert (cpu.lowest, cpu.highest) == (pytest.approx(2.0), pytest.approx(3.0))
    assert cpu.met is False
    listing = _ratio(items, LIST, "rate, ours / peer")
    assert listing.value == pytest.approx(450.0)
    assert listing.met is True
    assert _ratio(items, CREATE, "rate, ours / floor").met is None
    # No floor for reads, and so no ratio against it.
    assert not [r for r in items if r.figure == LIST and "floor" in r.quantity]
    assert figures.absolute_create(figures.combine(rounds)) is True


def test_the_tables_have_a_cell_per_header() -> None:
    rounds = [_round(OURS, CREATE, 500, 1.0, 1.0), _round(PEER, CREATE, 50, 1.0, 1.0)]
    rows = figures.result_rows(figures.combine(rounds))
    assert [len(r) for r in rows] == [len(figures.RESULT_HEADERS)] * 2
    assert rows[0][5] == "500"
    ratio_rows = figures.ratio_rows(figures.ratios(rounds))
    assert ratio_rows[0][2:] == ["10.0x", "10.0-10.0x", ">= 5x", "yes"]


def test_the_generated_files_are_valid_python() -> None:
    files = {
        **project.peer_files(
            dbname="bench_db", user="postgres", password="it's", host="127.0.0.1", port="5432"
        ),
        **project.floor_files(),
    }
    assert set(files) == {
        "peer_settings.py",
        "peer_urls.py",
        "peer_wsgi.py",
        "peer_setup.py",
        "floor_app.py",
    }
    for name, text in files.items():
        compile(text, name, "exec")
    settings = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(files["peer_settings.py"]).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    database = settings["DATABASES"]["default"]
    assert database["NAME"] == "bench_db"
    assert database["PASSWORD"] == "it's"
    assert settings["HELPDESK_API_ENABLED"] is True
    assert settings["HELPDESK_TEAMS_MODE_ENABLED"] is False


def test_the_floor_runs_under_the_procfile_web_line(tmp_path: Path) -> None:
    args = floor_command(5123, tmp_path)
    procfile = procfile_command()
    assert args[-3:] == ["--chdir", str(tmp_path), "floor_app:app"]
    assert args[0].endswith("gunicorn")
    # Every option of the web line is kept, the port filled in.
    assert "--worker-class" in args and "gthread" in args
    assert "127.0.0.1:5123" in args
    assert procfile.split()[-1] not in args


def test_the_peer_gets_the_same_ticket_in_its_own_terms() -> None:
    body = {
        "subject": "Printer jam",
        "description": "Caller explained",
        "requester_id": 42,
        "priority": "urgent",
        "channel": "phone",
    }
    assert peer_body(body, queue_id=7) == {
        "queue": 7,
        "title": "Printer jam",
        "description": "Caller explained",
        "submitter_email": "caller42@example.com",
        "priority": 1,
    }
    assert set(PEER_PRIORITY) == {"low", "normal", "high", "urgent"}


def test_a_server_keeps_the_cpu_of_the_workers_it_has_reaped() -> None:
    """A worker killed during a round (a sync worker past its timeout) still counts: its time
    moves to its parent's `cutime`/`cstime` once reaped, and `tree_cpu` reads those."""
    before, mine_before = tree_cpu(os.getpid()), _own_cpu()
    subprocess.run(
        [sys.executable, "-c", BURN_CPU],
        check=True,
    )
    children = tree_cpu(os.getpid()) - before - (_own_cpu() - mine_before)
    assert children >= 0.25


BURN_CPU = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass"


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system
