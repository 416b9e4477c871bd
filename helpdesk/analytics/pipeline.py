"""The whole training run as one pure function over a warehouse directory: features at the
three cutoffs, the CLV with its hold-out check, the churn model with its own, and every
customer's scores. No operational database here; `service.train_and_score` stores the result."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from helpdesk.analytics import churn, clv, features
from helpdesk.analytics.reasons import Reason
from helpdesk.warehouse.query import Connection

CLV_HOLDOUT_DAYS = 180  # the CLV's calibration period ends this long before T


@dataclass
class Scores:
    """One row per customer scored, ready to store."""

    customer_key: np.ndarray
    clv_cents: np.ndarray
    p_alive: np.ndarray | None
    expected_purchases_12m: np.ndarray
    churn_risk: dict[int, float]
    drivers: dict[int, list[dict[str, Any]]]


@dataclass
class Outcome:
    cutoff: date
    customers: int
    clv_method: str
    clv_why: Reason
    clv_metrics: dict[str, Any]
    clv_seconds: float
    churn_method: str
    churn_why: Reason
    churn_metrics: dict[str, Any]
    churn_seconds: float
    scores: Scores
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def clv_reason(self) -> str:
        return self.clv_why.english()

    @property
    def churn_reason(self) -> str:
        return self.churn_why.english()


Progress = Callable[[str], None]


def _clv_inputs(f: features.Features) -> tuple[np.ndarray, ...]:
    buyers = f.purchases > 0
    return (
        buyers,
        f.frequency[buyers].astype(float),
        f.recency_days[buyers],
        f.tenure_days[buyers],
        f.purchases[buyers].astype(float),
        f.mean_spend_cents[buyers],
    )


def skipped(why: Reason) -> dict[str, Any]:
    """Why the hold-out check did not run, in English and as a code for the console."""
    return {"skipped": why.english(), "skipped_code": why.code, "skipped_values": why.values}


def _clv_holdout(
    con: Any, cutoff: date, at: Callable[[date], features.Features]
) -> tuple[dict[str, Any], tuple[clv.BgNbd, clv.GammaGamma] | None]:
    """Fit on the calibration period (to T - 180 d), predict the next 180 days' purchases and
    compare with what happened."""
    calib = cutoff - timedelta(days=CLV_HOLDOUT_DAYS)
    f = at(calib)
    buyers, x, t_x, t, n, m = _clv_inputs(f)
    actual = features.purchases_between(con, f.customer_key[buyers], calib, cutoff)
    repeat = int(np.sum(x > 0))
    if repeat < clv.MIN_REPEAT_BUYERS:
        why = Reason("too_few_repeat_buyers", {"repeat": repeat, "needed": clv.MIN_REPEAT_BUYERS})
        return {"calibration_end": calib.isoformat(), **skipped(why)}, None
    try:
        fitted = clv.fit_models(x, t_x, t, n, m)
    except clv.FitError as exc:
        return {"calibration_end": calib.isoformat(), **skipped(exc.why)}, None
    predicted = clv.expected_purchases(fitted[0], float(CLV_HOLDOUT_DAYS), x, t_x, t)
    table = clv.holdout_table(predicted, actual.astype(float), x)
    table["calibration_end"] = calib.isoformat()
    table["holdout_days"] = CLV_HOLDOUT_DAYS
    return table, fitted


def run(
    warehouse_dir: str | Path,
    *,
    cutoff: date | None = None,
    monthly_discount: float = 0.01,
    progress: Progress | None = None,
) -> Outcome:
    """Train both models and score every customer at `cutoff` (default: the day after the
    newest invoice in the warehouse)."""
    con = features.open_warehouse(warehouse_dir)
    try:
        return _run(con, cutoff=cutoff, monthly_discount=monthly_discount, progress=progress)
    finally:
        con.close()


def _run(
    con: Connection,
    *,
    cutoff: date | None,
    monthly_discount: float,
    progress: Progress | None,
) -> Outcome:
    step = progress or (lambda _name: None)
    if cutoff is None:
        last = features.last_invoice_date(con)
        cutoff = (last or date.today()) + timedelta(days=1)
    h = timedelta(days=churn.HORIZON_DAYS)
    computed: dict[date, features.Features] = {}

    def at(day: date) -> features.Features:
        """Features at a cutoff, computed once (T - 180 d serves the CLV check and churn)."""
        if day not in computed:
            computed[day] = features.compute(con, day)
        return computed[day]

    started = time.perf_counter()
    holdout, _ = _clv_holdout(con, cutoff, at)
    step("clv hold-out")
    now = at(cutoff)
    buyers, x, t_x, t, n, m = _clv_inputs(now)
    result = clv.predict(x, t_x, t, n, m, monthly_discount=monthly_discount)
    step("clv")
    clv_seconds = time.perf_counter() - started

    started = time.perf_counter()
    at_2h = at(cutoff - 2 * h)
    at_h = at(cutoff - h)
    future_2h = features.purchases_between(con, at_2h.customer_key, cutoff - 2 * h, cutoff - h)
    future_h = features.purchases_between(con, at_h.customer_key, cutoff - h, cutoff)
    step("churn features")
    risk = churn.run(at_2h, future_2h, at_h, future_h, now)
    step("churn")
    churn_seconds = time.perf_counter() - started

    risk_by_key: dict[int, float] = {}
    drivers_by_key: dict[int, list[dict[str, Any]]] = {}
    if risk.risk is not None:
        keys = risk.customer_key.tolist()
        risk_by_key = dict(zip(keys, risk.risk.tolist(), strict=True))
        drivers_by_key = dict(zip(keys, risk.drivers, strict=True))
    scores = Scores(
        customer_key=now.customer_key[buyers],
        clv_cents=np.maximum(result.clv_cents, 0.0),
        p_alive=result.p_alive,
        expected_purchases_12m=result.expected_purchases_12m,
        churn_risk=risk_by_key,
        drivers=drivers_by_key,
    )
    return Outcome(
        cutoff=cutoff,
        customers=len(now),
        clv_method=result.method,
        clv_why=result.why,
        clv_metrics={"params": result.params, "holdout": holdout, "buyers": int(buyers.sum())},
        clv_seconds=clv_seconds,
        churn_method=risk.method,
        churn_why=risk.why,
        churn_metrics=risk.evaluation.as_dict() if risk.evaluation else {},
        churn_seconds=churn_seconds,
        scores=scores,
    )
