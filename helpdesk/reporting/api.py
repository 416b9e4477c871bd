"""`GET /api/v1/staffing`: Erlang C agents needed for an interval."""

from __future__ import annotations

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import operation
from helpdesk.auth import permissions
from helpdesk.errors import ValidationFailed
from helpdesk.reporting.erlang import BeyondCalculator, agents_needed

bp = Blueprint("reporting_api", __name__, url_prefix="/api/v1")


class StaffingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calls: float = Field(ge=0, le=1_000_000)
    # An Erlang interval shorter than a minute means nothing; it also multiplies the traffic.
    interval_s: float = Field(default=1800, ge=60, le=86_400)
    aht_s: float = Field(gt=0, le=86_400)
    answer_within_s: float = Field(default=20, ge=0, le=86_400)
    service_level: float = Field(default=0.8, gt=0, lt=1)
    max_occupancy: float = Field(default=1.0, gt=0, le=1)
    shrinkage: float = Field(default=0.0, ge=0, lt=1)


class StaffingOut(BaseModel):
    agents: int
    scheduled: int
    traffic_erlangs: float
    service_level: float
    asa_s: float
    occupancy: float
    p_wait: float


@operation(
    bp,
    "/staffing",
    "GET",
    summary="Agents needed for an interval (Erlang C): calls, handle time, target",
    roles=permissions.SUPERVISE,
    query=StaffingQuery,
    response=StaffingOut,
    tag="staffing",
)
def staffing(query: StaffingQuery) -> StaffingOut:
    try:
        s = agents_needed(
            calls=query.calls,
            interval_s=query.interval_s,
            aht_s=query.aht_s,
            answer_within_s=query.answer_within_s,
            service_level=query.service_level,
            max_occupancy=query.max_occupancy,
            shrinkage=query.shrinkage,
        )
    except BeyondCalculator as exc:
        raise ValidationFailed(
            str(exc),
            fields={"calls": "with this handle time and interval, more traffic than computed"},
        ) from exc
    return StaffingOut(
        agents=s.agents,
        scheduled=s.scheduled,
        traffic_erlangs=round(s.traffic_erlangs, 4),
        service_level=round(s.service_level, 4),
        asa_s=round(s.asa_s, 2),
        occupancy=round(s.occupancy, 4),
        p_wait=round(s.p_wait, 4),
    )
