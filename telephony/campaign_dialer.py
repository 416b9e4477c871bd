"""Progressive campaign calls: a free agent who joined a call campaign gets the next person's
screen pop, then the call is placed with the agent already on it.

Inbound calls come first: no campaign call is offered to an agent while a caller waits whom the
routing (`telephony.routing.plan`) would give that agent. An agent gets a campaign call only when
available (not in wrap-up, not on a break) and with no earlier campaign call still waiting for
its disposition. The member is checked by the compliance rules right before the call is placed
(`helpdesk.campaigns.attempts.claim_next`); blocked members are audited and rescheduled on the
way. The agent is moved to `on_call` (`Event.DIAL`, as for click-to-call) in the transaction that
places the call, so the person called never waits for an agent: Twilio dials them and, on
answering, they are connected to the agent who is already there (`/twilio/voice/connect-agent`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from babel.dates import format_date, format_time
from flask import current_app
from sqlalchemy import select

from helpdesk.auth.models import User
from helpdesk.campaigns import attempts, dispositions, messages, results, waiting
from helpdesk.campaigns.models import Campaign, CampaignAgent, CampaignAttempt, CampaignMember
from helpdesk.db import DbSession, utcnow
from helpdesk.events import publish
from telephony import routing
from telephony.agent_presence import move, presence_of
from telephony.callview import call_view
from telephony.floor import announce_presence
from telephony.models import Call
from telephony.presence import Event, State
from telephony.queue_config import all_queues
from telephony.routing_snapshot import agent_views, queue_spec, waiting_calls
from telephony.screen import screen

log = logging.getLogger(__name__)

OFFER_EVENT = "campaign.offer"
# Why an agent got no campaign call (the API's answer and the console's words).
NOT_FREE = "not_free"
INBOUND_FIRST = "inbound_waiting"
DISPOSITION_DUE = "disposition_due"
NOBODY_DUE = "nobody_due"
CALL_FAILED = "call_failed"


@dataclass(frozen=True)
class Outcome:
    offer: dict[str, Any] | None
    reason: str = "ok"
    # With `nobody_due`: who waits in the campaigns the agent joined, why, and until when.
    held: waiting.Held | None = None


def held_for(session: DbSession, *, agent_id: int, now: datetime) -> waiting.Held:
    """What the agent's running call campaigns wait for (the rules, the retry delays)."""
    ids = list(
        session.scalars(
            select(Campaign.id)
            .join(CampaignAgent, CampaignAgent.campaign_id == Campaign.id)
            .where(
                CampaignAgent.user_id == agent_id,
                Campaign.channel == "call",
                attempts.running(now),
            )
        )
    )
    return waiting.merged(list(waiting.held(session, ids, now=now).values()))


def inbound_for(session: DbSession, agent_id: int, now: datetime) -> bool:
    """Whether a caller waits in line whom the routing would give this (free) agent."""
    agent = [a for a in agent_views(session, now) if a.id == agent_id]
    if not agent:
        return False
    by_id = all_queues(session)
    queues = {q.name: queue_spec(q) for q in by_id.values() if q.active}
    views, _ = waiting_calls(session, by_id, queues, now=now, limit=500)
    # Offered or not before, a caller this agent could take comes first.
    return bool(routing.plan(views, agent, queues, now, reoffer_after_s=0.0))


def _phone(number: str | None) -> str:
    """The number as the console shows numbers (`+81 3-1234-5678`), or as stored."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def local_time_label(value: str | datetime | None, locale: str, *, weekday: bool = False) -> str:
    """The callee's local time as the agent reads it: `22:44 (UTC-05:00)` (with `weekday`,
    `Monday 09:00 (UTC-05:00)`), never an ISO string. The instant keeps the callee's offset."""
    if not value:
        return ""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    offset = moment.utcoffset()
    naive = moment.replace(tzinfo=None)
    text = str(format_time(naive, "short", locale=locale))
    if weekday:
        text = f"{format_date(naive, 'EEEE', locale=locale)} {text}"
    if offset is None:
        return text
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{text} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def offer_payload(
    campaign: Campaign,
    member: CampaignMember,
    attempt: CampaignAttempt,
    call_screen: Any,
    agent: User | None = None,
) -> dict[str, Any]:
    """The campaign's screen pop: who is called, the script in their language filled with their
    values (and the agent's name), and the dispositions to pick from in the agent's language
    (with the caller screen of the call itself beside it)."""
    lang = "fr" if member.language == "fr" else "en"
    agent_lang = "fr" if agent is not None and agent.locale == "fr" else "en"
    script = getattr(campaign, f"script_{lang}") or campaign.script_en or campaign.script_fr
    values = messages.values_for(
        member.display_name or "", campaign.name, agent.name if agent is not None else ""
    )
    return {
        "campaign": {"id": campaign.id, "name": campaign.name, "kind": campaign.kind},
        "member": {
            "id": member.id,
            "name": member.display_name,
            "number": member.number,
            "number_display": _phone(member.number),
            "customer_id": member.customer_id,
            "language": member.language,
            # `placed` counted this call already: the first call to someone is attempt 1.
            "attempts": member.attempts,
            "attempt": max(member.attempts, 1),
            "max_attempts": campaign.max_attempts,
        },
        "attempt_id": attempt.id,
        "call_id": attempt.call_id,
        "script": messages.render(script or "", values),
        "script_language": lang,
        "dispositions": [
            {
                "code": d.code,
                "label": d.label(agent_lang),
                "label_en": d.label_en,
                "label_fr": d.label_fr,
                "outcome": d.outcome,
            }
            for d in dispositions.parse(campaign.dispositions)
        ],
        "local_time": attempt.local_time,
        "local_time_label": local_time_label(attempt.local_time, agent_lang),
        "rules": list(attempt.rules),
        "screen": call_screen,
    }


def _connect_urls(call_id: int) -> tuple[str, str]:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/twilio/voice/connect-agent?call={call_id}", f"{base}/twilio/voice/status"


def _held_back(session: DbSession, agent_id: int, presence: Any, now: datetime) -> str | None:
    """Why the agent gets no campaign call now, or None: not free, a disposition due, or an
    inbound caller they could take (inbound first)."""
    if presence.state != State.AVAILABLE:
        return NOT_FREE
    if attempts.open_attempt(session, agent_id=agent_id) is not None:
        return DISPOSITION_DUE
    if inbound_for(session, agent_id, now):
        return INBOUND_FIRST
    return None


def _call_row(member: CampaignMember, agent_id: int, now: datetime) -> Call:
    """The call we place, already connected to the agent (who is on it from the start)."""
    assert member.number is not None
    return Call(
        call_sid=f"pending-campaign-{member.id}-{now.timestamp()}",
        direction="outbound",
        from_number=current_app.config["TWILIO_PHONE_NUMBER"],
        to_number=member.number,
        customer_id=member.customer_id,
        language=member.language,
        status="queued",
        routing_state="connected",
        agent_id=agent_id,
        created_at=now,
        answered_at=now,
        # No menu was gone through: the call is the agent's own (the attempt names its campaign).
        ivr_path=[],
    )


def offer_next(
    session: DbSession, *, agent_id: int, gateway: Any, now: datetime | None = None
) -> Outcome:
    """Give the agent their next campaign call if they may take one now; commits."""
    now = now or utcnow()
    presence = presence_of(session, user_id=agent_id)
    if (reason := _held_back(session, agent_id, presence, now)) is not None:
        session.rollback()
        return Outcome(None, reason)
    claimed = attempts.claim_next(session, agent_id=agent_id, now=now)
    if claimed is None:
        session.commit()  # the blocked ones met on the way stay audited and rescheduled
        return Outcome(None, NOBODY_DUE, held_for(session, agent_id=agent_id, now=now))
    campaign, member = claimed.campaign, claimed.member
    call = _call_row(member, agent_id, now)
    session.add(call)
    session.flush()
    moved = move(
        session,
        event=Event.DIAL,
        now=now,
        agent_id=agent_id,
        expected=presence.state,
        call_id=call.id,
        loaded=presence,
    )
    if not moved:  # the agent was taken meanwhile (an inbound offer): nothing happened
        session.rollback()
        return Outcome(None, NOT_FREE)
    attempt = attempts.placed(
        session, campaign, member, claimed.decision, now=now, agent_id=agent_id, call_id=call.id
    )
    payload = offer_payload(
        campaign, member, attempt, screen(session, call, now=now), session.get(User, agent_id)
    )
    try:
        connect, status = _connect_urls(call.id)
        call.call_sid = gateway.place_call(call.to_number, call.from_number, connect, status)
    except Exception:
        session.rollback()
        log.exception("placing the campaign call to member %s failed", member.id)
        return Outcome(None, CALL_FAILED)
    _announce_placed(session, campaign, call, payload, agent_id=agent_id, now=now)
    session.commit()
    return Outcome(payload)


def _announce_placed(
    session: DbSession,
    campaign: Any,
    call: Call,
    payload: dict[str, Any],
    *,
    agent_id: int,
    now: datetime,
) -> None:
    """The campaign panel first, then the call itself. The agent is already on this outgoing
    call: it is shown as the call in progress (`call.connected`, as click-to-call after a
    reload), never as a `screen_pop`, which the phone panel shows as an incoming call that
    rings, with its menu choices and its ring timer. Both leave after the commit, in order."""
    publish(session, OFFER_EVENT, [f"user:{agent_id}"], payload)
    publish(
        session,
        "call.connected",
        [f"user:{agent_id}"],
        {
            "call_id": call.id,
            "call_sid": call.call_sid,
            "agent_id": agent_id,
            "call": call_view(session, call, now=now).to_json(),
            "presence": {"state": "on_call", "reason": ""},
        },
    )
    announce_presence(session, agent_id, "on_call")
    results.announce(session, campaign)


def dial_free_agents(session: DbSession, *, gateway: Any, now: datetime | None = None) -> int:
    """The periodic job: every free agent who joined a running call campaign gets a call."""
    now = now or utcnow()
    agents = list(
        session.scalars(
            select(CampaignAgent.user_id)
            .join(Campaign, Campaign.id == CampaignAgent.campaign_id)
            .where(attempts.running(now), Campaign.channel == "call")
            .distinct()
        )
    )
    session.commit()
    placed = 0
    for agent_id in agents:
        if offer_next(session, agent_id=agent_id, gateway=gateway, now=now).offer is not None:
            placed += 1
    return placed


def current_offer(session: DbSession, *, agent_id: int) -> dict[str, Any] | None:
    """The campaign call the agent is on or must still give a disposition for (the console
    shows it again after a reload)."""
    attempt = attempts.open_attempt(session, agent_id=agent_id)
    if attempt is None:
        return None
    campaign = session.get(Campaign, attempt.campaign_id)
    member = session.get(CampaignMember, attempt.member_id)
    call = session.get(Call, attempt.call_id) if attempt.call_id else None
    if campaign is None or member is None or call is None:
        return None
    return offer_payload(
        campaign, member, attempt, screen(session, call), session.get(User, agent_id)
    )
