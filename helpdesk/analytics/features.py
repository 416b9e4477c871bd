"""Per-customer features at a cutoff date, read from the warehouse's Parquet files with DuckDB.

One SQL statement computes every customer's figures (no query per customer), so 100,000
customers cost one scan of each fact. Only facts strictly before the cutoff count: features at
T - h must not see what happened after T - h, or the hold-out would flatter the model.

A customer exists at a cutoff when first seen before it: created before it, or with an invoice
or a contact (ticket, call, text, e-mail) before it, whichever is earliest. The record's
creation date alone is not enough: imported customers (and the demo's) are created on the day
of the import while their history is years older, and would otherwise be unknown at every
cutoff in the past, so the models would train on nobody.

The warehouse is read through its own DuckDB adapter (`helpdesk.warehouse.query`), the only module
that imports duckdb.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from helpdesk.warehouse.query import Connection, Warehouse

WINDOW_DAYS = 90  # revenue now vs before, contacts
COMPLAINT_DAYS = (60, 90)
YEAR_DAYS = 365  # "active": bought in the year before the cutoff; cost to serve, late invoices


def open_warehouse(warehouse_dir: str | Path) -> Connection:
    """The warehouse's own DuckDB adapter: a view per table over its files, and a table with no
    file yet read as empty with its schema's columns, so a young warehouse gives empty features
    rather than an error. The caller closes it."""
    return Warehouse(Path(warehouse_dir)).open()


def has_data(warehouse_dir: str | Path | None) -> bool:
    """Whether a warehouse with customers and invoices exists there."""
    if not warehouse_dir:
        return False
    root = Path(warehouse_dir)
    return (root / "dim_customer.parquet").exists() and any(
        (root / "fact_invoice").glob("**/*.parquet")
    )


@dataclass(frozen=True)
class Features:
    """Columns aligned by customer: `customer_key[i]` has `recency_days[i]` and so on.

    Purchase figures follow the CLV literature: `frequency` is the number of repeat purchases
    (all purchases but the first), `recency_days` the time from first to last purchase, and
    `tenure_days` (T) the time from first purchase to the cutoff."""

    cutoff: date
    customer_key: np.ndarray
    purchases: np.ndarray
    frequency: np.ndarray
    recency_days: np.ndarray
    tenure_days: np.ndarray
    days_since_last: np.ndarray
    mean_spend_cents: np.ndarray
    purchases_year: np.ndarray
    revenue_90_cents: np.ndarray
    revenue_prev_90_cents: np.ndarray
    complaints_60: np.ndarray
    complaints_90: np.ndarray
    calls_90: np.ndarray
    tickets_90: np.ndarray
    sms_90: np.ndarray
    emails_90: np.ndarray
    late_invoices: np.ndarray
    survey_mean: np.ndarray  # NaN when no answered survey in the year
    cost_to_serve_cents: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_key)

    @property
    def contacts_90(self) -> np.ndarray:
        return np.asarray(self.calls_90 + self.tickets_90 + self.sms_90 + self.emails_90)

    @property
    def contacts_without_purchase(self) -> np.ndarray:
        """Contacts in the window of a customer who bought nothing in it: they ask, not buy."""
        return np.where(self.revenue_90_cents == 0, self.contacts_90, 0)

    @property
    def active(self) -> np.ndarray:
        """Bought at least once in the year before the cutoff: the customers churn is about."""
        return self.purchases_year > 0

    def subset(self, mask: np.ndarray) -> Features:
        values = {k: v[mask] if isinstance(v, np.ndarray) else v for k, v in vars(self).items()}
        return Features(**values)


_SQL = """
WITH facts_seen AS (
    SELECT customer_key, min("at") AS first_at FROM fact_invoice
    WHERE issued_on < $cutoff GROUP BY customer_key
    UNION ALL SELECT customer_key, min("at") FROM fact_ticket
    WHERE "at" < $cutoff_ts GROUP BY customer_key
    UNION ALL SELECT customer_key, min("at") FROM fact_call
    WHERE "at" < $cutoff_ts GROUP BY customer_key
    UNION ALL SELECT customer_key, min("at") FROM fact_sms
    WHERE "at" < $cutoff_ts GROUP BY customer_key
    UNION ALL SELECT customer_key, min("at") FROM fact_email
    WHERE "at" < $cutoff_ts GROUP BY customer_key
),
first_fact AS (
    SELECT customer_key, min(first_at) AS first_at FROM facts_seen
    WHERE customer_key IS NOT NULL GROUP BY customer_key
),
cust AS (
    SELECT d.customer_key FROM dim_customer d LEFT JOIN first_fact f USING (customer_key)
    WHERE NOT coalesce(d.erased, false)
        AND (d.created_at IS NULL OR d.created_at < $cutoff_ts OR f.customer_key IS NOT NULL)
),
inv AS (
    SELECT customer_key,
        count(*) AS purchases,
        min(issued_on) AS first_on,
        max(issued_on) AS last_on,
        avg(amount_cents) AS mean_spend,
        count(*) FILTER (WHERE issued_on >= $year_start) AS purchases_year,
        coalesce(sum(amount_cents) FILTER (WHERE issued_on >= $w_start), 0) AS rev_90,
        coalesce(sum(amount_cents) FILTER (
            WHERE issued_on >= $prev_start AND issued_on < $w_start), 0) AS rev_prev_90,
        count(*) FILTER (WHERE issued_on >= $year_start AND due_on < $cutoff
            AND (paid_on IS NULL OR paid_on > due_on)) AS late_invoices
    FROM fact_invoice WHERE issued_on < $cutoff GROUP BY customer_key
),
tick AS (
    SELECT customer_key,
        count(*) FILTER (WHERE "at" >= $w_start_ts) AS tickets_90,
        count(*) FILTER (WHERE is_complaint AND "at" >= $c60_ts) AS complaints_60,
        count(*) FILTER (WHERE is_complaint AND "at" >= $w_start_ts) AS complaints_90,
        coalesce(sum(cost_cents) FILTER (WHERE "at" >= $year_start_ts), 0) AS cost
    FROM fact_ticket WHERE "at" < $cutoff_ts AND "at" >= $year_start_ts GROUP BY customer_key
),
calls AS (
    SELECT customer_key,
        count(*) FILTER (WHERE "at" >= $w_start_ts) AS calls_90,
        coalesce(sum(cost_cents), 0) AS cost
    FROM fact_call WHERE "at" < $cutoff_ts AND "at" >= $year_start_ts GROUP BY customer_key
),
sms AS (
    SELECT customer_key,
        count(*) FILTER (WHERE "at" >= $w_start_ts) AS sms_90,
        coalesce(sum(cost_cents), 0) AS cost
    FROM fact_sms WHERE "at" < $cutoff_ts AND "at" >= $year_start_ts GROUP BY customer_key
),
mail AS (
    SELECT customer_key, count(*) AS emails_90
    FROM fact_email WHERE "at" < $cutoff_ts AND "at" >= $w_start_ts GROUP BY customer_key
),
visit AS (
    SELECT customer_key, coalesce(sum(cost_cents), 0) AS cost
    FROM fact_visit WHERE "at" < $cutoff_ts AND "at" >= $year_start_ts GROUP BY customer_key
),
surv AS (
    SELECT customer_key, avg(score) AS survey_mean
    FROM fact_survey
    WHERE score IS NOT NULL AND answered_at < $cutoff_ts AND answered_at >= $year_start_ts
    GROUP BY customer_key
)
SELECT c.customer_key,
    coalesce(i.purchases, 0) AS purchases,
    coalesce(date_diff('day', i.first_on, i.last_on), 0) AS recency_days,
    coalesce(date_diff('day', i.first_on, $cutoff), 0) AS tenure_days,
    coalesce(date_diff('day', i.last_on, $cutoff), -1) AS days_since_last,
    coalesce(i.mean_spend, 0) AS mean_spend,
    coalesce(i.purchases_year, 0) AS purchases_year,
    coalesce(i.rev_90, 0) AS rev_90,
    coalesce(i.rev_prev_90, 0) AS rev_prev_90,
    coalesce(t.complaints_60, 0) AS complaints_60,
    coalesce(t.complaints_90, 0) AS complaints_90,
    coalesce(k.calls_90, 0) AS calls_90,
    coalesce(t.tickets_90, 0) AS tickets_90,
    coalesce(s.sms_90, 0) AS sms_90,
    coalesce(m.emails_90, 0) AS emails_90,
    coalesce(i.late_invoices, 0) AS late_invoices,
    coalesce(v.survey_mean, 'NaN'::DOUBLE) AS survey_mean,
    coalesce(t.cost, 0) + coalesce(k.cost, 0) + coalesce(s.cost, 0) + coalesce(x.cost, 0) AS cost
FROM cust c
LEFT JOIN inv i USING (customer_key)
LEFT JOIN tick t USING (customer_key)
LEFT JOIN calls k USING (customer_key)
LEFT JOIN sms s USING (customer_key)
LEFT JOIN mail m USING (customer_key)
LEFT JOIN visit x USING (customer_key)
LEFT JOIN surv v USING (customer_key)
ORDER BY c.customer_key
"""


def _params(cutoff: date) -> dict[str, object]:
    def ts(d: date) -> str:
        return f"{d.isoformat()} 00:00:00+00"

    w_start = cutoff - timedelta(days=WINDOW_DAYS)
    prev_start = w_start - timedelta(days=WINDOW_DAYS)
    year_start = cutoff - timedelta(days=YEAR_DAYS)
    c60 = cutoff - timedelta(days=COMPLAINT_DAYS[0])
    return {
        "cutoff": cutoff,
        "cutoff_ts": ts(cutoff),
        "w_start": w_start,
        "w_start_ts": ts(w_start),
        "prev_start": prev_start,
        "year_start": year_start,
        "year_start_ts": ts(year_start),
        "c60_ts": ts(c60),
    }


def compute(con: Connection, cutoff: date) -> Features:
    """Every customer's features at `cutoff` (facts strictly before it), in one statement."""
    params = _params(cutoff)
    sql = _SQL
    for name in sorted(params, key=len, reverse=True):  # typed literals: DuckDB casts them
        value = params[name]
        literal = f"TIMESTAMPTZ '{value}'" if name.endswith("_ts") else f"DATE '{value}'"
        sql = sql.replace(f"${name}", literal)
    cols = con.execute(sql).fetchnumpy()

    def arr(name: str, dtype: type = np.float64) -> np.ndarray:
        return np.asarray(cols[name], dtype=dtype)

    purchases = arr("purchases", np.int64)
    return Features(
        cutoff=cutoff,
        customer_key=arr("customer_key", np.int64),
        purchases=purchases,
        frequency=np.maximum(purchases - 1, 0),
        recency_days=arr("recency_days"),
        tenure_days=arr("tenure_days"),
        days_since_last=arr("days_since_last"),
        mean_spend_cents=arr("mean_spend"),
        purchases_year=arr("purchases_year", np.int64),
        revenue_90_cents=arr("rev_90"),
        revenue_prev_90_cents=arr("rev_prev_90"),
        complaints_60=arr("complaints_60", np.int64),
        complaints_90=arr("complaints_90", np.int64),
        calls_90=arr("calls_90", np.int64),
        tickets_90=arr("tickets_90", np.int64),
        sms_90=arr("sms_90", np.int64),
        emails_90=arr("emails_90", np.int64),
        late_invoices=arr("late_invoices", np.int64),
        survey_mean=arr("survey_mean"),
        cost_to_serve_cents=arr("cost"),
    )


def purchases_between(
    con: Connection, customer_key: np.ndarray, start: date, end: date
) -> np.ndarray:
    """How many purchases each customer made in [start, end), aligned with `customer_key`: the
    outcome the hold-out compares predictions with, and the churn label's source."""
    rows = con.execute(
        "SELECT customer_key, count(*) AS n FROM fact_invoice "
        "WHERE issued_on >= ? AND issued_on < ? GROUP BY customer_key",
        [start, end],
    ).fetchnumpy()
    counts = dict(zip(rows["customer_key"].tolist(), rows["n"].tolist(), strict=True))
    return np.array([counts.get(int(k), 0) for k in customer_key], dtype=np.int64)


def last_invoice_date(con: Connection) -> date | None:
    """The newest invoice in the warehouse: a default cutoff for data that stops in the past."""
    row = con.execute("SELECT max(issued_on) FROM fact_invoice").fetchone()
    return row[0] if row and row[0] is not None else None
