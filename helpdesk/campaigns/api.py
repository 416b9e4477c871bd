"""`/api/v1/campaigns`: outbound campaigns, their lists, the audit of their attempts, results.

Supervisors and administrators create and run campaigns; any staff member reads them. The
dialer's operations (join, next call, disposition) are telephony's (telephony.campaign_api).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

from flask import Blueprint, current_app
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.campaigns import attempts, results, service
from helpdesk.campaigns.models import Campaign, CampaignAttempt, CampaignMember
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db

bp = Blueprint("campaigns_api", __name__, url_prefix="/api/v1")
_ONE = "/campaigns/<int:campaign_id>"
Kind = Literal["marketing", "service"]
Basis = Literal["consent", "contract", "none"]
Channel = Literal["call", "sms", "email"]
Outcome = Literal["reached", "converted", "refused", "retry"]


class CampaignDispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    label_en: str = Field(min_length=1, max_length=80)
    label_fr: str = Field(min_length=1, max_length=80)
    outcome: Outcome


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] = Field(min_length=1, max_length=120)
    kind: Kind = "service"
    legal_basis: Basis = "none"
    channel: Channel = "call"
    skill: str | None = Field(default=None, max_length=64)
    script_en: str = Field(default="", max_length=20_000)
    script_fr: str = Field(default="", max_length=20_000)
    subject_en: str = Field(default="", max_length=200)
    subject_fr: str = Field(default="", max_length=200)
    message_en: str = Field(
        default="",
        max_length=5000,
        description="SMS or e-mail text; placeholders {{customer.name}}, "
        "{{customer.first_name}}, {{campaign.name}}.",
    )
    message_fr: str = Field(default="", max_length=5000)
    dispositions: list[CampaignDispositionIn] | None = Field(
        default=None, max_length=20, description="Omitted: the default list."
    )
    window_start: time | None = Field(default=None, description="Callee's local time.")
    window_end: time | None = None
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_delay_minutes: int = Field(default=240, ge=5, le=43200)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class CampaignPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=120)
    kind: Kind | None = None
    legal_basis: Basis | None = None
    channel: Channel | None = None
    skill: str | None = Field(default=None, max_length=64)
    script_en: str | None = Field(default=None, max_length=20_000)
    script_fr: str | None = Field(default=None, max_length=20_000)
    subject_en: str | None = Field(default=None, max_length=200)
    subject_fr: str | None = Field(default=None, max_length=200)
    message_en: str | None = Field(default=None, max_length=5000)
    message_fr: str | None = Field(default=None, max_length=5000)
    dispositions: list[CampaignDispositionIn] | None = Field(default=None, max_length=20)
    window_start: time | None = None
    window_end: time | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    retry_delay_minutes: int | None = Field(default=None, ge=5, le=43200)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class CampaignFigures(BaseModel):
    members: int
    pending: int
    in_progress: int
    done: int
    excluded: int
    reached: int
    converted: int
    refused: int
    attempts: int
    blocked: int
    attempts_left: int


class CampaignOut(BaseModel):
    id: int
    name: str
    kind: Kind
    legal_basis: Basis
    channel: Channel
    skill: str | None
    status: Literal["draft", "active", "paused", "finished"]
    script_en: str
    script_fr: str
    subject_en: str
    subject_fr: str
    message_en: str
    message_fr: str
    dispositions: list[CampaignDispositionIn]
    window_start: time | None
    window_end: time | None
    max_attempts: int
    retry_delay_minutes: int
    starts_at: datetime | None
    ends_at: datetime | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    figures: CampaignFigures


class CampaignList(BaseModel):
    items: list[CampaignOut]


class CampaignStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["active", "paused", "finished"]


class CampaignMembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["csv", "segment", "view"]
    csv: str | None = Field(
        default=None,
        max_length=10_000_000,
        description="With source `csv`: a header line (name, phone, email, customer_id, "
        "language; French names accepted) then one person a line.",
    )
    segment: str | None = Field(default=None, max_length=12, description="With `segment`.")
    view_id: int | None = Field(default=None, description="With `view`: a saved view's id.")
    region: str | None = Field(
        default=None, min_length=2, max_length=2, description="Region of national numbers."
    )


class CampaignRejectedOut(BaseModel):
    line: int
    reason: str
    value: str


class CampaignMembersImportOut(BaseModel):
    added: int
    excluded: int
    rejected: list[CampaignRejectedOut]


class CampaignMemberOut(BaseModel):
    id: int
    customer_id: int | None
    number: str | None
    email: str | None
    display_name: str
    language: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_disposition: str | None
    excluded_reason: str | None


class CampaignMemberList(BaseModel):
    items: list[CampaignMemberOut]


class CampaignMemberQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["pending", "in_progress", "done", "excluded"] | None = None


class CampaignAttemptOut(BaseModel):
    id: int
    member_id: int
    at: datetime
    channel: str
    number: str | None
    agent_id: int | None
    allowed: bool
    reason: str
    rules: list[str]
    local_time: str | None
    call_id: int | None
    sms_id: int | None
    mail_id: int | None
    delivery: str
    disposition: str | None
    notes: str


class CampaignAttemptList(BaseModel):
    items: list[CampaignAttemptOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page.")


class CampaignAttemptQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before: int | None = Field(default=None, ge=1)
    limit: int = Field(default=100, ge=1, le=500)


class CampaignReportOut(BaseModel):
    figures: CampaignFigures
    per_disposition: dict[str, int]
    per_reason: dict[str, int]
    per_agent: list[dict[str, int | None]]
    per_day: list[dict[str, Any]]


def campaign_out(c: Campaign, figures: dict[str, Any] | None = None) -> CampaignOut:
    fig = figures or results.figures(db.session, [c])[c.id]
    return CampaignOut.model_validate(
        {k: getattr(c, k) for k in CampaignOut.model_fields if k != "figures"} | {"figures": fig}
    )


def _values(body: BaseModel, *, unset: bool) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=unset)
    if values.get("dispositions") is None:
        values.pop("dispositions", None)
    return values


@operation(
    bp,
    "/campaigns",
    "GET",
    summary="Every campaign, newest first, with its figures",
    response=CampaignList,
    tag="campaigns",
)
def list_campaigns() -> CampaignList:
    found = service.all_campaigns(db.session)
    figs = results.figures(db.session, found)
    return CampaignList(items=[campaign_out(c, figs[c.id]) for c in found])


@operation(
    bp,
    "/campaigns",
    "POST",
    summary="Create a campaign (a draft)",
    roles=permissions.SUPERVISE,
    body=CampaignIn,
    response=CampaignOut,
    status=201,
    tag="campaigns",
)
def create_campaign(body: CampaignIn) -> CampaignOut:
    campaign = service.create(db.session, actor=current_api_user(), **_values(body, unset=False))
    audit_details({"name": campaign.name, "channel": campaign.channel, "kind": campaign.kind})
    return campaign_out(campaign)


@operation(bp, _ONE, "GET", summary="One campaign", response=CampaignOut, tag="campaigns")
def get_campaign(campaign_id: int) -> CampaignOut:
    return campaign_out(service.get(db.session, campaign_id))


@operation(
    bp,
    _ONE,
    "PATCH",
    summary="Change a campaign's settings",
    roles=permissions.SUPERVISE,
    body=CampaignPatch,
    response=CampaignOut,
    tag="campaigns",
)
def update_campaign(campaign_id: int, body: CampaignPatch) -> CampaignOut:
    campaign = service.get(db.session, campaign_id)
    service.update(db.session, campaign, actor=current_api_user(), **_values(body, unset=True))
    return campaign_out(campaign)


@operation(
    bp,
    _ONE + "/status",
    "POST",
    summary="Start, pause, resume or finish a campaign",
    roles=permissions.SUPERVISE,
    body=CampaignStatusIn,
    response=CampaignOut,
    tag="campaigns",
)
def set_campaign_status(campaign_id: int, body: CampaignStatusIn) -> CampaignOut:
    campaign = service.get(db.session, campaign_id)
    audit_details({"from": campaign.status})
    service.set_status(db.session, campaign, status=body.status, actor=current_api_user())
    return campaign_out(campaign)


def _candidates(campaign: Campaign, body: CampaignMembersIn) -> tuple[list[Any], list[Any]]:
    from helpdesk.campaigns import lists

    region = (body.region or current_app.config.get("HELPDESK_DEFAULT_REGION") or "FR").upper()
    if body.source == "csv":
        if not body.csv:
            raise ValidationFailed("a CSV is needed", fields={"csv": "required with source csv"})
        found, rejected = lists.parse_csv(body.csv, region=region)
        if not found and rejected and rejected[0].reason == "no_header":
            raise ValidationFailed(
                "the CSV has no header line naming a phone, e-mail or customer_id column",
                fields={"csv": "no header line naming a phone, e-mail or customer_id column"},
            )
        return found, rejected
    if body.source == "segment":
        if not body.segment:
            raise ValidationFailed("a segment is needed", fields={"segment": "required"})
        return service.candidates_from_segment(db.session, body.segment), []
    if body.view_id is None:
        raise ValidationFailed("a saved view is needed", fields={"view_id": "required"})
    return service.candidates_from_view(
        db.session, user=current_api_user(), view_id=body.view_id
    ), []


@operation(
    bp,
    _ONE + "/members",
    "POST",
    summary="Add people to the list: from a CSV, a value segment or a saved view's requesters",
    roles=permissions.SUPERVISE,
    body=CampaignMembersIn,
    response=CampaignMembersImportOut,
    tag="campaigns",
)
def import_members(campaign_id: int, body: CampaignMembersIn) -> CampaignMembersImportOut:
    campaign = service.get(db.session, campaign_id)
    found, rejected = _candidates(campaign, body)
    result = service.add_members(db.session, campaign, found, actor=current_api_user())
    every = sorted(rejected + result.rejected, key=lambda r: r.line)
    audit_details(
        {
            "source": body.source,
            "added": result.added,
            "excluded": result.excluded,
            "rejected": len(every),
        }
    )
    return CampaignMembersImportOut(
        added=result.added,
        excluded=result.excluded,
        rejected=[
            CampaignRejectedOut(line=r.line, reason=r.reason, value=r.value) for r in every[:1000]
        ],
    )


def member_out(m: CampaignMember) -> CampaignMemberOut:
    return CampaignMemberOut.model_validate(
        {k: getattr(m, k) for k in CampaignMemberOut.model_fields}
    )


@operation(
    bp,
    _ONE + "/members",
    "GET",
    summary="The campaign's list (the first 500), with each member's state",
    query=CampaignMemberQuery,
    response=CampaignMemberList,
    tag="campaigns",
)
def list_members(campaign_id: int, query: CampaignMemberQuery) -> CampaignMemberList:
    campaign = service.get(db.session, campaign_id)
    return CampaignMemberList(
        items=[member_out(m) for m in service.members(db.session, campaign, status=query.status)]
    )


def attempt_out(a: CampaignAttempt) -> CampaignAttemptOut:
    return CampaignAttemptOut.model_validate(
        {k: getattr(a, k) for k in CampaignAttemptOut.model_fields} | {"rules": list(a.rules or [])}
    )


@operation(
    bp,
    _ONE + "/attempts",
    "GET",
    summary="The audit of every attempt, allowed or blocked, newest first",
    roles=permissions.SUPERVISE,
    query=CampaignAttemptQuery,
    response=CampaignAttemptList,
    tag="campaigns",
)
def list_attempts(campaign_id: int, query: CampaignAttemptQuery) -> CampaignAttemptList:
    campaign = service.get(db.session, campaign_id)
    found = attempts.attempts_of(db.session, campaign, before_id=query.before, limit=query.limit)
    return CampaignAttemptList(
        items=[attempt_out(a) for a in found],
        next_before=found[-1].id if len(found) == query.limit else None,
    )


@operation(
    bp,
    _ONE + "/report",
    "GET",
    summary="Results per disposition, per agent and per day; blocked attempts per reason",
    roles=permissions.SUPERVISE,
    response=CampaignReportOut,
    tag="campaigns",
)
def campaign_report(campaign_id: int) -> CampaignReportOut:
    campaign = service.get(db.session, campaign_id)
    figs = results.figures(db.session, [campaign])[campaign.id]
    return CampaignReportOut.model_validate(
        {"figures": figs, **results.report(db.session, campaign)}
    )


class CampaignJoinedOut(BaseModel):
    campaign_id: int
    joined: bool


@operation(
    bp,
    _ONE + "/agents/me",
    "PUT",
    summary="Join a running call campaign: the dialer then gives you its calls when you are free",
    response=CampaignJoinedOut,
    tag="campaigns",
)
def join_campaign(campaign_id: int) -> CampaignJoinedOut:
    campaign = service.get(db.session, campaign_id)
    service.join(db.session, campaign, user=current_api_user())
    return CampaignJoinedOut(campaign_id=campaign_id, joined=True)


@operation(
    bp,
    _ONE + "/agents/me",
    "DELETE",
    summary="Leave a campaign: no more of its calls",
    response=CampaignJoinedOut,
    tag="campaigns",
)
def leave_campaign(campaign_id: int) -> CampaignJoinedOut:
    campaign = service.get(db.session, campaign_id)
    service.leave(db.session, campaign, user=current_api_user())
    return CampaignJoinedOut(campaign_id=campaign_id, joined=False)


class CampaignDispositionChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disposition: str = Field(min_length=1, max_length=32)
    notes: Annotated[str, Written] = Field(default="", max_length=4000)


class CampaignDispositionOut(BaseModel):
    attempt_id: int
    member: CampaignMemberOut


@operation(
    bp,
    "/campaigns/attempts/<int:attempt_id>/disposition",
    "POST",
    summary="Record how a campaign call went (the call's own wrap-up is "
    "POST /calls/{id}/wrap-up); a refusal is recorded for the compliance rules",
    body=CampaignDispositionChoice,
    response=CampaignDispositionOut,
    tag="campaigns",
)
def record_disposition(attempt_id: int, body: CampaignDispositionChoice) -> CampaignDispositionOut:
    from helpdesk.db import utcnow

    attempt = attempts.get_attempt(db.session, attempt_id)
    member = attempts.record_disposition(
        db.session,
        attempt=attempt,
        code=body.disposition,
        notes=body.notes,
        actor=current_api_user(),
        now=utcnow(),
    )
    return CampaignDispositionOut(attempt_id=attempt_id, member=member_out(member))
