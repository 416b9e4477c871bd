"""What the agent's phone panel shows: a snapshot of my presence, the call ringing for me, my
current call and the call waiting for my wrap-up, plus the wording `static/phone.js` needs.

The snapshot is read-only (no presence row is created by looking), so every console page can
render the panel, and the page's script reloads it when its live connection (re)connects: a
reload never loses an offer that is still ringing. Each call in it is the one view of
`telephony.callview` (the ringing one with its caller screen, as `screen_pop` carries it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from agents_ui import labels, mail_wording, model_labels, value_labels, wording
from agents_ui.queries import AnySession
from helpdesk.auth.models import User
from helpdesk.db import utcnow
from telephony.callview import call_view
from telephony.models import AgentPresence, Call, CallOffer, CallQueue
from telephony.screen import screen as caller_screen

# A call I answered stays offered for wrap-up this long after it ended, until I post its
# disposition or notes (after a reload too), unless another call has come since.
WRAP_UP_WINDOW = timedelta(minutes=30)

PRESENCE_STATE: dict[str, Any] = {
    "offline": _l("Offline"),
    "available": _l("Available"),
    "reserved": _l("Ringing"),
    "on_call": _l("On a call"),
    "wrap_up": _l("Wrap-up"),
    "break": _l("Break"),
}

# Break reasons are stored as these codes; "missed call" is the one the ring timeout sets.
BREAK_REASON: dict[str, Any] = {
    "pause": _l("Short break"),
    "lunch": _l("Lunch"),
    "meeting": _l("Meeting"),
    "training": _l("Training"),
    "admin": _l("Paperwork"),
    "missed call": _l("Missed call"),
}
BREAK_CHOICES = ("pause", "lunch", "meeting", "training", "admin")

DISPOSITION = labels.DISPOSITION

WITHDRAWN_REASON: dict[str, Any] = {
    "caller hung up": _l("the caller hung up"),
}

# The telephony service refuses in English for the API; the console says it in the agent's
# language. Unknown messages are shown as they come.
REFUSAL: dict[str, Any] = {
    "finish your current call first": _l("Finish your current call first."),
    "not a valid phone number": _l("This is not a valid phone number."),
    "the telephony provider did not place the call; try again": _l(
        "The telephone line did not place the call. Try again."
    ),
    "the telephony provider did not connect the call; try again": _l(
        "The telephone line did not connect the call. Try again."
    ),
    "this call is not ringing for you (taken, withdrawn or timed out)": _l(
        "This call is no longer ringing for you: the caller hung up, or it timed out."
    ),
    "the offer expired": _l("The call stopped ringing before you answered."),
    "the offer was already decided": _l("This call is no longer ringing for you."),
    "cannot change presence while reserved": _l("A call is ringing: answer or decline it first."),
    "cannot change presence while on call": _l("You are on a call: your status changes after it."),
}


def caller_named(call: dict[str, Any] | None) -> bool:
    """Whether a call's view names its caller: a customer with a name of their own. A contact
    made from an unknown caller's number bears the number as its name, which reads better once,
    formatted (`static/phone.js` applies the same rule to the events)."""
    customer = (call or {}).get("customer") or {}
    return bool(customer.get("name")) and customer.get("name") != (call or {}).get("number")


def caller_shown(call: dict[str, Any] | None) -> str:
    """The caller as the panel names them: the customer's name, else the formatted number."""
    if not call:
        return ""
    return str(call["customer"]["name"] if caller_named(call) else call.get("number_display", ""))


def refusal(message: str) -> str:
    found = REFUSAL.get(message)
    return str(found) if found is not None else message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ringing(session: AnySession, user_id: int, now: datetime) -> dict[str, Any] | None:
    """The offer ringing for me as `screen_pop` carried it (the call's view and its caller
    screen), so that a reload while it rings shows the same thing the event did."""
    offer = session.scalars(
        select(CallOffer)
        .where(
            CallOffer.agent_id == user_id,
            CallOffer.state == "pending",
            CallOffer.expires_at > now,
        )
        .order_by(CallOffer.id.desc())
        .limit(1)
    ).first()
    if offer is None:
        return None
    call = session.get(Call, offer.call_id)
    if call is None:
        return None
    return caller_screen(session, call, now=now, expires_at=offer.expires_at)


def _view(session: AnySession, call: Call | None, now: datetime) -> dict[str, Any] | None:
    return call_view(session, call, now=now).to_json() if call is not None else None


def _to_wrap_up(session: AnySession, user_id: int, now: datetime) -> Call | None:
    latest: Call | None = session.scalars(
        select(Call)
        .where(Call.agent_id == user_id, Call.ended_at.is_not(None))
        .order_by(Call.ended_at.desc(), Call.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.outcome != "answered" or latest.ended_at is None:
        return None
    if latest.disposition or latest.wrap_up_notes or latest.ended_at < now - WRAP_UP_WINDOW:
        return None
    return latest


def _handed_over(session: AnySession, user_id: int, now: datetime) -> tuple[Call, datetime] | None:
    """The call I transferred last and when: I wrap it up while it goes on without me."""
    from helpdesk.supervision.models import CallEvent

    event = session.scalars(
        select(CallEvent)
        .where(CallEvent.event == "transferred", CallEvent.agent_id == user_id)
        .order_by(CallEvent.id.desc())
        .limit(1)
    ).first()
    if event is None or event.call_id is None or event.at < now - WRAP_UP_WINDOW:
        return None
    call = session.get(Call, event.call_id)
    return (call, event.at) if call is not None else None


def _wrap_call(session: AnySession, user_id: int, state: str, now: datetime) -> Call | None:
    """The call to wrap up: the one that ended on me, or, in wrap-up, one I handed over since."""
    ended = _to_wrap_up(session, user_id, now)
    handed = _handed_over(session, user_id, now) if state == "wrap_up" else None
    if handed is None:
        return ended
    call, at = handed
    if ended is not None and ended.ended_at is not None and ended.ended_at > at:
        return ended
    return call


def snapshot(session: AnySession, user: User) -> dict[str, Any]:
    """My presence, the offer ringing for me, my current call and the call to wrap up: what the
    page is drawn from, and what its script asks for when its live connection (re)connects.
    Between connections the events bring each change (`static/phone.js`)."""
    now = utcnow()
    presence = session.get(AgentPresence, user.id)
    state = presence.state if presence else "offline"
    current = None
    if presence is not None and presence.current_call_id and state == "on_call":
        current = _view(session, session.get(Call, presence.current_call_id), now)
    ringing = _ringing(session, user.id, now) if state == "reserved" else None
    wrap = None
    if state not in ("reserved", "on_call"):
        wrap = _view(session, _wrap_call(session, user.id, state, now), now)
    return {
        "now": now.isoformat(),
        "user_id": user.id,
        "presence": {
            "state": state,
            "reason": presence.reason if presence else "",
            "since": _iso(presence.since) if presence else None,
            "wrap_up_until": _iso(presence.wrap_up_until)
            if presence and state == "wrap_up"
            else None,
        },
        "offer": ringing,
        "call": current,
        "wrap_up": wrap,
    }


def queue_labels(session: AnySession) -> dict[str, str]:
    """Queue names as the agent reads them (`labels.queue_label`), by internal name."""
    return {queue.name: labels.queue_label(queue) for queue in session.scalars(select(CallQueue))}


def js_strings(queues: dict[str, str]) -> dict[str, Any]:
    """The wording `phone.js` needs, with `{name}`-style placeholders where values go."""
    return {
        "state": {k: str(v) for k, v in PRESENCE_STATE.items()},
        "reason": {k: str(v) for k, v in BREAK_REASON.items()},
        "withdrawn_reason": {k: str(v) for k, v in WITHDRAWN_REASON.items()},
        "language": {k: str(v) for k, v in labels.LANGUAGES.items()},
        "queue": queues,
        "ivr": wording.ivr_steps(queues),
        "unknown_caller": _("Unknown caller"),
        "ring_left": _("Answer within %(time)s", time="{time}"),
        "ring_over": _("No answer: the call moves on…"),
        "waited": _("waited %(time)s", time="{time}"),
        "talking": _("On the line for %(time)s", time="{time}"),
        "on_call_with": _("On call with"),
        "calling": _("Outgoing call to"),
        "wrap_left": _("%(time)s left", time="{time}"),
        "wrap_over": _("wrap-up time is over"),
        "incoming": _("Incoming call from %(name)s", name="{name}"),
        "callback": _("Callback requested: you will dial the customer"),
        "withdrawn": _("The call from %(name)s stopped ringing.", name="{name}"),
        "withdrawn_because": _(
            "The call from %(name)s stopped ringing: %(reason)s.", name="{name}", reason="{reason}"
        ),
        "declined": _("You declined the call from %(name)s.", name="{name}"),
        "connected": _("You are on the line with %(name)s.", name="{name}"),
        "ended": _("The call with %(name)s has ended: wrap it up.", name="{name}"),
        "wrapped": _("Wrap-up saved."),
        "failed": _("That did not work. Check your connection and try again."),
        "signed_out": _("You are signed out. Sign in again to take calls."),
        "screen": {
            "flags": _("Flags"),
            "flag": {k: str(v) for k, v in labels.CUSTOMER_FLAG.items()},
            "segment": {k: str(v) for k, v in value_labels.SEGMENTS.items()},
            "segment_hint": {k: str(v) for k, v in value_labels.SEGMENT_HINTS.items()},
            "status": {str(k): str(v) for k, v in labels.STATUS.items()},
            "kind": {k: str(v) for k, v in labels.TIMELINE_KIND.items()},
            "unknown": _(
                "No customer has this number yet: open the caller screen to create or find them."
            ),
            # Both forms of each, for the script to choose (the counts come with the event).
            "tickets_one": ngettext("%(num)d ticket", "%(num)d tickets", 1),
            "tickets_other": ngettext("%(num)d ticket", "%(num)d tickets", 2).replace("2", "{n}"),
            "calls_one": ngettext("%(num)d call", "%(num)d calls", 1),
            "calls_other": ngettext("%(num)d call", "%(num)d calls", 2).replace("2", "{n}"),
            "satisfaction": _("satisfaction %(avg)s/5 (answers: %(num)s)", avg="{avg}", num="{n}"),
            "open_tickets": _("Open tickets"),
            "no_open_tickets": _("No open tickets."),
            "more_tickets": _("and %(n)s more", n="{n}"),
            "one_more_ticket": _("and one more"),
            "timeline": timeline_strings(),
            "recent": _("Latest on the timeline"),
            "no_history": _("Nothing on the timeline yet."),
            # The player's audio, `0` standing for the recording's id.
            "audio_url": url_for("console.recording_audio", recording_id=0),
            "play_recording": _("Play the recording"),
            # The customer models' scores (docs/customer-models.md).
            "clv": _("Lifetime value %(amount)s", amount="{amount}"),
            "churn_risk": _("Churn risk %(pct)s", pct="{pct}"),
            "no_churn_model": _("No churn model: the segment rule applies."),
            "not_scored": _("Churn risk not scored: no purchase in 12 months."),
            "why_risk": _("Why this risk"),
            "driver": model_labels.driver_templates(),
        },
        "s": _("%(n)s s", n="{n}"),
        "min": _("%(n)s min", n="{n}"),
    }


def timeline_strings() -> dict[str, Any]:
    """The wording `caller_screen.js` words timeline entries with, as `wording.timeline_text`."""
    return {
        "status": _("%(ref)s %(old)s → %(new)s", ref="{ref}", old="{old}", new="{new}"),
        "direction": {k: str(v) for k, v in labels.CALL_DIRECTION.items()},
        "outcome": {k: str(v) for k, v in labels.CALL_OUTCOME.items()},
        "disposition": {k: str(v) for k, v in labels.DISPOSITION.items()},
        "waited": _("waited %(time)s", time="{time}"),
        "talked": _("talked %(time)s", time="{time}"),
        "note": _(
            "Wrap-up (%(disposition)s): %(notes)s", disposition="{disposition}", notes="{notes}"
        ),
        "note_plain": _("Wrap-up: %(notes)s", notes="{notes}"),
        "voicemail": _("Voicemail (%(time)s)", time="{time}"),
        "email": mail_wording.strings(),
        # A visit's steps, by the `event` of their data (see wording.visit_text).
        "visit": {
            "requested": _("%(ref)s visit requested: %(what)s", ref="{ref}", what="{what}"),
            "scheduled": _("%(ref)s visit scheduled with %(name)s", ref="{ref}", name="{name}"),
            "unscheduled": _("%(ref)s visit back to be scheduled", ref="{ref}"),
            "en_route": _("%(ref)s technician on the way", ref="{ref}"),
            "en_route_eta": _(
                "%(ref)s technician on the way, arriving around %(time)s",
                ref="{ref}",
                time="{time}",
            ),
            "on_site": _("%(ref)s technician on site", ref="{ref}"),
            "back_to_scheduled": _("%(ref)s back to scheduled", ref="{ref}"),
            "completed": _("%(ref)s visit completed", ref="{ref}"),
            "completed_notes": _(
                "%(ref)s visit completed: %(notes)s", ref="{ref}", notes="{notes}"
            ),
            "cancelled": _("%(ref)s visit cancelled", ref="{ref}"),
            "cancelled_notes": _(
                "%(ref)s visit cancelled: %(notes)s", ref="{ref}", notes="{notes}"
            ),
            "survey": _("%(ref)s satisfaction %(n)s/5", ref="{ref}", n="{n}"),
        },
        "hour": _("%(n)s h", n="{n}"),
        "min": _("%(n)s min", n="{n}"),
        "sec": _("%(n)s s", n="{n}"),
    }


def softphone_strings() -> dict[str, str]:
    """What the softphone line says, by its kind and then by the state of the browser device."""
    return {
        "simulator": _("Phone line: simulator (calls connect when you accept)"),
        "unconfigured": _("Phone line: your phone number (no browser softphone configured)"),
        "twilio": _("Softphone: connecting…"),
        "ready": _("Softphone: ready"),
        "in_call": _("Softphone: in a call"),
        "muted": _("Softphone: in a call, muted"),
        "offline": _("Softphone: offline, reconnecting…"),
        "error": _("Softphone: %(reason)s", reason="{reason}"),
        "no_microphone": _("Softphone: allow the microphone to take calls"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
    }
