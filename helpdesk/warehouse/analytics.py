"""The descriptive analytics over the warehouse: RFM, cohort retention, cost to serve and the
good/bad quadrants. SQL runs in DuckDB over the Parquet files (`query.Warehouse`); the decisions
that a reader must be able to check (segment names, quadrant rules) are plain Python beside it.

Definitions are in docs/analytics.md ("Definitions"); every window ends `today`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from helpdesk.warehouse.rfm import (
    LOST_DAYS,
    NEW_DAYS,
    NEW_MAX_INVOICES,
    RECENT_DAYS,
    RFM_SEGMENTS,
    rfm_segment,
)

Fetch = Callable[[str, Sequence[Any]], list[dict[str, Any]]]

YEAR = timedelta(days=365)
COHORT_MONTHS = 12
TOP = 5
SCATTER_POINTS = 300  # per quadrant in the chart; the table counts them all
# The value module's thresholds (helpdesk.value.segments.Rules), so both pages agree.
LATE_INVOICES = 2
COMPLAINTS = 2
INFO_ONLY_CONTACTS = 3
CHANNELS = ("calls", "tickets", "sms", "visits")
QUADRANTS = ("good", "demanding", "quiet", "costly")


# -- RFM -------------------------------------------------------------------------------------------

RFM_SQL = """
WITH c AS (
    SELECT customer_key, max(issued_on) AS last_on, min(issued_on) AS first_on,
           count(*) AS frequency, sum(amount_cents) AS monetary
    FROM fact_invoice
    WHERE customer_key IS NOT NULL AND issued_on <= ?
    GROUP BY customer_key
), s AS (
    SELECT monetary, date_diff('day', last_on, ?::DATE) AS recency_days,
           date_diff('day', first_on, ?::DATE) AS first_days, frequency,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY last_on)))::INTEGER AS r,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY frequency)))::INTEGER AS f,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY monetary)))::INTEGER AS m
    FROM c
)
SELECT r, f, recency_days <= ? AS recent, first_days <= ? AND frequency <= ? AS newcomer,
       recency_days > ? AS gone,
       count(*) AS customers, sum(monetary)::BIGINT AS revenue_cents,
       sum(recency_days)::BIGINT AS recency_days, sum(frequency)::BIGINT AS invoices,
       sum(m)::BIGINT AS m_total
FROM s GROUP BY 1, 2, 3, 4, 5
"""


def rfm(fetch: Fetch, today: date) -> dict[str, Any]:
    """Customers and revenue per RFM segment, and the R x F grid of counts."""
    cells = fetch(
        RFM_SQL,
        [today, today, today, RECENT_DAYS, NEW_DAYS, NEW_MAX_INVOICES, LOST_DAYS],
    )
    segments: dict[str, dict[str, Any]] = {
        name: {"segment": name, "customers": 0, "revenue_cents": 0, "days": 0, "invoices": 0}
        for name in RFM_SEGMENTS
    }
    grid = [[0] * 5 for _ in range(5)]  # grid[r-1][f-1]
    for c in cells:
        name = rfm_segment(
            c["r"], c["f"], recent=c["recent"], newcomer=c["newcomer"], gone=c["gone"]
        )
        s = segments[name]
        s["customers"] += c["customers"]
        s["revenue_cents"] += c["revenue_cents"]
        s["days"] += c["recency_days"]
        s["invoices"] += c["invoices"]
        grid[c["r"] - 1][c["f"] - 1] += c["customers"]
    rows = []
    for s in segments.values():
        n = s["customers"]
        rows.append(
            {
                "segment": s["segment"],
                "customers": n,
                "revenue_cents": s["revenue_cents"],
                "recency_days": round(s["days"] / n) if n else None,
                "frequency": round(s["invoices"] / n, 1) if n else None,
            }
        )
    return {"segments": rows, "grid": grid, "customers": sum(r["customers"] for r in rows)}


# -- cohorts ---------------------------------------------------------------------------------------

_EVENTS = {
    "invoices": 'SELECT customer_key, "at" FROM fact_invoice',
    "contacts": (
        'SELECT customer_key, "at" FROM fact_call UNION ALL '
        'SELECT customer_key, "at" FROM fact_ticket UNION ALL '
        'SELECT customer_key, "at" FROM fact_sms UNION ALL '
        'SELECT customer_key, "at" FROM fact_email'
    ),
}

COHORT_SQL = """
WITH events AS ({events}),
firsts AS (
    SELECT customer_key, date_trunc('month', min("at"))::DATE AS cohort
    FROM events WHERE customer_key IS NOT NULL GROUP BY customer_key
), active AS (
    SELECT DISTINCT customer_key, date_trunc('month', "at")::DATE AS month
    FROM events WHERE customer_key IS NOT NULL AND "at" < ?
)
SELECT f.cohort, date_diff('month', f.cohort, a.month) AS n, count(*) AS customers
FROM firsts f JOIN active a USING (customer_key)
WHERE f.cohort >= ?
GROUP BY 1, 2 ORDER BY 1, 2
"""


EARLIER_SQL = """
WITH events AS ({events})
SELECT count(*) AS customers, min(first_at)::DATE AS first_on FROM (
    SELECT customer_key, min("at") AS first_at
    FROM events WHERE customer_key IS NOT NULL GROUP BY customer_key
) WHERE first_at < ?
"""


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def cohorts(fetch: Fetch, today: date, basis: str = "invoices") -> dict[str, Any]:
    """The share of each monthly cohort (by first invoice, or first contact) active in each
    following month: a triangle, the newest cohort with one cell."""
    first = _month_start(today, COHORT_MONTHS - 1)
    found = fetch(COHORT_SQL.format(events=_EVENTS[basis]), [_month_start(today, -1), first])
    by_cohort: dict[date, dict[int, int]] = {}
    for row in found:
        by_cohort.setdefault(row["cohort"], {})[int(row["n"])] = row["customers"]
    rows = []
    for back in range(COHORT_MONTHS - 1, -1, -1):
        cohort = _month_start(today, back)
        counts = by_cohort.get(cohort, {})
        size = counts.get(0, 0)
        rows.append(
            {
                "cohort": cohort.isoformat()[:7],
                "size": size,
                "retention": [
                    round(100 * counts.get(n, 0) / size, 1) if size else None
                    for n in range(back + 1)
                ],
            }
        )
    # Customers who started before the window: a table of empty rows says nothing on its own,
    # so the page tells how many there are and since when (the demo's all started years ago).
    earlier = fetch(EARLIER_SQL.format(events=_EVENTS[basis]), [first])
    before: dict[str, Any] = earlier[0] if earlier else {"customers": 0, "first_on": None}
    return {
        "basis": basis,
        "months": COHORT_MONTHS,
        "rows": rows,
        "empty": not any(r["size"] for r in rows),
        "earlier_customers": int(before["customers"] or 0),
        "earliest": before["first_on"].isoformat()[:7] if before["first_on"] else None,
    }


# -- cost to serve ---------------------------------------------------------------------------------

_COSTS = """
    SELECT 'calls' AS channel, customer_key, "at", cost_cents FROM fact_call UNION ALL
    SELECT 'tickets', customer_key, "at", cost_cents FROM fact_ticket UNION ALL
    SELECT 'sms', customer_key, "at", cost_cents FROM fact_sms UNION ALL
    SELECT 'visits', customer_key, "at", cost_cents FROM fact_visit
"""

COST_MONTH_SQL = f"""
SELECT strftime("at", '%Y-%m') AS month, channel, sum(cost_cents)::BIGINT AS cost_cents,
       count(*) AS contacts
FROM ({_COSTS}) c WHERE "at" >= ? AND "at" < ?
GROUP BY 1, 2
"""  # noqa: S608 (no outside text: the tables' names)

COST_SEGMENT_SQL = f"""
SELECT coalesce(d.segment, 'none') AS segment, c.channel, sum(c.cost_cents)::BIGINT AS cost_cents,
       count(DISTINCT c.customer_key) AS customers
FROM ({_COSTS}) c LEFT JOIN dim_customer d USING (customer_key)
WHERE c."at" >= ? AND c."at" < ?
GROUP BY 1, 2
"""  # noqa: S608


def cost_to_serve(fetch: Fetch, today: date) -> dict[str, Any]:
    """Cost to serve per month (the last twelve) and channel, and per value segment."""
    start, end = _month_start(today, 11), _month_start(today, -1)
    months = [_month_start(today, back).isoformat()[:7] for back in range(11, -1, -1)]
    per_month = {m: dict.fromkeys(CHANNELS, 0) for m in months}
    for row in fetch(COST_MONTH_SQL, [start, end]):
        if row["month"] in per_month:
            per_month[row["month"]][row["channel"]] = row["cost_cents"]
    per_segment: dict[str, dict[str, int]] = {}
    for row in fetch(COST_SEGMENT_SQL, [today - YEAR, end]):
        per_segment.setdefault(row["segment"], dict.fromkeys(CHANNELS, 0))[row["channel"]] = row[
            "cost_cents"
        ]
    return {
        "months": months,
        "by_month": [
            {"month": m, **per_month[m], "total": sum(per_month[m].values())} for m in months
        ],
        "by_segment": sorted(
            (
                {"segment": s, **costs, "total": sum(costs.values())}
                for s, costs in per_segment.items()
            ),
            key=lambda r: -r["total"],
        ),
    }


# -- quadrants -------------------------------------------------------------------------------------

QUADRANT_SQL = f"""
WITH rev AS (
    SELECT customer_key, sum(amount_cents) AS revenue,
           count(*) FILTER (WHERE days_late > 0) AS late
    FROM fact_invoice WHERE issued_on > ? AND issued_on <= ? GROUP BY customer_key
), ever AS (
    SELECT DISTINCT customer_key FROM fact_invoice
), cost AS (
    SELECT customer_key, sum(cost_cents) AS cost,
           count(*) FILTER (WHERE channel IN ('calls', 'tickets', 'sms')) AS contacts,
           count(*) FILTER (WHERE complaint) AS complaints
    FROM (
        SELECT 'calls' AS channel, customer_key, "at", cost_cents, false AS complaint FROM fact_call
        UNION ALL SELECT 'tickets', customer_key, "at", cost_cents, is_complaint FROM fact_ticket
        UNION ALL SELECT 'sms', customer_key, "at", cost_cents, false FROM fact_sms
        UNION ALL SELECT 'visits', customer_key, "at", cost_cents, false FROM fact_visit
    ) c
    WHERE "at" > ? AND "at" <= ? AND customer_key IS NOT NULL
    GROUP BY customer_key
), base AS (
    SELECT customer_key, coalesce(rev.revenue, 0) AS revenue, coalesce(cost.cost, 0) AS cost,
           coalesce(rev.late, 0) AS late, coalesce(cost.contacts, 0) AS contacts,
           coalesce(cost.complaints, 0) AS complaints,
           customer_key IN (SELECT customer_key FROM ever) AS ever_bought
    FROM rev FULL JOIN cost USING (customer_key)
), cuts AS (
    SELECT coalesce(median(revenue) FILTER (WHERE revenue > 0), 0) AS rev_cut,
           coalesce(median(cost) FILTER (WHERE cost > 0), 0) AS cost_cut
    FROM base
), placed AS (
    SELECT base.*, coalesce(d.erased, false) AS erased,
           CASE
             WHEN revenue > 0 AND revenue >= rev_cut AND NOT (cost > 0 AND cost >= cost_cut)
               THEN 'good'
             WHEN revenue > 0 AND revenue >= rev_cut THEN 'demanding'
             WHEN cost > 0 AND cost >= cost_cut THEN 'costly'
             ELSE 'quiet'
           END AS quadrant,
           late >= {LATE_INVOICES} AS late_payer,
           complaints >= {COMPLAINTS} AS complainer,
           NOT ever_bought AND contacts >= {INFO_ONLY_CONTACTS} AS info_seeker,
           rev_cut, cost_cut
    FROM base CROSS JOIN cuts LEFT JOIN dim_customer d ON d.customer_key = base.customer_key
)
"""  # noqa: S608 (the thresholds are this module's integers)

QUADRANT_SUMMARY = (
    QUADRANT_SQL
    + """
SELECT quadrant, count(*) AS customers, sum(revenue)::BIGINT AS revenue_cents,
       sum(cost)::BIGINT AS cost_cents, count(*) FILTER (WHERE late_payer) AS late_payers,
       count(*) FILTER (WHERE complainer) AS complainers,
       count(*) FILTER (WHERE info_seeker) AS info_seekers,
       any_value(rev_cut) AS rev_cut, any_value(cost_cut) AS cost_cut
FROM placed GROUP BY quadrant
"""
)

QUADRANT_TOP = (
    QUADRANT_SQL  # noqa: S608 (constant text)
    + """
SELECT * FROM (
    SELECT customer_key, quadrant, revenue, cost, late_payer, complainer, info_seeker,
           row_number() OVER (
               PARTITION BY quadrant
               ORDER BY CASE WHEN quadrant = 'costly' THEN cost - revenue ELSE revenue END DESC,
                        customer_key
           ) AS place
    FROM placed WHERE NOT erased
) WHERE place <= ?
ORDER BY quadrant, place
"""
)

QUADRANT_POINTS = (
    QUADRANT_SQL  # noqa: S608 (constant text)
    + """
SELECT quadrant, revenue, cost FROM (
    SELECT quadrant, revenue, cost,
           row_number() OVER (PARTITION BY quadrant ORDER BY hash(customer_key)) AS place
    FROM placed
) WHERE place <= ?
"""
)


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    def params(self) -> list[Any]:
        return [self.start, self.end, self.start, self.end]


def quadrants(fetch: Fetch, today: date) -> dict[str, Any]:
    """Revenue (twelve months) against cost to serve: each customer in one quadrant, cut at the
    medians of paying and of served customers, with late payers, complainers and information
    seekers counted; the top customers of each quadrant by key (names are the page's)."""
    window = Window(today - YEAR, today)
    summary = {q: None for q in QUADRANTS} | {
        r["quadrant"]: r for r in fetch(QUADRANT_SUMMARY, window.params())
    }
    cuts = next((r for r in summary.values() if r), None)
    rows = []
    for q in QUADRANTS:
        s = summary[q] or {}
        rows.append(
            {
                "quadrant": q,
                "customers": s.get("customers", 0),
                "revenue_cents": s.get("revenue_cents", 0) or 0,
                "cost_cents": s.get("cost_cents", 0) or 0,
                "late_payers": s.get("late_payers", 0),
                "complainers": s.get("complainers", 0),
                "info_seekers": s.get("info_seekers", 0),
            }
        )
    top: dict[str, list[dict[str, Any]]] = {q: [] for q in QUADRANTS}
    for r in fetch(QUADRANT_TOP, [*window.params(), TOP]):
        top[r["quadrant"]].append(r)
    points: dict[str, list[list[float]]] = {q: [] for q in QUADRANTS}
    for r in fetch(QUADRANT_POINTS, [*window.params(), SCATTER_POINTS]):
        points[r["quadrant"]].append([round(r["revenue"] / 100), round(r["cost"] / 100)])
    return {
        "quadrants": rows,
        "top": top,
        "points": points,
        "revenue_cut_cents": int(cuts["rev_cut"]) if cuts else 0,
        "cost_cut_cents": int(cuts["cost_cut"]) if cuts else 0,
    }


def counts(fetch: Fetch) -> dict[str, int]:
    """Rows per fact, for the empty states."""
    found = fetch(
        "SELECT (SELECT count(*) FROM fact_invoice) AS invoices, "
        "(SELECT count(*) FROM fact_call) + (SELECT count(*) FROM fact_ticket) "
        "+ (SELECT count(*) FROM fact_sms) + (SELECT count(*) FROM fact_visit) AS contacts",
        [],
    )
    return {k: int(v) for k, v in found[0].items()}
