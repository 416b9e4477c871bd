"""Console forms checked by the API's own rules.

A form is read into the dictionary the API would receive as JSON and checked with the API's input
model (`helpdesk.api.core.validated`); the service then applies its own checks, as for the API.
The console adds no rule of its own: it only says what was refused next to the field, in the
agent's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from agents_ui import field_reasons
from helpdesk.api.core import validated
from helpdesk.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class Refused(Exception):
    """What was refused, by field (`subject`, `phones.2.number`...), ready to show."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def check(model: type[M], data: dict[str, Any]) -> M:
    """`data` as the API checks it; raises `Refused` with the reasons in the agent's language."""
    try:
        return validated(model, data)
    except ValidationFailed as exc:
        raise Refused(reasons(exc)) from exc


def apply(change: Callable[[], R]) -> R:
    """Run a service call; its refusals (unknown customer, invalid number...) become `Refused`."""
    try:
        return change()
    except ValidationFailed as exc:
        raise Refused(reasons(exc)) from exc


def reasons(exc: ValidationFailed) -> dict[str, str]:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        found: dict[str, str] = {}
        for err in cause.errors():
            key = ".".join(str(p) for p in err["loc"]) or "form"
            found.setdefault(key, _message(err))
        return found
    return {
        key: field_reasons.said(text) for key, text in (exc.fields or {"form": exc.message}).items()
    }


def _message(err: Any) -> str:
    """Pydantic's reason, said for a person filling in a form."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("missing", "blank") or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return str(_("Required."))
    if kind == "string_too_short":
        return str(_("At least %(count)d characters.", count=int(ctx["min_length"])))
    if kind == "string_too_long":
        return str(_("At most %(count)d characters.", count=int(ctx["max_length"])))
    if kind == "too_long":
        return str(_("At most %(count)d entries.", count=int(ctx["max_length"])))
    if kind in ("enum", "literal_error", "int_parsing", "int_type"):
        return str(_("Choose one of the options."))
    if kind == "string_pattern_mismatch" or kind.endswith(("_parsing", "_type")):
        return str(_("This is not in the expected form."))
    if kind == "value_error" and str(err["msg"]).startswith("value is not a valid email address"):
        return str(_("This is not an e-mail address."))
    return str(err["msg"])


def optional_int(form: MultiDict[str, str], name: str) -> str | None:
    """A menu's value: absent when blank (the model's default applies), else as typed (the
    model refuses what is not a number)."""
    value = form.get(name, "").strip()
    return value or None


def tag_list(text: str) -> list[str]:
    """Tags typed as `vip, billing`: separated by commas or spaces."""
    return [t for t in text.replace(",", " ").split() if t]
