"""The call center's opening hours: whether it is open now, under which calendar, and when next.

Outside these hours every call goes to voicemail (telephony.webhooks). A person trying the
product at night saw exactly that and nothing else, so the state is said where calls are made
(the simulator page, the start-up banner of `helpdesk serve`), and an administrator can open the
center around the clock in one step: the default calendar becomes an always-open one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from helpdesk.db import DbSession, utcnow
from helpdesk.sla.calendar import CalendarNeverOpen
from helpdesk.sla.models import CalendarModel
from helpdesk.sla.service import calendar_of, default_calendar

ALWAYS_OPEN_NAME = "24/7"


@dataclass(frozen=True)
class CenterHours:
    open: bool
    calendar_id: int | None  # None: no calendar at all, so always open
    calendar_name: str
    timezone: str
    next_open: datetime | None  # when closed: the next opening (UTC), None if never


def center_hours(session: DbSession, at: datetime | None = None) -> CenterHours:
    """The state the voice webhook acts on, from the same default calendar."""
    now = at or utcnow()
    model = default_calendar(session)
    if model is None:
        return CenterHours(True, None, "", "UTC", None)
    calendar = calendar_of(model)
    if calendar.is_open(now):
        return CenterHours(True, model.id, model.name, model.timezone, None)
    try:
        following: datetime | None = calendar.next_open(now)
    except CalendarNeverOpen:
        following = None
    return CenterHours(False, model.id, model.name, model.timezone, following)


def open_around_the_clock(session: DbSession) -> CalendarModel:
    """Make an always-open calendar the center's hours (creating "24/7" if there is none).

    Policies that name their own calendar keep it: only the hours that decide whether calls are
    taken change. The caller commits.
    """
    always = session.scalar(
        select(CalendarModel)
        .where(CalendarModel.always_open.is_(True))
        .order_by(CalendarModel.id)
        .limit(1)
    )
    if always is None:
        always = CalendarModel(name=ALWAYS_OPEN_NAME, timezone="UTC", always_open=True, weekly={})
        session.add(always)
        session.flush()
    session.execute(
        update(CalendarModel).where(CalendarModel.id != always.id).values(is_default=False)
    )
    always.is_default = True
    return always


def never_open_calendars(session: DbSession, at: datetime | None = None) -> list[dict[str, object]]:
    """Calendars that never open within the search horizon: a policy on one starts no clock.

    New calendars without hours are refused, but exceptions (a long closure) or rows older than
    that rule can still leave one; `/healthz` and `helpdesk check` name them for the admins.
    """
    now = at or utcnow()
    found: list[dict[str, object]] = []
    for model in session.scalars(select(CalendarModel).order_by(CalendarModel.id)):
        try:
            calendar_of(model).next_open(now)
        except CalendarNeverOpen:
            found.append({"id": model.id, "name": model.name})
    return found
