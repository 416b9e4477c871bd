"""Choosing a policy for a ticket, and explaining the choice. Pure logic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

CONDITION_KEYS = ("channel", "group_id", "customer_tags", "priority")
PRIORITIES = ("low", "normal", "high", "urgent")
ESCALATION_ACTIONS = (
    "notify_assignee",
    "notify_supervisors",
    "raise_priority",
    "reassign_group",
    "sms_oncall",
)


@dataclass(frozen=True)
class TicketFacts:
    """What a policy's conditions may look at."""

    priority: str
    channel: str
    group_id: int | None
    customer_tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PolicyRule:
    id: int
    name: str
    position: int
    conditions: dict[str, Any]
    targets: dict[str, dict[str, int]]


def matches(conditions: dict[str, Any], facts: TicketFacts) -> list[str] | None:
    """The reasons a ticket matches (one per condition), or None when it does not."""
    reasons: list[str] = []
    channels = conditions.get("channel")
    if channels:
        if facts.channel not in channels:
            return None
        reasons.append(f"channel is {facts.channel}")
    groups = conditions.get("group_id")
    if groups:
        if facts.group_id not in groups:
            return None
        reasons.append(f"group is #{facts.group_id}")
    priorities = conditions.get("priority")
    if priorities:
        if facts.priority not in priorities:
            return None
        reasons.append(f"priority is {facts.priority}")
    tags = conditions.get("customer_tags")
    if tags:
        common = sorted(facts.customer_tags.intersection(tags))
        if not common:
            return None
        reasons.append("customer tagged " + ", ".join(common))
    return reasons


def choose(policies: Sequence[PolicyRule], facts: TicketFacts) -> tuple[PolicyRule, str] | None:
    """The first policy (by position, then id) whose conditions all hold, with the reason why."""
    for policy in sorted(policies, key=lambda p: (p.position, p.id)):
        reasons = matches(policy.conditions, facts)
        if reasons is None:
            continue
        if facts.priority not in policy.targets:
            continue
        why = " and ".join(reasons) if reasons else "default policy"
        return policy, f"policy {policy.name!r} ({why})"
    return None


def validate_targets(targets: dict[str, Any]) -> dict[str, str]:
    """Field errors for a policy's targets; empty when valid."""
    errors: dict[str, str] = {}
    for priority, metrics in targets.items():
        if priority not in PRIORITIES:
            errors[f"targets.{priority}"] = "unknown priority"
            continue
        if not isinstance(metrics, dict):
            errors[f"targets.{priority}"] = "expected {metric: seconds}"
            continue
        for metric, seconds in metrics.items():
            if metric not in ("first_response", "next_response", "resolution"):
                errors[f"targets.{priority}.{metric}"] = "unknown metric"
            elif not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
                errors[f"targets.{priority}.{metric}"] = "a positive number of seconds"
    return errors


def validate_conditions(conditions: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, value in conditions.items():
        if key not in CONDITION_KEYS:
            errors[f"conditions.{key}"] = "unknown condition"
        elif not isinstance(value, list):
            errors[f"conditions.{key}"] = "expected a list"
    return errors


def validate_escalations(rules: Iterable[Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or rule.get("on") not in ("at_risk", "breached"):
            errors[f"escalations.{i}.on"] = "at_risk or breached"
            continue
        for j, action in enumerate(rule.get("actions", [])):
            if not isinstance(action, dict) or action.get("type") not in ESCALATION_ACTIONS:
                errors[f"escalations.{i}.actions.{j}"] = "one of " + ", ".join(ESCALATION_ACTIONS)
            elif action["type"] == "reassign_group" and not isinstance(action.get("group_id"), int):
                errors[f"escalations.{i}.actions.{j}.group_id"] = "required"
    return errors
