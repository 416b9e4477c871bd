"""IVR prompts and menus: configuration, not code.

The configuration callers hear is the newest version an administrator published in the console
(`telephony.ivr_versions`); with none, the packaged `ivr.json` with `instance/ivr.json` merged
over it (a fresh install, the tests). Every webhook reads it several times, so it is cached per
process and cleared by the commit of a new version (`helpdesk.caches`, across processes too).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import has_app_context
from sqlalchemy import select

from helpdesk import caches
from helpdesk.db import DbSession
from helpdesk.extensions import db
from telephony.ivr_models import IvrVersion

DEFAULTS = Path(__file__).with_name("ivr.json")
CACHE = "ivr"
caches.watch(CACHE, IvrVersion, ttl_s=60.0)


class _Loader:
    """`load(instance_path)`: the configuration in use. `load.cache_clear()` forgets what was
    read, for a change to the files (the database's changes clear it on commit)."""

    def __call__(self, instance_path: str) -> dict[str, Any]:
        if not has_app_context():
            return load_file(instance_path)
        return caches.cached(CACHE, instance_path, lambda: _active_or_file(instance_path))

    def cache_clear(self) -> None:
        load_file.cache_clear()
        caches.invalidate({CACHE})


load = _Loader()


def active_version(session: DbSession) -> IvrVersion | None:
    """The newest published version, or None when the file configuration applies."""
    query = (
        select(IvrVersion)
        .where(IvrVersion.published_at.is_not(None))
        .order_by(IvrVersion.published_at.desc(), IvrVersion.id.desc())
        .limit(1)
    )
    found: IvrVersion | None = session.scalar(query)
    return found


def _active_or_file(instance_path: str) -> dict[str, Any]:
    version = active_version(db.session)
    if version is None:
        return load_file(instance_path)
    return completed(version.config, load_file(instance_path))


# Texts by language: a text a version lacks (a prompt added by a later release) is taken from the
# files, so no webhook fails on it; menus and routes are the version's own, whole.
_TEXTS = ("prompts", "statuses")


def completed(version: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
    """A published version with what it does not hold taken from the files: a setting it lacks
    (a later release's), and each text it lacks in each language."""
    config = {**files, **version}
    for part in _TEXTS:
        theirs, ours = files.get(part) or {}, version.get(part) or {}
        config[part] = {
            lang: {**(theirs.get(lang) or {}), **(ours.get(lang) or {})}
            for lang in {*theirs, *ours}
        }
    return config


@lru_cache(maxsize=4)
def load_file(instance_path: str) -> dict[str, Any]:
    """The packaged configuration, with `instance/ivr.json` merged over it when present: what
    applies while no version is published ("version 0")."""
    config: dict[str, Any] = json.loads(DEFAULTS.read_text(encoding="utf-8"))
    override = Path(instance_path) / "ivr.json"
    if override.exists():
        extra = json.loads(override.read_text(encoding="utf-8"))
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = _deep_merge(config[key], value)
            else:
                config[key] = value
    return config


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def prompt(
    config: dict[str, Any], language: str, key: str, *, count: int | None = None, **values: Any
) -> str:
    """The prompt `key` in `language`, with `values` filled in.

    A prompt that says a number of things can be given as its plural forms
    (`{"one": ..., "other": ...}`, CLDR's names); `count` picks the form by the language's rules,
    so the caller hears "1 minute" (and in French "0 minute" too), never "1 minutes"."""
    texts = config["prompts"].get(language) or config["prompts"]["en"]
    text = texts[key]
    if isinstance(text, dict):
        text = text.get(plural_form(language, count if count is not None else 0)) or text["other"]
    return str(text).format(**values)


def plural_form(language: str, count: int) -> str:
    """CLDR's plural category of `count` in `language` (`one`, `other`, ...)."""
    try:
        locale = Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        locale = Locale("en")
    return str(locale.plural_form(count))


def twilio_language(language: str) -> str:
    return {"fr": "fr-FR", "en": "en-US"}.get(language, "en-US")


def menu_topics(instance_path: str) -> dict[str, str]:
    """{menu key: the queue it leads to, or else its action}: what a caller's choice was about,
    for those above telephony (the knowledge base's suggestions) that must not read the menu."""
    menu = load(instance_path).get("menu") or {}
    topics: dict[str, str] = {}
    for key, option in menu.items():
        if isinstance(option, dict) and (option.get("queue") or option.get("action")):
            topics[str(key)] = str(option.get("queue") or option.get("action"))
    return topics
