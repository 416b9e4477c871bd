"""Placeholders in a macro's text: which exist, which a text uses, and the text with them filled.

Pure: the values come in as plain strings and go out as plain text. Nothing here escapes for
HTML, since a reply is plain text and the console shows it escaped like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS: tuple[str, ...] = (
    "customer.name",
    "customer.first_name",
    "ticket.reference",
    "agent.name",
    "technician.eta",
)
_KNOWN = frozenset(PLACEHOLDERS)
# `{{ name }}`, spaces inside the braces allowed; the name is what lies between them.
_PATTERN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# What {{technician.eta}} says when the ticket has no visit scheduled, by language.
NOT_SCHEDULED: dict[str, str] = {"en": "not scheduled yet", "fr": "pas encore planifiée"}


def used(text: str) -> list[str]:
    """The placeholder names in `text`, each once, in order of first use."""
    seen: list[str] = []
    for match in _PATTERN.finditer(text):
        name = match.group(1)
        if name not in seen:
            seen.append(name)
    return seen


def unknown(text: str) -> list[str]:
    """The names in `text` that are not placeholders (a typo would otherwise reach a customer)."""
    return [name for name in used(text) if name not in _KNOWN]


def first_name(name: str) -> str:
    """The first word of a person's name; the whole (trimmed) name when it has one word."""
    parts = name.split()
    return parts[0] if parts else ""


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value ("" when the value is missing).

    Unknown names are left as written: saving refuses them, so they only reach here from text
    written before a placeholder was withdrawn, and showing them is better than losing words.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in _KNOWN:
            return match.group(0)
        return values.get(name, "")

    return _PATTERN.sub(fill, text)
