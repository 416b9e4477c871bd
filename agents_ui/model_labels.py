"""How the console words the customer models: the churn drivers in the reader's language, the
method that ran, and a customer's scores ready to show."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from agents_ui.formatting import number
from agents_ui.value_labels import money, pct


def _(text: str, **values: Any) -> str:
    """gettext, typed: the console's strings are always text."""
    return str(gettext(text, **values))


def _n(singular: str, plural: str, num: int) -> str:
    """ngettext, typed ("1 complaint", "2 complaints"; "0 réclamation" in French)."""
    return str(ngettext(singular, plural, num))


METHODS: dict[str, Any] = {
    "bgnbd_gamma_gamma": _l("BG/NBD and Gamma-Gamma model"),
    "simple": _l("Simple estimate: mean spend, times purchase rate, times expected stay"),
    "logistic_regression": _l("Logistic regression"),
    "rules": _l("No model: the “at risk” segment rule"),
}


def method_name(code: str) -> str:
    return str(METHODS.get(code, code))


PERIODS: dict[str, Any] = {
    "training": _l("training"),
    "hold-out": _l("hold-out"),
}


def reason_text(code: str | None, values: dict[str, Any] | None, english: str = "") -> str:
    """Why a model ran or not (`helpdesk.analytics.reasons`), in the reader's language. A run
    stored before the codes existed, or with an unknown code, keeps its English sentence."""
    v = dict(values or {})
    period = str(PERIODS.get(str(v.get("period", "")), v.get("period", "")))
    try:
        if code == "too_few_repeat_buyers":
            return _(
                "%(repeat)s repeat buyers, fewer than the %(needed)s the BG/NBD model needs",
                repeat=v["repeat"],
                needed=v["needed"],
            )
        if code == "enough_repeat_buyers":
            return _("%(repeat)s repeat buyers: enough for the model", repeat=v["repeat"])
        if code == "no_convergence":
            return _("the optimiser did not converge (%(detail)s)", detail=v["detail"])
        if code == "gamma_gamma_q":
            return _(
                "the Gamma-Gamma model fitted q = %(q)s ≤ 1: the expected spend is undefined",
                q=number(float(v["q"]), 2),
            )
        if code == "non_finite":
            return _("the fitted model gave non-finite predictions")
        if code == "too_few_active":
            return _(
                "%(active)s active customers in the %(period)s period, fewer than %(needed)s",
                active=v["active"],
                period=period,
                needed=v["needed"],
            )
        if code == "too_few_churners":
            return _(
                "%(churners)s customers who stopped buying and %(stayed)s who kept buying in "
                "the %(period)s period: each needs at least %(needed)s",
                churners=v["churners"],
                stayed=v["stayed"],
                period=period,
                needed=v["needed"],
            )
        if code == "churn_trained":
            return _(
                "%(train)s customers (%(train_churners)s who stopped buying) to train, "
                "%(test)s (%(test_churners)s) to evaluate",
                train=v["train"],
                train_churners=v["train_churners"],
                test=v["test"],
                test_churners=v["test_churners"],
            )
    except (KeyError, TypeError, ValueError):
        pass
    return english


def run_reason(metrics: dict[str, Any]) -> str:
    """A stored run's reason (its metrics' "reason_code", "reason_values", "reason")."""
    return reason_text(
        metrics.get("reason_code"), metrics.get("reason_values"), str(metrics.get("reason", ""))
    )


def skipped_reason(holdout: dict[str, Any]) -> str:
    """Why the CLV hold-out check did not run, in the reader's language."""
    return reason_text(
        holdout.get("skipped_code"), holdout.get("skipped_values"), str(holdout.get("skipped", ""))
    )


def driver_text(driver: dict[str, Any]) -> str:
    """One reason for a churn risk with its figure ("3 complaints in 60 days")."""
    code, value = str(driver.get("code", "")), float(driver.get("value") or 0)
    n = round(value)
    if code == "days_since_last":
        return _n("No purchase for %(num)d day", "No purchase for %(num)d days", n)
    if code == "purchases_year":
        return _n("%(num)d purchase in 12 months", "%(num)d purchases in 12 months", n)
    if code == "mean_spend":
        return _("Mean spend %(amount)s", amount=money(value))
    if code == "tenure":
        return _n("Customer for %(num)d day", "Customer for %(num)d days", n)
    if code == "revenue_trend":
        return _("Revenue down %(pct)s on the previous 90 days", pct=pct(round(value, 2)))
    if code == "complaints_60":
        return _n("%(num)d complaint in 60 days", "%(num)d complaints in 60 days", n)
    if code == "complaints_90":
        return _n("%(num)d complaint in 90 days", "%(num)d complaints in 90 days", n)
    if code == "contacts_90":
        return _n("%(num)d contact in 90 days", "%(num)d contacts in 90 days", n)
    if code == "contacts_without_purchase":
        return _n(
            "%(num)d contact in 90 days without a purchase",
            "%(num)d contacts in 90 days without a purchase",
            n,
        )
    if code == "late_invoices":
        return _n("%(num)d invoice paid late", "%(num)d invoices paid late", n)
    if code == "low_satisfaction":
        return _("Satisfaction %(score)s/5", score=f"{4 - value:.1f}")
    if code == "cost_to_serve":
        return _("Cost to serve %(amount)s in 12 months", amount=money(value))
    return str(driver.get("text") or code)


def scores_view(score: dict[str, Any]) -> dict[str, Any]:
    """A customer's scores (as `helpdesk.analytics.service.score_dict` gives them) to show."""
    risk = score.get("churn_risk")
    return {
        **score,
        "clv": money(score["clv_cents"]),
        "risk": pct(round(risk, 2)) if risk is not None else None,
        # Why there is no risk: no model at all, or a customer with no purchase in a year (the
        # model scores active customers only).
        "risk_note": (
            None
            if risk is not None
            else _("No model: the “at risk” segment rule applies.")
            if score.get("churn_method") in ("rules", "")
            else _("Not scored: no purchase in the last 12 months.")
        ),
        "risk_level": (
            None if risk is None else "high" if risk >= 0.5 else "medium" if risk >= 0.25 else "low"
        ),
        "p_alive_text": (
            pct(round(score["p_alive"], 2)) if score.get("p_alive") is not None else None
        ),
        "drivers_text": [driver_text(d) for d in score.get("drivers") or []],
        "clv_method_name": method_name(score.get("clv_method", "")),
        "churn_method_name": method_name(score.get("churn_method", "")),
    }


_COUNTS = (
    "days_since_last",
    "purchases_year",
    "tenure",
    "complaints_60",
    "complaints_90",
    "contacts_90",
    "contacts_without_purchase",
    "late_invoices",
)


def driver_templates() -> dict[str, dict[str, str]]:
    """The drivers' wording for caller_screen.js, in the reader's language, with `{n}`,
    `{amount}`, `{pct}` or `{score}` for the script to fill. Built by wording sample values with
    `driver_text` and putting the placeholder where the sample's figure is, so the pop and the
    pages say the same thing."""
    out: dict[str, dict[str, str]] = {}
    for code in _COUNTS:
        out[code] = {
            "one": driver_text({"code": code, "value": 1}).replace("1", "{n}", 1),
            "other": driver_text({"code": code, "value": 7}).replace("7", "{n}", 1),
        }
    sample = 123456.0
    for code in ("mean_spend", "cost_to_serve"):
        text = driver_text({"code": code, "value": sample}).replace(money(sample), "{amount}")
        out[code] = {"one": text, "other": text}
    text = driver_text({"code": "revenue_trend", "value": -0.37}).replace(pct(0.37), "{pct}")
    out["revenue_trend"] = {"one": text, "other": text}
    text = driver_text({"code": "low_satisfaction", "value": 1.7}).replace("2.3", "{score}")
    out["low_satisfaction"] = {"one": text, "other": text}
    return out
