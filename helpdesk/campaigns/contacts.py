"""What the compliance rules are told about the people on a list, and what they answer.

`helpdesk.campaigns.compliance` decides (pure); this module loads what it needs in a few queries:
the consent, do-not-call, opt-out and refusal facts from `helpdesk.consent` and the earlier
attempts from our own audit (every campaign's attempts to the same number or address on the same
channel count, not only this campaign's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from helpdesk.campaigns import compliance
from helpdesk.campaigns.models import Campaign, CampaignAttempt, CampaignMember
from helpdesk.consent import service as consent
from helpdesk.db import DbSession
from helpdesk.value.models import Invoice

# How far back earlier attempts are read: beyond the longest period a rule counts over.
ATTEMPTS_LOOKBACK = timedelta(days=62)
# A customer invoiced within this period counts as having a contract in progress (the helpdesk
# has no contract records of its own: docs/campaigns.md says so).
CONTRACT_PERIOD = timedelta(days=365)
# Reasons that no change of time will lift: the member is excluded rather than rescheduled.
NEVER = frozenset({"do_not_call", "no_number", "no_email", "opted_out", "unsubscribed"})


def terms_of(campaign: Campaign) -> compliance.Terms:
    return compliance.Terms(
        kind=campaign.kind,
        channel=campaign.channel,
        legal_basis=campaign.legal_basis,
        window_start=campaign.window_start,
        window_end=campaign.window_end,
        max_attempts=campaign.max_attempts,
    )


def address_of(campaign: Campaign, member: CampaignMember) -> str | None:
    """What an attempt on the campaign's channel goes to: the number, or the e-mail address."""
    return member.email if campaign.channel == "email" else member.number


def _attempts(
    session: DbSession, channel: str, addresses: set[str], now: datetime
) -> dict[str, list[datetime]]:
    out: dict[str, list[datetime]] = {}
    if not addresses:
        return out
    rows = session.execute(
        select(CampaignAttempt.number, CampaignAttempt.at).where(
            CampaignAttempt.channel == channel,
            CampaignAttempt.allowed.is_(True),
            CampaignAttempt.number.in_(addresses),
            CampaignAttempt.at >= now - ATTEMPTS_LOOKBACK,
        )
    )
    for address, at in rows:
        if address:
            out.setdefault(address, []).append(at)
    return out


def _under_contract(session: DbSession, customer_ids: list[int], now: datetime) -> set[int]:
    if not customer_ids:
        return set()
    since = (now - CONTRACT_PERIOD).date()
    return set(
        session.scalars(
            select(Invoice.customer_id)
            .where(Invoice.customer_id.in_(customer_ids), Invoice.issued_on >= since)
            .distinct()
        )
    )


def load(
    session: DbSession, campaign: Campaign, members: Sequence[CampaignMember], *, now: datetime
) -> dict[int, compliance.Contact]:
    """The compliance contact of each member (by member id), in a few queries."""
    if not members:
        return {}
    customer_ids = sorted({m.customer_id for m in members if m.customer_id is not None})
    facts = consent.contact_facts(
        session,
        customer_ids=customer_ids,
        numbers=sorted({m.number for m in members if m.number}),
        emails=sorted({m.email for m in members if m.email}),
        channel=campaign.channel,
    )
    addresses = {a for m in members if (a := address_of(campaign, m))}
    earlier = _attempts(session, campaign.channel, addresses, now)
    contracts = (
        _under_contract(session, customer_ids, now) if campaign.legal_basis == "contract" else set()
    )
    out: dict[int, compliance.Contact] = {}
    for m in members:
        known = consent.facts_for(facts, customer_id=m.customer_id, number=m.number, email=m.email)
        address = address_of(campaign, m)
        out[m.id] = compliance.Contact(
            number=m.number,
            email=m.email,
            customer_id=m.customer_id,
            attempts=tuple(sorted(earlier.get(address, []))) if address else (),
            has_current_contract=m.customer_id in contracts,
            **known,
        )
    return out


def never_reachable(
    session: DbSession, campaign: Campaign, members: Sequence[CampaignMember], *, now: datetime
) -> dict[CampaignMember, str]:
    """The members the rules refuse for a reason time will not lift (a do-not-call entry, no
    consent...), with that reason."""
    candidates = [m for m in members if m.status == "pending"]
    loaded = load(session, campaign, candidates, now=now)
    terms = terms_of(campaign)
    out: dict[CampaignMember, str] = {}
    for m in candidates:
        decision = compliance.check(terms, loaded[m.id], now)
        if not decision.allowed and (decision.reason in NEVER or decision.next_allowed_at is None):
            out[m] = decision.reason
    return out
