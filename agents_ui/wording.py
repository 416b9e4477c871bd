"""Stored codes and English summaries said in the agent's language.

Telephony and the timeline store what happened as stable codes (`menu:1:queue`, `follow_up`) and,
for timeline entries, an English summary written when nobody's language was known. The console
words them itself from the codes and the entry's data, so a French agent never reads
`solved → closed` or `inbound call answered`; an entry of a kind this module does not know keeps
its stored summary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext

from agents_ui import formatting, labels, mail_wording, sla_display
from helpdesk.tickets.workflow import reference_for
from telephony import ivr


def _(text: str, **values: Any) -> str:
    """gettext, typed: the console's strings are always text."""
    return str(gettext(text, **values))


# A main-menu step of a call's IVR path (telephony.webhooks); the other steps are
# `language:<code>` and the plain codes of labels.IVR_STEP.
_MENU = re.compile(r"^menu:(?P<digit>[^:]*):(?P<action>.+)$")
_VOICEMAIL_SECONDS = re.compile(r"\((\d+) s\)")


def ivr_step(step: str, queues: Mapping[str, str] | None = None) -> str:
    """One step of a call's IVR path as the agent reads it: `menu:2:queue` as
    `2 · Queue: Billing`, `language:fr` as `Language: French`; an unknown step as stored."""
    kind, _sep, rest = step.partition(":")
    if kind == "language" and rest:
        return _("Language: %(name)s", name=formatting.language_name(rest))
    found = _MENU.match(step)
    if found:
        digit, action = found["digit"], found["action"]
        if action == "queue":
            queue = _menu_queue(digit)
            shown = (queues or {}).get(queue or "") or queue
            choice = labels.label(labels.IVR_ACTION, "queue")
            if shown:
                choice = _("Queue: %(queue)s", queue=shown)
        else:
            choice = labels.label(labels.IVR_ACTION, action)
        return _("%(digit)s · %(choice)s", digit=digit, choice=choice)
    return labels.label(labels.IVR_STEP, step)


def ivr_path(steps: list[str] | None, queues: Mapping[str, str] | None = None) -> str:
    """The whole path, oldest step first, or a dash when the caller went through no menu."""
    return " \u203a ".join(ivr_step(s, queues) for s in steps or []) or "—"


def ivr_steps(queues: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every step the configured IVR can record, worded, for `phone.js` to look up."""
    steps = [*labels.IVR_STEP, *(f"language:{code}" for code in labels.LANGUAGES)]
    for digit, option in _menu().items():
        steps.append(f"menu:{digit}:{option.get('action')}")
    return {step: ivr_step(step, queues) for step in steps}


def _menu() -> dict[str, Any]:
    menu: dict[str, Any] = ivr.load(current_app.instance_path).get("menu") or {}
    return menu


def _menu_queue(digit: str) -> str | None:
    option = _menu().get(digit) or {}
    queue = option.get("queue")
    return str(queue) if queue else None


def disposition(code: str | None) -> str:
    return labels.label(labels.DISPOSITION, code) if code else ""


def timeline_text(entry: Any) -> str:
    """A timeline entry's line in the agent's language, from its kind and data (entries are
    model rows or plain rows with the same attributes)."""
    data: dict[str, Any] = getattr(entry, "data", None) or {}
    kind = entry.kind
    summary = str(entry.summary or "")
    if kind == "ticket_status" and entry.ticket_id and data.get("to"):
        return _(
            "%(ref)s %(old)s → %(new)s",
            ref=reference_for(entry.ticket_id),
            old=labels.label(labels.STATUS, data.get("from")),
            new=labels.label(labels.STATUS, data.get("to")),
        )
    if kind == "call" and data.get("direction"):
        return call_text(data)
    if kind == "call_note" and "notes" in data:
        if data.get("disposition"):
            return _(
                "Wrap-up (%(disposition)s): %(notes)s",
                disposition=disposition(data["disposition"]),
                notes=summarise(str(data["notes"])),
            )
        return _("Wrap-up: %(notes)s", notes=summarise(str(data["notes"])))
    if kind == "voicemail":
        seconds = data.get("duration_s")
        if seconds is None:
            found = _VOICEMAIL_SECONDS.search(summary)
            seconds = int(found.group(1)) if found else None
        if seconds is None:
            return str(labels.TIMELINE_KIND["voicemail"])
        return _("Voicemail (%(time)s)", time=sla_display.duration(int(seconds), precise=True))
    if kind == "recording" and data.get("duration_s") is not None:
        seconds = int(data["duration_s"])
        return _("Call recording (%(time)s)", time=sla_display.duration(seconds, precise=True))
    if kind == "visit" and data.get("event") and data.get("reference"):
        return visit_text(data) or summary
    if kind == "email":
        return mail_wording.email_text(data, summary)
    if kind == "survey" and data.get("score") is not None:
        comment = summary.partition(": ")[2]
        if comment:
            return _("Satisfaction %(n)s/5: %(comment)s", n=data["score"], comment=comment)
        return _("Satisfaction %(n)s/5", n=data["score"])
    if kind == "customer_erased":
        return _("Personal data erased on request")
    if kind == "customer_merged" and data.get("source_id"):
        return _("Merged duplicate record #%(id)s", id=data["source_id"])
    return summary


def visit_text(data: Mapping[str, Any]) -> str | None:
    """A technician visit's step (helpdesk.dispatch.service.on_timeline) in the agent's words."""
    ref, event = data["reference"], data["event"]
    notes = summarise(str(data.get("notes") or ""))
    if event == "requested":
        return _("%(ref)s visit requested: %(what)s", ref=ref, what=data.get("what") or "")
    if event == "scheduled":
        return _("%(ref)s visit scheduled with %(name)s", ref=ref, name=data.get("technician"))
    if event == "unscheduled":
        return _("%(ref)s visit back to be scheduled", ref=ref)
    if event == "en_route":
        eta = _parse(data.get("eta_at"))
        if eta is not None:
            return _(
                "%(ref)s technician on the way, arriving around %(time)s",
                ref=ref,
                time=formatting.when(eta, "HH:mm"),
            )
        return _("%(ref)s technician on the way", ref=ref)
    if event == "on_site":
        return _("%(ref)s technician on site", ref=ref)
    if event == "back_to_scheduled":
        return _("%(ref)s back to scheduled", ref=ref)
    if event == "completed":
        if notes:
            return _("%(ref)s visit completed: %(notes)s", ref=ref, notes=notes)
        return _("%(ref)s visit completed", ref=ref)
    if event == "cancelled":
        if notes:
            return _("%(ref)s visit cancelled: %(notes)s", ref=ref, notes=notes)
        return _("%(ref)s visit cancelled", ref=ref)
    if event == "survey" and data.get("score") is not None:
        return _("%(ref)s satisfaction %(n)s/5", ref=ref, n=data["score"])
    return None


def _parse(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def call_text(data: Mapping[str, Any]) -> str:
    """`Incoming · Answered · waited 12 s · talked 3 min 5 s` from a call entry's facts."""
    parts = [labels.label(labels.CALL_DIRECTION, data.get("direction"))]
    if data.get("outcome"):
        parts.append(labels.label(labels.CALL_OUTCOME, data["outcome"]))
    if data.get("wait_s"):
        time = sla_display.duration(int(data["wait_s"]), precise=True)
        parts.append(_("waited %(time)s", time=time))
    if data.get("talk_s"):
        time = sla_display.duration(int(data["talk_s"]), precise=True)
        parts.append(_("talked %(time)s", time=time))
    return " · ".join(parts)


def summarise(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
