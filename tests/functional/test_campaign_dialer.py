"""Progressive campaign calls: the screen pop then the call with the agent on it, the compliance
check right before each call (blocked attempts audited and rescheduled), inbound priority, and
the disposition that moves the person on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.campaigns import attempts
from helpdesk.campaigns.models import CampaignAttempt, CampaignMember
from helpdesk.extensions import db
from telephony import campaign_dialer
from telephony.models import AgentPresence, Call, CallQueue
from tests.functional.campaign_fixtures import (
    SCRIPT_FR,
    agent,
    call_campaign,
    gateway,
    placed_calls,
)

NUMBERS = ["+33612345001", "+33612345002"]


def _joined(campaign, user):
    from helpdesk.campaigns import service

    service.join(db.session, campaign, user=user)


def _members(campaign):
    return list(
        db.session.scalars(
            select(CampaignMember)
            .where(CampaignMember.campaign_id == campaign.id)
            .order_by(CampaignMember.id)
        )
    )


def _attempts(campaign):
    return list(
        db.session.scalars(
            select(CampaignAttempt)
            .where(CampaignAttempt.campaign_id == campaign.id)
            .order_by(CampaignAttempt.id)
        )
    )


def test_a_free_agent_gets_the_campaign_panel_then_the_outgoing_call_then_the_next_person(
    app, app_clock, make_user, recorded
):
    boss = make_user(Role.SUPERVISOR)
    campaign = call_campaign(boss, numbers=NUMBERS)
    user = agent(make_user)
    _joined(campaign, user)

    outcome = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))

    assert outcome.reason == "ok" and outcome.offer is not None
    first = _members(campaign)[0]
    assert outcome.offer["member"]["number"] == first.number
    assert outcome.offer["script"] == SCRIPT_FR  # the person's language
    assert [d["code"] for d in outcome.offer["dispositions"]][:3] == [
        "interested",
        "reached",
        "refused",
    ]
    # The campaign panel reached the agent's room before the call, shown as the outgoing call
    # the agent is on; never as a `screen_pop`, which the phone panel shows as a ringing
    # incoming call (accept/reject, menu choices, "the call moves on").
    mine = [e for e in recorded.events if e.rooms == (f"user:{user.id}",)]
    names = [e.name for e in mine]
    assert names.index("campaign.offer") < names.index("call.connected")
    assert "screen_pop" not in names
    connected = mine[names.index("call.connected")].payload
    assert connected["call"]["direction"] == "outbound"
    assert connected["presence"]["state"] == "on_call"
    # The first call to someone is their attempt 1 (the audit shows one).
    assert outcome.offer["member"]["attempt"] == 1
    assert outcome.offer["member"]["number_display"] == "+33 6 12 34 50 01"
    assert [c["to"] for c in placed_calls(app)] == [first.number]
    # The agent is on the call from the moment it is placed (no callee waits for an agent).
    presence = db.session.get(AgentPresence, user.id)
    assert presence.state == "on_call"
    call = db.session.get(Call, outcome.offer["call_id"])
    assert call.to_number == first.number and call.agent_id == user.id
    assert call.direction == "outbound" and call.ivr_path == []  # no "Menu choices: campaign"
    (attempt,) = _attempts(campaign)
    assert attempt.allowed and attempt.reason == "ok" and attempt.call_id == call.id
    assert attempt.local_time is not None
    db.session.refresh(first)
    assert first.status == "in_progress" and first.attempts == 1

    # While the disposition is due, no second call comes, even when the agent is free again.
    db.session.execute(
        AgentPresence.__table__.update()
        .where(AgentPresence.user_id == user.id)
        .values(state="available", current_call_id=None)
    )
    db.session.commit()
    again = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))
    assert again.reason == "disposition_due" and len(placed_calls(app)) == 1

    member = attempts.record_disposition(
        db.session, attempt=attempt, code="no_answer", notes="", actor=user, now=app_clock.now()
    )
    assert member.status == "pending" and member.last_disposition == "no_answer"
    assert member.next_attempt_at >= app_clock.now() + timedelta(minutes=239)

    nxt = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))
    assert nxt.offer is not None and nxt.offer["member"]["number"] == NUMBERS[1]
    assert [c["to"] for c in placed_calls(app)] == NUMBERS


def test_a_person_outside_the_window_is_not_called_and_the_attempt_is_audited(
    app, app_clock, make_user
):
    boss = make_user(Role.SUPERVISOR)
    # Noon in Paris; the campaign's own window opens at 15:00 (callee's local time).
    campaign = call_campaign(
        boss, numbers=NUMBERS[:1], window_start=time(15, 0), window_end=time(17, 0)
    )
    user = agent(make_user)
    _joined(campaign, user)

    outcome = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))

    assert outcome.offer is None and outcome.reason == "nobody_due"
    assert placed_calls(app) == []
    (attempt,) = _attempts(campaign)
    assert not attempt.allowed and attempt.reason == "outside_hours"
    assert attempt.delivery == "blocked" and attempt.local_time.startswith("2026-12-02T12:")
    (member,) = _members(campaign)
    assert member.status == "pending"
    local = member.next_attempt_at.astimezone(ZoneInfo("Europe/Paris"))
    assert local.date() == datetime(2026, 12, 2).date() and local.time() >= time(15, 0)
    assert db.session.get(AgentPresence, user.id).state == "available"


def test_an_inbound_caller_the_agent_could_take_comes_first(app, app_clock, make_user):
    boss = make_user(Role.SUPERVISOR)
    campaign = call_campaign(boss, numbers=NUMBERS[:1])
    support = agent(make_user, skills={"support": 3})
    billing = agent(make_user, skills={"billing": 3})
    _joined(campaign, support)
    _joined(campaign, billing)
    queue = CallQueue(
        name="support", label_en="Support", label_fr="Assistance", skills={"support": 1}
    )
    db.session.add(queue)
    db.session.flush()
    db.session.add(
        Call(
            call_sid="CA" + "7" * 32,
            queue_id=queue.id,
            routing_state="waiting",
            priority=1,
            enqueued_at=datetime.now(UTC),
        )
    )
    db.session.commit()

    held = campaign_dialer.offer_next(db.session, agent_id=support.id, gateway=gateway(app))
    assert held.offer is None and held.reason == "inbound_waiting"
    assert placed_calls(app) == [] and _attempts(campaign) == []
    assert _members(campaign)[0].status == "pending"

    # An agent who could not take that caller gets the campaign call.
    other = campaign_dialer.offer_next(db.session, agent_id=billing.id, gateway=gateway(app))
    assert other.offer is not None and [c["to"] for c in placed_calls(app)] == NUMBERS[:1]


def test_an_agent_in_wrap_up_or_not_joined_gets_no_campaign_call(app, app_clock, make_user):
    boss = make_user(Role.SUPERVISOR)
    call_campaign(boss, numbers=NUMBERS)
    loner = agent(make_user)
    assert (
        campaign_dialer.offer_next(db.session, agent_id=loner.id, gateway=gateway(app)).reason
        == "nobody_due"
    )
    away = agent(make_user, available=False)
    assert (
        campaign_dialer.offer_next(db.session, agent_id=away.id, gateway=gateway(app)).reason
        == "not_free"
    )
    assert placed_calls(app) == []


def test_the_periodic_round_calls_every_free_agent_who_joined(app, app_clock, make_user):
    boss = make_user(Role.SUPERVISOR)
    campaign = call_campaign(boss, numbers=NUMBERS)
    first, second = agent(make_user), agent(make_user)
    _joined(campaign, first)
    _joined(campaign, second)
    assert campaign_dialer.dial_free_agents(db.session, gateway=gateway(app)) == 2
    assert sorted(c["to"] for c in placed_calls(app)) == NUMBERS
    assert {m.agent_id for m in _members(campaign)} == {first.id, second.id}


def test_a_paused_campaign_calls_nobody(app, app_clock, make_user):
    from helpdesk.campaigns import service

    boss = make_user(Role.SUPERVISOR)
    campaign = call_campaign(boss, numbers=NUMBERS)
    user = agent(make_user)
    _joined(campaign, user)
    service.set_status(db.session, campaign, status="paused", actor=boss)
    outcome = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))
    assert outcome.reason == "nobody_due" and placed_calls(app) == []


def test_the_script_is_filled_and_the_dispositions_are_in_the_agent_language(
    app, app_clock, make_user
):
    """The script in the callee's language with their name and the agent's; the disposition
    labels in the agent's language (an English-speaking callee, a French agent)."""
    from helpdesk.campaigns import service
    from helpdesk.campaigns.lists import Candidate

    boss = make_user(Role.SUPERVISOR)
    campaign = call_campaign(
        boss,
        numbers=[],
        start=False,
        script_en="Hello {{customer.name}}, this is {{ agent.first_name }} for {{campaign.name}}.",
    )
    service.add_members(
        db.session,
        campaign,
        [Candidate(2, "Alice Martin", "+33612345009", None, None, "en")],
        actor=boss,
    )
    service.set_status(db.session, campaign, status="active", actor=boss)
    user = agent(make_user)
    user.name = "Jeanne Dupont"
    user.locale = "fr"
    db.session.commit()
    _joined(campaign, user)

    outcome = campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))

    assert outcome.offer is not None
    assert outcome.offer["script"] == "Hello Alice Martin, this is Jeanne for Renewal reminder."
    assert outcome.offer["script_language"] == "en"
    labels = {d["code"]: d["label"] for d in outcome.offer["dispositions"]}
    assert labels["interested"] == "Intéressé"
    assert outcome.offer["local_time_label"].endswith("(UTC+01:00)")
    # Shown again after a reload, the same.
    again = campaign_dialer.current_offer(db.session, agent_id=user.id)
    assert again is not None and again["script"] == outcome.offer["script"]
