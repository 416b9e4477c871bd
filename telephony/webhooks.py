"""Twilio's voice webhooks: signature checked first, quick database work, TwiML back.

Every URL here is reached either from Twilio's console configuration (`/twilio/voice`,
`/twilio/voice/status`), from TwiML we returned, or from the REST requests we make (a callback's
`connect-agent`, an agent leg's `agent-status`). Each answers well inside Twilio's 15-second
limit: anything slow (dispatching offers, sending messages) happens after commit in a task.

Twilio retries a webhook that is slow to answer while the first request still runs, and replays
steps late. So every IVR step locks its call's row for its transaction (a copy waits, then finds
what the first did and answers the same), changes only what has not been changed yet, and obeys
the never-backwards rule of status callbacks: a step for a call that has ended answers
`<Hangup/>` and changes nothing (`ivr_step`). Forms are read into the dataclasses of
`telephony.webhook_forms`, which refuse (400) what no column holds.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Enqueue, Gather, VoiceResponse

from helpdesk.db import kept_after_commit, utcnow
from helpdesk.errors import NotFound
from helpdesk.extensions import csrf, db
from helpdesk.security.nul import strip_from_request as strip_nul
from telephony import (
    adapters,
    calls,
    ivr,
    ivr_menu,
    ivr_path,
    ivr_queues,
    ivr_speech,
    offers,
    queue_hours,
    queue_wait,
    recordings,
)
from telephony import ivr_self_service as self_service
from telephony import webhook_forms as forms
from telephony.history import note_ivr
from telephony.models import Call, takes_steps
from telephony.queue_config import AnyQueue, QueueRow, queue_row

log = logging.getLogger(__name__)
bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")
csrf.exempt(bp)


def bad_webhook(exc: forms.BadWebhook) -> Response:
    """A value out of range: 400 with what was wrong (Twilio's debugger shows it)."""
    return Response(str(exc), status=400, mimetype="text/plain")


bp.register_error_handler(forms.BadWebhook, bad_webhook)


def signed(view: Callable[..., Response]) -> Callable[..., Response]:
    """Refuse (403) any request whose X-Twilio-Signature does not match.

    The signature covers the public URL Twilio called, so it is rebuilt from PUBLIC_BASE_URL
    plus the path and query string: behind a TLS proxy `request.url` is the internal address.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path
        if request.query_string:
            url += "?" + request.query_string.decode()
        validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
        if not signature or not validator.validate(url, request.form.to_dict(), signature):
            abort(403)
        # Signed as sent; recorded without the NUL characters PostgreSQL cannot store.
        strip_nul()
        return view(*args, **kwargs)

    return wrapper


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


_config = ivr_speech.config
_url = ivr_speech.url
_say = ivr_speech.say


def ivr_step(view: Callable[[Call], Response]) -> Callable[[], Response]:
    """Hand the view its call, locked until the step's transaction ends, or answer for a call
    that has ended: a copy of the same webhook waits for the first and sees what it did, and a
    step that arrives after the call's final status would move the call backwards (`<Hangup/>`,
    nothing changed: no queue, no offer, no ticket, no request to Twilio)."""
    return _step(view, lock=True)


def ivr_read(view: Callable[[Call], Response]) -> Callable[[], Response]:
    """`ivr_step` for a step that changes nothing (the wait message, played in a loop): the
    same answer for an ended call, without waiting for a lock that a dispatch may hold."""
    return _step(view, lock=False)


def _step(view: Callable[[Call], Response], *, lock: bool) -> Callable[[], Response]:
    @functools.wraps(view)
    def wrapper() -> Response:
        call = calls.call_for_step(db.session, call_sid=forms.call_sid(request.form), lock=lock)
        if call is None:
            abort(404)
        if not takes_steps(call.status):
            log.info("late IVR step %s for ended call %s ignored", request.path, call.call_sid)
            db.session.rollback()
            return twiml(_ended())
        return view(call)

    return wrapper


def _ended() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def _menu(call: Call, *, heard: int = 1, invalid: bool = False) -> VoiceResponse:
    """The main menu, said for the `heard`-th time: its key, or its silence, comes back to
    `/menu?heard=N`, which knows when to stop repeating it (`telephony.ivr_menu`)."""
    response = VoiceResponse()
    cfg = _config()
    again = _url("twilio_voice.menu", heard=heard)
    gather = Gather(num_digits=1, action=again, method="POST", timeout=6)
    if invalid:
        _say(gather, ivr.prompt(cfg, call.language, "invalid"), call.language)
    _say(gather, ivr.prompt(cfg, call.language, "menu"), call.language)
    response.append(gather)
    response.redirect(again, method="POST")
    return response


def _voicemail(call: Call, *, closed: bool = False, invalid: bool = False) -> VoiceResponse:
    cfg = _config()
    response = VoiceResponse()
    if invalid:
        _say(response, ivr.prompt(cfg, call.language, "invalid"), call.language)
    if closed:
        _say(response, ivr.prompt(cfg, call.language, "closed"), call.language)
    _say(response, ivr.prompt(cfg, call.language, "voicemail"), call.language)
    response.record(
        action=_url("twilio_voice.voicemail"),
        method="POST",
        max_length=180,
        play_beep=True,
        finish_on_key="#",
    )
    return response


@bp.post("")
@signed
def incoming() -> Response:
    """A new call: find or create the caller, then opening hours, language, menu."""
    inbound = forms.inbound_call(request.form)
    # The answer reads the call as it was just written: no second read of the row.
    with kept_after_commit(db.session):
        call, language_known = calls.upsert_inbound(
            db.session, inbound=inbound, region=current_app.config["HELPDESK_DEFAULT_REGION"]
        )
    if not takes_steps(call.status):
        return twiml(_ended())  # a replay of the first webhook after the call ended
    cfg = _config()
    if not queue_hours.center_open(db.session, at=utcnow()):
        note_ivr(db.session, call=call, step="closed")
        return twiml(_voicemail(call, closed=True))
    if language_known:
        response = VoiceResponse()
        _say(response, ivr.prompt(cfg, call.language, "welcome"), call.language)
        response.redirect(_url("twilio_voice.menu"), method="POST")
        return twiml(response)
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=_url("twilio_voice.language"), method="POST", timeout=5)
    for lang in cfg["languages"].values():
        _say(
            gather, ivr.prompt(cfg, lang, "welcome") + " " + ivr.prompt(cfg, lang, "language"), lang
        )
    response.append(gather)
    response.redirect(_url("twilio_voice.menu"), method="POST")
    return twiml(response)


@bp.post("/language")
@signed
@ivr_step
def language(call: Call) -> Response:
    chosen = ivr_path.language_choice(_config(), forms.CallStep.read(request.form).digits)
    if chosen:
        call.language = chosen
    note_ivr(db.session, call=call, step=f"language:{call.language}")
    return twiml(_menu(call))


@bp.post("/menu")
@signed
@ivr_step
def menu(call: Call) -> Response:
    """A key of the main menu, or its silence: the choice, the menu again (counted in the URL),
    or, after the last menu allowed, the default route."""
    digits = forms.CallStep.read(request.form).digits
    option = ivr_path.menu_option(_config(), digits)
    if option is None:
        heard = forms.count(request.args, "heard", default=0, low=0, high=100)
        limits = ivr_menu.MenuLimits.from_config(_config())
        miss = ivr_menu.after_miss(heard, pressed=digits is not None, limits=limits)
        if miss.route is None:
            return twiml(_menu(call, heard=miss.heard, invalid=miss.invalid))
        return twiml(_default_route(call, miss))
    step = f"menu:{digits}:{option['action']}"
    if option["action"] == "queue":
        return twiml(_to_queue(call, _menu_queue(str(digits), option), step))
    note_ivr(db.session, call=call, step=step)
    if option["action"] == "voicemail":
        return twiml(_voicemail(call))
    if option["action"] == "ticket_status":
        return twiml(self_service.ticket_status(call, None))
    return twiml(self_service.technician(call))


def _default_route(call: Call, miss: ivr_menu.MenuMiss) -> VoiceResponse:
    """The caller heard the menu the most times allowed without choosing: the route for
    silence or for invalid keys, a queue (with its hours) or voicemail."""
    step = f"menu:default:{miss.reason}"
    route = miss.route or {}
    if route.get("action") == "queue":
        return _to_queue(call, _menu_queue(miss.reason, route), step)
    note_ivr(db.session, call=call, step=step)
    return _voicemail(call, invalid=miss.invalid)


def _to_queue(call: Call, queue: AnyQueue, step: str) -> VoiceResponse:
    """Into `queue` if it is open now; otherwise its after-hours route (`queue_hours`)."""
    where = queue_hours.destination(db.session, queue=queue, at=utcnow())
    if not where.closed:
        return _enqueue(call, queue, step)
    if where.queue is not None:
        return _enqueue(call, where.queue, f"{step}:after_hours:{where.queue.name}")
    note_ivr(db.session, call=call, step=f"{step}:after_hours:voicemail")
    return _voicemail(call, closed=True)


def _menu_queue(key: str, option: dict[str, Any]) -> QueueRow:
    """The active queue a menu key names. A key that leads nowhere is logged with its name and
    answered with an error, which sends the call to the number's fallback URL."""
    try:
        return calls.queue_by_name(db.session, name=str(option.get("queue") or ""))
    except NotFound:
        for dead in ivr_queues.dead_keys(db.session, {"menu": {key: option}}):
            log.error(
                "%s: the caller is sent to the fallback URL (see helpdesk check)", dead.message
            )
        raise


def _enqueue(call: Call, queue: AnyQueue, step: str) -> VoiceResponse:
    # Read before the commit expires them: the answer needs no second read of either row. A
    # copy of the webhook finds the caller in line, changes nothing and answers the same.
    language, name = call.language, queue.name
    # Consent: a queue that records with an announcement tells the caller before they wait.
    announces = recordings.policy_for(db.session, queue.id).announces
    calls.enqueue(db.session, call=call, queue=queue, step=step)
    response = VoiceResponse()
    if announces:
        _say(response, ivr.prompt(_config(), language, "recording_notice"), language)
    _say(response, ivr.prompt(_config(), language, "enqueued"), language)
    response.append(
        Enqueue(
            name,
            action=_url("twilio_voice.queue_result"),
            method="POST",
            wait_url=_url("twilio_voice.wait"),
            wait_url_method="POST",
        )
    )
    return response


@bp.post("/ticket")
@signed
@ivr_step
def ticket(call: Call) -> Response:
    digits = forms.CallStep.read(request.form).digits or ""
    note_ivr(db.session, call=call, step="ticket_lookup")
    return twiml(self_service.ticket_status(call, digits))


@bp.post("/wait")
@signed
@ivr_read
def wait(call: Call) -> Response:
    """Played in a loop while the caller waits: position, expected wait, callback offer."""
    cfg = _config()
    lang = call.language
    waited = forms.QueueWait.read(request.form).waited_s
    told = queue_wait.announcement(db.session, call=call, now=utcnow(), config=cfg)
    queue = queue_row(db.session, call.queue_id)
    where = ivr.prompt(
        cfg, lang, "position", count=told.minutes, position=told.position, minutes=told.minutes
    )
    response = VoiceResponse()
    if queue is not None and waited >= queue.callback_after_s:
        gather = Gather(
            num_digits=1, action=_url("twilio_voice.wait_choice"), method="POST", timeout=3
        )
        _say(gather, where, lang)
        _say(gather, ivr.prompt(cfg, lang, "callback_offer"), lang)
        gather.play(cfg["hold_music"])
        response.append(gather)
    else:
        _say(response, where, lang)
        response.play(cfg["hold_music"])
    return twiml(response)


@bp.post("/wait-choice")
@signed
@ivr_step
def wait_choice(call: Call) -> Response:
    digits = forms.CallStep.read(request.form).digits or ""
    response = VoiceResponse()
    if digits == "1":
        # Once: a copy of the webhook finds the callback asked for and changes nothing.
        offers.request_callback(db.session, call=call, step="callback")
        response.leave()
    elif digits == "2":
        note_ivr(db.session, call=call, step="voicemail")
        response.leave()
    return twiml(response)


@bp.post("/queue-result")
@signed
@ivr_step
def queue_result(call: Call) -> Response:
    """The Enqueue verb ended: left for a callback or voicemail, bridged, or hung up."""
    result = forms.QueueResult.read(request.form).result
    cfg = _config()
    response = VoiceResponse()
    if result == "leave" and call.callback_requested:
        _say(response, ivr.prompt(cfg, call.language, "callback_confirmed"), call.language)
        response.hangup()
    elif result in ("leave", "queue-full", "error", "system-error"):
        return twiml(_voicemail(call))
    return twiml(response)


@bp.post("/voicemail")
@signed
@ivr_step
def voicemail(call: Call) -> Response:
    recording = forms.Recording.read(request.form)
    response = VoiceResponse()
    if recording.url:
        # Once: a copy of the webhook finds the ticket made and answers the same thanks.
        calls.record_voicemail(
            db.session, call=call, recording_url=recording.url, duration_s=recording.duration_s
        )
        _say(response, ivr.prompt(_config(), call.language, "voicemail_thanks"), call.language)
    else:
        _say(response, ivr.prompt(_config(), call.language, "goodbye"), call.language)
    response.hangup()
    return twiml(response)


@bp.post("/status")
@signed
def status() -> Response:
    update = forms.CallStatusUpdate.read(request.form)
    if update.call_sid and update.status:
        calls.apply_status(db.session, call_sid=update.call_sid, status=update.status)
    return Response(status=204)


@bp.post("/connect-agent")
@signed
def connect_agent() -> Response:
    """The customer answered a callback: connect them to the agent who took it (on Twilio, into
    the call's conference, where the agent's leg is rung)."""
    from telephony import bridging

    call_id = forms.record_id(request.args, "call")
    call = db.session.get(Call, call_id) if call_id else None
    if call is None or call.agent_id is None:
        abort(404)
    body = bridging.connect_callback(db.session, call, adapters.gateway())
    return Response(body, mimetype="text/xml")


@bp.post("/hold")
@signed
def hold() -> Response:
    """The conference's wait URL: what a caller hears from being bridged until the agent's leg
    answers. A line in their language, then the hold music looped (`loop=0`): a conference plays
    its wait URL until it starts, which is when the agent arrives."""
    sid = forms.call_sid(request.form, required=False)
    call = db.session.scalar(db.select(Call).where(Call.call_sid == sid)) if sid else None
    cfg = _config()
    response = VoiceResponse()
    if call is not None:
        _say(response, ivr.prompt(cfg, call.language, "connecting"), call.language)
    response.play(cfg["hold_music"], loop=0)
    return twiml(response)


@bp.post("/agent-status")
@signed
def agent_status() -> Response:
    """The status callback of an agent's conference leg (`?call=` names our call; CallSid is
    the leg's own). A leg that ended unanswered puts the caller back in line; every other status
    changes nothing here: the caller's own status callbacks close the call."""
    from telephony import bridging

    leg = forms.AgentLegStatus.read(request.form, request.args)
    if leg.call_id and leg.leg_sid:
        bridging.agent_leg_ended(
            db.session, call_id=leg.call_id, leg_sid=leg.leg_sid, status=leg.status
        )
    return Response(status=204)
