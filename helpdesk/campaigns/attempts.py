"""Attempts: the compliance check right before each contact, its audit, and what follows.

Every check is written to `campaign_attempts`, allowed or not, with the reason, the rules cited
and the callee's local time: a blocked attempt is rescheduled to the first instant the rules
allow (`compliance.next_allowed`), or the member is excluded when no time would lift it. After a
call the agent's disposition moves the member on (helpdesk.campaigns.dispositions); a refusal is
recorded with `helpdesk.consent`, which keeps every campaign from calling for the quiet period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from helpdesk.auth.models import User
from helpdesk.auth.permissions import SUPERVISE
from helpdesk.campaigns import compliance, contacts, dispositions, results
from helpdesk.campaigns.models import Campaign, CampaignAgent, CampaignAttempt, CampaignMember
from helpdesk.consent import service as consent
from helpdesk.db import DbSession
from helpdesk.errors import Conflict, NotFound, ValidationFailed

# How many blocked members one search for the next may skip (each is audited and rescheduled).
MAX_SKIPS = 25


def audit(
    session: DbSession,
    campaign: Campaign,
    member: CampaignMember,
    decision: compliance.Decision,
    *,
    now: datetime,
    agent_id: int | None = None,
) -> CampaignAttempt:
    """Write one attempt, allowed or blocked, as the rules decided it."""
    attempt = CampaignAttempt(
        campaign_id=campaign.id,
        member_id=member.id,
        at=now,
        channel=campaign.channel,
        number=contacts.address_of(campaign, member),
        agent_id=agent_id,
        allowed=decision.allowed,
        reason=decision.reason,
        rules=list(decision.rules),
        local_time=decision.local_time.isoformat() if decision.local_time else None,
        delivery="" if decision.allowed else "blocked",
        notes="",
    )
    session.add(attempt)
    session.flush()
    return attempt


def blocked(
    session: DbSession,
    campaign: Campaign,
    member: CampaignMember,
    decision: compliance.Decision,
    *,
    now: datetime,
    agent_id: int | None = None,
) -> None:
    """Audit a refused attempt and put the member back in line for when the rules allow, or
    exclude them when nothing will."""
    audit(session, campaign, member, decision, now=now, agent_id=agent_id)
    member.agent_id = None
    if decision.reason in contacts.NEVER or decision.next_allowed_at is None:
        member.status = "excluded"
        member.excluded_reason = decision.reason
        member.next_attempt_at = None
    else:
        member.status = "pending"
        member.next_attempt_at = decision.next_allowed_at


def check(
    session: DbSession, campaign: Campaign, member: CampaignMember, *, now: datetime
) -> compliance.Decision:
    """The rules' answer for this member now (nothing written)."""
    loaded = contacts.load(session, campaign, [member], now=now)
    return compliance.check(contacts.terms_of(campaign), loaded[member.id], now)


def due(now: datetime) -> ColumnElement[bool]:
    """The clause of members whose turn has come."""
    return and_(
        CampaignMember.status == "pending",
        or_(CampaignMember.next_attempt_at.is_(None), CampaignMember.next_attempt_at <= now),
    )


def running(now: datetime) -> ColumnElement[bool]:
    """The clause of campaigns that may contact anyone now."""
    return and_(
        Campaign.status == "active",
        or_(Campaign.starts_at.is_(None), Campaign.starts_at <= now),
        or_(Campaign.ends_at.is_(None), Campaign.ends_at > now),
    )


@dataclass(frozen=True)
class Claimed:
    campaign: Campaign
    member: CampaignMember
    decision: compliance.Decision


def claim_next(session: DbSession, *, agent_id: int, now: datetime) -> Claimed | None:
    """The next due member of a running call campaign the agent joined, reserved for them with
    a compare-and-set (two agents never get the same person) and allowed by the rules now.
    Members the rules refuse on the way are audited and rescheduled; the caller commits."""
    joined = select(CampaignAgent.campaign_id).where(CampaignAgent.user_id == agent_id)
    skipped = 0
    while skipped < MAX_SKIPS:
        row = session.execute(
            select(CampaignMember, Campaign)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(
                Campaign.id.in_(joined),
                Campaign.channel == "call",
                running(now),
                due(now),
            )
            .order_by(
                CampaignMember.next_attempt_at.is_not(None),
                CampaignMember.next_attempt_at,
                CampaignMember.id,
            )
            .limit(1)
        ).first()
        if row is None:
            return None
        member, campaign = row
        taken = session.execute(
            update(CampaignMember)
            .where(CampaignMember.id == member.id, CampaignMember.status == "pending")
            .values(status="in_progress", agent_id=agent_id)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            session.expire(member)
            continue
        session.refresh(member)
        decision = check(session, campaign, member, now=now)
        if decision.allowed:
            return Claimed(campaign, member, decision)
        blocked(session, campaign, member, decision, now=now, agent_id=agent_id)
        results.announce(session, campaign)
        skipped += 1
    return None


def release(session: DbSession, member: CampaignMember) -> None:
    """A member offered to an agent goes back in line untouched (the call could not be placed)."""
    member.status = "pending"
    member.agent_id = None


def placed(
    session: DbSession,
    campaign: Campaign,
    member: CampaignMember,
    decision: compliance.Decision,
    *,
    now: datetime,
    agent_id: int | None,
    call_id: int | None = None,
    sms_id: int | None = None,
    mail_id: int | None = None,
    delivery: str = "placed",
) -> CampaignAttempt:
    """Audit an attempt made (a call placed, a text or an e-mail queued)."""
    attempt = audit(session, campaign, member, decision, now=now, agent_id=agent_id)
    attempt.call_id, attempt.sms_id, attempt.mail_id = call_id, sms_id, mail_id
    attempt.delivery = delivery
    member.attempts += 1
    return attempt


def get_attempt(session: DbSession, attempt_id: int) -> CampaignAttempt:
    attempt = session.get(CampaignAttempt, attempt_id)
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} not found")
    return attempt


def record_disposition(
    session: DbSession,
    *,
    attempt: CampaignAttempt,
    code: str,
    notes: str,
    actor: User,
    now: datetime,
) -> CampaignMember:
    """The agent's answer after a call: the member is done or back in line; a refusal is
    recorded with the consent module. Only the agent who made the call (or a supervisor) may
    record it, once."""
    if attempt.agent_id != actor.id and not actor.has_role(*SUPERVISE):
        raise NotFound(f"attempt {attempt.id} not found")
    if not attempt.allowed or attempt.call_id is None:
        raise Conflict("this attempt was not a call", code="not_a_call")
    if attempt.disposition is not None:
        raise Conflict("a disposition was already recorded", code="already_recorded")
    campaign = session.get(Campaign, attempt.campaign_id)
    member = session.get(CampaignMember, attempt.member_id)
    assert campaign is not None and member is not None
    chosen = {d.code: d for d in dispositions.parse(campaign.dispositions)}.get(code)
    if chosen is None:
        raise ValidationFailed(
            "unknown disposition", fields={"disposition": f"not one of this campaign's: {code!r}"}
        )
    attempt.disposition = code
    attempt.notes = notes[:4000]
    nxt = dispositions.after(
        chosen,
        attempts=member.attempts,
        max_attempts=campaign.max_attempts,
        retry_delay=timedelta(minutes=campaign.retry_delay_minutes),
        now=now,
        ends_at=campaign.ends_at,
    )
    member.last_disposition = code
    member.status = nxt.status
    member.next_attempt_at = nxt.next_attempt_at
    member.agent_id = None
    if nxt.refused:
        consent.record_refusal(
            session,
            customer_id=member.customer_id,
            number=member.number,
            channel=campaign.channel,
            at=now,
            by_user_id=actor.id,
            campaign_id=campaign.id,
        )
    results.announce(session, campaign)
    session.commit()
    return member


def attempts_of(
    session: DbSession, campaign: Campaign, *, before_id: int | None = None, limit: int = 100
) -> list[CampaignAttempt]:
    """The campaign's audit, newest first, by keyset on the id."""
    stmt = select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign.id)
    if before_id is not None:
        stmt = stmt.where(CampaignAttempt.id < before_id)
    return list(session.scalars(stmt.order_by(CampaignAttempt.id.desc()).limit(limit)))


def open_attempt(session: DbSession, *, agent_id: int) -> CampaignAttempt | None:
    """The agent's last call attempt still waiting for its disposition."""
    return session.scalar(
        select(CampaignAttempt)
        .where(
            CampaignAttempt.agent_id == agent_id,
            CampaignAttempt.call_id.is_not(None),
            CampaignAttempt.disposition.is_(None),
        )
        .order_by(CampaignAttempt.id.desc())
        .limit(1)
    )
