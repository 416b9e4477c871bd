"""Surveys hold where they were sent (a number or an address) and the customer's own comment:
both are erased, and a survey still open is closed; the score, the times and whose work it rated
stay for the reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from helpdesk.db import DbSession, utcnow
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, register
from helpdesk.surveys.models import Survey


def erase(session: DbSession, subject: Subject) -> int:
    """Blank the address and the comment, and close a survey still open: its link or a texted
    digit would otherwise write the erased person's words again."""
    now = utcnow()
    changed = 0
    for survey in session.scalars(
        select(Survey).where(Survey.customer_id.in_(subject.customer_ids))
    ):
        still_open = survey.score is None and survey.expires_at > now
        if survey.sent_to != ERASED or survey.comment or still_open:
            survey.sent_to, survey.comment = ERASED, ""
            if still_open:
                survey.expires_at = now
            changed += 1
    return changed


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    rows = session.scalars(
        select(Survey)
        .where(Survey.customer_id.in_(subject.customer_ids))
        .order_by(Survey.sent_at, Survey.id)
    )
    return {
        "satisfaction": [
            {
                "trigger": s.trigger,
                "ticket_id": s.ticket_id,
                "channel": s.channel,
                "sent_to": s.sent_to,
                "sent_at": s.sent_at,
                "score": s.score,
                "comment": s.comment,
                "answered_at": s.answered_at,
            }
            for s in rows
        ]
    }


register(
    Holder(
        name="surveys",
        covers={"surveys": ("sent_to", "comment")},
        erase=erase,
        export=export,
        parts=("satisfaction",),
    )
)
exempt(
    "surveys",
    "token_hash",
    "a hash of the random link token: it names no one, and keeps the erased survey's link dead",
)
