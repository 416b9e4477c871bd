"""Reading a fixed text (the administrators' wording, else the code's default) and changing it.

Every automatic SMS answer and acknowledgement reads through `render`; the overrides, a few rows
changed a few times a year, are cached per process and cleared by any committed change
(helpdesk/caches.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import delete, select

from helpdesk import caches
from helpdesk.auth.models import User
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.texts.catalog import CATALOG, LANGUAGES, Entry, Problem, check, language_of
from helpdesk.texts.models import MessageText

log = logging.getLogger(__name__)
caches.watch("message_texts", MessageText, ttl_s=60.0)


class Invalid(Exception):
    """The wordings refused, by language."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


def overrides(session: DbSession) -> dict[tuple[str, str], str]:
    """Every administrator's wording, by (key, language)."""

    def load() -> dict[tuple[str, str], str]:
        rows = session.execute(select(MessageText.key, MessageText.language, MessageText.text))
        return {(key, language): text for key, language, text in rows}

    return caches.cached("message_texts", "all", load)


def wording(session: DbSession, key: str, language: str) -> str:
    """The template sent for `key` in `language` (English for a language with no texts)."""
    entry = CATALOG[key]
    lang = language_of(entry, language)
    return overrides(session).get((key, lang)) or entry.defaults[lang]


def render(session: DbSession, key: str, language: str, **values: object) -> str:
    """The text itself, its placeholders filled. A wording saved before the code changed its
    placeholders cannot be filled any more: the default is sent, and the fault logged."""
    template = wording(session, key, language)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        log.warning("text %s (%s): the saved wording no longer fits; default sent", key, language)
        entry = CATALOG[key]
        return entry.defaults[language_of(entry, language)].format(**values)


def save(
    session: DbSession, *, entry: Entry, texts: Mapping[str, str], actor: User | None
) -> list[str]:
    """Keep each language's wording (one equal to the default is no override); returns the
    languages changed. Nothing is written when any wording is refused."""
    problems = {
        lang: problem
        for lang in LANGUAGES
        if (problem := check(entry, texts.get(lang, ""))) is not None
    }
    if problems:
        raise Invalid(problems)
    rows = {
        row.language: row
        for row in session.scalars(select(MessageText).where(MessageText.key == entry.key))
    }
    changed: list[str] = []
    for lang in LANGUAGES:
        text, row = texts[lang], rows.get(lang)
        if text == (row.text if row else entry.defaults[lang]):
            continue
        changed.append(lang)
        if text == entry.defaults[lang]:
            session.delete(row)
        elif row is None:
            session.add(
                MessageText(
                    key=entry.key,
                    language=lang,
                    text=text,
                    updated_by_id=actor.id if actor else None,
                )
            )
        else:
            row.text, row.updated_at = text, utcnow()
            row.updated_by_id = actor.id if actor else None
    session.commit()
    return changed


def reset(session: DbSession, *, entry: Entry) -> bool:
    """Back to the code's default in every language; whether there was anything to remove."""
    removed = rowcount(session.execute(delete(MessageText).where(MessageText.key == entry.key)))
    session.commit()
    return bool(removed)


def last_changes(session: DbSession) -> dict[str, MessageText]:
    """The most recent override of each key, for the page's "changed by" line."""
    latest: dict[str, MessageText] = {}
    for row in session.scalars(select(MessageText).order_by(MessageText.updated_at)):
        latest[row.key] = row
    return latest
