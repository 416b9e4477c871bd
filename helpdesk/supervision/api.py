"""Supervisors' API: the wallboard's figures, agent state and call moves, listening in, and the
historical call reports (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any, Literal

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk.api.core import current_api_user, operation
from helpdesk.auth import permissions
from helpdesk.extensions import db
from helpdesk.supervision import service
from helpdesk.supervision.monitoring import current_monitor
from helpdesk.supervision.reports import ReportSpec, call_report

bp = Blueprint("supervision_api", __name__, url_prefix="/api/v1")

MAX_REPORT_DAYS = 400
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class WallboardOut(BaseModel):
    day: str
    now: float
    threshold_s: float
    target: float
    max_wait_s: float
    queues: list[dict[str, Any]]
    agent_states: dict[str, int]
    agents: list[dict[str, Any]]
    alerts: dict[str, list[str]]


class AgentStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["available", "break", "offline"]
    reason: str = Field(default="", max_length=100)


class AgentStateOut(BaseModel):
    user_id: int
    state: str
    reason: str


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queue: str = Field(min_length=1, max_length=50)


class MoveOut(BaseModel):
    call_id: int
    queue: str
    routing_state: str


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["listen", "whisper", "barge"]


class MonitorOut(BaseModel):
    call_id: int
    mode: str
    supervisor_call_sid: str


class CallReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date
    end: date
    by: Literal["interval", "hour", "day", "queue", "agent"] = "interval"
    queue: str | None = Field(default=None, max_length=50)
    threshold_s: float = Field(default=20, ge=0, le=3600)
    format: Literal["json", "csv"] = "json"

    @field_validator("queue")
    @classmethod
    def _blank(cls, v: str | None) -> str | None:
        return v or None

    @model_validator(mode="after")
    def _period(self) -> CallReportQuery:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if (self.end - self.start).days >= MAX_REPORT_DAYS:
            raise ValueError(f"at most {MAX_REPORT_DAYS} days")
        return self


class CallReportOut(BaseModel):
    by: str
    threshold_s: float
    rows: list[dict[str, Any]]
    total: dict[str, Any]


@operation(
    bp,
    "/wallboard",
    "GET",
    summary="Live figures per queue and agent, today's 15-minute intervals and raised alerts",
    roles=permissions.SUPERVISE,
    response=WallboardOut,
    tag="supervision",
)
def get_wallboard() -> WallboardOut:
    return WallboardOut(**service.wallboard(db.session))


@operation(
    bp,
    "/agents/<int:agent_id>/presence",
    "PUT",
    summary="Set an agent's state (supervisors): available, break or offline",
    roles=permissions.SUPERVISE,
    body=AgentStateIn,
    response=AgentStateOut,
    tag="supervision",
)
def put_agent_presence(agent_id: int, body: AgentStateIn) -> AgentStateOut:
    p = service.set_agent_state(
        db.session,
        supervisor=current_api_user(),
        agent_id=agent_id,
        state=body.state,
        reason=body.reason,
    )
    return AgentStateOut(user_id=agent_id, state=p.state, reason=p.reason)


@operation(
    bp,
    "/calls/<int:call_id>/move",
    "POST",
    summary="Move a waiting call to another queue (supervisors); it keeps the time waited",
    roles=permissions.SUPERVISE,
    body=MoveIn,
    response=MoveOut,
    tag="supervision",
)
def move_call(call_id: int, body: MoveIn) -> MoveOut:
    call = service.move_call(
        db.session, supervisor=current_api_user(), call_id=call_id, queue_name=body.queue
    )
    return MoveOut(call_id=call.id, queue=body.queue, routing_state=call.routing_state)


@operation(
    bp,
    "/calls/<int:call_id>/monitor",
    "POST",
    summary="Listen, whisper or barge on a call in progress (one supervisor barges at a time)",
    roles=permissions.SUPERVISE,
    body=MonitorIn,
    response=MonitorOut,
    tag="supervision",
)
def monitor_call(call_id: int, body: MonitorIn) -> MonitorOut:
    monitor = current_monitor()
    out = service.monitor_call(
        db.session, supervisor=current_api_user(), call_id=call_id, mode=body.mode, monitor=monitor
    )
    return MonitorOut(**out)


@operation(
    bp,
    "/reports/calls",
    "GET",
    summary="Calls by 15-minute interval, hour, day, queue or agent from the call log "
    "(format=csv for a spreadsheet)",
    roles=permissions.SUPERVISE,
    query=CallReportQuery,
    response=CallReportOut,
    tag="supervision",
    media={"text/csv": {"type": "string"}},
)
def get_call_report(query: CallReportQuery) -> Any:
    spec = ReportSpec(
        start_day=query.start.isoformat(),
        end_day=query.end.isoformat(),
        by=query.by,
        queue=query.queue,
        threshold_s=query.threshold_s,
    )
    result = call_report(db.session, spec)
    if query.format == "csv":
        return Response(
            report_csv(result),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="calls-{query.by}-{spec.start_day}'
                f'-{spec.end_day}.csv"'
            },
        )
    return CallReportOut(**result)


CSV_FIELDS = (
    "key",
    "entered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "abandoned_in_sl",
    "completed",
    "transferred",
    "callbacks",
    "rejected",
    "timeouts",
    "service_level",
    "service_level_abandons",
    "asa_s",
    "aht_s",
    "abandon_rate",
    # Added later, so at the end: scripts read the columns above by position.
    "transferred_in",
    "offered",
    "aht_talk_s",
    "aht_hold_s",
    "aht_wrap_s",
    "csat_avg",
    "csat_responses",
)


def report_csv(result: dict[str, Any], key_name: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([key_name or result["by"], *CSV_FIELDS[1:]])
    for row in [*result["rows"], {**result["total"], "key": "total"}]:
        cells = ["" if row.get(f) is None else row.get(f) for f in CSV_FIELDS]
        key = str(cells[0])
        cells[0] = "'" + key if key.startswith(FORMULA_START) else key
        writer.writerow(cells)
    return out.getvalue()
