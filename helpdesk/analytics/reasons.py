"""Why a model ran, or why it did not, as a code and its figures.

The training run stores both the code with its figures (the console words them in the reader's
language: agents_ui/model_labels.py) and the English sentence (the CLI, the logs, and runs
stored before codes existed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENGLISH: dict[str, str] = {
    "too_few_repeat_buyers": (
        "{repeat} repeat buyers, fewer than the {needed} the BG/NBD model needs"
    ),
    "enough_repeat_buyers": "{repeat} repeat buyers: enough for the model",
    "no_convergence": "the optimiser did not converge: {detail}",
    "gamma_gamma_q": "Gamma-Gamma fitted q = {q:.2f} ≤ 1: expected spend is undefined",
    "non_finite": "the fitted model gave non-finite predictions",
    "too_few_active": "{active} active customers in the {period} period, fewer than {needed}",
    "too_few_churners": (
        "{churners} churners and {stayed} who stayed in the {period} period: "
        "each needs at least {needed}"
    ),
    "churn_trained": (
        "{train} customers ({train_churners} churners) to train, "
        "{test} ({test_churners}) to evaluate"
    ),
}


@dataclass(frozen=True)
class Reason:
    """A code of `ENGLISH` and the figures its sentence quotes."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        return ENGLISH[self.code].format(**self.values)

    def __str__(self) -> str:
        return self.english()
