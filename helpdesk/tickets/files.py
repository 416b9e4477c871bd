"""Files on replies, as the ticket API sees them: a slot the e-mail channel fills.

The files themselves (their store, their checks, their rows) belong to `helpdesk.mail`, which
reads tickets; tickets only lists them on comments and ties uploads to a new reply, through this
interface, so that the two features do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from helpdesk.db import DbSession
from helpdesk.slots import Slot


class FileRow(Protocol):
    """What a comment's listing shows of one file."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    ticket_id: int | None
    comment_id: int | None
    created_at: datetime


class CommentFiles(Protocol):
    def by_comment(
        self, session: DbSession, comment_ids: Sequence[int]
    ) -> Mapping[int, Sequence[Any]]: ...

    def pending(
        self, session: DbSession, ids: Sequence[int], *, ticket_id: int, user_id: int
    ) -> list[Any]: ...

    def tie(self, rows: Sequence[Any]) -> Callable[[Any], None] | None: ...


FILES: Slot[CommentFiles] = Slot("store of files on replies")


def by_comment(session: DbSession, comment_ids: Sequence[int]) -> Mapping[int, Sequence[Any]]:
    """Each comment's files; none where no feature stores files (a bare core in a script)."""
    return FILES.get().by_comment(session, comment_ids) if FILES.filled else {}
