"""How the console words customer segments and the signals behind them, in the reader's
language, with amounts and ratios formatted for their locale."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_currency, format_percent
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from helpdesk.value.segments import (
    BREACH_POINTS,
    COMPLAINT_POINTS,
    FALL_POINTS_PER_TENTH,
    LOW_SATISFACTION_POINTS,
    Rules,
)


def _(text: str, **values: Any) -> str:
    """gettext, typed: the console's strings are always text."""
    return str(gettext(text, **values))


def _n(singular: str, plural: str, num: int) -> str:
    """ngettext, typed: "1 complaint", "2 complaints" (and "0 réclamation" in French)."""
    return str(ngettext(singular, plural, num))


SEGMENTS: dict[str, Any] = {
    "best": _l("Best"),
    "growing": _l("Growing"),
    "at_risk": _l("At risk of leaving"),
    "costly": _l("Costly"),
    "info_only": _l("Information only"),
    "standard": _l("Standard"),
}
SEGMENT_HINTS: dict[str, Any] = {
    "best": _l("Pays the most, on time, at a reasonable cost: keep them and serve them first."),
    "growing": _l("Buys more than last year, or is in a first year of purchases."),
    "at_risk": _l("Still buying, but complaining, let down by missed targets or buying less."),
    "costly": _l("Serving them takes a large share of what they bring, or they pay late."),
    "info_only": _l("Contacts us several times and has never bought."),
    "standard": _l("No strong signal either way."),
}
COST_PARTS: dict[str, Any] = {
    "talk": _l("Talk time"),
    "tickets": _l("Tickets"),
    "sms": _l("Text messages"),
    "field_visits": _l("Field visits"),
    "complaints": _l("Complaints"),
}


def money(cents: int | float, currency: str = "EUR") -> str:
    return str(format_currency(cents / 100, currency, locale=get_locale()))


def pct(ratio: float) -> str:
    return str(format_percent(abs(ratio), locale=get_locale(), decimal_quantization=False))


def segment_rules(rules: Rules | None = None) -> list[dict[str, str]]:
    """How each segment is decided, in plain words and in the order the rules are tried, with
    the figures of the rules in force (`helpdesk.value.segments.Rules`)."""
    rules = rules or Rules()
    texts = {
        "at_risk": _(
            "Still buying, but showing signs of leaving. Each sign adds to a risk score: "
            "%(complaint)s points per complaint and %(breach)s per missed service-level target "
            "in the last 90 days, %(fall)s per tenth of the revenue lost on the previous 12 "
            "months. It takes at least %(min)s points, with %(complaints)s complaints, "
            "%(breaches)s missed targets or revenue down %(drop)s or more. Only the riskiest "
            "%(share)s of paying customers are listed (on equal scores, the larger accounts "
            "first), so the list stays short enough to call each of them back.",
            complaint=_number(COMPLAINT_POINTS),
            breach=_number(BREACH_POINTS),
            fall=_number(FALL_POINTS_PER_TENTH),
            min=_number(rules.at_risk_min_score),
            complaints=rules.complaints,
            breaches=rules.sla_breaches,
            drop=pct(rules.fall),
            share=pct(rules.at_risk_share),
        )
        + " "
        + _(
            "A satisfaction survey answered 1 or 2 out of 5 in the last 90 days adds "
            "%(points)s point each, and is a sign from %(num)s such answer.",
            points=_number(LOW_SATISFACTION_POINTS),
            num=rules.low_satisfaction,
        ),
        "costly": _(
            "The cost to serve them reaches %(ratio)s of their revenue, or exceeds %(amount)s "
            "without revenue; or %(late)s invoices or more were paid late in 12 months.",
            ratio=pct(rules.costly_ratio),
            amount=money(rules.costly_min_cost_cents),
            late=rules.late_invoices,
        ),
        "best": _(
            "Among the fifth of paying customers with the highest revenue over 12 months, and "
            "paying on time."
        ),
        "growing": _(
            "Revenue up %(growth)s or more on the previous 12 months, or a first year of "
            "purchases.",
            growth=pct(rules.growth),
        ),
        "info_only": _("%(n)s contacts or more, and never an invoice.", n=rules.info_only_contacts),
        "standard": _("Everyone else."),
    }
    return [
        {"segment": code, "name": segment_name(code), "text": text} for code, text in texts.items()
    ]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def segment_name(code: str) -> str:
    return str(SEGMENTS.get(code, code))


def signal_text(signal: dict[str, Any]) -> str:
    code, value = signal.get("code"), signal.get("value") or 0
    if code == "top_revenue":
        return _(
            "Revenue of %(amount)s over 12 months, in the top fifth of paying customers",
            amount=money(value),
        )
    if code == "growing_revenue":
        return _("Revenue up %(pct)s on the previous 12 months", pct=pct(value))
    if code == "new_customer":
        return _("First year of purchases: %(amount)s", amount=money(value))
    if code == "falling_revenue":
        return _("Revenue down %(pct)s on the previous 12 months", pct=pct(value))
    if code == "repeated_complaints":
        return _n(
            "%(num)d complaint in the last 90 days",
            "%(num)d complaints in the last 90 days",
            int(value),
        )
    if code == "sla_breaches":
        return _n(
            "%(num)d service-level target missed in the last 90 days",
            "%(num)d service-level targets missed in the last 90 days",
            int(value),
        )
    if code == "low_satisfaction":
        return _n(
            "%(num)d satisfaction survey answered 1 or 2 out of 5 in the last 90 days",
            "%(num)d satisfaction surveys answered 1 or 2 out of 5 in the last 90 days",
            int(value),
        )
    if code == "cost_over_revenue":
        return _("Serving them costs %(pct)s of their revenue", pct=pct(value))
    if code == "cost_without_revenue":
        return _("Serving them cost %(amount)s with no revenue", amount=money(value))
    if code == "late_payer":
        return _n(
            "%(num)d invoice paid late or overdue in 12 months",
            "%(num)d invoices paid late or overdue in 12 months",
            int(value),
        )
    if code == "info_only":
        return _n(
            "%(num)d contact and never an invoice",
            "%(num)d contacts and never an invoice",
            int(value),
        )
    return str(code)


def explained(value: dict[str, Any]) -> dict[str, Any]:
    """A customer value (as `helpdesk.value.service.value_dict` gives it) ready to show."""
    return {
        **value,
        "segment_name": segment_name(value["segment"]),
        "segment_hint": str(SEGMENT_HINTS.get(value["segment"], "")),
        "reasons": [
            {"text": signal_text(s), "decisive": bool(s.get("decisive"))}
            for s in value.get("signals") or []
        ],
        "revenue": money(value["revenue_cents"]),
        "previous_revenue": money(value["previous_revenue_cents"]),
        "cost": money(value["cost_cents"]),
        "costs": [
            (str(COST_PARTS.get(k, k)), money(v))
            for k, v in (value.get("cost_breakdown") or {}).items()
            if v
        ],
    }
