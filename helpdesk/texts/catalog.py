"""Which texts administrators may reword, and the rules a wording must follow (pure).

The defaults stay in the code that sends each text (telephony's SMS answers, the mail
acknowledgement): that code registers them here, so this module imports none of it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES = ("fr", "en")
GROUPS = ("sms", "email", "portal", "surveys")
MAX_LENGTH = 2000


@dataclass(frozen=True)
class Entry:
    key: str  # "sms.help", "email.ack"
    group: str  # one of GROUPS
    defaults: Mapping[str, str]  # language -> the code's text
    placeholders: frozenset[str]  # every one must be kept; no other may be added
    sms: bool = False  # sent as a text: its segment count matters
    one_line: bool = False  # an e-mail subject


@dataclass(frozen=True)
class Problem:
    """Why a wording is refused: empty, too_long, multiline, malformed, missing or unknown
    (`names`)."""

    kind: str
    names: tuple[str, ...] = ()


CATALOG: dict[str, Entry] = {}


def register(
    key: str, group: str, defaults: Mapping[str, str], *, sms: bool = False, one_line: bool = False
) -> None:
    """Declare a text; its placeholders are those of its default, the same in every language."""
    if group not in GROUPS or set(defaults) != set(LANGUAGES):
        raise ValueError(f"text {key}: group {group!r}, languages {sorted(defaults)}")
    names = {lang: placeholders_of(text) for lang, text in defaults.items()}
    if any(found is None or found != names["en"] for found in names.values()):
        raise ValueError(f"text {key}: the defaults disagree on their placeholders")
    placeholders = frozenset(names["en"] or ())
    CATALOG[key] = Entry(key, group, dict(defaults), placeholders, sms, one_line)


def placeholders_of(text: str) -> set[str] | None:
    """The `{name}`s a text uses; None when it is not a template that `str.format` reads safely:
    unbalanced braces, or a field with an attribute, an index, a conversion or a format (which
    could reach into the values' objects)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None
    names: set[str] = set()
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            return None
        names.add(field)
    return names


def check(entry: Entry, text: str) -> Problem | None:
    """What is wrong with `text` as a wording of `entry`, or None."""
    if not text.strip():
        return Problem("empty")
    if len(text) > MAX_LENGTH:
        return Problem("too_long")
    if entry.one_line and ("\n" in text or "\r" in text):
        return Problem("multiline")
    found = placeholders_of(text)
    if found is None:
        return Problem("malformed")
    missing = entry.placeholders - found
    if missing:
        return Problem("missing", tuple(sorted(missing)))
    unknown = found - entry.placeholders
    if unknown:
        return Problem("unknown", tuple(sorted(unknown)))
    return None


def language_of(entry: Entry, language: str) -> str:
    return language if language in entry.defaults else "en"
