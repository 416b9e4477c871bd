"""What an agent may record after a campaign call, and what each answer does to the member (pure).

A disposition has a code, French and English labels, and an outcome that decides what happens
next: `reached` and `converted` close the member (the person was spoken to), `refused` closes it
and records a refusal (the compliance rules then keep everyone from calling for the quiet period),
`retry` reschedules within the campaign's limits (no answer, busy, call back later).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

OUTCOMES = ("reached", "converted", "refused", "retry")
MAX_DISPOSITIONS = 20
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _d(code: str, en: str, fr: str, outcome: str) -> dict[str, str]:
    return {"code": code, "label_en": en, "label_fr": fr, "outcome": outcome}


DEFAULTS: tuple[dict[str, str], ...] = (
    _d("interested", "Interested", "Intéressé", "converted"),
    _d("reached", "Reached, not interested now", "Joint, pas intéressé pour l'instant", "reached"),
    _d("refused", "Refused: do not contact again", "Refus : ne plus contacter", "refused"),
    _d("no_answer", "No answer", "Pas de réponse", "retry"),
    _d("busy", "Busy", "Occupé", "retry"),
    _d("call_back", "Call back later", "Rappeler plus tard", "retry"),
)


@dataclass(frozen=True)
class Disposition:
    code: str
    label_en: str
    label_fr: str
    outcome: str

    def label(self, language: str) -> str:
        return self.label_fr if language == "fr" else self.label_en


def check(raw: Sequence[Mapping[str, str]]) -> tuple[list[Disposition], dict[str, str]]:
    """The dispositions as written, and the problems by field (`dispositions.2.code`): each code
    a short identifier, used once, both labels given, a known outcome; at least one that ends
    the member and one to retry, or a campaign could never finish or never try again."""
    out: list[Disposition] = []
    errors: dict[str, str] = {}
    if not raw:
        return [], {"dispositions": "at least one disposition is needed"}
    if len(raw) > MAX_DISPOSITIONS:
        return [], {"dispositions": f"at most {MAX_DISPOSITIONS} dispositions"}
    seen: set[str] = set()
    for i, item in enumerate(raw):
        code = str(item.get("code", "")).strip()
        en = str(item.get("label_en", "")).strip()
        fr = str(item.get("label_fr", "")).strip()
        outcome = str(item.get("outcome", "")).strip()
        if not _CODE.match(code):
            errors[f"dispositions.{i}.code"] = "lower-case letters, digits and _ (32 at most)"
        elif code in seen:
            errors[f"dispositions.{i}.code"] = f"{code!r} is used twice"
        seen.add(code)
        if not en or len(en) > 80:
            errors[f"dispositions.{i}.label_en"] = "an English label of 1 to 80 characters"
        if not fr or len(fr) > 80:
            errors[f"dispositions.{i}.label_fr"] = "a French label of 1 to 80 characters"
        if outcome not in OUTCOMES:
            errors[f"dispositions.{i}.outcome"] = f"one of {', '.join(OUTCOMES)}"
        out.append(Disposition(code, en, fr, outcome))
    if not errors:
        outcomes = {d.outcome for d in out}
        if "retry" not in outcomes or not outcomes - {"retry"}:
            errors["dispositions"] = "at least one retry disposition and one that ends the member"
    return out, errors


def parse(raw: Iterable[Mapping[str, str]]) -> list[Disposition]:
    """The stored list (already checked when saved)."""
    return [Disposition(d["code"], d["label_en"], d["label_fr"], d["outcome"]) for d in raw]


@dataclass(frozen=True)
class Next:
    """What a disposition does to the member: its new status and when to try again."""

    status: str  # "done" | "pending"
    next_attempt_at: datetime | None
    refused: bool = False
    exhausted: bool = False  # a retry beyond the campaign's attempts: the member is done


def after(
    disposition: Disposition,
    *,
    attempts: int,
    max_attempts: int,
    retry_delay: timedelta,
    now: datetime,
    ends_at: datetime | None = None,
) -> Next:
    """The member's next state after an attempt (`attempts` counts it) ended with `disposition`.

    A retry goes back in line after the retry delay, unless the campaign's own limit of attempts
    is reached or the next try would fall after the campaign's end: then the member is done."""
    if disposition.outcome == "refused":
        return Next("done", None, refused=True)
    if disposition.outcome != "retry":
        return Next("done", None)
    at = now + retry_delay
    if attempts >= max_attempts or (ends_at is not None and at >= ends_at):
        return Next("done", None, exhausted=True)
    return Next("pending", at)
