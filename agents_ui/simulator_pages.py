"""The call simulator page (simulator mode only): a customer calls in, presses keys, hangs up.

It drives the same `telephony.simulator.Simulator` as `/api/v1/simulator/...`, with the console's
session and CSRF-protected forms instead of a bearer token. The page's script
(`static/simulator.js`) polls the JSON routes for the live transcript; without JavaScript the
forms post and the page reloads on the call.

A simulated call posts signed webhooks to this very application, from a thread of its own as a
real caller's would, and each webhook needs the database's write lock: every route here ends its
own transaction before it starts the call's thread and waits for it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from agents_ui import formatting
from agents_ui.blueprint import bp, role_required
from agents_ui.forms import ActionForm, DigitsForm, SimCallForm
from agents_ui.phone import first_error, wants_json
from helpdesk.audit.recorder import audit_target
from helpdesk.auth import permissions
from helpdesk.auth.models import User
from helpdesk.customers.models import Customer, CustomerPhone
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.sla.hours import center_hours, open_around_the_clock
from telephony import adapters, queue_hours
from telephony.simulator import SimCall, Simulator

log = logging.getLogger(__name__)

T = TypeVar("T")

RECENT_CALLS = 20
RECENT_SMS = 50
DEMO_NUMBERS = 40
WAIT_S = 30  # a simulated call runs until it waits in a queue or ends; this is plenty

SIM_STATE: dict[str, Any] = {
    "ringing": _l("Ringing"),
    "in-progress": _l("In the menus"),
    "queued": _l("Waiting in a queue"),
    "connected": _l("Talking to an agent"),
    "completed": _l("Ended"),
}
_AGENT_ENDPOINT = re.compile(r"^agent-(\d+)$")


def simulator() -> Simulator | None:
    """The simulator, or None when Twilio is configured."""
    return adapters.simulator()


@bp.context_processor
def _simulator_flag() -> dict[str, Any]:
    return {"simulator_on": simulator() is not None}


def _off() -> ResponseReturnValue:
    """What the routes other than the page answer when Twilio is configured."""
    message = _("The simulator is off: this helpdesk is connected to Twilio.")
    return jsonify({"error": {"code": "simulator_off", "message": message}}), 404


def _refuse(message: str, status: int, back: str) -> ResponseReturnValue:
    """An error as JSON for the page's script, else as a message on the page."""
    if wants_json():
        return jsonify({"error": {"message": message}}), status
    flash(message, "error")
    return redirect(back)


def _in_background(work: Callable[[], T]) -> T | None:
    """Run `work` in its own thread and app context, as a caller's phone would, and wait for it.

    This request's transaction ends first: on SQLite it holds the write lock that the webhooks the
    call posts need.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    holder: dict[str, T] = {}
    done = threading.Event()

    def run() -> None:
        try:
            with app.app_context():
                holder["value"] = work()
        except Exception:
            log.exception("simulated call failed")
        finally:
            done.set()

    db.session.commit()
    threading.Thread(target=run, name="simulated-caller", daemon=True).start()
    done.wait(timeout=WAIT_S)
    return holder.get("value")


def _names(calls: list[SimCall]) -> tuple[dict[str, str], dict[int, str]]:
    """Callers' names by number and agents' names by id, for the calls shown (two queries)."""
    numbers = {c.from_number for c in calls} | {c.to_number for c in calls}
    callers: dict[str, str] = {}
    if numbers:
        rows = db.session.execute(
            select(CustomerPhone.e164, Customer.name)
            .join(Customer, Customer.id == CustomerPhone.customer_id)
            .where(CustomerPhone.e164.in_(numbers), Customer.merged_into_id.is_(None))
        )
        callers = {e164: name for e164, name in rows}
    agent_ids = set()
    for c in calls:
        found = _AGENT_ENDPOINT.match(c.bridged_to or "")
        if found:
            agent_ids.add(int(found.group(1)))
    agents: dict[int, str] = {}
    if agent_ids:
        found_agents = db.session.execute(select(User.id, User.name).where(User.id.in_(agent_ids)))
        agents = {uid: name for uid, name in found_agents}
    return callers, agents


def _view(call: SimCall, callers: dict[str, str], agents: dict[int, str]) -> dict[str, Any]:
    """A simulated call as the page shows it. The customer is the caller, or whom we dialled."""
    inbound = call.to_number == simulator_number()
    customer_number = call.from_number if inbound else call.to_number
    found = _AGENT_ENDPOINT.match(call.bridged_to or "")
    return {
        "call_sid": call.call_sid,
        "direction": "inbound" if inbound else "outbound",
        "number": customer_number,
        "number_display": formatting.phone(customer_number),
        "caller": callers.get(customer_number),
        "state": call.state,
        "state_label": str(SIM_STATE.get(call.state, call.state)),
        "queue": call.queue,
        "bridged_to": call.bridged_to,
        "agent": agents.get(int(found.group(1))) if found else None,
        "transcript": list(call.transcript),
        "url": url_for("console.simulator", call=call.call_sid),
    }


def simulator_number() -> str:
    return str(current_app.config.get("TWILIO_PHONE_NUMBER") or "")


def _one(call: SimCall) -> dict[str, Any]:
    callers, agents = _names([call])
    return _view(call, callers, agents)


def _recent(sim: Simulator) -> list[SimCall]:
    return list(reversed(list(sim.calls.values())[-RECENT_CALLS:]))


def _sms(sim: Simulator) -> list[dict[str, str]]:
    return [
        {**msg, "to": formatting.phone(msg.get("to", ""))}
        for msg in reversed(list(sim.sms)[-RECENT_SMS:])
    ]


def _demo_numbers() -> list[tuple[str, str]]:
    """Known customers' numbers to call from: a call from one of them is recognised."""
    rows = db.session.execute(
        select(CustomerPhone.e164, Customer.name)
        .join(Customer, Customer.id == CustomerPhone.customer_id)
        .where(Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
        .order_by(Customer.id, CustomerPhone.id)
        .limit(DEMO_NUMBERS)
    )
    return [(e164, f"{name} · {formatting.phone(e164)}") for e164, name in rows]


def _call_form() -> SimCallForm:
    form = SimCallForm()
    form.known.choices = [("", _("Choose a customer…")), *_demo_numbers()]
    return form


@bp.get("/simulator", endpoint="simulator")
@login_required
def simulator_page() -> ResponseReturnValue:
    sim = simulator()
    if sim is None:
        return render_template("simulator.html", off=True)
    form = _call_form()
    recent = _recent(sim)
    chosen = sim.calls.get(request.args.get("call", ""))
    shown = recent + ([chosen] if chosen is not None and chosen not in recent else [])
    callers, agents = _names(shown)
    return render_template(
        "simulator.html",
        off=False,
        form=form,
        digits_form=DigitsForm(),
        calls=[_view(c, callers, agents) for c in recent],
        current=_view(chosen, callers, agents) if chosen is not None else None,
        sms=_sms(sim),
        numbers=_demo_numbers(),
        keypad="123456789*0#",
        hours=_hours_view(),
    )


def _hours_view() -> dict[str, Any]:
    """Whether calls are taken now, said where calls are made: closed, they go to voicemail."""
    from zoneinfo import ZoneInfo

    from flask_babel import format_datetime

    hours = center_hours(db.session)
    following = ""
    if hours.next_open is not None:
        following = str(
            format_datetime(
                hours.next_open.astimezone(ZoneInfo(hours.timezone)),
                "EEEE d MMMM, HH:mm",
                rebase=False,
            )
        )
    return {
        # Open too when a queue's own calendar is (telephony.queue_hours): its callers get in.
        "open": hours.open or queue_hours.center_open(db.session, at=utcnow()),
        "calendar": hours.calendar_name,
        "timezone": hours.timezone,
        "next_open": following,
    }


@bp.post("/simulator/open-center", endpoint="simulator_open_center")
@role_required(*permissions.ADMINISTER)
def open_center() -> ResponseReturnValue:
    """An administrator opens the center around the clock, so calls reach agents at any hour."""
    calendar = open_around_the_clock(db.session)
    db.session.commit()
    audit_target(calendar.id)
    flash(
        _(
            "The center is open around the clock: the calendar “%(name)s” now sets its hours.",
            name=calendar.name,
        ),
        "success",
    )
    return redirect(url_for("console.simulator"))


@bp.post("/simulator/sms")
@login_required
def simulator_text() -> ResponseReturnValue:
    """A simulated customer texts the center; the replies show in the page's list of texts."""
    from helpdesk.customers.phones import try_e164

    sim = simulator()
    if sim is None:
        return _off()
    back = url_for("console.simulator")
    body = (request.form.get("body") or "").strip()
    number = try_e164(
        request.form.get("number") or "", current_app.config["HELPDESK_DEFAULT_REGION"]
    )
    if number is None:
        return _refuse(_("This is not a valid phone number."), 400, back)
    if not body or len(body) > 1600:
        return _refuse(_("Write a message of at most 1,600 characters."), 400, back)
    before = len(sim.inbox(number))
    sent = _in_background(lambda: sim.text(number, body))
    if sent is None or sent[0] != 200:
        return _refuse(_("The simulated text was not delivered. Try again."), 409, back)
    replies = sim.inbox(number)[before:]
    if wants_json():
        return jsonify({"replies": replies}), 201
    flash(_("Text sent from %(number)s.", number=formatting.phone(number)), "success")
    return redirect(back)


@bp.post("/simulator/calls")
@login_required
def simulator_call() -> ResponseReturnValue:
    """A simulated customer calls in; answers once the call waits in a queue or has ended."""
    sim = simulator()
    if sim is None:
        return _off()
    form = _call_form()
    back = url_for("console.simulator")
    if not form.validate_on_submit():
        return _refuse(first_error(form), 400, back)
    if not form.caller():
        return _refuse(_("Choose a customer or type a number."), 400, back)
    number, digits = form.caller(), str(form.digits.data or "")
    placed = _in_background(lambda: sim.call(number, digits=digits))
    if placed is None:
        return _refuse(_("The simulated call did not start. Try again."), 409, back)
    sim.start_hold_loop(current_app._get_current_object())  # type: ignore[attr-defined]
    if wants_json():
        return jsonify({"call": _one(placed)}), 201
    return redirect(url_for("console.simulator", call=placed.call_sid))


@bp.get("/simulator/calls")
@login_required
def simulator_calls() -> ResponseReturnValue:
    """The recent simulated calls and the text messages the center sent, newest first."""
    sim = simulator()
    if sim is None:
        return _off()
    recent = _recent(sim)
    callers, agents = _names(recent)
    return jsonify({"calls": [_view(c, callers, agents) for c in recent], "sms": _sms(sim)})


def _missing() -> ResponseReturnValue:
    message = _("There is no such simulated call (the server may have restarted).")
    if request.method == "GET":
        return jsonify({"error": {"code": "not_found", "message": message}}), 404
    return _refuse(message, 404, url_for("console.simulator"))


@bp.get("/simulator/calls/<string:call_sid>")
@login_required
def simulator_call_state(call_sid: str) -> ResponseReturnValue:
    """One simulated call and its transcript (what the page polls while the call is shown)."""
    sim = simulator()
    if sim is None:
        return _off()
    call = sim.calls.get(call_sid)
    return jsonify({"call": _one(call)}) if call is not None else _missing()


@bp.post("/simulator/calls/<string:call_sid>/digits")
@login_required
def simulator_press(call_sid: str) -> ResponseReturnValue:
    """The caller presses keys: used at the next menu, or the next hold message in a queue."""
    sim = simulator()
    if sim is None:
        return _off()
    call = sim.calls.get(call_sid)
    if call is None:
        return _missing()
    form = DigitsForm()
    back = url_for("console.simulator", call=call_sid)
    if not form.validate_on_submit():
        return _refuse(first_error(form), 400, back)
    sim.press(call_sid, str(form.digits.data))
    if wants_json():
        return jsonify({"call": _one(call)})
    return redirect(back)


@bp.post("/simulator/calls/<string:call_sid>/hangup")
@login_required
def simulator_hang_up(call_sid: str) -> ResponseReturnValue:
    """The caller puts the phone down (the status callback tells the app)."""
    sim = simulator()
    if sim is None:
        return _off()
    call = sim.calls.get(call_sid)
    if call is None:
        return _missing()
    form = ActionForm()
    back = url_for("console.simulator", call=call_sid)
    if not form.validate_on_submit():
        return _refuse(first_error(form), 400, back)
    _in_background(lambda: sim.hang_up(call_sid))
    if wants_json():
        return jsonify({"call": _one(call)})
    return redirect(back)
