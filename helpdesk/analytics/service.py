"""Training runs and the scores they leave: the one place that writes `model_runs` and
`customer_scores`, and the reads the pages, the routing and the caller screen use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from helpdesk.analytics import features
from helpdesk.analytics.models import CustomerScore, ModelRun
from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, utcnow

if TYPE_CHECKING:
    from helpdesk.analytics import pipeline

INSERT_CHUNK = 5000
# A valuable customer at risk: churn risk at least this (the page's list, the routing boost).
HIGH_RISK = 0.5


@dataclass(frozen=True)
class TrainResult:
    """What a training run did, for the CLI, the page's flash message and the audit entry."""

    ran: bool
    message: str
    clv_method: str = ""
    churn_method: str = ""
    customers: int = 0
    scored: int = 0
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def train_and_score(
    *,
    session: DbSession,
    warehouse_dir: str | Path,
    monthly_discount: float = 0.01,
    cutoff: date | None = None,
    progress: pipeline.Progress | None = None,
) -> TrainResult:
    """Train the CLV and churn models on the warehouse, record both runs and replace every
    customer's scores, in the caller's transaction (committed here). With no warehouse nothing
    runs and the result says so."""
    if not features.has_data(warehouse_dir):
        return TrainResult(False, f"no warehouse with customers and invoices in {warehouse_dir}")
    # Imported here: the models' libraries (SciPy, scikit-learn) take seconds to load, and every
    # web, worker and command-line process imports this module while only training needs them.
    from helpdesk.analytics import pipeline

    started = time.perf_counter()
    outcome = pipeline.run(
        warehouse_dir, cutoff=cutoff, monthly_discount=monthly_discount, progress=progress
    )
    now = utcnow()
    clv_run = ModelRun(
        kind="clv",
        method=outcome.clv_method,
        trained_at=now,
        duration_s=outcome.clv_seconds,
        customers=outcome.customers,
        metrics={
            **outcome.clv_metrics,
            "reason": outcome.clv_reason,
            "reason_code": outcome.clv_why.code,
            "reason_values": outcome.clv_why.values,
            "cutoff": outcome.cutoff.isoformat(),
        },
    )
    churn_run = ModelRun(
        kind="churn",
        method=outcome.churn_method,
        trained_at=now,
        duration_s=outcome.churn_seconds,
        customers=outcome.customers,
        metrics={
            **outcome.churn_metrics,
            "reason": outcome.churn_reason,
            "reason_code": outcome.churn_why.code,
            "reason_values": outcome.churn_why.values,
            "cutoff": outcome.cutoff.isoformat(),
        },
    )
    session.add_all([clv_run, churn_run])
    session.flush()
    scored = _replace_scores(session, outcome, run_id=clv_run.id, now=now)
    duration = time.perf_counter() - started
    clv_run.metrics = {**clv_run.metrics, "total_s": duration, "scored": scored}
    session.commit()
    if progress:
        progress("stored")
    return TrainResult(
        True,
        f"{scored} customers scored ({outcome.clv_method}, {outcome.churn_method})",
        clv_method=outcome.clv_method,
        churn_method=outcome.churn_method,
        customers=outcome.customers,
        scored=scored,
        duration_s=duration,
    )


def _replace_scores(session: DbSession, outcome: pipeline.Outcome, *, run_id: int, now: Any) -> int:
    """Delete every score and insert the new ones in chunks of executemany (no ORM object per
    row: 100,000 customers). Keys unknown to the database, or of erased customers, are skipped."""
    living = set(session.scalars(select(Customer.id).where(Customer.erased_at.is_(None))))
    s = outcome.scores
    method = f"{outcome.clv_method}+{outcome.churn_method}"
    rows: list[dict[str, Any]] = []
    keys = s.customer_key.tolist()
    clv_cents = s.clv_cents.tolist()
    expected = s.expected_purchases_12m.tolist()
    alive = s.p_alive.tolist() if s.p_alive is not None else [None] * len(keys)
    percentile = _percentiles(s.clv_cents)
    for i, key in enumerate(keys):
        if key not in living:
            continue
        rows.append(
            {
                "customer_id": key,
                "clv_cents": round(clv_cents[i]),
                "clv_percentile": percentile[i],
                "p_alive": alive[i],
                "expected_purchases_12m": expected[i],
                "churn_risk": s.churn_risk.get(key),
                "drivers": s.drivers.get(key, []),
                "method": method,
                "run_id": run_id,
                "computed_at": now,
            }
        )
    session.execute(delete(CustomerScore))
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(CustomerScore), rows[start : start + INSERT_CHUNK])
    return len(rows)


def _percentiles(values: Any) -> list[float]:
    """Each value's rank among all as a percentile (0 lowest, 100 highest)."""
    n = len(values)
    if n == 0:
        return []
    ranks = values.argsort().argsort()
    return (ranks * (100.0 / max(n - 1, 1))).round(1).tolist()  # type: ignore[no-any-return]


def latest_runs(session: DbSession) -> dict[str, ModelRun]:
    """The newest run of each kind ("clv", "churn")."""
    runs: dict[str, ModelRun] = {}
    for kind in ("clv", "churn"):
        run = session.scalar(
            select(ModelRun)
            .where(ModelRun.kind == kind)
            .order_by(ModelRun.trained_at.desc(), ModelRun.id.desc())
            .limit(1)
        )
        if run is not None:
            runs[kind] = run
    return runs


def score_of(session: DbSession, customer_id: int) -> CustomerScore | None:
    return session.get(CustomerScore, customer_id)


def score_dict(score: CustomerScore) -> dict[str, Any]:
    """A score as the screens show it: CLV, risk, its top drivers and the method."""
    clv_method, _, churn_method = score.method.partition("+")
    return {
        "clv_cents": score.clv_cents,
        "clv_percentile": score.clv_percentile,
        "p_alive": score.p_alive,
        "expected_purchases_12m": round(score.expected_purchases_12m, 2),
        "churn_risk": score.churn_risk,
        "drivers": list(score.drivers or []),
        "clv_method": clv_method,
        "churn_method": churn_method,
        "computed_at": score.computed_at.isoformat(),
    }


def valuable_at_risk(
    session: DbSession, *, limit: int = 20, min_risk: float = HIGH_RISK
) -> list[CustomerScore]:
    """The customers worth most among those likely to leave: whom to call first."""
    return list(
        session.scalars(
            select(CustomerScore)
            .where(CustomerScore.churn_risk >= min_risk)
            .order_by(CustomerScore.clv_cents.desc(), CustomerScore.customer_id)
            .limit(limit)
        )
    )
