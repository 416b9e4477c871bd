"""Churn risk: who among the active customers will stop buying, with the reasons.

Label. A customer is *active* at a cutoff if they bought in the year before it; an active customer
*churns* if they make no purchase in the `HORIZON_DAYS` (90) after it. Customers who were not
active are not scored by the model: they are gone already, or not yet customers.

Hold-out in time, never shuffled. With T the last day of data and h = 90 days, the model is trained
on features at T - 2h with labels from (T - 2h, T - h], evaluated on features at T - h with labels
from (T - h, T], and the reported ROC AUC and calibration come from that evaluation alone. The
model that scores everyone at T is then refitted on both periods (the same recipe, more and
fresher data).

Model. A standardised logistic regression: a few readable features, coefficients that say which
way each one pushes, and per-customer contributions (coefficient * standardised value) that turn
into the drivers shown to agents ("3 complaints in 60 days", "revenue down 40%").

Too little data (fewer than `MIN_CUSTOMERS` active customers or fewer than `MIN_CHURNERS`
churners, or fewer than that many who stayed, in either period) trains no model: churn risk is
left empty and the value module's "at risk" rule stays the signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpdesk.analytics.features import Features
from helpdesk.analytics.reasons import Reason

HORIZON_DAYS = 90
MIN_CUSTOMERS = 200
MIN_CHURNERS = 20
TOP_DRIVERS = 3
CALIBRATION_BINS = 10

# (code, how it is computed from Features); the code names the driver's wording.
FEATURES: tuple[str, ...] = (
    "days_since_last",
    "purchases_year",
    "mean_spend",
    "tenure",
    "revenue_trend",
    "complaints_60",
    "complaints_90",
    "contacts_90",
    "contacts_without_purchase",
    "late_invoices",
    "low_satisfaction",
    "cost_to_serve",
)


def revenue_trend(f: Features) -> np.ndarray:
    """Revenue of the last 90 days against the 90 before, as a change in [-1, 2]: -0.4 is
    "down 40%". With nothing in either window, 0; with nothing before, +1 (new revenue)."""
    prev, now = f.revenue_prev_90_cents, f.revenue_90_cents
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(prev > 0, (now - prev) / prev, np.where(now > 0, 1.0, 0.0))
    return np.clip(change, -1.0, 2.0)


def raw_values(f: Features) -> dict[str, np.ndarray]:
    """The features in their own units (days, counts, cents, a change), as drivers quote them."""
    survey = np.where(np.isnan(f.survey_mean), 4.0, f.survey_mean)
    return {
        "days_since_last": np.maximum(f.days_since_last, 0.0),
        "purchases_year": f.purchases_year.astype(float),
        "mean_spend": f.mean_spend_cents,
        "tenure": f.tenure_days,
        "revenue_trend": revenue_trend(f),
        "complaints_60": f.complaints_60.astype(float),
        "complaints_90": f.complaints_90.astype(float),
        "contacts_90": f.contacts_90.astype(float),
        "contacts_without_purchase": f.contacts_without_purchase.astype(float),
        "late_invoices": f.late_invoices.astype(float),
        # How far the mean score (1-5) sits below 4; a customer never surveyed counts as 4.
        "low_satisfaction": np.maximum(4.0 - survey, 0.0),
        "cost_to_serve": f.cost_to_serve_cents,
    }


_LOGGED = {"days_since_last", "purchases_year", "mean_spend", "tenure", "cost_to_serve"}
_LOGGED |= {"contacts_90", "contacts_without_purchase"}


def matrix(f: Features) -> tuple[np.ndarray, np.ndarray]:
    """(model inputs, raw values): counts and money on a log scale so one big spender does not
    swing the standardisation."""
    raw = raw_values(f)
    cols = [np.log1p(raw[n]) if n in _LOGGED else raw[n] for n in FEATURES]
    raws = [raw[n] for n in FEATURES]
    return np.column_stack(cols), np.column_stack(raws)


def labels(future_purchases: np.ndarray) -> np.ndarray:
    """1 when the customer made no purchase in the 90 days after the cutoff."""
    return np.asarray(np.asarray(future_purchases) == 0, dtype=np.int64)


def sufficiency(y_train: np.ndarray, y_test: np.ndarray) -> Reason | None:
    """Why no model can be trained on these labels, or None when it can."""
    for name, y in (("training", y_train), ("hold-out", y_test)):
        churners, stayed = int(y.sum()), int(len(y) - y.sum())
        if len(y) < MIN_CUSTOMERS:
            return Reason(
                "too_few_active", {"active": len(y), "period": name, "needed": MIN_CUSTOMERS}
            )
        if min(churners, stayed) < MIN_CHURNERS:
            return Reason(
                "too_few_churners",
                {"churners": churners, "stayed": stayed, "period": name, "needed": MIN_CHURNERS},
            )
    return None


def fit(x: np.ndarray, y: np.ndarray) -> Any:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    model.fit(x, y)
    return model


@dataclass
class Evaluation:
    auc: float
    calibration: list[dict[str, float]]  # [{"predicted": .., "observed": .., "customers": ..}]
    train_customers: int
    test_customers: int
    train_churn_rate: float
    test_churn_rate: float
    coefficients: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def evaluate(model: Any, x_test: np.ndarray, y_test: np.ndarray, y_train: np.ndarray) -> Evaluation:
    """ROC AUC and a calibration curve (quantile bins) on the hold-out period."""
    prob = model.predict_proba(x_test)[:, 1]
    observed, predicted = calibration_curve(
        y_test, prob, n_bins=CALIBRATION_BINS, strategy="quantile"
    )
    edges = np.quantile(prob, np.linspace(0, 1, CALIBRATION_BINS + 1))
    counts = np.histogram(prob, bins=np.unique(edges))[0]
    bins = [
        {"predicted": float(p), "observed": float(o), "customers": int(c)}
        for p, o, c in zip(predicted, observed, counts[: len(predicted)], strict=False)
    ]
    coefs = model[-1].coef_[0]
    return Evaluation(
        auc=float(roc_auc_score(y_test, prob)),
        calibration=bins,
        train_customers=len(y_train),
        test_customers=len(y_test),
        train_churn_rate=float(np.mean(y_train)),
        test_churn_rate=float(np.mean(y_test)),
        coefficients={n: float(c) for n, c in zip(FEATURES, coefs, strict=True)},
    )


def drivers(model: Any, x: np.ndarray, raw: np.ndarray) -> list[list[dict[str, Any]]]:
    """Each customer's top reasons for risk: the features pushing the score up the most
    (contribution = coefficient * standardised value, positive only), with their raw value."""
    scaler, logistic = model[0], model[-1]
    contrib = scaler.transform(x) * logistic.coef_[0]
    order = np.argsort(-contrib, axis=1)[:, :TOP_DRIVERS]
    out: list[list[dict[str, Any]]] = []
    for i, cols in enumerate(order):
        row = []
        for j in cols:
            if contrib[i, j] <= 0.05:  # pushing towards staying, or barely: not a reason
                break
            code = FEATURES[j]
            if not _worth_saying(code, float(raw[i, j])):
                continue
            row.append(
                {
                    "code": code,
                    "value": round(float(raw[i, j]), 3),
                    "weight": round(float(contrib[i, j]), 3),
                    "text": describe(code, float(raw[i, j])),
                }
            )
        out.append(row)
    return out


def _worth_saying(code: str, value: float) -> bool:
    """A driver that would read as nothing ("0 complaints in 60 days") is dropped."""
    if code in {"complaints_60", "complaints_90", "contacts_without_purchase", "late_invoices"}:
        return value > 0
    if code == "revenue_trend":
        return value < 0
    return True


def describe(code: str, value: float) -> str:
    """The English wording of a driver; the console words the same code in its own language."""
    n = round(value)
    if n == 0 and code in {"contacts_90", "purchases_year"}:
        return {
            "contacts_90": "no contact in 90 days",
            "purchases_year": "no purchase in 12 months",
        }[code]
    texts = {
        "days_since_last": f"no purchase for {n} days",
        "purchases_year": f"{n} purchases in 12 months",
        "mean_spend": f"mean spend {value / 100:.2f}",
        "tenure": f"customer for {n} days",
        "revenue_trend": f"revenue down {abs(round(value * 100))}%",
        "complaints_60": f"{n} complaints in 60 days",
        "complaints_90": f"{n} complaints in 90 days",
        "contacts_90": f"{n} contacts in 90 days",
        "contacts_without_purchase": f"{n} contacts in 90 days without a purchase",
        "late_invoices": f"{n} invoices paid late",
        "low_satisfaction": f"satisfaction {4 - value:.1f}/5",
        "cost_to_serve": f"cost to serve {value / 100:.2f} in 12 months",
    }
    return texts[code]


@dataclass
class ChurnResult:
    method: str  # "logistic_regression" | "rules"
    why: Reason
    customer_key: np.ndarray  # the active customers at T, scored
    risk: np.ndarray | None
    drivers: list[list[dict[str, Any]]]
    evaluation: Evaluation | None

    @property
    def reason(self) -> str:
        return self.why.english()


def run(
    at_2h: Features,
    future_2h: np.ndarray,
    at_h: Features,
    future_h: np.ndarray,
    at_t: Features,
) -> ChurnResult:
    """Train on T - 2h, evaluate on T - h, score the active customers at T.

    `future_2h` and `future_h` are each customer's purchases in the 90 days after that cutoff,
    aligned with the features."""
    train_mask, test_mask = at_2h.active, at_h.active
    y_train, y_test = labels(future_2h[train_mask]), labels(future_h[test_mask])
    scored = at_t.subset(at_t.active)
    reason = sufficiency(y_train, y_test)
    if reason is not None:
        return ChurnResult("rules", reason, scored.customer_key, None, [], None)
    x_train, _ = matrix(at_2h.subset(train_mask))
    x_test, _ = matrix(at_h.subset(test_mask))
    evaluation = evaluate(fit(x_train, y_train), x_test, y_test, y_train)
    final = fit(np.vstack([x_train, x_test]), np.concatenate([y_train, y_test]))
    x_now, raw_now = matrix(scored)
    risk = final.predict_proba(x_now)[:, 1] if len(scored) else np.zeros(0)
    return ChurnResult(
        method="logistic_regression",
        why=Reason(
            "churn_trained",
            {
                "train": len(y_train),
                "train_churners": int(y_train.sum()),
                "test": len(y_test),
                "test_churners": int(y_test.sum()),
            },
        ),
        customer_key=scored.customer_key,
        risk=risk,
        drivers=drivers(final, x_now, raw_now) if len(scored) else [],
        evaluation=evaluation,
    )
