"""Synthetic customers with a known structure, written as warehouse Parquet files.

The models are only worth what their validation shows, and a validation needs data whose truth is
known. Each customer here has a latent purchase rate, a mean spend and a departure date; in the
`DECLINE_DAYS` before leaving they buy half as often, complain four times as often and answer
surveys worse, as churners do in real books. The truth is kept (`Truth`) so tests can check that
the churn model finds the leavers and that the CLV ranks the customers worth most first.

`simulate_bgnbd` draws data from the BG/NBD model itself, to check that the fit recovers the
parameters it was simulated with.

Everything is numpy, vectorised per event kind (no loop per customer), and deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpdesk.warehouse import schema

DAY_US = 86_400 * 1_000_000
DECLINE_DAYS = 120.0  # how long before leaving a churner's behaviour changes
HISTORY_DAYS = 900.0  # customers join over this many days before the end


@dataclass(frozen=True)
class Truth:
    """The latent state of each generated customer (index i is customer key `first_key + i`)."""

    customer_keys: np.ndarray
    rate_per_day: np.ndarray  # purchases per day while active
    mean_spend_cents: np.ndarray
    leaves_day: np.ndarray  # days after the epoch the customer leaves (may be after the end)
    end_day: float
    churn_hazard: np.ndarray  # per day

    def expected_value_cents(self, horizon_days: float = 365.0) -> np.ndarray:
        """Expected spend over the horizon after the end, from the latent parameters: nothing for
        a customer gone, else rate * spend * the expected time still active (exponential stay)."""
        alive = self.leaves_day > self.end_day
        stay = (1.0 - np.exp(-self.churn_hazard * horizon_days)) / self.churn_hazard
        return np.where(alive, self.rate_per_day * self.mean_spend_cents * stay, 0.0)


def _events(
    rng: np.random.Generator, start: np.ndarray, stop: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A Poisson process per customer on [start, stop): (customer index, day) of each event."""
    span = np.clip(stop - start, 0.0, None)
    counts = rng.poisson(rate * span)
    idx = np.repeat(np.arange(len(start)), counts)
    days = start[idx] + rng.random(len(idx)) * span[idx]
    return idx, days


def _two_phase(
    rng: np.random.Generator,
    joined: np.ndarray,
    leaves: np.ndarray,
    end: float,
    base: np.ndarray,
    decline_factor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Events at `base` rate until the decline, at `base * decline_factor` during it, none after
    leaving; nothing after `end`."""
    decline_start = np.maximum(joined, leaves - DECLINE_DAYS)
    stop = np.minimum(leaves, end)
    i1, d1 = _events(rng, joined, np.minimum(decline_start, stop), base)
    i2, d2 = _events(rng, np.minimum(decline_start, stop), stop, base * decline_factor)
    return np.concatenate([i1, i2]), np.concatenate([d1, d2])


def _ts(epoch: datetime, days: np.ndarray) -> pa.Array:
    base = int(epoch.timestamp() * 1_000_000)
    return pa.array(base + (days * DAY_US).astype(np.int64), type=schema.TS)


def _dates(epoch: datetime, days: np.ndarray) -> pa.Array:
    base = (epoch.date() - date(1970, 1, 1)).days
    return pa.array((base + np.floor(days)).astype(np.int32), type=pa.date32())


def _write_fact(root: Path, name: str, columns: dict[str, pa.Array]) -> int:
    """Write a fact in monthly Hive partitions of `at`, with exactly the schema's columns."""
    fields = schema.FACTS[name]
    n = len(columns["customer_key"])
    arrays = [columns.get(f.name, pa.nulls(n, type=f.type)) for f in fields]
    table = pa.Table.from_arrays(arrays, schema=fields)
    if n == 0:
        return 0
    months = pc.strftime(table.column("at"), format="%Y-%m").to_numpy(zero_copy_only=False)
    for month in np.unique(months):
        part = root / name / f"month={month}"
        part.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.filter(pa.array(months == month)), part / "data.parquet")
    return n


def _keys(n: int, start: int = 1) -> pa.Array:
    return pa.array(np.arange(start, start + n, dtype=np.int64))


def generate(
    warehouse_dir: str | Path,
    *,
    customers: int = 2000,
    end: date = date(2026, 12, 1),
    seed: int = 7,
    first_key: int = 1,
) -> Truth:
    """Write a warehouse of `customers` synthetic customers whose history ends at `end`."""
    rng = np.random.default_rng(seed)
    root = Path(warehouse_dir)
    root.mkdir(parents=True, exist_ok=True)
    epoch = datetime.combine(end, datetime.min.time(), tzinfo=UTC) - timedelta(days=HISTORY_DAYS)
    end_day = HISTORY_DAYS
    n = customers
    joined = rng.random(n) * (HISTORY_DAYS - 60.0)
    # Heterogeneous purchase rates (mean one purchase every ~30 days) and spends (log-normal).
    rate = rng.gamma(2.0, 1.0 / (2.0 * 30.0), n)
    mean_spend = np.exp(rng.normal(np.log(6000.0), 0.6, n))
    hazard = rng.gamma(2.0, 1.0 / (2.0 * 500.0), n)  # mean stay 500 days
    leaves = joined + rng.exponential(1.0 / hazard)
    ckeys = np.arange(first_key, first_key + n, dtype=np.int64)

    # Purchases (invoices): half as frequent while declining.
    pi, pd = _two_phase(rng, joined, leaves, end_day, rate, 0.5)
    # A first purchase the day they join, so every customer has bought once.
    pi = np.concatenate([np.arange(n), pi])
    pd = np.concatenate([joined, pd])
    amounts = rng.gamma(4.0, mean_spend[pi] / 4.0).astype(np.int64) + 100
    late_prone = rng.random(n) < 0.15
    days_late = np.where(
        late_prone[pi] & (rng.random(len(pi)) < 0.5), rng.integers(1, 40, len(pi)), 0
    )
    issued = np.floor(pd)
    due = issued + 30
    paid = due + days_late
    paid_known = paid <= end_day
    _write_fact(
        root,
        "fact_invoice",
        {
            "customer_key": pa.array(ckeys[pi]),
            "at": _ts(epoch, issued),
            "date_key": _dates(epoch, issued),
            "invoice_key": _keys(len(pi)),
            "amount_cents": pa.array(amounts),
            "currency": pa.array(["EUR"] * len(pi)),
            "issued_on": _dates(epoch, issued),
            "due_on": _dates(epoch, due),
            "paid_on": pa.array(
                np.where(paid_known, (epoch.date() - date(1970, 1, 1)).days + paid, 0).astype(
                    np.int32
                ),
                mask=~paid_known,
                type=pa.date32(),
            ),
            "days_late": pa.array(
                np.where(paid_known, days_late, np.maximum(end_day - due, 0)).astype(np.int32)
            ),
        },
    )
    # Calls: twice as many while declining (they ring to complain, ask, cancel).
    ci, cd = _two_phase(rng, joined, leaves, end_day, np.full(n, 1 / 75.0), 2.0)
    talk = rng.exponential(240.0, len(ci))
    _write_fact(
        root,
        "fact_call",
        {
            "customer_key": pa.array(ckeys[ci]),
            "at": _ts(epoch, cd),
            "date_key": _dates(epoch, cd),
            "call_key": _keys(len(ci)),
            "direction": pa.array(["inbound"] * len(ci)),
            "outcome": pa.array(["answered"] * len(ci)),
            "wait_s": pa.array(rng.exponential(40.0, len(ci))),
            "talk_s": pa.array(talk),
            "cost_cents": pa.array((talk / 60.0 * 90).astype(np.int64)),
        },
    )
    # Tickets; complaints four times as frequent while declining.
    ti, td = _two_phase(rng, joined, leaves, end_day, np.full(n, 1 / 120.0), 1.0)
    ki, kd = _two_phase(rng, joined, leaves, end_day, np.full(n, 1 / 400.0), 5.0)
    all_ti = np.concatenate([ti, ki])
    all_td = np.concatenate([td, kd])
    complaint = np.concatenate([np.zeros(len(ti), bool), np.ones(len(ki), bool)])
    _write_fact(
        root,
        "fact_ticket",
        {
            "customer_key": pa.array(ckeys[all_ti]),
            "at": _ts(epoch, all_td),
            "date_key": _dates(epoch, all_td),
            "ticket_key": _keys(len(all_ti)),
            "channel": pa.array(["email"] * len(all_ti)),
            "status": pa.array(["solved"] * len(all_ti)),
            "priority": pa.array(["normal"] * len(all_ti)),
            "is_complaint": pa.array(complaint),
            "cost_cents": pa.array(np.where(complaint, 1900, 400).astype(np.int64)),
        },
    )
    si, sd = _events(rng, joined, np.minimum(leaves, end_day), np.full(n, 1 / 200.0))
    _write_fact(
        root,
        "fact_sms",
        {
            "customer_key": pa.array(ckeys[si]),
            "at": _ts(epoch, sd),
            "date_key": _dates(epoch, sd),
            "sms_key": _keys(len(si)),
            "direction": pa.array(["inbound"] * len(si)),
            "kind": pa.array(["message"] * len(si)),
            "status": pa.array(["received"] * len(si)),
            "segments": pa.array(np.ones(len(si), np.int32)),
            "cost_cents": pa.array(np.full(len(si), 8, np.int64)),
        },
    )
    ei, ed = _events(rng, joined, np.minimum(leaves, end_day), np.full(n, 1 / 150.0))
    _write_fact(
        root,
        "fact_email",
        {
            "customer_key": pa.array(ckeys[ei]),
            "at": _ts(epoch, ed),
            "date_key": _dates(epoch, ed),
            "email_key": _keys(len(ei)),
            "direction": pa.array(["inbound"] * len(ei)),
            "kind": pa.array(["message"] * len(ei)),
            "status": pa.array(["received"] * len(ei)),
        },
    )
    # Surveys after some tickets: worse scores while declining.
    vi, vd = _events(rng, joined, np.minimum(leaves, end_day), np.full(n, 1 / 180.0))
    declining = vd >= leaves[vi] - DECLINE_DAYS
    score = np.clip(np.round(rng.normal(np.where(declining, 2.3, 4.0), 0.9)), 1, 5).astype(np.int32)
    _write_fact(
        root,
        "fact_survey",
        {
            "customer_key": pa.array(ckeys[vi]),
            "at": _ts(epoch, vd),
            "date_key": _dates(epoch, vd),
            "survey_key": _keys(len(vi)),
            "trigger": pa.array(["ticket"] * len(vi)),
            "channel": pa.array(["email"] * len(vi)),
            "score": pa.array(score),
            "answered_at": _ts(epoch, vd + 0.5),
        },
    )
    _write_fact(root, "fact_visit", {"customer_key": pa.array([], type=pa.int64())})
    dim = pa.Table.from_arrays(
        [
            pa.array(ckeys),
            pa.array(["person"] * n),
            pa.nulls(n, type=pa.int64()),
            pa.array(["fr"] * n),
            _ts(epoch, joined),
            pa.array(["standard"] * n),
            pa.array(np.zeros(n, bool)),
        ],
        schema=schema.DIMENSIONS["dim_customer"],
    )
    pq.write_table(dim, root / "dim_customer.parquet")
    return Truth(ckeys, rate, mean_spend, leaves, end_day, hazard)


def simulate_bgnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, t_days: float, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (frequency, recency, T) from the BG/NBD model: lambda ~ Gamma(r, alpha), p ~ Beta(a, b),
    purchases at rate lambda, and after each repeat purchase the customer leaves with probability p.
    Everyone is observed for `t_days` after their first purchase."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # The dropout comes right after a repeat purchase: the K-th, K ~ Geometric(p), K ≥ 1.
    alive_purchases = rng.geometric(p)
    frequency = np.zeros(n, np.int64)
    recency = np.zeros(n)
    t = np.zeros(n)
    active = np.ones(n, bool)
    # Step through purchases for everyone at once; each step draws the next gap.
    while active.any():
        idx = np.flatnonzero(active)
        gap = rng.exponential(1.0 / lam[idx])
        t_next = t[idx] + gap
        ok = (t_next <= t_days) & (frequency[idx] < alive_purchases[idx])
        moved = idx[ok]
        frequency[moved] += 1
        t[moved] = t_next[ok]
        recency[moved] = t_next[ok]
        active[idx[~ok]] = False
    return frequency, recency, np.full(n, float(t_days))
