"""The queue form of the console: what was typed, read into the API's JSON body
(`telephony.queues_api.QueueIn`, and `RecordingPolicyIn` for the recording setting), and the
service's refusals said in the agent's language under the field they concern.

Rows left empty (a skill without its name, a routing step without wait or effect) are no entry;
the rows kept are numbered as the API numbers them (`steps.1.overflow_queue`), so an error is
shown on the row it names.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from agents_ui import form_input
from telephony import queue_rules, queues
from telephony.models import CallQueue
from telephony.recording_policy import Policy

BLANK_ROWS = 2
# The API's field names that the form names otherwise.
_FORM_NAMES = {
    "after_hours.queue": "after_hours_queue",
    "after_hours.action": "after_hours",
    "mode": "recording_mode",
    "restricted": "recording_restricted",
}
_BOUNDS = {
    "ring_timeout_s": queue_rules.RING_TIMEOUT_S,
    "wrap_up_s": queue_rules.WRAP_UP_S,
    "callback_after_s": queue_rules.CALLBACK_AFTER_S,
    "priority": queue_rules.PRIORITY,
}


def _number(text: str) -> int | str:
    """A whole number as typed, else the text (which the rules refuse by its field)."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def _skill_rows(form: MultiDict[str, str]) -> list[tuple[str, str]]:
    names, levels = form.getlist("skill"), form.getlist("skill_level")
    levels += ["1"] * (len(names) - len(levels))
    rows = [(n.strip(), lvl.strip()) for n, lvl in zip(names, levels, strict=False)]
    return [row for row in rows if row[0]]


def _step_rows(form: MultiDict[str, str]) -> list[tuple[str, str, str]]:
    waits, drops = form.getlist("step_after_s"), form.getlist("step_level_drop")
    targets = form.getlist("step_overflow")
    size = max(len(waits), len(drops), len(targets))
    rows = []
    for i in range(size):
        wait = waits[i].strip() if i < len(waits) else ""
        drop = drops[i].strip() if i < len(drops) else ""
        target = targets[i].strip() if i < len(targets) else ""
        if wait or target or drop not in ("", "0"):
            rows.append((wait, drop or "0", target))
    return rows


def body(form: MultiDict[str, str]) -> dict[str, Any]:
    """The queue fields as the API's JSON body; a number left blank takes the API's default."""
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "label_en": form.get("label_en", "").strip(),
        "label_fr": form.get("label_fr", "").strip(),
        "skills": {name: _number(level) for name, level in _skill_rows(form)},
        "language": form.get("language") or None,
        "strategy": form.get("strategy", ""),
        "steps": [_step(*row) for row in _step_rows(form)],
        "active": form.get("active") == "on",
        "calendar_id": form_input.optional_int(form, "calendar_id"),
    }
    for name in _BOUNDS:
        value = form.get(name, "").strip()
        if value:
            data[name] = value
    if form.get("after_hours") == "queue":
        data["after_hours"] = {"action": "queue", "queue": form.get("after_hours_queue") or None}
    return data


def _step(wait: str, drop: str, target: str) -> dict[str, Any]:
    step: dict[str, Any] = {"after_s": _number(wait) if wait else wait}
    if drop not in ("", "0"):
        step["level_drop"] = _number(drop)
    if target:
        step["overflow_queue"] = target
    return step


def recording(form: MultiDict[str, str]) -> dict[str, Any]:
    """The recording setting as `PUT /queues/{id}/recording` takes it."""
    return {
        "mode": form.get("recording_mode", "off"),
        "retention_days": form_input.optional_int(form, "retention_days"),
        "restricted": form.get("recording_restricted") == "on",
    }


def values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What was typed, shown again with the refusals."""
    return {
        **{key: form.get(key, "") for key in ("name", "label_en", "label_fr", "language")},
        **{key: form.get(key, "") for key in ("strategy", "calendar_id", "after_hours")},
        **{key: form.get(key, "") for key in _BOUNDS},
        "after_hours_queue": form.get("after_hours_queue", ""),
        "skills": _skill_rows(form),
        "steps": _step_rows(form),
        "active": form.get("active") == "on",
        "recording_mode": form.get("recording_mode", "off"),
        "retention_days": form.get("retention_days", ""),
        "recording_restricted": form.get("recording_restricted") == "on",
    }


def values_of(queue: CallQueue, policy: Policy) -> dict[str, Any]:
    route = queue.after_hours or {}
    return {
        "name": queue.name,
        "label_en": queue.label_en,
        "label_fr": queue.label_fr,
        "language": queue.language or "",
        "strategy": queue.strategy,
        "calendar_id": "" if queue.calendar_id is None else str(queue.calendar_id),
        "after_hours": "queue" if route.get("action") == "queue" else "",
        "after_hours_queue": route.get("queue", ""),
        "ring_timeout_s": str(queue.ring_timeout_s),
        "wrap_up_s": str(queue.wrap_up_s),
        "callback_after_s": str(queue.callback_after_s),
        "priority": str(queue.priority or 0),
        "skills": [(skill, str(level)) for skill, level in sorted((queue.skills or {}).items())],
        "steps": [
            (
                str(s.get("after_s", "")),
                str(s.get("level_drop", 0)),
                str(s.get("overflow_queue") or ""),
            )
            for s in queue.steps or []
        ],
        "active": queue.active,
        "recording_mode": policy.mode,
        "retention_days": "" if policy.retention_days is None else str(policy.retention_days),
        "recording_restricted": policy.restricted,
    }


def blank() -> dict[str, Any]:
    return values_of(
        CallQueue(
            name="",
            label_en="",
            label_fr="",
            strategy="longest_idle",
            ring_timeout_s=20,
            wrap_up_s=30,
            callback_after_s=60,
            priority=0,
            active=True,
        ),
        Policy(),
    )


def with_blank_rows(vals: dict[str, Any]) -> dict[str, Any]:
    return {
        **vals,
        "skills": [*vals["skills"], *[("", "1")] * BLANK_ROWS],
        "steps": [*vals["steps"], *[("", "0", "")] * BLANK_ROWS],
    }


def said(errors: dict[str, str]) -> dict[str, str]:
    """The refusals in the agent's language: a skill's under the skills, each step's under its
    row (`steps.1.overflow_queue`), the others under their field."""
    out: dict[str, str] = {}
    for key, text in errors.items():
        field = "skills" if key.startswith("skills.") else _FORM_NAMES.get(key, key)
        out.setdefault(field, _reason(key, text))
    return out


def _reason(key: str, text: str) -> str:
    head, _sep, rest = text.partition(": ")
    if key in _BOUNDS and not text.startswith(str(_("Required."))):
        low, high = _BOUNDS[key]
        return str(_("From %(low)d to %(high)d.", low=low, high=high))
    if key.startswith("skills."):
        skill = key.partition(".")[2]
        if text == "no agent has this skill":
            return str(
                _("%(skill)s: no agent has this skill; give it to agents first.", skill=skill)
            )
        return str(_("%(skill)s: a level from 1 to 5.", skill=skill))
    if head == queues.LOOP:
        return str(_("This overflow makes a loop (%(loop)s): choose another queue.", loop=rest))
    if head == queues.IN_USE:
        return str(
            _(
                "Callers are still sent to this queue (see the list on this page): change that "
                "first."
            )
        )
    if head == queues.WAITING:
        return str(
            _(
                "Callers are waiting in this queue (%(count)s): wait until they are served.",
                count=rest,
            )
        )
    if text == "already taken":
        return str(_("Another queue has this name."))
    if text == "no such queue":
        return str(_("Choose an active queue."))
    if text == "another queue than this one":
        return str(_("A queue cannot overflow to itself."))
    if key.endswith(".after_s"):
        low, high = queue_rules.STEP_AFTER_S
        return str(_("Seconds waited, from %(low)d to %(high)d.", low=low, high=high))
    if key.endswith(".level_drop"):
        return str(_("Levels dropped, from 0 to 4."))
    if key == "retention_days":
        return str(_("From 1 to 3650 days, or empty to keep them."))
    if text == "a queue route names its queue":
        return str(_("Choose the queue callers go to after hours."))
    if text == "no such calendar":
        return str(_("Choose a calendar from the list."))
    return text
