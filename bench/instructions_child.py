"""The process `bench/instructions.py` runs under callgrind: one figure's requests, in process.

Run as a script (`python bench/instructions_child.py FIGURE N DIRECTORY`) with the tree to
measure first on `PYTHONPATH`, so that `helpdesk`, `telephony` and the `bench` helpers all come
from that tree. It sets everything up and warms up with instrumentation off, writes `ready`
(its pid) into DIRECTORY, waits for `go`, runs the N measured requests, writes `done`, and
waits until `go` is gone again: the parent turns callgrind's instrumentation on and off around
exactly the measured part.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WARMUP = 30
PASSWORD = "instructions password 1234"


def _wait_for(path: Path, present: bool) -> None:
    while path.exists() != present:
        time.sleep(0.05)


def _ready(directory: Path) -> None:
    """Warmed up: say so, and wait until the parent has turned the counting on."""
    (directory / "ready").write_text(str(os.getpid()))
    _wait_for(directory / "go", True)


def _done(directory: Path) -> None:
    """Measured: say so, and wait until the parent has turned the counting off."""
    (directory / "done").write_text("1")
    _wait_for(directory / "go", False)


def measured(directory: Path, n: int, step: Callable[[int], None]) -> None:
    for i in range(WARMUP):
        step(i)
    _ready(directory)
    for i in range(WARMUP, WARMUP + n):
        step(i)
    _done(directory)


@contextmanager
def _ticket_app(database: str) -> Iterator[tuple[Any, Any, dict[str, str]]]:
    from bench import datagen, foundation, pg
    from bench.inprocess import application
    from bench.screenpop import redis_url

    server = pg.server_url()
    layout = foundation.prepare(server, database, 0.001, PASSWORD, reuse=False)
    try:
        with application(pg.sqlalchemy_url(server, database), {"REDIS_URL": redis_url()}) as app:
            client = app.test_client()
            answer = client.post(
                "/api/v1/auth/token",
                json={"email": datagen.API_USER_EMAIL, "password": PASSWORD},
            )
            yield client, layout, {"Authorization": f"Bearer {answer.get_json()['token']}"}
    finally:
        pg.drop_database(server, database)


def _expect(status: int, wanted: int, what: str) -> None:
    if status != wanted:
        raise SystemExit(f"{what}: HTTP {status}, expected {wanted}")


def tickets(figure: str, n: int, directory: Path) -> None:
    from bench.shapes import ticket_body

    with _ticket_app(f"helpdesk_bench_instr_{figure}") as (client, layout, headers):
        offset = int(time.time())

        def create(i: int) -> None:
            body = ticket_body(layout, i, offset)
            _expect(
                client.post("/api/v1/tickets", json=body, headers=headers).status_code,
                201,
                "create",
            )

        first = client.post(
            "/api/v1/tickets", json=ticket_body(layout, 0, offset + 1), headers=headers
        )
        ticket_id = first.get_json()["id"]

        def fetch(_i: int) -> None:
            _expect(
                client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).status_code,
                200,
                "fetch",
            )

        measured(directory, n, create if figure == "create" else fetch)


def calls(n: int, directory: Path) -> None:
    """Whole calls as `python -m bench callcost` makes them (its seed, consoles and steps)."""
    from bench import callcost

    opts = callcost.Options(calls=n, warmup=WARMUP)
    original = callcost._one_call

    def one_call(*args: Any, **kwargs: Any) -> None:
        i = args[4]
        if i == WARMUP:
            _ready(directory)
        original(*args, **kwargs)
        if i == WARMUP + n - 1:
            _done(directory)

    callcost._one_call = one_call
    callcost.run(opts)


def main(argv: list[str]) -> None:
    figure, n, directory = argv[0], int(argv[1]), Path(argv[2])
    if figure in ("create", "fetch"):
        tickets(figure, n, directory)
    elif figure == "call":
        calls(n, directory)
    else:
        raise SystemExit(f"unknown figure {figure}")


if __name__ == "__main__":
    # A script's own directory comes first on the path: here bench/, whose kb.py would stand for
    # the knowledge-base package of the tree measured.
    HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    main(sys.argv[1:])
