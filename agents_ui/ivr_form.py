"""The IVR editor's form: a configuration shown as fields, the fields read back into a draft
configuration, and the problems `telephony.ivr_rules` finds said under each field.

Field names are the configuration's paths (`menu.2.queue`, `prompts.fr.position.one`), the names
the problems carry, so that each message lands under its own field.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from telephony import ivr_rules
from telephony.ivr_rules import LANGUAGES, Problem

ACTION_LABELS = {
    "": _l("Nothing (not offered)"),
    "queue": _l("Put in a queue"),
    "technician": _l("Technician's visit"),
    "ticket_status": _l("Ticket status"),
    "voicemail": _l("Voicemail"),
}
PROMPT_LABELS = {
    "welcome": _l("Welcome"),
    "language": _l("Language choice"),
    "menu": _l("Main menu"),
    "invalid": _l("Invalid key"),
    "closed": _l("Closed"),
    "enqueued": _l("Put in a queue"),
    "recording_notice": _l("Recording notice"),
    "position": _l("Place in line and wait"),
    "callback_offer": _l("Callback offer"),
    "callback_confirmed": _l("Callback confirmed"),
    "connecting": _l("Connecting to an agent"),
    "voicemail": _l("Voicemail"),
    "voicemail_thanks": _l("After a voicemail"),
    "goodbye": _l("Goodbye"),
    "ticket_prompt": _l("Ticket number asked"),
    "ticket_status": _l("Ticket status"),
    "ticket_unknown": _l("Ticket not found"),
    "no_tickets": _l("No open ticket"),
    "no_technician": _l("No visit scheduled"),
    "technician_scheduled": _l("Visit scheduled"),
    "technician_en_route": _l("Technician on the way"),
    "technician_on_site": _l("Technician on site"),
}
PROMPT_GROUPS = (
    (_l("Welcome and menus"), ("welcome", "language", "menu", "invalid", "closed")),
    (
        _l("Waiting in a queue"),
        (
            "enqueued",
            "recording_notice",
            "position",
            "callback_offer",
            "callback_confirmed",
            "connecting",
        ),
    ),
    (_l("Voicemail"), ("voicemail", "voicemail_thanks", "goodbye")),
    (
        _l("Self-service"),
        (
            "ticket_prompt",
            "ticket_status",
            "ticket_unknown",
            "no_tickets",
            "no_technician",
            "technician_scheduled",
            "technician_en_route",
            "technician_on_site",
        ),
    ),
)
FORM_LABELS = {"one": _l("one (1 minute)"), "other": _l("other (2 minutes and more)")}


def prompt_groups() -> list[tuple[str, list[tuple[str, str | None]]]]:
    """(group title, [(prompt key, plural form)]) in the editor's order; a prompt no group names
    goes in a last one, so none is ever left out of the form."""
    fields = ivr_rules.prompt_fields()
    groups: list[tuple[str, list[tuple[str, str | None]]]] = []
    placed: set[str] = set()
    for title, keys in PROMPT_GROUPS:
        groups.append((str(title), [f for f in fields if f[0] in keys]))
        placed.update(keys)
    rest = [f for f in fields if f[0] not in placed]
    if rest:
        groups.append((_("Other prompts"), rest))
    return groups


def prompt_name(key: str, form: str | None = None) -> str:
    return f"prompts.{{lang}}.{key}" + (f".{form}" if form else "")


def values_of(config: Mapping[str, Any]) -> dict[str, str]:
    """The form's fields filled from `config`."""
    values: dict[str, str] = {}
    for key, lang in (config.get("languages") or {}).items():
        values[f"languages.{lang}"] = str(key)
    for key, option in (config.get("menu") or {}).items():
        if isinstance(option, dict):
            values[f"menu.{key}.action"] = str(option.get("action") or "")
            values[f"menu.{key}.queue"] = str(option.get("queue") or "")
    limits = config.get("menu_limits") or {}
    values["menu_limits.max_menus"] = str(limits.get("max_menus", ""))
    for reason in ("no_input", "invalid"):
        route = limits.get(reason) or {}
        values[f"menu_limits.{reason}.action"] = str(route.get("action") or "")
        values[f"menu_limits.{reason}.queue"] = str(route.get("queue") or "")
    for lang in LANGUAGES:
        texts = (config.get("prompts") or {}).get(lang) or {}
        for key, form in ivr_rules.prompt_fields():
            text = texts.get(key)
            if form is not None:
                text = text.get(form) if isinstance(text, dict) else ""
            values[prompt_name(key, form).format(lang=lang)] = str(text or "")
    for lang in LANGUAGES:
        words = (config.get("statuses") or {}).get(lang) or {}
        for name in ivr_rules.status_names():
            values[f"statuses.{lang}.{name}"] = str(words.get(name) or "")
    values["hold_music"] = str(config.get("hold_music") or "")
    return values


def draft(base: Mapping[str, Any], form: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """`base` with the form's fields written over it, and what the form alone shows wrong (the
    rest is `ivr_rules.check`'s)."""
    config = copy.deepcopy(dict(base))
    problems: list[Problem] = []
    keys = {lang: form.get(f"languages.{lang}", "").strip() for lang in LANGUAGES}
    if keys["fr"] and keys["fr"] == keys["en"]:
        problems.append(Problem("languages.en", "same_key"))
    config["languages"] = {keys[lang]: lang for lang in LANGUAGES}
    config["menu"] = {}
    for key in ivr_rules.KEYS:
        action = form.get(f"menu.{key}.action", "").strip()
        if action:
            config["menu"][key] = _option(action, form.get(f"menu.{key}.queue", ""))
    limits = dict(config.get("menu_limits") or {})
    raw_max = form.get("menu_limits.max_menus", "").strip()
    limits["max_menus"] = int(raw_max) if raw_max.isdigit() else raw_max
    for reason in ("no_input", "invalid"):
        action = form.get(f"menu_limits.{reason}.action", "").strip()
        limits[reason] = _option(action, form.get(f"menu_limits.{reason}.queue", ""))
    config["menu_limits"] = limits
    prompts = config.setdefault("prompts", {})
    for lang in LANGUAGES:
        texts = prompts.setdefault(lang, {})
        for key, plural in ivr_rules.prompt_fields():
            text = form.get(prompt_name(key, plural).format(lang=lang), "").strip()
            if plural is None:
                texts[key] = text
            else:
                forms = texts[key] if isinstance(texts.get(key), dict) else {}
                texts[key] = {**forms, plural: text}
    statuses = config.setdefault("statuses", {})
    for lang in LANGUAGES:
        words = statuses.setdefault(lang, {})
        for name in ivr_rules.status_names():
            words[name] = form.get(f"statuses.{lang}.{name}", "").strip()
    config["hold_music"] = form.get("hold_music", "").strip()
    return config, problems


def _option(action: str, queue: str) -> dict[str, str]:
    if action == "queue":
        return {"action": action, "queue": queue.strip()}
    return {"action": action}


def messages(problems: list[Problem]) -> dict[str, str]:
    """{field: what is wrong}, in the agent's language; a field's problems said together,
    once each (the form and the rules may both find a key wrong)."""
    out: dict[str, str] = {}
    for problem in problems:
        text = message(problem)
        if problem.field not in out:
            out[problem.field] = text
        elif text not in out[problem.field]:
            out[problem.field] += " " + text
    return out


def message(problem: Problem) -> str:
    code, detail = problem.code, problem.detail
    if code == "queue_missing":
        return str(_("Queue %(name)s does not exist: this key leads nowhere.", name=detail))
    if code == "queue_inactive":
        return str(_("Queue %(name)s is inactive: this key leads nowhere.", name=detail))
    if code == "required" and problem.field.endswith(".queue"):
        return str(_("Choose a queue: this key leads nowhere."))
    if code == "placeholders_missing":
        return str(_("Keep %(names)s: the caller hears the value there.", names=detail))
    if code == "placeholders_unknown":
        return str(_("%(names)s cannot be filled in here: remove it.", names=detail))
    if code == "out_of_range":
        return str(_("Enter a number from %(range)s.", range=detail))
    if code == "too_long":
        return str(_("At most %(max)s characters.", max=detail))
    fixed = {
        "required": _("Required."),
        "not_a_key": _("Choose a key from 0 to 9."),
        "same_key": _("French and English need different keys."),
        "empty": _("The menu needs at least one key."),
        "unknown_action": _("Choose what this key does."),
        "not_a_number": _("Enter a whole number."),
        "not_a_url": _("Enter an address starting with http:// or https://."),
        "malformed": _("A brace is not closed: write a value as {name}, a brace as {{ or }}."),
    }
    return str(fixed.get(code, code))
