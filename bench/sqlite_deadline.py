"""What the SQLite statement deadline of web processes costs each statement.

`HELPDESK_STATEMENT_TIMEOUT_S` on SQLite is a progress handler plus two engine events per
statement (`helpdesk.db.install_sqlite_pragmas`). This times the same short statements on two
engines, with and without the deadline, alternated in one run, and prints the cost per statement
and the ratio.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import machine
from helpdesk.db import install_sqlite_pragmas


@dataclass(frozen=True)
class Options:
    statements: int = 20_000
    rounds: int = 5


def _per_statement_us(folder: Path, timeout_s: float, statements: int) -> float:
    engine = create_engine(f"sqlite:///{folder}/deadline-{timeout_s}.sqlite3")
    install_sqlite_pragmas(engine, statement_timeout_s=timeout_s)
    query = text("SELECT count(*) FROM probe WHERE x < 10")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        conn.commit()
        started = time.perf_counter()
        for _ in range(statements):
            conn.execute(query).scalar()
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed * 1e6 / statements


def run(options: Options) -> None:
    print(f"SQLite statement deadline: load average {machine.load_average()}")
    without, with_deadline = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(options.rounds):
            without.append(_per_statement_us(Path(folder), 0, options.statements))
            with_deadline.append(_per_statement_us(Path(folder), 30, options.statements))
    best_without, best_with = min(without), min(with_deadline)
    print(f"  {options.statements:,} statements x {options.rounds} rounds, best round each:")
    print(f"  without deadline {best_without:.1f} us per statement")
    print(f"  with deadline    {best_with:.1f} us per statement")
    cost, ratio = best_with - best_without, best_with / best_without
    print(f"  cost {cost:.1f} us per statement, ratio {ratio:.2f}")
