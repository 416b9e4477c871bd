"""Customer lifetime value: BG/NBD for the number of future purchases (Fader, Hardie & Lee 2005,
"Counting your customers the easy way") and Gamma-Gamma for their spend (Fader & Hardie 2013,
"The Gamma-Gamma model of monetary value"), both fitted by maximum likelihood.

Pure numpy and scipy: the parameters are optimised on their logarithms (so they stay positive)
with L-BFGS-B, the log-likelihoods are the papers' closed forms with `gammaln` and the
expectations use `hyp2f1`, vectorised over customers.

Time is in days. `frequency` counts repeat purchases, `recency` the days from first to last
purchase, `T` the days from first purchase to the cutoff.

When the data is too thin for the model (fewer than `MIN_REPEAT_BUYERS` repeat buyers, a fit that
does not converge, or a Gamma-Gamma q <= 1 for which the expected spend does not exist),
`simple_clv` runs instead: mean spend * the customer's historical purchase rate * the expected
share of the horizon they stay (the observed one-year repeat rate). The result says which method
ran and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

from helpdesk.analytics.reasons import Reason

MIN_REPEAT_BUYERS = 100
HORIZON_MONTHS = 12
DAYS_PER_MONTH = 365.25 / 12
FREQUENCY_BINS = (0, 1, 2, 3, 4, 5, 6, 7)  # the last bin is "7 and more"


class FitError(RuntimeError):
    """The optimiser did not converge, or to parameters the model cannot use."""

    def __init__(self, why: Reason) -> None:
        super().__init__(why.english())
        self.why = why


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}


def bgnbd_log_likelihood(
    params: BgNbd, x: np.ndarray, t_x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Each customer's log-likelihood (FHL 2005, equation 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4))


def _minimise(neg_ll: Any, start: np.ndarray) -> np.ndarray:
    """Log-parameters minimising `neg_ll` within e^-8..e^8.

    L-BFGS-B's line search gives up ("ABNORMAL") where a parameter sits on its bound and the
    finite-difference gradient there is noise: customers who never stop buying drive the BG/NBD
    dropout parameter `a` to its bound, and whether the search ends "converged" or "abnormal"
    then turns on the last bits of the arithmetic, so the same data could fit on one machine
    and fall back to the simple method on another. A derivative-free search from where it
    stopped settles whether that point is the minimum; only when it also fails is the fit
    refused."""
    bounds = [(-8.0, 8.0)] * len(start)
    result = minimize(neg_ll, start, method="L-BFGS-B", bounds=bounds)
    if not result.success and np.all(np.isfinite(result.x)):
        result = minimize(
            neg_ll,
            result.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 4000 * len(start)},
        )
    if not result.success or not np.all(np.isfinite(result.x)):
        raise FitError(Reason("no_convergence", {"detail": str(result.message)}))
    return np.asarray(np.exp(result.x))


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters. Time is rescaled by its mean so the optimiser works
    near 1 whatever the unit; alpha, which carries the unit, is scaled back."""
    x = np.asarray(x, float)
    scale = float(np.mean(t)) or 1.0
    t_x_s, t_s = np.asarray(t_x, float) / scale, np.asarray(t, float) / scale

    def neg_ll(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        ll = bgnbd_log_likelihood(BgNbd(r, alpha, a, b), x, t_x_s, t_s)
        total = float(np.sum(ll))
        return -total / len(x) if np.isfinite(total) else 1e10

    r, alpha, a, b = _minimise(neg_ll, np.log([1.0, 1.0, 1.0, 1.0]))
    return BgNbd(float(r), float(alpha * scale), float(a), float(b))


def expected_purchases(
    params: BgNbd, horizon: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """E[Y(horizon) | x, t_x, T]: purchases expected in the next `horizon` days (FHL 2005,
    equation 10). For a < 1 both (a - 1) and the bracket are negative: the ratio holds."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    horizon = np.asarray(horizon, float)
    z = horizon / (alpha + t + horizon)
    ratio = (alpha + t) / (alpha + t + horizon)
    head = (a + b + x - 1) / (a - 1)
    body = 1.0 - ratio ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return np.asarray(head * body * p_alive(params, x, t_x, t))


def p_alive(params: BgNbd, x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """P(still a customer | x, t_x, T) (FHL 2005, equation 11); 1 with no repeat purchase."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(
            x > 0,
            a / np.maximum(b + x - 1, 1e-12) * ((alpha + t) / (alpha + t_x)) ** (r + x),
            0.0,
        )
    return np.asarray(1.0 / (1.0 + odds))


def gamma_gamma_log_likelihood(params: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood of their mean spend `m` over `x` purchases (Fader & Hardie
    2013, equation 2 integrated over nu)."""
    p, q, g = params.p, params.q, params.gamma
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from customers with x ≥ 1 purchases and a
    positive mean spend. Spend is rescaled by its mean; gamma, which carries the unit, is scaled
    back."""
    x = np.asarray(x, float)
    scale = float(np.mean(m)) or 1.0
    m_s = np.asarray(m, float) / scale

    def neg_ll(log_params: np.ndarray) -> float:
        p, q, g = np.exp(log_params)
        total = float(np.sum(gamma_gamma_log_likelihood(GammaGamma(p, q, g), x, m_s)))
        return -total / len(x) if np.isfinite(total) else 1e10

    p, q, g = _minimise(neg_ll, np.log([1.0, 2.0, 1.0]))
    return GammaGamma(float(p), float(q), float(g * scale))


def expected_spend(params: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[M | x, m_x]: the mean spend to expect from a customer, their own mean shrunk towards the
    population's in proportion to how little we have seen of them. Needs q > 1."""
    p, q, g = params.p, params.q, params.gamma
    return np.asarray((g + m * x) * p / (p * x + q - 1))


def discounted_clv(
    params: BgNbd,
    spend: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    t: np.ndarray,
    *,
    monthly_discount: float,
    months: int = HORIZON_MONTHS,
) -> np.ndarray:
    """Sum over months of (purchases expected that month * expected spend) / (1 + d)^month."""
    total = np.zeros(len(x))
    previous = np.zeros(len(x))
    for month in range(1, months + 1):
        cumulative = expected_purchases(params, month * DAYS_PER_MONTH, x, t_x, t)
        total += (cumulative - previous) * spend / (1.0 + monthly_discount) ** month
        previous = cumulative
    return total


@dataclass
class ClvResult:
    """Per-customer predictions aligned with the input, and how they were obtained."""

    method: str  # "bgnbd_gamma_gamma" | "simple"
    why: Reason  # why this method (the data-sufficiency message shown on the page)
    clv_cents: np.ndarray
    expected_purchases_12m: np.ndarray
    p_alive: np.ndarray | None  # None with the simple method: it has no notion of it
    params: dict[str, float] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.why.english()


def _model_ready(x: np.ndarray) -> Reason | None:
    repeat = int(np.sum(x > 0))
    if repeat < MIN_REPEAT_BUYERS:
        return Reason("too_few_repeat_buyers", {"repeat": repeat, "needed": MIN_REPEAT_BUYERS})
    return None


def fit_models(
    x: np.ndarray, t_x: np.ndarray, t: np.ndarray, purchases: np.ndarray, mean_spend: np.ndarray
) -> tuple[BgNbd, GammaGamma]:
    """Fit both models, raising FitError when the data cannot carry them."""
    bg = fit_bgnbd(x, t_x, t)
    buyers = (purchases > 0) & (mean_spend > 0)
    gg = fit_gamma_gamma(purchases[buyers], mean_spend[buyers])
    if gg.q <= 1.0:
        raise FitError(Reason("gamma_gamma_q", {"q": float(gg.q)}))
    return bg, gg


def predict(
    x: np.ndarray,
    t_x: np.ndarray,
    t: np.ndarray,
    purchases: np.ndarray,
    mean_spend: np.ndarray,
    *,
    monthly_discount: float,
    fitted: tuple[BgNbd, GammaGamma] | None = None,
) -> ClvResult:
    """The CLV of each customer (arrays over customers with at least one purchase; spend in
    cents), by BG/NBD + Gamma-Gamma when the data carries them, else by the simple method."""
    reason = _model_ready(x)
    if reason is None:
        try:
            bg, gg = fitted or fit_models(x, t_x, t, purchases, mean_spend)
        except FitError as exc:
            reason = exc.why
        else:
            spend = expected_spend(gg, purchases, np.maximum(mean_spend, 1.0))
            clv = discounted_clv(bg, spend, x, t_x, t, monthly_discount=monthly_discount)
            expected = expected_purchases(bg, 365.0, x, t_x, t)
            if not (np.all(np.isfinite(clv)) and np.all(np.isfinite(expected))):
                return simple_clv(
                    x,
                    t_x,
                    t,
                    purchases,
                    mean_spend,
                    monthly_discount,
                    Reason("non_finite"),
                )
            return ClvResult(
                method="bgnbd_gamma_gamma",
                why=Reason("enough_repeat_buyers", {"repeat": int(np.sum(x > 0))}),
                clv_cents=clv,
                expected_purchases_12m=expected,
                p_alive=p_alive(bg, x, t_x, t),
                params={**bg.as_dict(), **gg.as_dict()},
            )
    return simple_clv(x, t_x, t, purchases, mean_spend, monthly_discount, reason)


def simple_clv(
    x: np.ndarray,
    t_x: np.ndarray,
    t: np.ndarray,
    purchases: np.ndarray,
    mean_spend: np.ndarray,
    monthly_discount: float,
    why: Reason,
) -> ClvResult:
    """Mean spend * historical purchase rate * expected lifetime in the horizon.

    The rate is purchases per day since the first one (at least 30 days, so a new customer's
    single purchase is not read as one a day). The expected lifetime is the horizon times the
    share of customers who bought again after their first year, a crude retention; with no one a
    year old, one half. The year is discounted at the average month's factor."""
    rate = purchases / np.maximum(t, 30.0)
    old = t >= 365.0
    retention = float(np.mean(x[old] > 0)) if old.any() else 0.5
    factors = [(1.0 + monthly_discount) ** -m for m in range(1, HORIZON_MONTHS + 1)]
    discount = float(np.mean(factors))
    expected = rate * 365.0 * retention
    return ClvResult(
        method="simple",
        why=why,
        clv_cents=expected * mean_spend * discount,
        expected_purchases_12m=expected,
        p_alive=None,
        params={"retention": retention},
    )


def holdout_table(predicted: np.ndarray, actual: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    """Predicted against actual hold-out purchases by calibration-period frequency bin, with the
    error figures the page shows: mean absolute error per customer and the error on the total."""
    rows = []
    top = FREQUENCY_BINS[-1]
    for low in FREQUENCY_BINS:
        mask = x >= low if low == top else x == low
        if not mask.any():
            continue
        rows.append(
            {
                "bin": f"{low}+" if low == top else str(low),
                "customers": int(mask.sum()),
                "predicted": float(np.mean(predicted[mask])),
                "actual": float(np.mean(actual[mask])),
            }
        )
    total_actual = float(np.sum(actual))
    return {
        "bins": rows,
        "mae": float(np.mean(np.abs(predicted - actual))) if len(x) else 0.0,
        "total_predicted": float(np.sum(predicted)),
        "total_actual": total_actual,
        "total_error": (
            float((np.sum(predicted) - total_actual) / total_actual) if total_actual else 0.0
        ),
    }
