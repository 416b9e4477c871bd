"""The call controls of the phone panel: hold, transfer (with the search of agents and queues
that shows who is free), complete or cancel a warm transfer, pause or resume the recording,
hang up.

Each action answers JSON to `static/call_controls.js`: the call's view (the same shape as the
events' `call`) and a message, or an error. The services do the work (`telephony.hold`,
`telephony.transfer`, `telephony.recordings`); the URLs the network reaches are built here as
the API builds them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from agents_ui import labels
from agents_ui.account import me
from agents_ui.blueprint import bp
from helpdesk.auth import permissions
from helpdesk.db import utcnow
from helpdesk.errors import APIError
from helpdesk.extensions import db
from telephony import (
    adapters,
    conference_parties,
    hold,
    recordings,
    transfer,
    transfer_targets,
)
from telephony.callview import call_view
from telephony.models import Call


def _urls() -> transfer.Urls:
    voice = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + "/twilio/voice"
    return transfer.Urls(
        wait=f"{voice}/transfer-wait", number=f"{voice}/transfer-number", hold=f"{voice}/on-hold"
    )


def _gateway() -> Any:
    return adapters.gateway()


def _done(call: Call, message: str) -> ResponseReturnValue:
    view = call_view(db.session, call, now=utcnow()).to_json()
    db.session.commit()
    return jsonify({"call": view, "message": message})


def _refused(exc: APIError) -> ResponseReturnValue:
    db.session.rollback()
    return jsonify({"error": {"message": exc.message, "code": exc.code}}), exc.status


@bp.post("/phone/calls/<int:call_id>/hold")
@login_required
def phone_hold(call_id: int) -> ResponseReturnValue:
    on = request.form.get("hold") == "1"
    try:
        call = hold.set_hold(
            db.session,
            user=me(),
            call_id=call_id,
            hold=on,
            gateway=_gateway(),
            hold_url=_urls().hold,
        )
    except APIError as exc:
        return _refused(exc)
    return _done(call, _("The caller is on hold.") if on else _("The caller is back with you."))


def _target(raw: str) -> transfer.Target | None:
    kind, _sep, value = raw.partition(":")
    if kind == "agent" and value.isdigit():
        return transfer.Target(agent_id=int(value))
    if kind == "queue" and value:
        return transfer.Target(queue=value)
    if kind == "number" and value.startswith("+") and value[1:].isdigit():
        return transfer.Target(number=value)
    return None


@bp.post("/phone/calls/<int:call_id>/transfer")
@login_required
def phone_transfer(call_id: int) -> ResponseReturnValue:
    target = _target(request.form.get("target", ""))
    mode = request.form.get("mode", "cold")
    if target is None or mode not in transfer.MODES:
        return jsonify({"error": {"message": _("Choose whom to transfer the call to.")}}), 400
    user = me()
    if target.number is not None and not user.has_role(*permissions.TRANSFER_OUT):
        message = _("You may not transfer calls to outside numbers.")
        return jsonify({"error": {"message": message}}), 403
    run = transfer.warm if mode == "warm" else transfer.cold
    try:
        call = run(
            db.session,
            user=user,
            call_id=call_id,
            target=target,
            notes=request.form.get("notes", "")[:2000],
            gateway=_gateway(),
            urls=_urls(),
        )
    except APIError as exc:
        return _refused(exc)
    if mode == "warm":
        return _done(call, _("The caller is on hold while the transfer rings."))
    return _done(call, _("The call is transferred."))


@bp.post("/phone/calls/<int:call_id>/transfer/complete")
@login_required
def phone_transfer_complete(call_id: int) -> ResponseReturnValue:
    try:
        call = transfer.complete(db.session, user=me(), call_id=call_id, gateway=_gateway())
    except APIError as exc:
        return _refused(exc)
    return _done(call, _("The call is transferred."))


@bp.post("/phone/calls/<int:call_id>/transfer/cancel")
@login_required
def phone_transfer_cancel(call_id: int) -> ResponseReturnValue:
    try:
        call = transfer.cancel(
            db.session, user=me(), call_id=call_id, gateway=_gateway(), urls=_urls()
        )
    except APIError as exc:
        return _refused(exc)
    return _done(call, _("The transfer is cancelled: the caller is back with you."))


@bp.post("/phone/calls/<int:call_id>/conference")
@login_required
def phone_conference(call_id: int) -> ResponseReturnValue:
    """`action`: add (`target`, an agent or a number), remove (`party`), or leave."""
    action, user, gateway = request.form.get("action", ""), me(), _gateway()
    try:
        if action == "add":
            target = _target(request.form.get("target", ""))
            if target is None or target.queue is not None:
                message = _("Choose an agent or a number to add.")
                return jsonify({"error": {"message": message}}), 400
            if target.number is not None and not user.has_role(*permissions.TRANSFER_OUT):
                message = _("You may not add outside numbers to a call.")
                return jsonify({"error": {"message": message}}), 403
            call = conference_parties.add(
                db.session, user=user, call_id=call_id, target=target, gateway=gateway
            )
            return _done(call, _("They join the call."))
        if action == "remove" and request.form.get("party", "").isdigit():
            party = int(request.form["party"])
            call = conference_parties.remove(
                db.session, user=user, call_id=call_id, party_id=party, gateway=gateway
            )
            return _done(call, _("They left the call."))
        if action == "leave":
            call = conference_parties.leave(db.session, user=user, call_id=call_id, gateway=gateway)
            return _done(call, _("You left the call; the others talk on."))
    except APIError as exc:
        return _refused(exc)
    return jsonify({"error": {"message": _("The form was incomplete. Try again.")}}), 400


@bp.post("/phone/calls/<int:call_id>/recording")
@login_required
def phone_recording(call_id: int) -> ResponseReturnValue:
    """`paused`: 1 pauses the recording (the caller gives payment details), 0 resumes it."""
    paused = request.form.get("paused") == "1"
    try:
        recordings.set_paused(
            db.session, user=me(), call_id=call_id, paused=paused, recorder=adapters.recorder()
        )
    except APIError as exc:
        return _refused(exc)
    call = db.session.get(Call, call_id)
    assert call is not None
    if paused:
        return _done(call, _("Recording paused: what is said now is not recorded."))
    return _done(call, _("Recording resumed."))


@bp.post("/phone/calls/<int:call_id>/hangup")
@login_required
def phone_hangup(call_id: int) -> ResponseReturnValue:
    try:
        call = hold.hang_up(db.session, user=me(), call_id=call_id, gateway=_gateway())
    except APIError as exc:
        return _refused(exc)
    return _done(call, _("You hung up."))


@bp.get("/phone/transfer-targets")
@login_required
def phone_transfer_targets() -> ResponseReturnValue:
    """Agents (free first, each with their state) and queues (with callers waiting)."""
    agents, queues = transfer_targets.search(
        db.session, query=request.args.get("q", "")[:100], exclude_user_id=me().id
    )
    db.session.commit()
    return jsonify(
        {
            "agents": [a.to_json() for a in agents],
            # Each queue also named as the agent reads it, the ring panel's way.
            "queues": [{**q.to_json(), "label": labels.queue_label(q)} for q in queues],
        }
    )
