"""The IVR ends every path: menus said at most N times, the helpdesk's own place in line and
expected wait, and opening hours per queue with their after-hours route."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.sla.models import CalendarModel
from telephony.models import Call, CallQueue
from tests.functional.test_voice import SID, fixture, signed_post

MENU_FR = "Pour l'assistance, tapez 1."


def said(call, text: str) -> int:
    return sum(text in line for line in call.transcript)


@pytest.fixture
def sim(app):
    db.session.add_all(
        [
            CallQueue(name="support", skills={"support": 1}, callback_after_s=600),
            CallQueue(name="billing", skills={"billing": 2}, callback_after_s=600),
        ]
    )
    db.session.commit()
    return app.extensions["telephony_simulator"]


def _row(sim_call) -> Call:
    row = db.session.scalar(select(Call).where(Call.call_sid == sim_call.call_sid))
    db.session.refresh(row)
    return row


# -- no input, invalid keys ----------------------------------------------------------------------


def test_a_silent_caller_hears_the_menu_three_times_then_the_default_queue(sim, customer_factory):
    customer_factory(name="Sam", language="fr", phones=["+33655555555"])
    call = sim.call("+33655555555", digits="")
    assert said(call, MENU_FR) == 3
    assert call.state == "queued" and call.queue == "support"
    row = _row(call)
    assert row.ivr_path == ["menu:default:no_input"] and row.routing_state == "waiting"


def test_a_caller_pressing_only_invalid_keys_ends_in_the_default_route(sim, customer_factory):
    customer_factory(name="Ivo", language="en", phones=["+33666666666"])
    call = sim.call("+33666666666", digits="7777777")
    assert said(call, "For support, press 1.") == 3
    assert said(call, "That is not a valid choice.") == 2  # before the 2nd and 3rd menus
    assert call.state == "queued" and call.queue == "support"
    assert _row(call).ivr_path == ["menu:default:invalid"]


def test_an_unknown_silent_caller_ends_in_the_default_route_too(sim):
    call = sim.call("+14155550000", digits="")
    menus = said(call, MENU_FR) + said(call, "For support, press 1.")
    assert menus == 3 and call.state == "queued" and call.queue == "support"


def test_the_default_route_may_be_voicemail_and_the_limit_configurable(app, sim, customer_factory):
    from telephony import ivr

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    override = Path(app.instance_path) / "ivr.json"
    override.write_text(
        '{"menu_limits": {"max_menus": 2, "no_input": {"action": "voicemail"},'
        ' "invalid": {"action": "voicemail"}}}',
        encoding="utf-8",
    )
    ivr.load.cache_clear()
    try:
        customer_factory(name="Vic", language="fr", phones=["+33677777777"])
        call = sim.call("+33677777777", digits="")
        assert said(call, MENU_FR) == 2
        assert said(call, "Merci, votre message a bien été enregistré.")
        row = _row(call)
        assert row.outcome == "voicemail" and row.ivr_path == ["menu:default:no_input"]
        call = sim.call("+33677777777", digits="88")
        assert said(call, MENU_FR) == 2 and _row(call).outcome == "voicemail"
    finally:
        override.unlink()
        ivr.load.cache_clear()


def test_a_valid_key_after_an_invalid_one_is_taken(sim, customer_factory):
    customer_factory(name="Ana", language="fr", phones=["+33688888888"])
    call = sim.call("+33688888888", digits="72")
    assert call.state == "queued" and call.queue == "billing"
    assert _row(call).ivr_path == ["menu:2:queue"]


# -- position and expected wait ------------------------------------------------------------------


BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@BOTH
def test_two_callers_hear_positions_1_and_2_in_priority_order(sim, customer_factory):
    customer_factory(name="First", language="fr", phones=["+33611110001"])
    customer_factory(name="Later VIP", language="fr", phones=["+33611110002"], tags=["vip"])
    first = sim.call("+33611110001", digits="1")
    assert said(first, "Vous êtes en position 1.")
    later = sim.call("+33611110002", digits="1")
    assert _row(later).priority > _row(first).priority
    assert said(later, "Vous êtes en position 1.")  # served first: first in line
    sim.wait_step(first)
    assert first.transcript[-2].startswith("Vous êtes en position 2.")


@BOTH
def test_the_expected_wait_is_the_queues_measured_average(sim, customer_factory):
    queue = db.session.scalar(select(CallQueue).where(CallQueue.name == "support"))
    now = utcnow()
    for i, wait in enumerate((100, 140)):  # measured: 120 s on average
        db.session.add(
            Call(
                call_sid=f"CA{i:032d}",
                queue_id=queue.id,
                status="completed",
                routing_state="done",
                answered_at=now - timedelta(minutes=5),
                wait_seconds=wait,
            )
        )
    db.session.add(  # an answer older than the window counts for nothing
        Call(
            call_sid="CA" + "9" * 32,
            queue_id=queue.id,
            status="completed",
            routing_state="done",
            answered_at=now - timedelta(hours=3),
            wait_seconds=3000,
        )
    )
    db.session.commit()
    customer_factory(name="Eve", language="en", phones=["+33699999999"])
    call = sim.call("+33699999999", digits="1")
    assert said(call, "You are number 1 in line. The expected wait is about 2 minutes.")


def test_one_minute_is_singular_in_both_languages(sim, customer_factory):
    customer_factory(name="Un", language="fr", phones=["+33600000011"])
    customer_factory(name="One", language="en", phones=["+33600000012"])
    fr = sim.call("+33600000011", digits="1")  # no answer measured yet: 60 s a place
    assert said(fr, "environ 1 minute.") and not said(fr, "1 minutes")
    en = sim.call("+33600000012", digits="1")
    assert said(en, "You are number 2 in line. The expected wait is about 2 minutes.")


def test_twilio_fifo_position_is_not_what_the_caller_hears(client, sim, customer_factory):
    customer_factory(name="Léa", language="fr", phones=["+33612345678"])
    signed_post(client, "/twilio/voice", fixture("incoming_call"))
    signed_post(client, "/twilio/voice/menu", {"CallSid": SID, "Digits": "1"})
    body = signed_post(client, "/twilio/voice/wait", fixture("wait", QueuePosition="7"))
    assert "Vous êtes en position 1." in body.get_data(as_text=True)


# -- opening hours per queue ---------------------------------------------------------------------


def _calendar(name: str, *, always: bool = False, default: bool = False) -> CalendarModel:
    """A calendar open around the clock (`always`) or never (no weekly hours)."""
    calendar = CalendarModel(
        name=name, timezone="UTC", weekly={}, always_open=always, is_default=default
    )
    db.session.add(calendar)
    db.session.commit()
    return calendar


def _queue(name: str) -> CallQueue:
    return db.session.scalar(select(CallQueue).where(CallQueue.name == name))


def test_a_closed_queue_sends_its_callers_to_voicemail(sim, customer_factory):
    _calendar("Open", always=True, default=True)
    _queue("billing").calendar_id = _calendar("Billing: never").id
    db.session.commit()
    customer_factory(name="Bea", language="fr", phones=["+33600000021"])
    call = sim.call("+33600000021", digits="2")
    assert said(call, "Nos bureaux sont actuellement fermés.")
    row = _row(call)
    assert row.outcome == "voicemail" and row.ivr_path == ["menu:2:queue:after_hours:voicemail"]
    support = sim.call("+33600000021", digits="1")  # support keeps the default calendar: open
    assert support.state == "queued" and support.queue == "support"


def test_a_closed_queue_may_send_its_callers_to_another_open_queue(sim, customer_factory):
    _calendar("Open", always=True, default=True)
    _queue("billing").calendar_id = _calendar("Billing: never").id
    _queue("billing").after_hours = {"action": "queue", "queue": "support"}
    db.session.commit()
    customer_factory(name="Cy", language="fr", phones=["+33600000031"])
    call = sim.call("+33600000031", digits="2")
    assert call.state == "queued" and call.queue == "support"
    row = _row(call)
    assert row.ivr_path == ["menu:2:queue:after_hours:support"]
    assert row.queue_id == _queue("support").id


def test_an_after_hours_queue_that_is_closed_too_means_voicemail(sim, customer_factory):
    never = _calendar("Never")
    for name, other in (("billing", "support"), ("support", "billing")):
        _queue(name).calendar_id = never.id
        _queue(name).after_hours = {"action": "queue", "queue": other}
    _calendar("Open", always=True, default=True)
    db.session.commit()
    customer_factory(name="Dee", language="fr", phones=["+33600000041"])
    call = sim.call("+33600000041", digits="2")
    assert _row(call).outcome == "voicemail"


@BOTH
def test_a_queue_open_around_the_clock_keeps_the_line_open_at_night(sim, customer_factory):
    _calendar("Office: closed now", default=True)
    _queue("support").calendar_id = _calendar("Support 24/7", always=True).id
    db.session.commit()
    customer_factory(name="Night", language="fr", phones=["+33600000051"])
    call = sim.call("+33600000051", digits="1")
    assert not said(call, "Nos bureaux sont actuellement fermés.")
    assert call.state == "queued" and call.queue == "support"
    billing = sim.call("+33600000051", digits="2")  # billing follows the default calendar
    assert said(billing, "Nos bureaux sont actuellement fermés.")
    assert _row(billing).outcome == "voicemail"


def test_queue_hours_through_the_api(api_as):
    admin = api_as("admin")
    r = admin.post("/sla/calendars", json={"name": "Late", "timezone": "UTC", "always_open": True})
    assert r.status_code in (200, 201), r.get_json()
    calendar_id = r.get_json()["id"]
    body = {
        "name": "night",
        "skills": {"support": 1},
        "calendar_id": calendar_id,
        "after_hours": {"action": "voicemail"},
    }
    r = admin.post("/queues", json=body)
    assert r.status_code in (200, 201), r.get_json()
    made = r.get_json()
    assert made["calendar_id"] == calendar_id and made["after_hours"] == {
        "action": "voicemail",
        "queue": None,
    }
    bad = body | {"calendar_id": 999_999, "after_hours": {"action": "queue", "queue": "nowhere"}}
    r = admin.put(f"/queues/{made['id']}", json=bad)
    assert r.status_code == 422 or r.status_code == 400
    fields = r.get_json()["error"]["fields"]
    assert fields["calendar_id"] == "no such calendar"
    assert fields["after_hours.queue"] == "no such queue"
    r = admin.put(f"/queues/{made['id']}", json=body | {"after_hours": {"action": "queue"}})
    assert r.get_json()["error"]["fields"]["after_hours"] == "a queue route names its queue"


def test_a_default_route_to_a_queue_no_key_names_is_checked(sim):
    from telephony import ivr_queues

    config = {
        "menu": {"1": {"action": "queue", "queue": "support"}},
        "menu_limits": {
            "no_input": {"action": "queue", "queue": "operators"},
            "invalid": {"action": "queue", "queue": "support"},
        },
    }
    assert ivr_queues.menu_queues(config) == {"1": "support", "no_input": "operators"}
    dead = ivr_queues.dead_keys(db.session, config)
    assert [(d.key, d.queue, d.reason) for d in dead] == [("no_input", "operators", "missing")]
    assert ivr_queues.create_missing(db.session, config) == ["operators"]


def test_a_retried_last_menu_puts_the_caller_in_line_once(client, sim, customer_factory):
    from helpdesk.supervision.models import CallEvent

    customer_factory(name="Léa", language="fr", phones=["+33612345678"])
    signed_post(client, "/twilio/voice", fixture("incoming_call"))
    answers = [
        signed_post(client, "/twilio/voice/menu?heard=3", {"CallSid": SID}).get_data(as_text=True)
        for _ in range(2)  # Twilio's retry of the same request
    ]
    assert answers[0] == answers[1] and ">support</Enqueue>" in answers[0]
    call = db.session.scalar(select(Call).where(Call.call_sid == SID))
    db.session.refresh(call)
    assert call.ivr_path == ["menu:default:no_input"] and call.routing_state == "waiting"
    entered = select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.event == "entered")
    assert len(db.session.scalars(entered).all()) == 1


def test_health_names_an_after_hours_route_that_leads_nowhere(sim):
    from telephony import ivr_queues

    _queue("billing").after_hours = {"action": "queue", "queue": "support"}
    _queue("support").active = False
    db.session.commit()
    dead = ivr_queues.dead_after_hours(db.session)
    assert [d.message for d in dead] == [
        "IVR key after_hours:billing leads to queue 'support', which is inactive"
    ]


def test_the_simulator_page_says_open_when_a_queue_of_its_own_is(app, sim, make_user):
    from helpdesk.auth.models import Role
    from tests.functional.test_console import SessionPerRequestClient, html, sign_in

    _calendar("Office: closed now", default=True)
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    sign_in(client, make_user(Role.AGENT))
    assert 'id="sim-hours" data-open="false"' in html(client.get("/simulator"))
    _queue("support").calendar_id = _calendar("Support 24/7", always=True).id
    db.session.commit()
    assert 'id="sim-hours" data-open="true"' in html(client.get("/simulator"))
