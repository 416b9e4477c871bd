"""Voice webhooks replayed from signed fixtures: IVR, queueing, offers, outcomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.timeline.models import TimelineEntry
from telephony import agent_presence, offers
from telephony.models import AgentPresence, Call, CallOffer, CallQueue

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio"
BASE = "http://localhost"
SID = "CA11111111111111111111111111111111"


def fixture(name: str, **overrides: str) -> dict[str, str]:
    return json.loads((FIXTURES / f"{name}.json").read_text()) | overrides


def signed_post(
    client,
    path: str,
    form: dict[str, str],
    *,
    token: str = "test-auth-token",
    signature: str | None = None,
):
    sig = (
        signature
        if signature is not None
        else RequestValidator(token).compute_signature(BASE + path, form)
    )
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


@pytest.fixture
def queues(app):
    db.session.add_all(
        [
            CallQueue(
                name="support",
                label_en="Support",
                label_fr="Assistance",
                skills={"support": 1},
                ring_timeout_s=20,
                wrap_up_s=30,
                callback_after_s=60,
            ),
            CallQueue(
                name="billing", label_en="Billing", label_fr="Facturation", skills={"billing": 2}
            ),
        ]
    )
    db.session.commit()


@pytest.fixture
def gateway(app):
    return app.extensions["telephony_gateway"]


def _agent(make_user, **kw):
    from helpdesk.auth import service as auth

    user = make_user(
        Role.AGENT,
        skills=kw.pop("skills", {"support": 3}),
        languages=kw.pop("languages", ["fr", "en"]),
    )
    auth.update_user(session=db.session, user=user, name=user.name)
    agent_presence.set_presence(db.session, user=user, state="available")
    return user


def test_forged_or_missing_signature_is_refused(client, queues):
    form = fixture("incoming_call")
    assert client.post("/twilio/voice", data=form).status_code == 403
    assert signed_post(client, "/twilio/voice", form, signature="bogus").status_code == 403
    assert signed_post(client, "/twilio/voice", form, token="another-token").status_code == 403
    tampered = RequestValidator("test-auth-token").compute_signature(BASE + "/twilio/voice", form)
    r = client.post(
        "/twilio/voice",
        data=form | {"From": "+33700000000"},
        headers={"X-Twilio-Signature": tampered},
    )
    assert r.status_code == 403
    assert db.session.scalar(select(func.count(Call.id))) == 0


def test_new_caller_gets_language_menu_and_retry_changes_nothing(client, queues):
    form = fixture("incoming_call")
    r = signed_post(client, "/twilio/voice", form)
    assert r.status_code == 200 and r.mimetype == "text/xml"
    body = r.get_data(as_text=True)
    assert '<Gather action="http://localhost/twilio/voice/language"' in body
    assert "Pour le français, tapez 1." in body and "For English, press 2." in body
    again = signed_post(client, "/twilio/voice", form)
    assert again.status_code == 200
    calls = db.session.scalars(select(Call)).all()
    assert len(calls) == 1
    from helpdesk.customers.models import Customer

    caller = db.session.get(Customer, calls[0].customer_id)
    assert caller.tags == ["new-caller"] and caller.language == "fr"
    r = signed_post(client, "/twilio/voice/language", {"CallSid": SID, "Digits": "2"})
    assert "For support, press 1." in r.get_data(as_text=True)


def test_known_customer_hears_their_language(client, queues, customer_factory):
    customer_factory(name="Emma Smith", language="en", phones=["+33612345678"])
    body = signed_post(client, "/twilio/voice", fixture("incoming_call")).get_data(as_text=True)
    assert "Welcome to customer service." in body and "/twilio/voice/menu" in body


def test_after_hours_voicemail_becomes_a_ticket(client, queues, customer_factory):
    from helpdesk.sla.models import CalendarModel

    db.session.add(CalendarModel(name="Never", timezone="UTC", weekly={}, is_default=True))
    db.session.commit()
    customer = customer_factory(name="Léa", phones=["+33612345678"])
    body = signed_post(client, "/twilio/voice", fixture("incoming_call")).get_data(as_text=True)
    assert "actuellement fermés" in body and "<Record" in body
    r = signed_post(client, "/twilio/voice/voicemail", fixture("recording"))
    assert "Merci, votre message a bien été enregistré" in r.get_data(as_text=True)
    signed_post(client, "/twilio/voice/voicemail", fixture("recording"))  # retried: no 2nd ticket
    call = db.session.scalar(select(Call))
    assert call.outcome == "voicemail" and call.ticket_id
    entries = db.session.scalars(
        select(TimelineEntry.kind).where(TimelineEntry.customer_id == customer.id)
    ).all()
    assert entries.count("voicemail") == 1 and entries.count("ticket_created") == 1


def _enqueue(client, queue_digit="1"):
    signed_post(client, "/twilio/voice", fixture("incoming_call"))
    signed_post(client, "/twilio/voice/language", {"CallSid": SID, "Digits": "1"})
    return signed_post(client, "/twilio/voice/menu", {"CallSid": SID, "Digits": queue_digit})


def test_menu_enqueues_and_offers_to_a_qualified_agent(
    client, queues, make_user, recorded, gateway, api_as
):
    unqualified = _agent(make_user, skills={"billing": 5})
    agent = _agent(make_user, skills={"support": 2})
    r = _enqueue(client)
    body = r.get_data(as_text=True)
    assert '<Enqueue action="http://localhost/twilio/voice/queue-result"' in body
    assert 'waitUrl="http://localhost/twilio/voice/wait"' in body and ">support</Enqueue>" in body
    call = db.session.scalar(select(Call))
    db.session.refresh(call)
    assert call.routing_state == "offered" and call.agent_id == agent.id
    pops = recorded.named("screen_pop")
    assert [p.rooms for p in pops] == [(f"user:{agent.id}",)]
    assert pops[0].payload["call_sid"] == SID and pops[0].payload["ivr_path"] == [
        "language:fr",
        "menu:1:queue",
    ]
    assert db.session.get(AgentPresence, unqualified.id).state == "available"

    from tests.conftest import Api

    api = Api(client, None)
    from helpdesk.auth import service as auth

    api.token = auth.issue_token(session=db.session, user=agent)
    r = api.post(f"/calls/{call.id}/accept")
    assert r.status_code == 200, r.get_json()
    assert gateway.commands[-1] == (
        "bridge",
        {"call_sid": SID, "endpoint": f"client:agent-{agent.id}"},
    )
    assert db.session.get(AgentPresence, agent.id).state == "on_call"
    signed_post(client, "/twilio/voice/status", fixture("status_completed"))
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.outcome == "answered" and call.talk_seconds is not None
    presence = db.session.get(AgentPresence, agent.id)
    assert presence.state == "wrap_up" and presence.wrap_up_until is not None
    r = api.post(
        f"/calls/{call.id}/wrap-up", json={"disposition": "resolved", "notes": "Reset the box"}
    )
    assert r.get_json()["disposition"] == "resolved"
    assert db.session.get(AgentPresence, agent.id).state == "available"
    kinds = db.session.scalars(
        select(TimelineEntry.kind).where(TimelineEntry.customer_id == call.customer_id)
    ).all()
    assert "call" in kinds and "call_note" in kinds


def test_reject_and_ring_timeout_move_the_call_on(client, queues, make_user):
    first = _agent(make_user)
    _enqueue(client)
    call = db.session.scalar(select(Call))
    db.session.refresh(call)
    assert call.agent_id == first.id
    second = _agent(make_user)  # becomes available while the call rings for the first
    offers.reject(db.session, user=first, call_id=call.id)
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.routing_state == "offered" and call.agent_id == second.id
    assert call.declined_by == [first.id]
    later = datetime.now(UTC) + timedelta(seconds=25)
    result = offers.expire(db.session, now=later)
    assert result["timed_out"] == 1
    db.session.expire_all()
    presence = db.session.get(AgentPresence, second.id)
    assert presence.state == "break" and presence.reason == "missed call"
    call = db.session.get(Call, call.id)
    assert call.routing_state == "waiting"
    states = db.session.scalars(select(CallOffer.state).order_by(CallOffer.id)).all()
    assert states == ["rejected", "timeout"]


def test_a_call_declined_by_the_only_free_agent_comes_back_to_them(client, queues, make_user):
    """Nobody else is free: after the back-off the call rings again for the agent who declined
    it, rather than leaving the caller waiting while that agent sits available."""
    only = _agent(make_user)
    _enqueue(client)
    call = db.session.scalar(select(Call))
    offers.reject(db.session, user=only, call_id=call.id)
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.routing_state == "waiting" and call.declined_by == [only.id]
    assert db.session.get(AgentPresence, only.id).state == "available"
    # Within the back-off it stays in line.
    assert offers.dispatch(db.session, now=datetime.now(UTC) + timedelta(seconds=2)) == 0
    assert offers.dispatch(db.session, now=datetime.now(UTC) + timedelta(seconds=6)) == 1
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.routing_state == "offered" and call.agent_id == only.id
    assert db.session.get(AgentPresence, only.id).state == "reserved"


def test_the_reoffer_back_off_is_configurable(app, client, queues, make_user):
    app.config["HELPDESK_SETTINGS"].HELPDESK_REOFFER_BACKOFF_S = 30
    only = _agent(make_user)
    _enqueue(client)
    call = db.session.scalar(select(Call))
    offers.reject(db.session, user=only, call_id=call.id)
    assert offers.dispatch(db.session, now=datetime.now(UTC) + timedelta(seconds=6)) == 0
    assert offers.dispatch(db.session, now=datetime.now(UTC) + timedelta(seconds=31)) == 1


def test_a_callback_left_after_a_decline_is_routed_like_a_call(client, queues, make_user, gateway):
    """The caller whose call was declined asks to be called back and hangs up: the callback
    keeps its place and goes to the free agent, who dials the customer on accepting."""
    only = _agent(make_user)
    _enqueue(client)
    call = db.session.scalar(select(Call))
    offers.reject(db.session, user=only, call_id=call.id)
    signed_post(client, "/twilio/voice/wait-choice", {"CallSid": SID, "Digits": "1"})
    signed_post(client, "/twilio/voice/queue-result", {"CallSid": SID, "QueueResult": "leave"})
    signed_post(client, "/twilio/voice/status", fixture("status_completed"))
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.callback_requested and call.routing_state == "waiting"
    assert offers.dispatch(db.session, now=datetime.now(UTC) + timedelta(seconds=6)) == 1
    db.session.expire_all()
    assert db.session.get(Call, call.id).agent_id == only.id
    offers.accept(db.session, user=only, call_id=call.id, gateway=gateway)
    name, args = gateway.commands[-1]
    assert name == "place_call" and args["to"] == "+33612345678"


def test_caller_hangs_up_while_waiting_is_abandoned(client, queues, make_user):
    _enqueue(client)  # nobody available
    call = db.session.scalar(select(Call))
    signed_post(client, "/twilio/voice/status", fixture("status_completed"))
    # A late "ringing" callback must not move the call backwards.
    signed_post(client, "/twilio/voice/status", fixture("status_completed", CallStatus="ringing"))
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.status == "completed" and call.outcome == "abandoned"
    assert call.wait_seconds is not None and call.routing_state == "done"


def _caller_ahead(queue_name: str = "support") -> Call:
    """A caller of higher priority waiting in the queue: the helpdesk's own order, not
    Twilio's `QueuePosition`, gives the place in line."""
    queue = db.session.scalar(select(CallQueue).where(CallQueue.name == queue_name))
    ahead = Call(
        call_sid="CA" + "7" * 32,
        queue_id=queue.id,
        routing_state="waiting",
        priority=100,
        enqueued_at=datetime.now(UTC),
    )
    db.session.add(ahead)
    db.session.commit()
    return ahead


def _served(call: Call) -> None:
    call.routing_state = "done"
    db.session.commit()


def test_wait_announces_position_then_offers_callback(client, queues, make_user, gateway):
    _enqueue(client)
    ahead = _caller_ahead()
    body = signed_post(client, "/twilio/voice/wait", fixture("wait")).get_data(as_text=True)
    assert "Vous êtes en position 2" in body and "<Play>" in body and "<Gather" not in body
    _served(ahead)
    body = signed_post(client, "/twilio/voice/wait", fixture("wait", QueueTime="75")).get_data(
        as_text=True
    )
    assert "Pour être rappelé" in body and "/twilio/voice/wait-choice" in body
    body = signed_post(
        client, "/twilio/voice/wait-choice", {"CallSid": SID, "Digits": "1"}
    ).get_data(as_text=True)
    assert "<Leave />" in body
    body = signed_post(
        client, "/twilio/voice/queue-result", {"CallSid": SID, "QueueResult": "leave"}
    ).get_data(as_text=True)
    assert "nous vous rappellerons" in body and "<Hangup />" in body
    signed_post(client, "/twilio/voice/status", fixture("status_completed"))
    call = db.session.scalar(select(Call))
    db.session.refresh(call)
    assert call.routing_state == "waiting" and call.callback_requested  # keeps its place
    agent = _agent(make_user)
    db.session.expire_all()
    assert db.session.get(Call, call.id).agent_id == agent.id
    offers.accept(db.session, user=agent, call_id=call.id, gateway=gateway)
    name, args = gateway.commands[-1]
    assert name == "place_call" and args["to"] == "+33612345678"
    assert "/twilio/voice/connect-agent?call=" in args["url"]


def test_ticket_status_only_for_the_callers_own_tickets(
    client, queues, customer_factory, ticket_factory
):
    me = customer_factory(name="Me", phones=["+33612345678"])
    mine = ticket_factory(requester_id=me.id)
    other = ticket_factory()
    signed_post(client, "/twilio/voice", fixture("incoming_call"))
    body = signed_post(client, "/twilio/voice/menu", {"CallSid": SID, "Digits": "4"}).get_data(
        as_text=True
    )
    spoken = " ".join(str(mine.id + 10000))
    assert f"Le ticket {spoken} est nouveau" in body
    body = signed_post(
        client, "/twilio/voice/ticket", {"CallSid": SID, "Digits": str(other.id + 10000)}
    ).get_data(as_text=True)
    assert "Nous ne trouvons pas ce ticket" in body


def test_presence_api(api, client):
    r = api.put("/agents/me/presence", json={"state": "break", "reason": "lunch"})
    assert r.status_code == 200 and r.get_json()["reason"] == "lunch"
    r = api.put("/agents/me/presence", json={"state": "dancing"})
    assert r.status_code == 422 and "state" in r.get_json()["error"]["fields"]
    assert api.get("/agents/me/presence").get_json()["state"] == "break"


@pytest.mark.parametrize(
    ("vip", "at_risk", "segment"),
    [(False, False, None), (True, False, None), (False, True, "costly"), (True, True, "best")],
)
def test_the_callers_tags_tickets_at_risk_and_value_set_their_place_in_line(
    client, queues, customer_factory, vip, at_risk, segment
):
    """The priority the menu gives a queued caller: VIP tag, an open ticket whose SLA clock is
    at risk (a paused or resolved one does not count), and the caller's value segment."""
    from helpdesk.sla.models import SlaClock
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Status
    from helpdesk.value.models import CustomerValue
    from telephony import routing

    customer = customer_factory(
        name="Léa Martin", phones=["+33612345678"], tags=["vip"] if vip else []
    )
    now = datetime.now(UTC)
    open_ticket = tickets.create(db.session, actor=None, subject="Box", requester_id=customer.id)
    solved = tickets.create(db.session, actor=None, subject="Old", requester_id=customer.id)
    solved.status = Status.SOLVED
    clocks = [
        # Paused (not running) and on a solved ticket: neither puts the caller ahead.
        SlaClock(
            ticket_id=open_ticket.id,
            metric="resolution",
            target_seconds=3600,
            running_since=None,
            at_risk_at=now - timedelta(minutes=5),
        ),
        SlaClock(
            ticket_id=solved.id,
            metric="resolution",
            target_seconds=3600,
            running_since=now,
            at_risk_at=now - timedelta(minutes=5),
        ),
    ]
    if at_risk:
        clocks.append(
            SlaClock(
                ticket_id=open_ticket.id,
                metric="first_response",
                target_seconds=600,
                running_since=now - timedelta(minutes=9),
                at_risk_at=now - timedelta(minutes=1),
            )
        )
    db.session.add_all(clocks)
    if segment:
        db.session.add(CustomerValue(customer_id=customer.id, segment=segment))
    db.session.commit()

    assert _enqueue(client).status_code == 200
    call = db.session.scalar(select(Call).where(Call.call_sid == SID))
    assert call.routing_state in ("waiting", "offered")
    assert call.priority == routing.call_priority(
        segment=segment, sla_at_risk=at_risk, callback=False, vip=vip
    )
    assert call.ivr_path[-1].startswith("menu:1:queue")


def test_a_deactivated_agent_left_available_is_offered_nothing(client, queues, make_user):
    gone = _agent(make_user)
    gone.active = False
    db.session.commit()
    _enqueue(client)
    assert offers.dispatch(db.session) == 0
    call = db.session.scalar(select(Call))
    db.session.refresh(call)
    assert call.routing_state == "waiting" and call.agent_id is None
    agent = _agent(make_user)  # coming available dispatches
    db.session.refresh(call)
    assert call.routing_state == "offered" and call.agent_id == agent.id


def test_wait_says_one_minute_in_the_singular_in_both_languages(client, queues, gateway):
    _enqueue(client)  # the caller chose French
    one = fixture("wait", QueuePosition="1", AvgQueueTime="60")
    body = signed_post(client, "/twilio/voice/wait", one).get_data(as_text=True)
    assert "environ 1 minute." in body and "1 minutes" not in body
    ahead = _caller_ahead()
    body = signed_post(client, "/twilio/voice/wait", fixture("wait")).get_data(as_text=True)
    assert "environ 2 minutes." in body
    _served(ahead)
    db.session.expire_all()
    db.session.scalar(select(Call).where(Call.call_sid == SID)).language = "en"
    db.session.commit()
    body = signed_post(client, "/twilio/voice/wait", one).get_data(as_text=True)
    assert "about 1 minute." in body and "1 minutes" not in body
