"""Call recordings: every change of their state, and who may hear them.

A queue's policy (`recording_policy`) says whether its calls are recorded; the recording starts
when the agent answers (`begin`), the agent may pause it while the caller gives payment details
(`set_paused`), Twilio's status callback says when its audio is ready (`completed`), and a
voicemail becomes a recording of its own (`add_voicemail`). The audio is streamed through the
helpdesk (`media_for`), with the staff user's rights, never from the provider's address.
Retention (`purge`) and a customer's erasure (`telephony.privacy`) delete them at the source.
"""

from __future__ import annotations

import logging
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import delete, or_, select

from helpdesk import caches
from helpdesk.auth.models import AgentSkill, Role, User
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import Conflict, Forbidden, NotFound, ValidationFailed
from helpdesk.events import publish
from helpdesk.timeline import service as timeline
from telephony import routing
from telephony.callview import call_view
from telephony.floor import FLOOR
from telephony.models import Call, CallQueue
from telephony.recorder import Recorder
from telephony.recording_models import CallRecording, QueueRecording
from telephony.recording_policy import MODES, PLAYABLE, Listener, Policy, may_hear

log = logging.getLogger(__name__)

MAX_RETENTION_DAYS = 3650


# The menu webhook and the accept read a queue's policy on every call; an admin changes one a few
# times a year: all of them, cached per process and cleared on the commit of a change
# (helpdesk/caches.py).
caches.watch("recording_policies", QueueRecording, ttl_s=60.0)


def policy_for(session: DbSession, queue_id: int | None) -> Policy:
    if queue_id is None:
        return Policy()
    return _policies(session).get(queue_id) or Policy()


def _policies(session: DbSession) -> MappingProxyType[int, Policy]:
    def load() -> MappingProxyType[int, Policy]:
        return MappingProxyType(
            {
                row.queue_id: Policy(
                    mode=row.mode, retention_days=row.retention_days, restricted=row.restricted
                )
                for row in session.scalars(select(QueueRecording))
            }
        )

    return caches.cached("recording_policies", "all", load)


def save_policy(
    session: DbSession, *, queue_id: int, mode: str, retention_days: int | None, restricted: bool
) -> Policy:
    """Set a queue's recording policy and commit. Recordings already made keep their expiry."""
    errors: dict[str, str] = {}
    if mode not in MODES:
        errors["mode"] = "off, on or announce"
    if retention_days is not None and not 1 <= retention_days <= MAX_RETENTION_DAYS:
        errors["retention_days"] = f"1 to {MAX_RETENTION_DAYS} days, or null to keep"
    if errors:
        raise ValidationFailed("invalid recording policy", fields=errors)
    if session.get(CallQueue, queue_id) is None:
        raise NotFound(f"no queue {queue_id}")
    row = session.get(QueueRecording, queue_id) or QueueRecording(queue_id=queue_id)
    row.mode, row.retention_days, row.restricted = mode, retention_days, restricted
    session.add(row)
    session.commit()
    return policy_for(session, queue_id)


def begin(
    session: DbSession, *, call: Call, recorder: Recorder, status_callback: str
) -> CallRecording | None:
    """Start recording an answered call when its queue records, in the caller's transaction. A
    provider that refuses leaves the call unrecorded rather than unanswered."""
    policy = policy_for(session, call.queue_id)
    if not policy.records:
        return None
    try:
        sid = recorder.start(call.call_sid, status_callback)
    except Exception:
        log.exception("recording call %s did not start", call.id)
        return None
    now = utcnow()
    recording = CallRecording(
        call_id=call.id,
        recording_sid=sid,
        kind="call",
        status="in-progress",
        queue_id=call.queue_id,
        customer_id=call.customer_id,
        ticket_id=call.ticket_id,
        created_at=now,
        expires_at=policy.expires_at(now),
    )
    session.add(recording)
    return recording


def _live_recording(session: DbSession, call: Call) -> CallRecording:
    recording: CallRecording | None = session.scalar(
        select(CallRecording)
        .where(
            CallRecording.call_id == call.id,
            CallRecording.kind == "call",
            CallRecording.status.in_(("in-progress", "paused")),
        )
        .order_by(CallRecording.id.desc())
        .limit(1)
    )
    if recording is None:
        raise Conflict("this call is not being recorded", code="not_recording")
    return recording


def set_paused(
    session: DbSession, *, user: User, call_id: int, paused: bool, recorder: Recorder
) -> CallRecording:
    """The agent on the call pauses (payment details) or resumes its recording, and commits."""
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    if call.agent_id != user.id and not user.has_role(Role.SUPERVISOR):
        raise Forbidden("only the agent on the call may pause its recording")
    if call.routing_state != "connected" or call.ended_at is not None:
        raise Conflict("the call is not in progress", code="not_connected")
    recording = _live_recording(session, call)
    assert recording.recording_sid is not None
    recorder.set_paused(call.call_sid, recording.recording_sid, paused)
    recording.status = "paused" if paused else "in-progress"
    view = call_view(session, call, now=utcnow()).to_json()
    publish(
        session,
        "call.recording",
        [*FLOOR, f"user:{call.agent_id}"],
        {"call_id": call.id, "agent_id": call.agent_id, "call": view},
    )
    session.commit()
    return recording


def completed(
    session: DbSession, *, recording_sid: str, status: str, media_url: str, duration_s: int | None
) -> bool:
    """Twilio's recording status callback: the audio is ready (`completed`) or there is none
    (`absent`). Idempotent: a replay finds the recording done. Commits."""
    recording = session.scalar(
        select(CallRecording).where(CallRecording.recording_sid == recording_sid).with_for_update()
    )
    if recording is None or recording.status in ("completed", "erased"):
        return False
    if status == "absent":
        session.delete(recording)
        session.commit()
        return True
    recording.status = "completed"
    recording.media_url = media_url or None
    recording.duration_s = duration_s
    _on_timeline(session, recording)
    session.commit()
    return True


def add_voicemail(
    session: DbSession, *, call: Call, recording_sid: str, media_url: str, duration_s: int | None
) -> CallRecording:
    """A voicemail's recording, in the caller's transaction, under its queue's retention."""
    now = utcnow()
    recording = CallRecording(
        call_id=call.id,
        recording_sid=recording_sid or None,
        kind="voicemail",
        status="completed",
        media_url=media_url,
        duration_s=duration_s,
        queue_id=call.queue_id,
        customer_id=call.customer_id,
        ticket_id=call.ticket_id,
        created_at=now,
        expires_at=policy_for(session, call.queue_id).expires_at(now),
    )
    session.add(recording)
    session.flush()
    return recording


def _on_timeline(session: DbSession, recording: CallRecording) -> None:
    if recording.customer_id is None:
        return
    timeline.append(
        session,
        customer_id=recording.customer_id,
        kind="recording",
        ticket_id=recording.ticket_id,
        subject_type="recording",
        subject_id=recording.id,
        summary=f"Call recording ({recording.duration_s or '?'} s)",
        data={
            "recording_id": recording.id,
            "call_id": recording.call_id,
            "duration_s": recording.duration_s,
            "kind": recording.kind,
        },
    )


def listener_for(session: DbSession, user: User) -> Listener:
    """The user as the rights check sees them: an agent answers for every active queue whose
    skills and language they meet (the routing's own rule)."""
    if user.has_role(Role.SUPERVISOR):
        return Listener(user_id=user.id, supervises=True, queues=frozenset())
    skills: dict[str, int] = {
        skill: level
        for skill, level in session.execute(
            select(AgentSkill.skill, AgentSkill.level).where(AgentSkill.user_id == user.id)
        )
    }
    agent = routing.AgentView(
        id=user.id,
        skills=skills,
        languages=frozenset(user.languages or []),
        state=routing.AgentState.AVAILABLE,
    )
    queues = frozenset(
        q.id
        for q in session.scalars(select(CallQueue).where(CallQueue.active))
        if routing.qualifies(agent, dict(q.skills or {}), q.language)
    )
    return Listener(user_id=user.id, supervises=False, queues=queues)


def _restricted(session: DbSession) -> set[int]:
    return set(session.scalars(select(QueueRecording.queue_id).where(QueueRecording.restricted)))


def _audible(
    session: DbSession, user: User, rows: list[tuple[CallRecording, int | None]]
) -> list[CallRecording]:
    listener = listener_for(session, user)
    restricted = _restricted(session)
    return [
        r
        for r, agent_id in rows
        if may_hear(
            listener,
            queue_id=r.queue_id,
            restricted=r.queue_id in restricted,
            agent_id=agent_id,
        )
    ]


def listed(
    session: DbSession,
    *,
    user: User,
    call_id: int | None = None,
    ticket_id: int | None = None,
    customer_id: int | None = None,
) -> list[CallRecording]:
    """The recordings of a call, a ticket (its own and its calls') or a customer, oldest first,
    that `user` may hear. Erased ones are gone from every list."""
    query = (
        select(CallRecording, Call.agent_id)
        .join(Call, Call.id == CallRecording.call_id)
        .where(CallRecording.status != "erased")
        .order_by(CallRecording.created_at, CallRecording.id)
    )
    if call_id is not None:
        query = query.where(CallRecording.call_id == call_id)
    if ticket_id is not None:
        query = query.where(or_(CallRecording.ticket_id == ticket_id, Call.ticket_id == ticket_id))
    if customer_id is not None:
        query = query.where(
            or_(CallRecording.customer_id == customer_id, Call.customer_id == customer_id)
        )
    rows = [(r, a) for r, a in session.execute(query)]
    return _audible(session, user, rows)


def media_for(
    session: DbSession, *, user: User, recording_id: int, recorder: Recorder
) -> tuple[bytes, str]:
    """The audio of a recording `user` may hear, fetched by the helpdesk from the source.
    Another queue's restricted recording is refused (403), as is one not ready (409)."""
    row = session.execute(
        select(CallRecording, Call.agent_id)
        .join(Call, Call.id == CallRecording.call_id)
        .where(CallRecording.id == recording_id, CallRecording.status != "erased")
    ).first()
    if row is None:
        raise NotFound(f"no recording {recording_id}")
    recording, agent_id = row
    if not _audible(session, user, [(recording, agent_id)]):
        raise Forbidden("this queue's recordings are for its own agents and supervisors")
    if recording.status not in PLAYABLE or not recording.recording_sid:
        raise Conflict("the recording is not ready yet", code="recording_not_ready")
    return recorder.media(recording.recording_sid, recording.media_url)


def purge(session: DbSession, *, recorder: Recorder, now: datetime | None = None) -> int:
    """Delete the recordings past their queue's retention, and those of erased customers, at the
    source and here; one the provider refuses to delete stays for the next run. Commits."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(CallRecording)
            .where(or_(CallRecording.expires_at <= now, CallRecording.status == "erased"))
            .order_by(CallRecording.id)
            .limit(500)
        )
    )
    gone: list[int] = []
    for recording in due:
        try:
            if recording.recording_sid:
                recorder.delete(recording.recording_sid)
        except Exception:
            log.exception("recording %s was not deleted at the source", recording.id)
            continue
        gone.append(recording.id)
    if gone:
        session.execute(delete(CallRecording).where(CallRecording.id.in_(gone)))
    session.commit()
    return len(gone)


def begin_answered(session: DbSession, call: Call) -> CallRecording | None:
    """`begin` with the app's recorder and status callback: what accepting a call does."""
    from flask import current_app

    from telephony import adapters

    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return begin(
        session,
        call=call,
        recorder=adapters.recorder(),
        status_callback=f"{base}/twilio/voice/recording-status",
    )


def sid_from_url(media_url: str) -> str:
    """The RecordingSid at the end of a recording's address (Twilio's `/Recordings/RE...`)."""
    last = media_url.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]
    return last if last.startswith("RE") else ""
