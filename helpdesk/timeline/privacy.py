"""The customer's timeline: each entry keeps its kind, time and links (the history's shape, what
activity reports count), and loses its summary and facts, which quote names, numbers and notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from helpdesk.db import DbSession, rowcount
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, register
from helpdesk.timeline.models import TimelineEntry


def erase(session: DbSession, subject: Subject) -> int:
    result = session.execute(
        update(TimelineEntry)
        .where(
            TimelineEntry.customer_id.in_(subject.customer_ids),
            TimelineEntry.kind != "customer_erased",
            TimelineEntry.summary != ERASED,
        )
        .values(summary=ERASED, data={})
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    entries = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.customer_id.in_(subject.customer_ids))
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    return {
        "timeline": [
            {"kind": e.kind, "occurred_at": e.occurred_at, "summary": e.summary} for e in entries
        ]
    }


register(
    Holder(
        name="timeline",
        covers={"timeline_entries": ("summary", "data")},
        erase=erase,
        export=export,
        parts=("timeline",),
    )
)
exempt(
    "timeline_entries",
    "subject_type",
    "the kind of row an entry is about (comment, call, sms, work_order), not its content",
)
