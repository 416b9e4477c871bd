"""The compliance rules wired into campaigns (the rules themselves: helpdesk.campaigns.compliance
and its own tests): a number on the do-not-call list is never dialled, the legal limit of
attempts counts every campaign's attempts, a refusal is recorded and silences the person, and a
marketing list keeps only the people who consented."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.campaigns import attempts, service
from helpdesk.campaigns.lists import Candidate
from helpdesk.campaigns.models import CampaignAttempt, CampaignMember
from helpdesk.consent import service as consent
from helpdesk.consent.models import ContactRefusal
from helpdesk.extensions import db
from telephony import campaign_dialer
from tests.functional.campaign_fixtures import agent, call_campaign, gateway, placed_calls

LISTED, FREE = "+33612345201", "+33612345202"


def _member(campaign, number):
    return db.session.scalar(
        select(CampaignMember).where(
            CampaignMember.campaign_id == campaign.id, CampaignMember.number == number
        )
    )


def test_a_number_on_the_do_not_call_list_is_never_dialled(app, app_clock, make_user):
    boss = make_user(Role.SUPERVISOR)
    consent.add_do_not_call(db.session, number=LISTED, source="bloctel")
    db.session.commit()
    campaign = call_campaign(boss, numbers=[LISTED, FREE])
    # Excluded when the list was made, with the reason.
    listed = _member(campaign, LISTED)
    assert (listed.status, listed.excluded_reason) == ("excluded", "do_not_call")

    # Listed after the import: refused right before the call, audited, excluded.
    late = "+33612345203"
    service.add_members(
        db.session, campaign, [Candidate(9, "Late", late, None, None, "fr")], actor=boss
    )
    consent.add_do_not_call(db.session, number=late, source="customer")
    db.session.commit()
    first, second = agent(make_user), agent(make_user)
    service.join(db.session, campaign, user=first)
    service.join(db.session, campaign, user=second)
    taken = campaign_dialer.offer_next(db.session, agent_id=first.id, gateway=gateway(app))
    assert taken.offer is not None and taken.offer["member"]["number"] == FREE
    left = campaign_dialer.offer_next(db.session, agent_id=second.id, gateway=gateway(app))
    assert left.offer is None and left.reason == "nobody_due"
    assert [c["to"] for c in placed_calls(app)] == [FREE]
    blocked = db.session.scalar(select(CampaignAttempt).where(CampaignAttempt.number == late))
    assert not blocked.allowed and blocked.reason == "do_not_call" and blocked.rules
    late_member = _member(campaign, late)
    assert (late_member.status, late_member.excluded_reason) == ("excluded", "do_not_call")


def test_the_legal_attempt_limit_counts_every_campaigns_attempts(app, app_clock, make_user):
    boss = make_user(Role.SUPERVISOR)
    from helpdesk.customers import service as customers

    customer = customers.create(db.session, name="Léa Client", phones=[FREE])
    consent.record_consent(
        db.session,
        customer_id=customer.id,
        channel="call",
        source="agent",
        proof="Asked on the phone on 1 December",
        by_user_id=boss.id,
    )
    db.session.commit()
    earlier = call_campaign(
        boss, numbers=[FREE], name="Earlier", kind="marketing", legal_basis="consent"
    )
    member = _member(earlier, FREE)
    assert member.customer_id == customer.id and member.status == "pending"
    # Four calls to this number in the last thirty days, by another campaign.
    for days in (1, 3, 5, 7):
        db.session.add(
            CampaignAttempt(
                campaign_id=earlier.id,
                member_id=member.id,
                channel="call",
                number=FREE,
                at=app_clock.now() - timedelta(days=days),
                allowed=True,
                reason="ok",
                rules=[],
                delivery="placed",
            )
        )
    member.status = "done"
    db.session.commit()
    campaign = call_campaign(
        boss, numbers=[FREE], name="Later", kind="marketing", legal_basis="consent"
    )
    user = agent(make_user)
    service.join(db.session, campaign, user=user)

    outcome = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))

    assert outcome.offer is None and placed_calls(app) == []
    blocked = db.session.scalar(
        select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign.id)
    )
    assert not blocked.allowed and blocked.reason == "attempt_limit"
    later = _member(campaign, FREE)
    # Back in line once the oldest of the four leaves the thirty days.
    assert later.status == "pending" and later.next_attempt_at > app_clock.now() + timedelta(
        days=20
    )


def test_a_refusal_is_recorded_and_a_marketing_list_keeps_only_who_consented(
    app, app_clock, make_user
):
    boss = make_user(Role.SUPERVISOR)
    campaign = call_campaign(boss, numbers=[FREE])
    user = agent(make_user)
    service.join(db.session, campaign, user=user)
    outcome = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))
    attempt = attempts.get_attempt(db.session, outcome.offer["attempt_id"])
    member = attempts.record_disposition(
        db.session,
        attempt=attempt,
        code="refused",
        notes="Not interested, ever",
        actor=user,
        now=app_clock.now(),
    )
    assert member.status == "done"
    refusal = db.session.scalar(select(ContactRefusal))
    assert (refusal.number, refusal.channel, refusal.campaign_id) == (FREE, "call", campaign.id)

    # Marketing by consent: nobody here consented, so the list is all excluded.
    marketing = call_campaign(
        boss,
        numbers=[FREE, LISTED],
        start=False,
        name="Offer",
        kind="marketing",
        legal_basis="consent",
    )
    reasons = {
        m.number: m.excluded_reason
        for m in db.session.scalars(
            select(CampaignMember).where(CampaignMember.campaign_id == marketing.id)
        )
    }
    assert reasons[LISTED] == "no_consent"
