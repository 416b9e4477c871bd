"""A service's reason for refusing a field, said in the reader's language.

The services refuse in English, as the API answers; where a reason carries its code
(`helpdesk.errors.FieldReason`), the console words it from the code and its values. A reason
without one, or with a code not listed here, is shown as the service wrote it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from helpdesk.errors import FieldReason


def _guessable(hint: str) -> str:
    """A password too easy to guess, with what makes it so when the estimator said."""
    why = {
        "keyboard_row": _("a row of the keyboard"),
        "keyboard_pattern": _("a short keyboard pattern"),
        "repeat": _("repeated characters or groups"),
        "sequence": _("a sequence such as abc or 6543"),
        "year": _("a recent year"),
        "date": _("a date"),
        "common": _("one of the most common passwords"),
        "like_common": _("close to a common password"),
        "word": _("a single word"),
        "name": _("a name or surname"),
    }.get(hint)
    if why is None:
        return str(_("Too easy to guess."))
    return str(_("Too easy to guess: %(why)s.", why=why))


_WORDED: dict[str, Callable[[dict[str, object]], str]] = {
    "too_short": lambda v: str(_("At least %(count)d characters.", count=int(str(v["min"])))),
    "too_long": lambda v: str(_("At most %(count)d characters.", count=int(str(v["max"])))),
    "password_own_details": lambda _v: str(
        _("Too close to the e-mail address, the name or the product's name.")
    ),
    "password_guessable": lambda v: _guessable(str(v.get("hint") or "")),
    "skill_level_range": lambda v: str(
        _("%(skill)s: the level goes from 1 to 5.", skill=v.get("skill", ""))
    ),
    "skill_level_number": lambda v: str(
        _("%(skill)s: the level is a number from 1 to 5.", skill=v.get("skill", ""))
    ),
    "skill_too_long": lambda v: str(
        _("At most %(count)d characters a skill.", count=int(str(v["max"])))
    ),
}


def said(reason: str) -> str:
    """The reason in the reader's language where its code is known; as written otherwise."""
    if isinstance(reason, FieldReason):
        word = _WORDED.get(reason.code)
        if word is not None:
            return word(reason.values)
    return str(reason)
