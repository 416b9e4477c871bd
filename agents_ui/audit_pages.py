"""The audit log page (admins): who changed roles, exported or erased data, or changed settings."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from agents_ui.blueprint import bp, role_required
from helpdesk.audit import service as audit
from helpdesk.auth import permissions
from helpdesk.extensions import db
from helpdesk.pagination import BadCursor

PAGE_SIZE = 50


@bp.get("/admin/audit")
@role_required(*permissions.ADMINISTER)
def audit_log() -> ResponseReturnValue:
    action = request.args.get("action", "").strip()[:64]
    known = audit.actions(session=db.session)
    if action and action not in known:
        action = ""
    cursor = request.args.get("cursor") or None
    try:
        page = audit.list_entries(
            session=db.session, action=action or None, limit=PAGE_SIZE, cursor=cursor
        )
    except BadCursor:
        page = audit.list_entries(session=db.session, action=action or None, limit=PAGE_SIZE)
    return render_template(
        "audit/list.html",
        entries=page.entries,
        next_cursor=page.next_cursor,
        action=action,
        actions=known,
    )
