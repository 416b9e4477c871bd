"""The text of a campaign, its placeholders checked when saved and filled when used (pure): the
SMS or e-mail message when it is sent, the call script when the agent's panel shows it. The same
`{{name}}` syntax as macros, so an agent who writes one writes the other."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

PLACEHOLDERS: tuple[str, ...] = ("customer.name", "customer.first_name", "campaign.name")
# A script is read by an agent on a call: the agent's own name may be in it as well.
SCRIPT_PLACEHOLDERS: tuple[str, ...] = (*PLACEHOLDERS, "agent.name", "agent.first_name")
_PATTERN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def unknown(text: str, known: Iterable[str] = PLACEHOLDERS) -> list[str]:
    """Names between `{{ }}` that are not placeholders: a typo that would reach every customer."""
    names = frozenset(known)
    seen: list[str] = []
    for match in _PATTERN.finditer(text):
        name = match.group(1)
        if name not in names and name not in seen:
            seen.append(name)
    return seen


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with every placeholder `values` knows filled (unknown ones left as written)."""
    return _PATTERN.sub(
        lambda m: values.get(m.group(1), "") if m.group(1) in values else m.group(0), text
    )


def _first(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def values_for(name: str, campaign_name: str, agent_name: str | None = None) -> dict[str, str]:
    """The values of the placeholders for one person (and, for a script, the agent calling)."""
    values = {
        "customer.name": name,
        "customer.first_name": _first(name),
        "campaign.name": campaign_name,
    }
    if agent_name is not None:
        values |= {"agent.name": agent_name, "agent.first_name": _first(agent_name)}
    return values
