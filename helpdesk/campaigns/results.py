"""What a campaign has achieved: the live figures of the wallboard's panel and the report.

`figures` counts, per campaign, in three grouped queries: members by status, the outcome of
their last disposition (reached, converted, refused), the attempts the pending members have
left, and the texts and e-mails sent.
`announce` publishes a campaign's figures to the supervisors' room after the commit, so the
wallboard's panel applies them without fetching anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select

from helpdesk.campaigns import dispositions
from helpdesk.campaigns.models import Campaign, CampaignAttempt, CampaignMember
from helpdesk.db import DbSession
from helpdesk.events import publish

EVENT = "campaign.figures"


def figures(session: DbSession, campaigns: Sequence[Campaign]) -> dict[int, dict[str, Any]]:
    ids = [c.id for c in campaigns]
    out: dict[int, dict[str, Any]] = {
        c.id: {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "channel": c.channel,
            "members": 0,
            "pending": 0,
            "in_progress": 0,
            "done": 0,
            "excluded": 0,
            "reached": 0,
            "sent": 0,
            "converted": 0,
            "refused": 0,
            "attempts": 0,
            "blocked": 0,
            "attempts_left": 0,
        }
        for c in campaigns
    }
    if not ids:
        return out
    outcome = {
        c.id: {d.code: d.outcome for d in dispositions.parse(c.dispositions)} for c in campaigns
    }
    by_id = {c.id: c for c in campaigns}
    rows = session.execute(
        select(
            CampaignMember.campaign_id,
            CampaignMember.status,
            CampaignMember.last_disposition,
            func.count(),
            func.sum(CampaignMember.attempts),
        )
        .where(CampaignMember.campaign_id.in_(ids))
        .group_by(
            CampaignMember.campaign_id, CampaignMember.status, CampaignMember.last_disposition
        )
    )
    for cid, status, last, count, tried in rows:
        fig = out[cid]
        fig["members"] += count
        fig[status] = fig.get(status, 0) + count
        result = outcome[cid].get(last or "")
        if result in ("reached", "converted", "refused"):
            fig[result] += count
            if result == "converted":
                fig["reached"] += count  # a conversion is a person reached
        if status in ("pending", "in_progress"):
            fig["attempts_left"] += max(0, by_id[cid].max_attempts * count - int(tried or 0))
    for cid, allowed, count in session.execute(
        select(CampaignAttempt.campaign_id, CampaignAttempt.allowed, func.count())
        .where(CampaignAttempt.campaign_id.in_(ids))
        .group_by(CampaignAttempt.campaign_id, CampaignAttempt.allowed)
    ):
        out[cid]["attempts" if allowed else "blocked"] += count
    # Texts and e-mails sent (delivered to the provider): "reached" stays for calls answered
    # and replies, which a sent message is not.
    for cid, count in session.execute(
        select(CampaignAttempt.campaign_id, func.count())
        .where(CampaignAttempt.campaign_id.in_(ids), CampaignAttempt.delivery == "sent")
        .group_by(CampaignAttempt.campaign_id)
    ):
        out[cid]["sent"] += count
    return out


def announce(session: DbSession, campaign: Campaign) -> None:
    """The campaign's figures to the wallboard, after the caller's commit."""
    session.flush()
    publish(session, EVENT, ["supervisors"], figures(session, [campaign])[campaign.id])


def report(session: DbSession, campaign: Campaign) -> dict[str, Any]:
    """Attempts per disposition, per agent and per day (UTC), and the blocked ones per reason."""
    base = select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign.id).subquery()
    per_disposition = {
        (d or ""): n
        for d, n in session.execute(
            select(base.c.disposition, func.count())
            .where(base.c.allowed.is_(True))
            .group_by(base.c.disposition)
        )
    }
    per_reason = {
        r: n
        for r, n in session.execute(
            select(base.c.reason, func.count())
            .where(base.c.allowed.is_(False))
            .group_by(base.c.reason)
        )
    }
    converted_codes = [
        d.code for d in dispositions.parse(campaign.dispositions) if d.outcome == "converted"
    ]
    per_agent = [
        {"agent_id": a, "attempts": n, "converted": int(c or 0)}
        for a, n, c in session.execute(
            select(
                base.c.agent_id,
                func.count(),
                func.sum(case((base.c.disposition.in_(converted_codes), 1), else_=0)),
            )
            .where(base.c.allowed.is_(True), base.c.agent_id.is_not(None))
            .group_by(base.c.agent_id)
        )
    ]
    day = func.date(base.c.at)
    per_day = [
        {"day": str(d), "attempts": int(a or 0), "blocked": int(b or 0)}
        for d, a, b in session.execute(
            select(
                day,
                func.sum(case((base.c.allowed.is_(True), 1), else_=0)),
                func.sum(case((base.c.allowed.is_(False), 1), else_=0)),
            )
            .group_by(day)
            .order_by(day)
        )
    ]
    return {
        "per_disposition": per_disposition,
        "per_reason": per_reason,
        "per_agent": per_agent,
        "per_day": per_day,
    }
