"""Why nobody is contacted now: the members held back, counted by the reason of their last
attempt (the rule that blocked it, or the retry delay after a call), and the earliest time one
of them may be contacted, also in that person's own time.

At night or on a weekend every member of a call campaign may be held back by the calling hours
(they are the callee's, whatever the centre's own hours): the agent and the supervisor are told
so, with the time the next call can be made, instead of an unexplained "nobody to call".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from helpdesk.campaigns.models import CampaignAttempt, CampaignMember
from helpdesk.db import DbSession

# The reason given for a member waiting after a call was made (not blocked by a rule).
RETRY_DELAY = "retry_delay"


@dataclass(frozen=True)
class Held:
    """Members waiting for their next attempt: how many per reason, and when the first may be
    contacted (`next_local`: the same instant in that person's own time, when known)."""

    reasons: dict[str, int] = field(default_factory=dict)
    next_at: datetime | None = None
    next_local: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.reasons.values())

    def most_first(self) -> list[tuple[str, int]]:
        return sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "reasons": dict(self.most_first()),
            "next_at": self.next_at.isoformat() if self.next_at else None,
            "next_local": self.next_local.isoformat() if self.next_local else None,
        }


def _local(at: datetime, local_time: str | None) -> datetime | None:
    """`at` in the callee's time, by the offset their last attempt was checked with."""
    if not local_time:
        return None
    try:
        zone = datetime.fromisoformat(local_time).tzinfo
    except ValueError:
        return None
    return at.astimezone(zone) if zone is not None else None


def last_attempts(session: DbSession, member_ids: Sequence[int]) -> dict[int, CampaignAttempt]:
    """Each member's last attempt (allowed or blocked), by member id, in one query."""
    if not member_ids:
        return {}
    latest = (
        select(func.max(CampaignAttempt.id))
        .where(CampaignAttempt.member_id.in_(member_ids))
        .group_by(CampaignAttempt.member_id)
    )
    return {
        a.member_id: a
        for a in session.scalars(select(CampaignAttempt).where(CampaignAttempt.id.in_(latest)))
    }


def held(session: DbSession, campaign_ids: Sequence[int], *, now: datetime) -> dict[int, Held]:
    """Per campaign, its pending members whose next attempt is still to come, by reason."""
    if not campaign_ids:
        return {}
    latest = (
        select(
            CampaignAttempt.member_id.label("member_id"),
            func.max(CampaignAttempt.id).label("last_id"),
        )
        .where(CampaignAttempt.campaign_id.in_(campaign_ids))
        .group_by(CampaignAttempt.member_id)
        .subquery()
    )
    rows = session.execute(
        select(
            CampaignMember.campaign_id,
            CampaignMember.next_attempt_at,
            CampaignAttempt.allowed,
            CampaignAttempt.reason,
            CampaignAttempt.local_time,
        )
        .join(latest, latest.c.member_id == CampaignMember.id)
        .join(CampaignAttempt, CampaignAttempt.id == latest.c.last_id)
        .where(
            CampaignMember.campaign_id.in_(campaign_ids),
            CampaignMember.status == "pending",
            CampaignMember.next_attempt_at > now,
        )
    ).all()
    counts: dict[int, Counter[str]] = {}
    first: dict[int, tuple[datetime, str | None]] = {}
    for cid, at, allowed, reason, local_time in rows:
        assert at is not None  # the query keeps future attempts only
        counts.setdefault(cid, Counter())[RETRY_DELAY if allowed else reason] += 1
        if cid not in first or at < first[cid][0]:
            first[cid] = (at, local_time)
    return {cid: Held(dict(counts[cid]), first[cid][0], _local(*first[cid])) for cid in counts}


def merged(parts: Sequence[Held]) -> Held:
    """Several campaigns' held members as one (what an agent who joined them waits for)."""
    reasons: Counter[str] = Counter()
    best: Held | None = None
    for part in parts:
        reasons.update(part.reasons)
        if part.next_at is not None and (
            best is None or part.next_at < (best.next_at or part.next_at)
        ):
            best = part
    return Held(dict(reasons), best.next_at if best else None, best.next_local if best else None)
