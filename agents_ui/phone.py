"""The agent's phone panel, on every console page: presence, the call ringing for me (accept,
decline), wrap-up, and click-to-call from the customer page.

Each action answers JSON to the page's script (`static/phone.js` asks for
`application/json`): the fresh snapshot of the panel, plus a message or an error. Without
JavaScript the same forms post normally and come back to the page they were sent from with the
message at the top, so the panel works either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from agents_ui import phone_state, sla_display
from agents_ui.account import me
from agents_ui.blueprint import bp
from agents_ui.forms import DialForm, PhoneActionForm, PresenceForm, WrapUpForm
from agents_ui.safety import safe_next
from helpdesk.db import kept_after_commit
from helpdesk.errors import APIError, NotFound
from helpdesk.extensions import db
from telephony import adapters, agent_presence, calls, offers, outbound, softphone


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def first_error(form: FlaskForm) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return str(_("The form was incomplete. Try again."))


def _answer(
    form: FlaskForm,
    *,
    message: str = "",
    error: str = "",
    status: int = 200,
    snap: dict[str, Any] | None = None,
) -> ResponseReturnValue:
    """JSON for the page's script (the panel's fresh snapshot, `snap` if read already), else back
    to the page the form was on, with the message."""
    if wants_json():
        body: dict[str, Any] = {"phone": snap or phone_state.snapshot(db.session, me())}
        if error:
            body["error"] = {"message": error}
        elif message:
            body["message"] = message
        return jsonify(body), status if error else 200
    flash(error or message, "error" if error else "success")
    back = safe_next(form.next.data)
    return redirect(back or url_for("console.tickets"))


def _refused(form: FlaskForm, exc: APIError) -> ResponseReturnValue:
    # Some refusals leave the service's transaction open: end it before reading the snapshot.
    db.session.rollback()
    return _answer(form, error=phone_state.refusal(exc.message), status=exc.status)


def _who(call: dict[str, Any] | None) -> str:
    return phone_state.caller_shown(call) or str(_("the caller"))


@bp.get("/phone/state")
@login_required
def phone_snapshot() -> ResponseReturnValue:
    """My presence, the call ringing for me, my current call and the one to wrap up."""
    return jsonify(phone_state.snapshot(db.session, me()))


@bp.get("/phone/voice-token")
@login_required
def phone_voice_token() -> ResponseReturnValue:
    """An access token for this agent's browser softphone (Twilio Voice SDK)."""
    config = current_app.config
    if softphone.kind(config) != "twilio":
        return jsonify(
            {"error": {"code": "no_softphone", "message": "no browser softphone is configured"}}
        ), 404
    issued = softphone.voice_token(
        account_sid=config["TWILIO_ACCOUNT_SID"],
        api_key_sid=config["TWILIO_API_KEY_SID"],
        api_key_secret=config["TWILIO_API_KEY_SECRET"],
        user_id=me().id,
        twiml_app_sid=config.get("TWILIO_TWIML_APP_SID", ""),
        ttl_s=int(config.get("HELPDESK_VOICE_TOKEN_TTL_S", 3600)),
    )
    return jsonify(
        {"token": issued.token, "identity": issued.identity, "expires_at": issued.expires_at}
    )


@bp.post("/phone/presence")
@login_required
def phone_presence() -> ResponseReturnValue:
    form = PresenceForm()
    if not form.validate_on_submit():
        return _answer(form, error=first_error(form), status=400)
    state = str(form.state.data)
    try:
        agent_presence.set_presence(
            db.session,
            user=me(),
            state=state,
            reason=str(form.reason.data or "") if state == "break" else "",
        )
    except APIError as exc:
        return _refused(form, exc)
    shown = str(phone_state.PRESENCE_STATE[state])
    return _answer(form, message=_("Your status is now %(state)s.", state=shown))


@bp.post("/phone/calls/<int:call_id>/accept")
@login_required
def phone_accept(call_id: int) -> ResponseReturnValue:
    form = PhoneActionForm()
    if not form.validate_on_submit():
        return _answer(form, error=first_error(form), status=400)
    gateway = adapters.gateway()
    # The answer's snapshot is drawn from the rows the accept wrote (`kept_after_commit`): the
    # agent, their presence and the call are not read again.
    with kept_after_commit(db.session):
        try:
            offers.accept(db.session, user=me(), call_id=call_id, gateway=gateway)
        except APIError as exc:
            return _refused(form, exc)
        snap = phone_state.snapshot(db.session, me())
    name = _who(snap["call"])
    return _answer(form, message=_("You are on the line with %(name)s.", name=name), snap=snap)


@bp.post("/phone/calls/<int:call_id>/reject")
@login_required
def phone_reject(call_id: int) -> ResponseReturnValue:
    form = PhoneActionForm()
    if not form.validate_on_submit():
        return _answer(form, error=first_error(form), status=400)
    try:
        offers.reject(db.session, user=me(), call_id=call_id)
    except APIError as exc:
        return _refused(form, exc)
    return _answer(form, message=_("Call declined: it goes to the next agent."))


@bp.post("/phone/calls/<int:call_id>/wrap-up")
@login_required
def phone_wrap_up(call_id: int) -> ResponseReturnValue:
    form = WrapUpForm()
    if not form.validate_on_submit():
        return _answer(form, error=first_error(form), status=400)
    # As for the accept: the snapshot answered is drawn from the rows the wrap-up wrote.
    with kept_after_commit(db.session):
        try:
            calls.wrap_up(
                db.session,
                user=me(),
                call_id=call_id,
                disposition=str(form.disposition.data),
                notes=(form.notes.data or "").strip(),
                done=True,
            )
        except NotFound:
            db.session.rollback()
            return _answer(form, error=_("This is not one of your calls."), status=404)
        except APIError as exc:
            return _refused(form, exc)
        return _answer(form, message=_("Wrap-up saved."))


@bp.post("/phone/dial")
@login_required
def phone_dial() -> ResponseReturnValue:
    """Click-to-call: the customer's phone rings, and they are put through to me on answering."""
    form = DialForm()
    if not form.validate_on_submit():
        return _answer(form, error=first_error(form), status=400)
    gateway = adapters.gateway()
    try:
        call = outbound.click_to_call(
            db.session,
            user=me(),
            number=str(form.number.data).strip(),
            gateway=gateway,
            region=current_app.config["HELPDESK_DEFAULT_REGION"],
        )
    except APIError as exc:
        return _refused(form, exc)
    return _answer(form, message=_("Calling %(number)s…", number=call.to_number))


def _current_path() -> str:
    """Where the panel's forms come back to without JavaScript: this page, if it can be
    fetched again (a page drawn in answer to a post, such as a refused form, cannot)."""
    if request.method != "GET":
        return ""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def panel() -> dict[str, Any]:
    """What `_phone.html` renders: the snapshot, the page to come back to, and the choices."""
    snap = phone_state.snapshot(db.session, me())
    offer = snap["offer"]
    ring_left = None
    if offer:
        now = datetime.fromisoformat(snap["now"])
        left = (datetime.fromisoformat(offer["expires_at"]) - now).total_seconds()
        ring_left = sla_display.duration(max(left, 0), precise=True)
    queues = phone_state.queue_labels(db.session)
    return {
        "snap": snap,
        "next": _current_path(),
        "ring_left": ring_left,
        "queues": queues,
        "reasons": [(c, phone_state.BREAK_REASON[c]) for c in phone_state.BREAK_CHOICES],
        "dispositions": list(phone_state.DISPOSITION.items()),
        "state_label": phone_state.PRESENCE_STATE,
        "state_names": {code: str(name) for code, name in phone_state.PRESENCE_STATE.items()},
        "reason_label": phone_state.BREAK_REASON,
        "strings": phone_state.js_strings(queues),
        "duration": sla_display.duration,
        "named": phone_state.caller_named,
        "who": phone_state.caller_shown,
        "softphone": softphone.kind(current_app.config),
        "softphone_strings": phone_state.softphone_strings(),
    }


@bp.context_processor
def _phone_helpers() -> dict[str, Any]:
    return {"phone_panel": panel if current_user.is_authenticated else None}
