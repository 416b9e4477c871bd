"""The `console` blueprint and what every console page shares: time zone, security headers,
template helpers and HTML error pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, session
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from agents_ui import formatting, labels
from helpdesk.errors import APIError
from helpdesk.extensions import login_manager
from helpdesk.tickets.workflow import reference_for

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Everything the console loads comes from this origin, and no page has inline script or style:
# an injected <script> or onerror= attribute would not run even if escaping were ever missed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# Implemented in static/console.js; listed on every page and in docs/console.md.
SHORTCUTS = [
    ("g t", _l("Go to tickets")),
    ("g c", _l("Go to customers")),
    ("g s", _l("Go to settings")),
    ("/", _l("Focus the search field")),
    ("j / k", _l("Next / previous row in a list")),
    ("n", _l("Next page of a list")),
    ("r", _l("Write a reply (ticket page)")),
    ("e", _l("Edit properties (ticket page)")),
    ("?", _l("Show these shortcuts")),
    ("Esc", _l("Leave the current field")),
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
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_user.is_authenticated:
        # Customer data must not linger in shared caches or the back-forward cache of a
        # workstation someone else uses next.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "labels": labels,
        "label": labels.label,
        "fmt_phone": formatting.phone,
        "fmt_when": formatting.when,
        "fmt_day": formatting.day,
        "ticket_ref": reference_for,
        "language_name": formatting.language_name,
        "shortcuts": SHORTCUTS,
        "current_locale": str(get_locale() or "en"),
    }


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


@bp.errorhandler(CSRFError)
def _csrf_error(_exc: CSRFError) -> tuple[str, int]:
    return error_page(
        400,
        _("This form has expired"),
        _(
            "The page was open too long or was sent from elsewhere. Go back, reload "
            "the page and try again."
        ),
    )


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


@bp.errorhandler(404)
def _not_found(_exc: HTTPException) -> tuple[str, int]:
    return error_page(404, _("Not found"), _("There is nothing at this address."))


@bp.errorhandler(APIError)
def _service_error(exc: APIError) -> tuple[str, int]:
    """A service refusal that a page did not handle itself (a missing ticket or customer)."""
    if exc.status == 404:
        return error_page(404, _("Not found"), _("There is nothing at this address."))
    return error_page(exc.status, _("This cannot be done"), exc.message)
