"""Where a caller's keys lead through the IVR: the choices the voice webhooks make, and a walk of
a whole path for the console's preview.

`language_choice` and `menu_option` are what `telephony.webhooks` decides with on each key; with
`ivr_menu.after_miss` (the menu repeated, then its default route) and `ivr.prompt` (what is
said), `walk` follows the same decisions over a sequence of keys without a call, a database or
Twilio, so an administrator can try a configuration before publishing it.

Pure logic: a configuration in, steps out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telephony import ivr, ivr_menu

MENU_ACTIONS = frozenset({"queue", "voicemail", "ticket_status", "technician"})
MAX_KEYS = 30  # a preview is a few keys; a long paste is cut here
SILENCE = "-"  # a key of the preview's path that stands for "pressed nothing"


def language_choice(config: Mapping[str, Any], digits: str | None) -> str | None:
    """The language a key of the language menu chooses, or None (the caller's stays)."""
    found = (config.get("languages") or {}).get(digits or "")
    return str(found) if found else None


def menu_option(config: Mapping[str, Any], digits: str | None) -> dict[str, Any] | None:
    """The main menu's option for a key, or None when the key (or silence) leads to none."""
    option = (config.get("menu") or {}).get(digits) if digits is not None else None
    if not isinstance(option, dict) or option.get("action") not in MENU_ACTIONS:
        return None
    return option


@dataclass(frozen=True)
class Step:
    """One thing that happens on the path: `say` (`text` in `language`), `key` (the caller
    presses `text`, or nothing when it is empty), `language` (chosen), or an end: `queue`
    (`text` its name), `voicemail`, `ticket_status`, `technician`, `waiting` (for a key)."""

    kind: str
    text: str = ""
    language: str = ""


def parse_keys(typed: str) -> list[str | None]:
    """ "2 1", "21" or "2,1" as keys; `-` for a menu left without a key."""
    keys: list[str | None] = []
    for char in typed:
        if char.isdigit() or char in "*#":
            keys.append(char)
        elif char == SILENCE:
            keys.append(None)
        if len(keys) >= MAX_KEYS:
            break
    return keys


def walk(
    config: Mapping[str, Any], keys: Sequence[str | None], *, language: str | None = None
) -> list[Step]:
    """What a caller hears and where they end, pressing `keys` in turn. `language` is that of a
    known customer (the language menu is skipped); None, a new caller who is asked to choose."""
    steps: list[Step] = []
    pending = list(keys)
    lang = language or _first_language(config)
    if language:
        steps.append(Step("say", _said(config, lang, "welcome"), lang))
    else:
        for choice in (config.get("languages") or {}).values():
            text = _said(config, choice, "welcome")
            steps.append(Step("say", text + " " + _said(config, choice, "language"), choice))
        if not pending:
            return [*steps, Step("waiting")]
        key = pending.pop(0)
        steps.append(Step("key", key or ""))
        lang = language_choice(config, key) or lang
        steps.append(Step("language", lang, lang))
    return steps + _menus(config, pending, lang)


def _menus(config: Mapping[str, Any], keys: list[str | None], lang: str) -> list[Step]:
    steps: list[Step] = []
    limits = ivr_menu.MenuLimits.from_config(dict(config))
    heard, invalid = 1, False
    while True:
        if invalid:
            steps.append(Step("say", _said(config, lang, "invalid"), lang))
        steps.append(Step("say", _said(config, lang, "menu"), lang))
        if not keys:
            return [*steps, Step("waiting")]
        key = keys.pop(0)
        steps.append(Step("key", key or ""))
        option = menu_option(config, key)
        if option is not None:
            return steps + _end(config, option, lang)
        miss = ivr_menu.after_miss(heard, pressed=key is not None, limits=limits)
        if miss.route is not None:
            if miss.invalid and miss.route.get("action") == "voicemail":
                steps.append(Step("say", _said(config, lang, "invalid"), lang))
            return steps + _end(config, miss.route, lang)
        heard, invalid = miss.heard, miss.invalid


def _end(config: Mapping[str, Any], option: Mapping[str, Any], lang: str) -> list[Step]:
    """The step a menu option leads to, with what the caller hears first."""
    action = str(option.get("action"))
    if action == "queue":
        name = str(option.get("queue") or "")
        return [Step("say", _said(config, lang, "enqueued"), lang), Step("queue", name, lang)]
    if action == "voicemail":
        return [Step("say", _said(config, lang, "voicemail"), lang), Step("voicemail")]
    if action == "ticket_status":
        return [Step("say", _said(config, lang, "ticket_prompt"), lang), Step("ticket_status")]
    return [Step("technician")]


def _said(config: Mapping[str, Any], lang: str, key: str) -> str:
    """The prompt as `ivr.prompt` says it; a draft's broken one (a stray brace, an unknown
    placeholder: refused on publishing) as typed, so the preview still shows the path."""
    try:
        return ivr.prompt(dict(config), lang, key)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        texts = (config.get("prompts") or {}).get(lang) or {}
        return str(texts.get(key) or "")


def _first_language(config: Mapping[str, Any]) -> str:
    languages = list((config.get("languages") or {}).values())
    return str(languages[0]) if languages else "en"
