"""The text of an SMS or e-mail campaign: its placeholders, checked when saved, filled when sent
(pure). The same `{{name}}` syntax as macros, so an agent who writes one writes the other."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS: tuple[str, ...] = ("customer.name", "customer.first_name", "campaign.name")
_KNOWN = frozenset(PLACEHOLDERS)
_PATTERN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def unknown(text: str) -> list[str]:
    """Names between `{{ }}` that are not placeholders: a typo that would reach every customer."""
    seen: list[str] = []
    for match in _PATTERN.finditer(text):
        name = match.group(1)
        if name not in _KNOWN and name not in seen:
            seen.append(name)
    return seen


def render(text: str, values: Mapping[str, str]) -> str:
    return _PATTERN.sub(
        lambda m: values.get(m.group(1), "") if m.group(1) in _KNOWN else m.group(0), text
    )


def values_for(name: str, campaign_name: str) -> dict[str, str]:
    parts = name.split()
    return {
        "customer.name": name,
        "customer.first_name": parts[0] if parts else "",
        "campaign.name": campaign_name,
    }
