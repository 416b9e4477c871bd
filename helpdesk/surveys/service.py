"""Surveys after the fact: what triggers one (a solved ticket, an answered call), recording the
customer's answer once, and reading surveys back for the API, the console and the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy import update as sa_update

from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.events import publish
from helpdesk.pagination import decode_cursor, encode_cursor
from helpdesk.surveys import sending
from helpdesk.surveys import settings as survey_settings
from helpdesk.surveys.models import Survey
from helpdesk.timeline import service as timeline
from helpdesk.webhooks import emit as emit_webhook

LOW_SCORE = 2  # a score this low or lower is a signal on the customer's value (helpdesk.value)


def after_ticket_solved(session: DbSession, ticket: Any) -> Survey | None:
    """The ticket service calls this, in its transaction, when a ticket becomes solved. A ticket
    tagged as spam or merged into another gets no survey: nobody was served."""
    from helpdesk.tickets.workflow import Channel

    if set(ticket.tags) & survey_settings.current().skip_tags:
        return None
    return sending.send(
        session,
        sending.Trigger(
            kind="ticket",
            customer_id=ticket.requester_id,
            by_phone=ticket.channel in (Channel.PHONE, Channel.SMS),
            ticket=ticket,
            agent_id=ticket.assignee_id,
        ),
    )


def after_call(
    session: DbSession,
    *,
    customer_id: int,
    call_id: int,
    agent_id: int | None,
    queue: str | None,
    ticket: Any = None,
    unless_tagged: tuple[str, ...] = (),
) -> Survey | None:
    """Telephony calls this, in the call's transaction, when an answered call ends; a customer
    with one of the tags `unless_tagged` is not asked."""
    return sending.send(
        session,
        sending.Trigger(
            kind="call",
            customer_id=customer_id,
            by_phone=True,
            ticket=ticket,
            call_id=call_id,
            agent_id=agent_id,
            queue=queue,
            unless_tagged=unless_tagged,
        ),
    )


def move_to_survivor(session: DbSession, *, source_id: int, target_id: int) -> None:
    """A merged duplicate's surveys follow it to the surviving record (one statement)."""
    session.execute(
        sa_update(Survey)
        .where(Survey.customer_id == source_id)
        .values(customer_id=target_id)
        .execution_options(synchronize_session=False)
    )


def by_token(session: DbSession, token: str) -> Survey | None:
    if not token or len(token) > 100:
        return None
    found: Survey | None = session.scalar(
        select(Survey).where(Survey.token_hash == sending.hash_token(token))
    )
    return found


def state(survey: Survey, now: datetime | None = None) -> str:
    """`answered`, `expired` or `open`."""
    if survey.score is not None:
        return "answered"
    return "expired" if (now or utcnow()) >= survey.expires_at else "open"


def open_sms_survey(session: DbSession, number: str) -> Survey | None:
    """The latest unanswered, unexpired survey texted to this number."""
    found: Survey | None = session.scalar(
        select(Survey)
        .where(
            Survey.channel == "sms",
            Survey.sent_to == number,
            Survey.score.is_(None),
            Survey.expires_at > utcnow(),
        )
        .order_by(Survey.sent_at.desc(), Survey.id.desc())
        .limit(1)
    )
    return found


def record_answer(
    session: DbSession, survey: Survey, *, score: int, comment: str, via: str, commit: bool = True
) -> bool:
    """Record the one answer a survey takes; False when it was already answered or has expired
    (a compare-and-set: two answers at once record one)."""
    if not 1 <= score <= 5:
        raise ValueError("a score is 1 to 5")
    now = utcnow()
    won = rowcount(
        session.execute(
            sa_update(Survey)
            .where(Survey.id == survey.id, Survey.score.is_(None), Survey.expires_at > now)
            .values(score=score, comment=comment.strip()[:2000], answered_at=now, answered_by=via)
            .execution_options(synchronize_session=False)
        )
    )
    if not won:
        return False
    session.refresh(survey)
    timeline.append(
        session,
        customer_id=survey.customer_id,
        kind="survey",
        occurred_at=now,
        ticket_id=survey.ticket_id,
        subject_type="survey",
        subject_id=survey.id,
        summary=f"satisfaction {score}/5" + (f": {survey.comment}" if survey.comment else ""),
        data={"score": score, "channel": survey.channel},
    )
    payload = answered_payload(survey)
    rooms = [f"customer:{survey.customer_id}"]
    if survey.ticket_id:
        rooms.append(f"ticket:{survey.ticket_id}")
    publish(session, "survey.answered", rooms, payload)
    emit_webhook(session, "survey.answered", payload)
    if commit:
        session.commit()
    return True


def answered_payload(survey: Survey) -> dict[str, Any]:
    """Ids, score and times, never the comment (docs/webhooks.md: no text in payloads)."""
    return {
        "survey_id": survey.id,
        "customer_id": survey.customer_id,
        "ticket_id": survey.ticket_id,
        "call_id": survey.call_id,
        "agent_id": survey.agent_id,
        "queue": survey.queue,
        "channel": survey.channel,
        "score": survey.score,
        "sent_at": survey.sent_at.isoformat(),
        "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
    }


# -- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyFilter:
    ticket_id: int | None = None
    customer_id: int | None = None
    agent_id: int | None = None
    start: datetime | None = None  # sent at or after
    end: datetime | None = None  # sent before
    answered: bool | None = None


def _clauses(flt: SurveyFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if flt.ticket_id is not None:
        out.append(Survey.ticket_id == flt.ticket_id)
    if flt.customer_id is not None:
        out.append(Survey.customer_id == flt.customer_id)
    if flt.agent_id is not None:
        out.append(Survey.agent_id == flt.agent_id)
    if flt.start is not None:
        out.append(Survey.sent_at >= flt.start)
    if flt.end is not None:
        out.append(Survey.sent_at < flt.end)
    if flt.answered is not None:
        out.append(Survey.score.is_not(None) if flt.answered else Survey.score.is_(None))
    return out


def list_surveys(
    session: DbSession, flt: SurveyFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Survey], str | None]:
    """Newest first, a page at a time (an opaque cursor on (sent_at, id))."""
    stmt: Select[Any] = select(Survey).where(*_clauses(flt))
    if cursor:
        at, last_id = decode_cursor(cursor, (datetime, int))
        stmt = stmt.where((Survey.sent_at < at) | ((Survey.sent_at == at) & (Survey.id < last_id)))
    rows: list[Survey] = list(
        session.scalars(stmt.order_by(Survey.sent_at.desc(), Survey.id.desc()).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].sent_at, rows[-1].id) if more and rows else None


def recent(
    session: DbSession, *, customer_id: int | None = None, ticket_id: int | None = None
) -> list[Survey]:
    """A customer's or a ticket's latest surveys, for the console (at most ten)."""
    rows, _cursor = list_surveys(
        session, SurveyFilter(customer_id=customer_id, ticket_id=ticket_id), limit=10
    )
    return rows


@dataclass(frozen=True)
class Csat:
    average: float | None
    responses: int


def summary(session: DbSession, *, customer_id: int) -> Csat:
    """A customer's average score over every answer they gave."""
    average, responses = session.execute(select(*summary_columns(customer_id))).one()
    return csat_of(average, responses)


def summary_columns(customer_id: Any) -> tuple[Any, Any]:
    """`summary` as two columns (average, responses) for a statement that is read anyway: the
    caller screen's card brings them along, with `csat_of` to read them."""
    answered = (Survey.customer_id == customer_id, Survey.score.is_not(None))
    return (
        select(func.avg(Survey.score)).where(*answered).scalar_subquery().label("csat_average"),
        select(func.count(Survey.score)).where(*answered).scalar_subquery().label("csat_responses"),
    )


def csat_of(average: Any, responses: Any) -> Csat:
    return Csat(round(float(average), 2) if average is not None else None, int(responses or 0))


def csat_by(
    session: DbSession,
    *,
    by: str,
    start: datetime,
    end: datetime,
    queue: str | None = None,
) -> dict[str, Csat]:
    """Average score and number of answers per agent (by id), per call queue (by name) or, by
    `all`, for every answer (under the key ""), for the answers given in [start, end)."""
    where = [Survey.score.is_not(None), Survey.answered_at >= start, Survey.answered_at < end]
    if queue:
        where.append(Survey.queue == queue)
    measures = (func.avg(Survey.score), func.count(Survey.id))
    if by == "all":
        avg, n = session.execute(select(*measures).where(*where)).one()
        return {"": Csat(round(float(avg), 2), int(n))} if n else {}
    key = Survey.agent_id if by == "agent" else Survey.queue
    rows = session.execute(select(key, *measures).where(*where, key.is_not(None)).group_by(key))
    return {str(k): Csat(round(float(avg), 2), int(n)) for k, avg, n in rows}


def low_scores(session: DbSession, *, since: datetime) -> dict[int, int]:
    """How many low scores (LOW_SCORE or under) each customer gave since `since`."""
    rows = session.execute(
        select(Survey.customer_id, func.count(Survey.id))
        .where(Survey.score <= LOW_SCORE, Survey.answered_at >= since)
        .group_by(Survey.customer_id)
    )
    return {int(cid): int(n) for cid, n in rows}
