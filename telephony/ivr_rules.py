"""What an IVR configuration must hold before callers hear it: no key that leads nowhere, every
prompt said in each language with the values it is filled with.

Checked when an administrator publishes a version (`telephony.ivr_versions`); the console names
each problem under its field. The placeholders a prompt must keep are those of the packaged
prompt (`ivr.json`): `ivr.prompt` fills exactly those, so one missing says nothing where the
caller expects a number, and one unknown (or a stray brace) would fail the webhook.

Pure logic: a configuration and the queues ({name: active}) in, problems out.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from telephony import ivr, ivr_menu, ivr_path

LANGUAGES = ("fr", "en")
MENU_ACTIONS = tuple(sorted(ivr_path.MENU_ACTIONS))
ROUTE_ACTIONS = tuple(sorted(ivr_menu.ROUTE_ACTIONS))
KEYS = tuple("0123456789")
MAX_MENUS = 10
PLURAL_FORMS = ("one", "other")


@dataclass(frozen=True)
class Problem:
    """`field` (its path in the configuration, dotted: `menu.2.queue`, `prompts.fr.menu`) and
    what is wrong with it: `code`, with `detail` (a queue's name, placeholders) when useful."""

    field: str
    code: str
    detail: str = ""


@cache
def packaged() -> dict[str, Any]:
    """The packaged configuration: the prompts every version must have, and their placeholders."""
    loaded: dict[str, Any] = json.loads(ivr.DEFAULTS.read_text(encoding="utf-8"))
    return loaded


def prompt_fields() -> list[tuple[str, str | None]]:
    """(prompt key, plural form or None) for every prompt text, in the packaged order."""
    fields: list[tuple[str, str | None]] = []
    for key, text in packaged()["prompts"]["en"].items():
        if isinstance(text, dict):
            fields.extend((key, form) for form in PLURAL_FORMS)
        else:
            fields.append((key, None))
    return fields


def placeholders(text: str) -> set[str] | None:
    """The `{names}` in `text`, or None when it is not a valid format string."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return None


def required_placeholders(key: str, form: str | None = None) -> list[str]:
    """The placeholders the packaged English prompt `key` (plural `form`) is filled with."""
    text = packaged()["prompts"]["en"][key]
    if form is not None:
        text = text[form]
    return sorted(placeholders(str(text)) or set())


def check(config: Mapping[str, Any], queues: Mapping[str, bool]) -> list[Problem]:
    """Every problem of `config`, in the order of the editor's fields."""
    return [
        *_languages(config),
        *_menu(config, queues),
        *_limits(config, queues),
        *_prompts(config),
        *_statuses(config),
        *_hold_music(config),
    ]


def _languages(config: Mapping[str, Any]) -> Iterator[Problem]:
    chosen = {str(v): str(k) for k, v in (config.get("languages") or {}).items()}
    for lang in LANGUAGES:
        key = chosen.get(lang, "")
        if key not in KEYS:
            yield Problem(f"languages.{lang}", "not_a_key")


def _menu(config: Mapping[str, Any], queues: Mapping[str, bool]) -> Iterator[Problem]:
    menu = config.get("menu") or {}
    if not any(isinstance(option, dict) for option in menu.values()):
        yield Problem("menu", "empty")
    for key, option in sorted(menu.items()):
        if not isinstance(option, dict):
            continue
        if str(key) not in KEYS:
            yield Problem(f"menu.{key}", "not_a_key")
        elif option.get("action") not in ivr_path.MENU_ACTIONS:
            yield Problem(f"menu.{key}.action", "unknown_action")
        elif option.get("action") == "queue":
            yield from _queue(f"menu.{key}.queue", option, queues)


def _limits(config: Mapping[str, Any], queues: Mapping[str, bool]) -> Iterator[Problem]:
    raw = config.get("menu_limits") or {}
    max_menus = raw.get("max_menus", ivr_menu.DEFAULT_MAX_MENUS)
    if not isinstance(max_menus, int) or isinstance(max_menus, bool):
        yield Problem("menu_limits.max_menus", "not_a_number")
    elif not 1 <= max_menus <= MAX_MENUS:
        yield Problem("menu_limits.max_menus", "out_of_range", f"1-{MAX_MENUS}")
    for reason in ("no_input", "invalid"):
        route = raw.get(reason)
        if not isinstance(route, dict) or route.get("action") not in ROUTE_ACTIONS:
            yield Problem(f"menu_limits.{reason}.action", "unknown_action")
        elif route.get("action") == "queue":
            yield from _queue(f"menu_limits.{reason}.queue", route, queues)


def _queue(field: str, option: Mapping[str, Any], queues: Mapping[str, bool]) -> Iterator[Problem]:
    """A queue an option names must exist and take callers: no dead end."""
    name = str(option.get("queue") or "")
    if not name:
        yield Problem(field, "required")
    elif name not in queues:
        yield Problem(field, "queue_missing", name)
    elif not queues[name]:
        yield Problem(field, "queue_inactive", name)


def _prompts(config: Mapping[str, Any]) -> Iterator[Problem]:
    prompts = config.get("prompts") or {}
    for lang in LANGUAGES:
        texts = prompts.get(lang) or {}
        for key, form in prompt_fields():
            text = texts.get(key)
            if form is not None:
                text = text.get(form) if isinstance(text, dict) else None
            field = f"prompts.{lang}.{key}" + (f".{form}" if form else "")
            yield from _prompt(field, text, required_placeholders(key, form))


def status_names() -> list[str]:
    """The ticket statuses the IVR says (`{status}` of the `ticket_status` prompt)."""
    return list(packaged()["statuses"]["en"])


def _statuses(config: Mapping[str, Any]) -> Iterator[Problem]:
    statuses = config.get("statuses") or {}
    for lang in LANGUAGES:
        words = statuses.get(lang) or {}
        for name in status_names():
            text = words.get(name)
            if not isinstance(text, str) or not text.strip():
                yield Problem(f"statuses.{lang}.{name}", "required")


def _hold_music(config: Mapping[str, Any]) -> Iterator[Problem]:
    """Twilio fetches the music itself: an address it can reach, over HTTP(S)."""
    url = config.get("hold_music")
    if not isinstance(url, str) or not url.strip():
        yield Problem("hold_music", "required")
    elif not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        yield Problem("hold_music", "not_a_url")


def _prompt(field: str, text: Any, required: list[str]) -> Iterator[Problem]:
    if not isinstance(text, str) or not text.strip():
        yield Problem(field, "required")
        return
    found = placeholders(text)
    if found is None:
        yield Problem(field, "malformed")
        return
    missing = [name for name in required if name not in found]
    if missing:
        yield Problem(field, "placeholders_missing", _braced(missing))
    unknown = sorted(found - set(required))
    if unknown:
        yield Problem(field, "placeholders_unknown", _braced(unknown))


def _braced(names: list[str]) -> str:
    return " ".join("{" + name + "}" for name in names)
