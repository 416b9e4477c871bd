"""The call event log's clock and rows as the live statistics read them: which local day and
15-minute interval an event counts in, and a row as a `LogEntry`.

Apart from `calllog` (which writes the log and feeds the live figures) so that the live
figures can rebuild from the log without importing the writer that imports them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from helpdesk.supervision.livestats import LogEntry
from helpdesk.supervision.models import CallEvent

DEFAULT_ZONE = "Europe/Paris"


def zone() -> ZoneInfo:
    name = current_app.config.get("HELPDESK_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def day_and_slot(at: datetime, tz: ZoneInfo | None = None) -> tuple[str, int]:
    """The local day and 15-minute interval of an instant."""
    local = at.astimezone(tz or zone())
    return local.date().isoformat(), local.hour * 4 + local.minute // 15


# A call's outcomes in its queue: each is counted in the interval the call was offered in (began
# waiting), not the one it ended its wait in, so an interval never shows more calls answered or
# abandoned than offered, and its service level is that of the calls offered in it.
OUTCOMES = frozenset({"connected", "requeued", "abandoned", "callback", "transferred"})


def counted_at(
    event: str, at: datetime, wait_s: float | None, since: float | None = None
) -> datetime:
    """The instant whose interval an event counts in: for an outcome, when the call began to
    wait (`since`, else `at - wait_s`); for anything else, when it happened."""
    if event not in OUTCOMES:
        return at
    if since is not None:
        return datetime.fromtimestamp(float(since), tz=at.tzinfo or UTC)
    if wait_s:
        return at - timedelta(seconds=max(wait_s, 0.0))
    return at


def entry_of(row: CallEvent, *, id_: int | None = None) -> LogEntry:
    return LogEntry(
        id=row.id if id_ is None else id_,
        at=row.at,
        day=row.day,
        slot=row.slot,
        event=row.event,
        call_id=row.call_id,
        queue=row.queue,
        agent_id=row.agent_id,
        wait_s=row.wait_s,
        talk_s=row.talk_s,
        data=dict(row.data or {}),
        hold_s=row.hold_s,
    )
