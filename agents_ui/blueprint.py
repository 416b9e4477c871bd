"""The `console` blueprint and what every console page shares: time zone, security headers,
template helpers and HTML error pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    session,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from agents_ui import formatting, labels, sla_display, wording
from agents_ui.safety import web_link
from helpdesk.auth import permissions
from helpdesk.auth.login import this_console_session
from helpdesk.auth.models import Role
from helpdesk.errors import APIError, http_error_answer, wants_json
from helpdesk.extensions import login_manager
from helpdesk.realtime import issue_socket_token
from helpdesk.security.origins import live_url
from helpdesk.tickets.workflow import reference_for
from telephony import adapters, softphone

P = ParamSpec("P")
R = TypeVar("R")

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Implemented in static/console.js; listed on every page and in docs/console.md.
SHORTCUTS = [
    ("g t", _l("Go to tickets")),
    ("g c", _l("Go to customers")),
    ("g k", _l("Go to the knowledge base")),
    ("g s", _l("Go to settings")),
    ("g x", _l("Go to the SMS conversations")),
    ("g o", _l("Go to the campaigns (outbound calls, SMS, e-mails)")),
    ("/", _l("Focus the search field")),
    ("j / k", _l("Next / previous row in a list")),
    ("n", _l("Next page of a list")),
    ("r", _l("Write a reply (ticket page)")),
    ("e", _l("Edit properties (ticket page)")),
    ("a", _l("Accept the ringing call")),
    # One key, one line: while a call rings x rejects it (its button shows the key); otherwise,
    # on the ticket list, it ticks the current row.
    (
        "x",
        _l(
            "Reject the ringing call; otherwise, on the ticket list, select or clear the "
            "current row (for bulk actions)"
        ),
    ),
    ("w", _l("Write the wrap-up notes of a call")),
    ("d", _l("Save the wrap-up (also Ctrl+Enter in its notes)")),
    ("o", _l("Open the caller screen of the ringing or current call")),
    ("h", _l("Put the caller on hold, or take them back")),
    ("t", _l("Transfer the call: search the agents and queues")),
    ("c / v", _l("Complete / cancel a warm transfer")),
    ("p", _l("Pause or resume the call's recording")),
    ("q", _l("Hang up the call")),
    ("m", _l("Mute the softphone")),
    (
        "1-9",
        _l("Record the outcome of a campaign call (the buttons of its panel, after hanging up)"),
    ),
    ("?", _l("Show these shortcuts")),
    ("Esc", _l("Leave the current field")),
]
# Listed only to the roles that have the pages they lead to.
SUPERVISOR_SHORTCUTS = [
    ("g a", _l("Go to the targets at risk")),
    ("g l", _l("Go to the service-level report")),
    ("g w", _l("Go to the wallboard")),
]
ADMIN_SHORTCUTS = [("g p", _l("Go to the service-level policies"))]
DISPATCH_SHORTCUTS = [("g d", _l("Go to the dispatch board"))]
# Listed only while the call simulator runs (no Twilio credentials).
SIMULATOR_SHORTCUTS = [
    ("g m", _l("Go to the call simulator")),
    ("0-9 * #", _l("Press the keys of the simulated call (simulator page)")),
]


@bp.record_once
def _configure_login_redirect(_state: BlueprintSetupState) -> None:
    """Anonymous visitors sent to the sign-in page are told why, in their language.

    The message is a lazy string turned into text when it is flashed, so the session stores plain
    text in the visitor's language.
    """
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str


@bp.before_request
def _choose_timezone() -> None:
    """Dates show in the time zone the agent picked in the settings, else the site's.

    The app's time zone selector reads `g.timezone`.
    """
    g.timezone = session.get("timezone") or current_app.config.get("HELPDESK_TIMEZONE")


@bp.after_request
def _security_headers(response: Response) -> Response:
    # The Content-Security-Policy and the other security headers are set on every response by
    # helpdesk.security.headers.
    if current_user.is_authenticated:
        # Customer data must not linger in shared caches or the back-forward cache of a
        # workstation someone else uses next.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Signed-in staff with one of `roles` (admins always pass); others get a 403 page."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        guarded = login_required(checked)
        # Read by the role-matrix test: every check names a permission of helpdesk.auth.permissions.
        guarded.required_roles = roles
        return guarded  # type: ignore[no-any-return]

    return decorate


def can_supervise() -> bool:
    return bool(current_user.is_authenticated and current_user.has_role(*permissions.SUPERVISE))


def is_admin() -> bool:
    return bool(current_user.is_authenticated and current_user.role is Role.ADMIN)


def _shortcuts() -> list[tuple[str, Any]]:
    found = list(SHORTCUTS)
    if can_supervise():
        found[3:3] = SUPERVISOR_SHORTCUTS
    if is_admin():
        found[5:5] = ADMIN_SHORTCUTS
    if current_user.is_authenticated and current_user.has_role(*permissions.DISPATCH):
        found[3:3] = DISPATCH_SHORTCUTS
    if adapters.simulator() is not None:
        found[3:3] = SIMULATOR_SHORTCUTS[:1]
        found.extend(SIMULATOR_SHORTCUTS[1:])
    return found


def _socket_token() -> str:
    """A short-lived token for the page's live connection (`/socket-token` gives fresh ones)."""
    return issue_socket_token(current_user._get_current_object(), this_console_session())


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "labels": labels,
        "label": labels.label,
        "fmt_phone": formatting.phone,
        "fmt_when": formatting.when,
        "fmt_number": formatting.number,
        "fmt_day": formatting.day,
        "ticket_ref": reference_for,
        "timeline_text": wording.timeline_text,
        "ivr_path": wording.ivr_path,
        "language_name": formatting.language_name,
        "web_link": web_link,
        "shortcuts": _shortcuts(),
        "current_locale": str(get_locale() or "en"),
        "can_supervise": can_supervise(),
        "is_admin": is_admin(),
        "can_write_kb": bool(
            current_user.is_authenticated and current_user.has_role(*permissions.KB_WRITE)
        ),
        "socket_token": _socket_token,
        "socket_url": lambda: live_url(
            str(current_app.config.get("SOCKETS_PUBLIC_URL") or ""), page_host=request.host
        ),
        "server_now": lambda: sla_display.now().isoformat(),
        "sla_strings": sla_display.js_strings,
        "softphone_kind": lambda: softphone.kind(current_app.config),
    }


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


@bp.errorhandler(CSRFError)
def _csrf_error(_exc: CSRFError) -> tuple[str, int] | tuple[Response, int]:
    title = _("This form has expired")
    message = _(
        "The page was open too long or was sent from elsewhere. Go back, reload "
        "the page and try again."
    )
    if request.accept_mimetypes.best == "application/json":
        # A form the page's script posts (the phone panel): it shows the message itself.
        return jsonify({"error": {"code": "csrf", "message": f"{title}. {message}"}}), 400
    return error_page(400, title, message)


@bp.errorhandler(429)
def _too_many(_exc: HTTPException) -> tuple[str, int] | Response:
    body, status = error_page(
        429,
        _("Too many attempts"),
        _("Too many failed sign-in attempts. Wait a minute, then try again."),
    )
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(403)
def _forbidden(_exc: HTTPException) -> tuple[str, int]:
    return error_page(
        403,
        _("Not allowed"),
        _("Your role does not give access to this page. Ask an administrator if you need it."),
    )


@bp.errorhandler(404)
def _not_found(_exc: HTTPException) -> tuple[str, int]:
    return error_page(404, _("Not found"), _("There is nothing at this address."))


@bp.app_errorhandler(404)
def _nowhere(exc: HTTPException) -> Any:
    """An address no part of the app serves: the console's own page, in the reader's language,
    where a person reads it; the API's JSON where a program does; a webhook's bare status."""
    if wants_json():
        return http_error_answer(exc)
    if request.path.startswith(("/twilio/", "/socket.io")):
        return exc
    # Outside the blueprint its context processor does not run: its helpers are handed in.
    page = render_template(
        "error.html",
        status=404,
        title=_("Not found"),
        message=_("There is nothing at this address."),
        **_helpers(),
    )
    return page, 404


@bp.errorhandler(APIError)
def _service_error(exc: APIError) -> tuple[str, int]:
    """A service refusal that a page did not handle itself (a missing ticket or customer)."""
    if exc.status == 404:
        return error_page(404, _("Not found"), _("There is nothing at this address."))
    return error_page(exc.status, _("This cannot be done"), exc.message)
