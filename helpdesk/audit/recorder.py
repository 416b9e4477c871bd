"""Writes an audit entry for each successful request to an endpoint in `AUDITED`.

Recording at the edge rather than in each service keeps one declaration per privileged endpoint
(API and console alike) and lets endpoints added later be audited by adding a line. The entry is
written once the view has committed its change: a refused or failed request (4xx, rolled back)
leaves no entry, a form that re-renders with errors (200 to a POST) is not a change either, nor is
a console action that answers by redirecting with an error message (flashed as "error"). A GET is
never a change: only the GET of an export (a download) is recorded.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, g, request, session
from flask_login import current_user

from helpdesk.audit import service
from helpdesk.audit.actions import AUDITED, Audited
from helpdesk.extensions import db

log = logging.getLogger(__name__)
_TRAILING_ID = re.compile(r"/(\d+)/?(?:\?.*)?$")


def _actor() -> Any:
    user = g.get("api_user")
    if user is not None:
        return user
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def _flashed_errors() -> int:
    return sum(1 for category, _ in session.get("_flashes", ()) if category == "error")


def _succeeded(rule: Audited, response: Response) -> bool:
    if response.status_code >= 400 or _actor() is None:
        # Nobody signed in: the console sent them to the sign-in page, nothing was done.
        return False
    if request.method in ("GET", "HEAD"):
        # Opening a form or a page changes nothing; a download is the act itself.
        return rule.export and request.method == "GET"
    if request.path.startswith("/api/"):
        return True
    # Console: a POST succeeds by redirecting (or answering a page script's JSON), unless the
    # view told the user it could not do it.
    if _flashed_errors() > g.get("audit_errors_before", 0):
        return False
    return 300 <= response.status_code < 400 or response.is_json


def _fields() -> dict[str, Any]:
    if request.is_json:
        data = request.get_json(silent=True)
        return dict(data) if isinstance(data, dict) else {}
    if request.method == "GET":
        return {k: v for k, v in request.args.items()}
    return {k: v for k, v in request.form.items() if "csrf" not in k}


def audit_target(target_id: int | str) -> None:
    """Name the row a console view created, for its audit entry (its redirect does not say)."""
    g.audit_target_id = str(target_id)


def audit_details(details: dict[str, Any]) -> None:
    """What a view adds to its audit entry beyond the request's fields (counts, outcomes): never
    personal data, which the audit log must not keep."""
    g.audit_details = dict(details)


def _target_id(rule: Audited, response: Response) -> str:
    if g.get("audit_target_id"):
        return str(g.audit_target_id)
    if rule.target_arg:
        return str((request.view_args or {}).get(rule.target_arg, ""))
    if response.is_json:
        body = response.get_json(silent=True)
        if isinstance(body, dict) and "id" in body:
            return str(body["id"])
    match = _TRAILING_ID.search(response.headers.get("Location", ""))
    return match.group(1) if match else ""


def _kept(rule: Audited, fields: dict[str, Any]) -> dict[str, Any]:
    if rule.keep is None:
        return fields
    return {k: v for k, v in fields.items() if k in rule.keep}


def write_entry(rule: Audited, response: Response) -> None:
    asked = _fields()
    fields = {**_kept(rule, asked), **(g.get("audit_details") or {})}
    action = (rule.refine(fields) if rule.refine else None) or rule.action
    service.record(
        session=db.session,
        action=action,
        actor=_actor(),
        target_type=rule.target_type,
        target_id=_target_id(rule, response),
        details=fields,
        ip=request.remote_addr or "",
        request_id=str(g.get("request_id") or ""),
        channel="api" if request.path.startswith("/api/") else "console",
    )


def init_audit(app: Flask) -> None:
    @app.before_request
    def _note_errors() -> None:
        if request.endpoint in AUDITED and not request.path.startswith("/api/"):
            g.audit_errors_before = _flashed_errors()

    @app.after_request
    def _audit(response: Response) -> Response:
        rule = AUDITED.get(request.endpoint or "")
        if rule is None or not _succeeded(rule, response):
            return response
        # What the view said of its change counts too (a shared view is audited, a personal one
        # not, whatever the request's fields).
        if rule.when is not None and not rule.when({**_fields(), **(g.get("audit_details") or {})}):
            return response
        try:
            write_entry(rule, response)
        except Exception:
            # The change itself is committed; failing the response now would invite a retry
            # that repeats it. The failure is logged loudly instead.
            db.session.rollback()
            log.exception("audit entry for %s could not be written", request.endpoint)
        return response
