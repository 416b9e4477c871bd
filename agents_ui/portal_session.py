"""The customer portal's own session: a cookie apart from the staff console's.

The portal cookie holds a random secret (its digest is the `portal_sessions` row), is sent only
under /portal, and is read only by the portal: Flask-Login and the API never look at it, so a
customer reaches no staff page; the portal never looks at the staff session, so a signed-in
agent is no customer here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from limits import parse
from werkzeug.wrappers import Response

from helpdesk.extensions import db, limiter
from helpdesk.portal import service, tokens

COOKIE = "helpdesk_portal"
PATH = "/portal"
ENVIRON_KEY = "helpdesk.portal_signed"

P = ParamSpec("P")
R = TypeVar("R")


def current() -> service.Signed | None:
    """The signed-in customer of this request, looked up once (kept on the request itself: an
    app context, and its `g`, may outlive one request)."""
    if ENVIRON_KEY not in request.environ:
        request.environ[ENVIRON_KEY] = service.signed_in(
            db.session, key=request.cookies.get(COOKIE, "")
        )
    found: service.Signed | None = request.environ[ENVIRON_KEY]
    return found


def customer_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """The portal's own check: no live portal session, back to the sign-in page."""

    @wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current() is None:
            return redirect(url_for("console.portal"))
        return view(*args, **kwargs)

    return checked


def open_session(response: Response, key: str) -> Response:
    response.set_cookie(
        COOKIE,
        key,
        max_age=int(tokens.SESSION_TTL.total_seconds()),
        path=PATH,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


def close_session(response: Response) -> Response:
    response.delete_cookie(COOKIE, path=PATH)
    return response


def locale() -> str:
    """The signed-in customer's choice; before that, the address's `lang`, else the browser's."""
    signed = current()
    if signed is not None:
        return signed.locale
    asked = request.args.get("lang", "")
    if asked in tokens.LOCALES:
        return asked
    return request.accept_languages.best_match(tokens.LOCALES) or "fr"


def within(setting: str, default: str, *identifiers: str) -> bool:
    """One more hit on a counter; False once it is over the limit (`setting` in the config)."""
    if not limiter.enabled:
        return True
    item = parse(str(current_app.config.get(setting, default)))
    try:
        return bool(limiter.limiter.hit(item, *identifiers))
    except Exception:  # the counter store is away: let the request through, as the login does
        return True


def client_address() -> str:
    return get_remote_address()
