"""What a call leaves behind: the IVR steps it took, and its entry on the customer's timeline,
written where its outcome is settled (its end, or the hand-over of a callback to the call that
dials the customer back)."""

from __future__ import annotations

from helpdesk.db import DbSession
from helpdesk.timeline import service as timeline
from telephony.models import Call


def add_call_to_timeline(session: DbSession, call: Call) -> None:
    """The call as one entry on its customer's timeline (nothing for an unknown caller)."""
    if call.customer_id is None:
        return
    waited = f", waited {int(call.wait_seconds or 0)} s" if call.wait_seconds else ""
    talked = f", talked {int(call.talk_seconds or 0)} s" if call.talk_seconds else ""
    timeline.append(
        session,
        customer_id=call.customer_id,
        kind="call",
        occurred_at=call.created_at,
        subject_type="call",
        subject_id=call.id,
        ticket_id=call.ticket_id,
        summary=f"{call.direction} call {call.outcome or ''}{waited}{talked}".strip(),
        # The facts, not only the English summary, so each console can word them itself.
        data={
            "call_sid": call.call_sid,
            "outcome": call.outcome,
            "direction": call.direction,
            "agent_id": call.agent_id,
            "ivr_path": call.ivr_path,
            "wait_s": round(call.wait_seconds or 0),
            "talk_s": round(call.talk_seconds or 0),
        },
    )


def note_ivr(session: DbSession, *, call: Call, step: str, commit: bool = True) -> None:
    """Add a step to the call's IVR path; `commit=False` leaves it to the commit that follows
    (queueing the caller), so that a menu choice costs the webhook one transaction. The same
    step twice in a row is a replayed webhook, noted once."""
    path = list(call.ivr_path or [])
    if not path or path[-1] != step:
        call.ivr_path = [*path, step][-30:]
    if commit:
        session.commit()
