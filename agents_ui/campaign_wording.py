"""The campaign form's refusals in the reader's language. The service words its field errors in
English for the API (`helpdesk.campaigns.service.check_fields`); the console shows each of them
translated, the values they name (placeholders, codes) kept as typed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask_babel import gettext as _

_DISPOSITION_KEY = re.compile(r"^dispositions\.(\d+)\.(\w+)$")


def _exact() -> dict[str, str]:
    return {
        "a name of 1 to 120 characters": _("A name of 1 to 120 characters."),
        "a marketing campaign needs consent or a current contract": _(
            "A marketing campaign needs the consent of each person or a current contract."
        ),
        "a call campaign needs a script for the agents": _(
            "A call campaign needs a script for the agents."
        ),
        "the message is needed in both languages": _("The message is needed in both languages."),
        "a one-line subject of 1 to 200 characters": _(
            "A one-line subject of 1 to 200 characters."
        ),
        "give both ends of the window": _("Give both ends of the window."),
        "the window must end after it starts": _("The window must end after it starts."),
        "between 1 and 10": _("Between 1 and 10."),
        "between 5 minutes and 30 days": _("Between 5 minutes and 30 days."),
        "the end must come after the start": _("The end must come after the start."),
        "the channel of a started campaign cannot change": _(
            "The channel of a campaign that has started cannot change."
        ),
        "lower-case letters, digits and _ (32 at most)": _(
            "Lower-case letters, digits and _ (32 at most)."
        ),
        "an English label of 1 to 80 characters": _("An English label of 1 to 80 characters."),
        "a French label of 1 to 80 characters": _("A French label of 1 to 80 characters."),
        "at least one retry disposition and one that ends the member": _(
            "At least one “retry” disposition and one that ends the contact."
        ),
    }


def _patterns() -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    return [
        (
            re.compile(r"^unknown placeholder: (.+)$"),
            lambda m: _("Unknown placeholder: %(names)s.", names=m.group(1)),
        ),
        (re.compile(r"^one of (.+)$"), lambda m: _("One of: %(values)s.", values=m.group(1))),
        (
            re.compile(r"^'(.*)' is used twice$"),
            lambda m: _("The code %(code)s is used twice.", code=m.group(1)),
        ),
        (
            re.compile(r"^at most (\d+) dispositions$"),
            lambda m: _("At most %(num)s dispositions.", num=m.group(1)),
        ),
    ]


def message(text: str) -> str:
    """One refusal in the reader's language (as given when it is not a known one)."""
    if (known := _exact().get(text)) is not None:
        return str(known)
    for pattern, word in _patterns():
        if match := pattern.match(text):
            return str(word(match))
    return text


def field_name(key: str) -> str:
    """`dispositions.1.outcome` as "Line 2, outcome" (the lines of the form's text area)."""
    match = _DISPOSITION_KEY.match(key)
    if match is None:
        return key if key != "dispositions" else str(_("Dispositions"))
    parts = {
        "code": _("code"),
        "label_en": _("English label"),
        "label_fr": _("French label"),
        "outcome": _("outcome"),
    }
    return str(
        _(
            "Line %(num)s, %(part)s",
            num=int(match.group(1)) + 1,
            part=parts.get(match.group(2), match.group(2)),
        )
    )


def messages(errors: Mapping[str, str]) -> dict[str, str]:
    return {key: message(text) for key, text in errors.items()}
