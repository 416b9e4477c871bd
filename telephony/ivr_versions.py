"""Publishing the IVR's configuration: each publication a new version, the newest the one in
use (`ivr.load`), an earlier one restored by publishing a copy of it (a rollback).

A version is checked before it is written (`telephony.ivr_rules`): no key leading to a queue that
does not exist or does not take callers, every prompt with its placeholders. Versions are never
changed or deleted, so the history says who made callers hear what, and when.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from helpdesk.auth.models import User
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import NotFound
from telephony import ivr, ivr_rules
from telephony.ivr_models import IvrVersion
from telephony.models import CallQueue

NOTE_MAX = 200
HISTORY_LIMIT = 200


class Refused(Exception):
    """The configuration has problems: nothing was published."""

    def __init__(self, problems: list[ivr_rules.Problem]) -> None:
        super().__init__(", ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class HistoryRow:
    """A line of the history: a version and who published it."""

    version: IvrVersion
    author: str


def queues(session: DbSession) -> dict[str, bool]:
    """{queue name: takes callers}: what a menu key may lead to."""
    return {
        name: active for name, active in session.execute(select(CallQueue.name, CallQueue.active))
    }


def file_config(instance_path: str) -> dict[str, Any]:
    """ "Version 0": the packaged configuration (with its `instance/` override), a copy."""
    return copy.deepcopy(ivr.load_file(instance_path))


def current(session: DbSession, instance_path: str) -> tuple[int, dict[str, Any]]:
    """(version id, configuration) of what callers hear now; 0 for the file configuration."""
    version = ivr.active_version(session)
    if version is None:
        return 0, file_config(instance_path)
    return version.id, copy.deepcopy(ivr.completed(version.config, ivr.load_file(instance_path)))


def check(session: DbSession, *, config: dict[str, Any], note: str) -> list[ivr_rules.Problem]:
    """What keeps `config` (with its `note`) from being published; empty when nothing."""
    problems = ivr_rules.check(config, queues(session))
    if not note.strip():
        problems.append(ivr_rules.Problem("note", "required"))
    elif len(note.strip()) > NOTE_MAX:
        problems.append(ivr_rules.Problem("note", "too_long", str(NOTE_MAX)))
    return problems


def publish(
    session: DbSession,
    *,
    config: dict[str, Any],
    note: str,
    actor: User | None,
    copied_from: int | None = None,
) -> IvrVersion:
    """Check `config` and make it the version callers hear, from the commit on (the cache of
    every process is cleared by it); raises `Refused` with every problem found."""
    problems = check(session, config=config, note=note)
    if problems:
        raise Refused(problems)
    note = note.strip()
    now = utcnow()
    version = IvrVersion(
        config=copy.deepcopy(config),
        note=note,
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
        published_at=now,
        copied_from=copied_from,
    )
    session.add(version)
    session.commit()
    return version


def rollback(
    session: DbSession, *, version_id: int, instance_path: str, actor: User | None, note: str
) -> IvrVersion:
    """Publish a copy of version `version_id` (0: the file configuration) as the newest."""
    return publish(
        session,
        config=config_of(session, version_id=version_id, instance_path=instance_path),
        note=note,
        actor=actor,
        copied_from=version_id,
    )


def get(session: DbSession, version_id: int) -> IvrVersion:
    version = session.get(IvrVersion, version_id)
    if version is None:
        raise NotFound(f"no IVR version {version_id}")
    return version


def config_of(session: DbSession, *, version_id: int, instance_path: str) -> dict[str, Any]:
    """The configuration of a version (0: the file's), a copy to edit."""
    if version_id == 0:
        return file_config(instance_path)
    return copy.deepcopy(get(session, version_id).config)


def history(session: DbSession) -> list[HistoryRow]:
    """The published versions, newest first, with their authors' names."""
    rows = session.execute(
        select(IvrVersion, User.name)
        .outerjoin(User, User.id == IvrVersion.created_by_id)
        .where(IvrVersion.published_at.is_not(None))
        .order_by(IvrVersion.published_at.desc(), IvrVersion.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return [HistoryRow(version, name or "") for version, name in rows]
