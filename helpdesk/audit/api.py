"""`GET /api/v1/audit`: the audit log of privileged actions (admin), newest first, by cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from helpdesk.api.core import operation
from helpdesk.audit import service
from helpdesk.audit.models import AuditEntry
from helpdesk.auth import permissions
from helpdesk.extensions import db

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str | None = Field(default=None, max_length=64, description="an action or a prefix")
    actor_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    target_type: str | None = Field(default=None, max_length=32)
    target_id: str | None = Field(default=None, max_length=64)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None = Field(description="the staff member; null for a command (channel cli)")
    actor_email: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    ip: str
    request_id: str
    channel: str = Field(
        description="api, console, cli, or system (the application on its own, e.g. a webhook "
        "disabled by its failures); a cli entry's details.command and details.os_user name the "
        "command and the system account that ran it"
    )


class AuditList(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


def entry_out(e: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=e.id,
        at=e.at,
        actor_id=e.actor_id,
        actor_email=e.actor_email,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        details=e.details or {},
        ip=e.ip,
        request_id=e.request_id,
        channel=e.channel,
    )


@operation(
    bp,
    "/audit",
    "GET",
    summary="The audit log of privileged actions (admin)",
    roles=permissions.ADMINISTER,
    query=AuditQuery,
    response=AuditList,
    tag="audit",
)
def list_audit(query: AuditQuery) -> AuditList:
    page = service.list_entries(
        session=db.session,
        action=query.action,
        actor_id=query.actor_id,
        target_type=query.target_type,
        target_id=query.target_id,
        since=query.since,
        until=query.until,
        limit=query.limit,
        cursor=query.cursor,
    )
    return AuditList(items=[entry_out(e) for e in page.entries], next_cursor=page.next_cursor)
