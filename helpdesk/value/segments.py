"""Customer value as pure logic: the cost to serve from counted contacts, and the segment from
revenue, cost and the signals of a customer about to leave.

No database here: the service counts, this module decides, and the decision lists the signals
that made it so that the console can say why a customer is in a segment.

Segments, first rule that matches wins:
1. `at_risk`: still buying, with repeated complaints, repeated SLA breaches, low satisfaction
   scores or falling revenue
   (unless serving them already costs more than the margin allows: then `costly`), and among the
   riskiest `at_risk_share` of paying customers by risk score (see `risk_score`). The share keeps
   the segment a short list to call back: absolute thresholds alone flagged half the base as
   soon as targets were missed now and then;
2. `costly`: the cost to serve takes more than `costly_ratio` of the revenue (or, with no
   revenue, more than `costly_min_cost_cents`), or they pay late again and again;
3. `best`: revenue in the top share of paying customers, paid on time;
4. `growing`: revenue up by `growth` or more on the previous twelve months, or a first year
   of purchases;
5. `info_only`: several contacts and never an invoice: they ask, they do not buy;
6. `standard`: everyone else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

SEGMENTS = ("best", "growing", "at_risk", "costly", "info_only", "standard")


@dataclass(frozen=True)
class CostRates:
    """What one unit of service costs, in cents (set to the company's own figures)."""

    talk_minute: int = 90
    ticket: int = 400
    sms: int = 8
    field_visit: int = 6000
    complaint: int = 1500


@dataclass(frozen=True)
class Usage:
    """A customer's service over the last twelve months (complaints and breaches: 90 days)."""

    talk_s: float = 0.0
    tickets: int = 0
    sms: int = 0
    field_visits: int = 0
    complaints: int = 0
    sla_breaches: int = 0
    calls: int = 0
    low_satisfaction: int = 0  # satisfaction surveys answered 1 or 2 out of 5 (90 days)


@dataclass(frozen=True)
class Billing:
    revenue_cents: int = 0  # invoiced over the last twelve months
    previous_revenue_cents: int = 0  # the twelve months before
    invoices: int = 0  # ever
    late_invoices: int = 0  # paid after the due date, or unpaid and overdue (12 months)


@dataclass(frozen=True)
class Rules:
    best_revenue_cents: int = 100_000  # set from the population: see `best_threshold`
    costly_ratio: float = 0.5
    costly_min_cost_cents: int = 5_000
    growth: float = 0.25
    fall: float = 0.3
    complaints: int = 2
    sla_breaches: int = 2
    low_satisfaction: int = 1
    late_invoices: int = 2
    info_only_contacts: int = 3
    # At risk: at most this share of paying customers, the riskiest first (see `at_risk_cut`)...
    at_risk_share: float = 0.1
    # ...and never below this score, however calm the base: a fall of 30 %, three missed
    # targets or two complaints; two missed targets alone (2 points) are not enough.
    at_risk_min_score: float = 3.0
    # (score, revenue) of the last customer in; set from the population by `at_risk_cut`.
    at_risk_cut: tuple[float, int] = (0.0, 0)


@dataclass(frozen=True)
class Signal:
    code: str  # e.g. "falling_revenue"
    value: float  # the figure behind it (a ratio, a count, cents)
    decisive: bool = False  # one of the signals that chose the segment


@dataclass(frozen=True)
class Valuation:
    segment: str
    cost_cents: int
    cost_breakdown: dict[str, int]
    late_payer: bool
    info_only: bool
    contacts: int
    signals: tuple[Signal, ...]


def cost_to_serve(usage: Usage, rates: CostRates) -> dict[str, int]:
    """The cost of each kind of contact, in cents."""
    return {
        "talk": round(usage.talk_s / 60 * rates.talk_minute),
        "tickets": usage.tickets * rates.ticket,
        "sms": usage.sms * rates.sms,
        "field_visits": usage.field_visits * rates.field_visit,
        "complaints": usage.complaints * rates.complaint,
    }


def best_threshold(revenues: Sequence[int], *, top_share: float = 0.2, floor: int = 1) -> int:
    """The revenue from which a paying customer is in the top `top_share` of them."""
    paying = sorted(r for r in revenues if r > 0)
    if not paying:
        return max(floor, 1)
    index = max(len(paying) - max(math.ceil(len(paying) * top_share), 1), 0)
    return max(paying[index], floor)


# Risk score weights: a complaint weighs two missed targets; losing a tenth of the revenue, one.
COMPLAINT_POINTS = 2.0
BREACH_POINTS = 1.0
# A low satisfaction score (1 or 2 out of 5) weighs a missed target: the customer said it.
LOW_SATISFACTION_POINTS = 1.0
FALL_POINTS_PER_TENTH = 1.0


def risk_score(usage: Usage, billing: Billing) -> float:
    """How strongly a customer looks about to leave: 2 points per complaint and 1 per missed
    service-level target in the last 90 days, plus 1 point per tenth of revenue lost on the
    previous twelve months (a fall of 40 % adds 4)."""
    previous = billing.previous_revenue_cents
    fall = max(previous - billing.revenue_cents, 0) / previous if previous else 0.0
    return round(
        COMPLAINT_POINTS * usage.complaints
        + BREACH_POINTS * usage.sla_breaches
        + LOW_SATISFACTION_POINTS * usage.low_satisfaction
        + FALL_POINTS_PER_TENTH * 10 * fall,
        4,
    )


def _risk_signals(usage: Usage, billing: Billing, rules: Rules) -> list[Signal]:
    """The signals of a customer about to leave, each past its absolute threshold."""
    previous = billing.previous_revenue_cents
    change = (billing.revenue_cents - previous) / previous if previous else None
    risk: list[Signal] = []
    if usage.complaints >= rules.complaints:
        risk.append(Signal("repeated_complaints", usage.complaints))
    if usage.sla_breaches >= rules.sla_breaches:
        risk.append(Signal("sla_breaches", usage.sla_breaches))
    if usage.low_satisfaction >= rules.low_satisfaction:
        risk.append(Signal("low_satisfaction", usage.low_satisfaction))
    if change is not None and change <= -rules.fall:
        risk.append(Signal("falling_revenue", round(change, 4)))
    return risk


def _cost_driven(cost: int, revenue: int, rules: Rules) -> bool:
    return (revenue > 0 and cost / revenue >= rules.costly_ratio) or (
        revenue == 0 and cost >= rules.costly_min_cost_cents
    )


def risk_candidate(
    usage: Usage, billing: Billing, rules: Rules, rates: CostRates
) -> tuple[float, int] | None:
    """(risk score, revenue) of a customer the absolute rules would put at risk, else None:
    still buying, a risk signal past its threshold, the minimum score, not costly to serve."""
    revenue = billing.revenue_cents
    if revenue <= 0 or not _risk_signals(usage, billing, rules):
        return None
    if _cost_driven(sum(cost_to_serve(usage, rates).values()), revenue, rules):
        return None
    score = risk_score(usage, billing)
    return (score, revenue) if score >= rules.at_risk_min_score else None


def at_risk_cut(
    candidates: Sequence[tuple[float, int]], paying: int, share: float
) -> tuple[float, int]:
    """The (score, revenue) from which a candidate is among the riskiest `share` of the `paying`
    customers. Higher scores first; between equal scores, more revenue first (losing them costs
    more). With fewer candidates than the share allows, every candidate is in."""
    allowed = max(math.floor(paying * share), 1)
    if len(candidates) <= allowed:
        return (0.0, 0)
    ranked = sorted(candidates, reverse=True)
    return ranked[allowed - 1]


def population_rules(
    profiles: Iterable[tuple[Usage, Billing]], rates: CostRates, base: Rules | None = None
) -> Rules:
    """The rules with their relative parts set from the customers valued together: the revenue
    of the top fifth of paying customers for `best`, and the cut of the riskiest
    `at_risk_share` of paying customers for `at_risk`."""
    base = base or Rules()
    profiles = list(profiles)
    revenues = [b.revenue_cents for _, b in profiles]
    candidates = [
        found
        for usage, billing in profiles
        if (found := risk_candidate(usage, billing, base, rates)) is not None
    ]
    paying = sum(1 for r in revenues if r > 0)
    return replace(
        base,
        best_revenue_cents=best_threshold(revenues),
        at_risk_cut=at_risk_cut(candidates, paying, base.at_risk_share),
    )


def classify(usage: Usage, billing: Billing, rules: Rules, rates: CostRates) -> Valuation:
    breakdown = cost_to_serve(usage, rates)
    cost = sum(breakdown.values())
    revenue, previous = billing.revenue_cents, billing.previous_revenue_cents
    contacts = usage.calls + usage.tickets + usage.sms
    change = (revenue - previous) / previous if previous else None
    ratio = cost / revenue if revenue else None

    late_payer = billing.late_invoices >= rules.late_invoices
    info_only = billing.invoices == 0 and contacts >= rules.info_only_contacts
    risk = _risk_signals(usage, billing, rules)
    costly: list[Signal] = []
    if ratio is not None and ratio >= rules.costly_ratio:
        costly.append(Signal("cost_over_revenue", round(ratio, 4)))
    if revenue == 0 and cost >= rules.costly_min_cost_cents:
        costly.append(Signal("cost_without_revenue", cost))
    if late_payer:
        costly.append(Signal("late_payer", billing.late_invoices))
    best = (
        [Signal("top_revenue", revenue)]
        if revenue >= rules.best_revenue_cents and revenue > 0 and not late_payer
        else []
    )
    growing: list[Signal] = []
    if change is not None and change >= rules.growth:
        growing.append(Signal("growing_revenue", round(change, 4)))
    elif previous == 0 and revenue > 0:
        growing.append(Signal("new_customer", revenue))
    info = [Signal("info_only", contacts)] if info_only else []

    candidate = risk_candidate(usage, billing, rules, rates)
    if candidate is not None and candidate >= rules.at_risk_cut:
        segment, decisive = "at_risk", risk
    elif costly:
        segment, decisive = "costly", costly
    elif best:
        segment, decisive = "best", best
    elif growing:
        segment, decisive = "growing", growing
    elif info:
        segment, decisive = "info_only", info
    else:
        segment, decisive = "standard", []
    chosen = {s.code for s in decisive}
    ordered = [
        Signal(s.code, s.value, s.code in chosen)
        for s in [*decisive, *risk, *costly, *best, *growing, *info]
    ]
    unique: dict[str, Signal] = {}
    for s in ordered:
        unique.setdefault(s.code, s)
    signals = tuple(unique.values())
    return Valuation(segment, cost, breakdown, late_payer, info_only, contacts, signals)
