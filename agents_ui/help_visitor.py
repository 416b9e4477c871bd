"""Who a help-center visitor is, as far as counting goes: one answer per visitor and article,
one view per visitor and article, and a ceiling per address for visitors who shed their cookies.

Anyone may read the help center without signing in, so its counters (views, "was this helpful?")
were open to anyone with a loop: a script could push an article to the top of the popular list
or bury it with "no". A visitor is now the random id in their session cookie (the one the vote
form's CSRF token already needs); the database keeps one vote per keyed hash of it, and a
per-address limit bounds what a client that starts a new session for every request can do.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from flask import current_app, session
from flask_limiter.util import get_remote_address
from limits import parse

from helpdesk.extensions import limiter

log = logging.getLogger(__name__)

SEEN_KEPT = 50  # articles remembered per session as already counted


def visitor_key() -> str:
    """A keyed hash of this browser's help-center id (created on first need): stable for the
    session, meaningless outside this installation, and no address or cookie value stored."""
    raw = session.get("hc_visitor")
    if not isinstance(raw, str) or not raw:
        raw = secrets.token_urlsafe(16)
        session["hc_visitor"] = raw
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()


def view_counts(article_id: int) -> bool:
    """Whether this view of the article is counted: once per session, and at most
    `HELPDESK_HELP_VIEW_LIMIT` per address and article (cookieless clients)."""
    visitor_key()  # the id goes out with the vote form's CSRF token, in the same cookie
    seen = session.get("hc_seen")
    seen = [a for a in seen if isinstance(a, int)] if isinstance(seen, list) else []
    if article_id in seen:
        return False
    session["hc_seen"] = [*seen, article_id][-SEEN_KEPT:]
    return _within("HELPDESK_HELP_VIEW_LIMIT", "help-view", get_remote_address(), str(article_id))


def vote_limit() -> str:
    return str(current_app.config.get("HELPDESK_HELP_VOTE_LIMIT", "20 per hour"))


def _within(setting: str, *identifiers: str) -> bool:
    item = parse(str(current_app.config[setting]))
    try:
        return bool(limiter.limiter.hit(item, *identifiers))
    except Exception:  # the counter store is away: count the view rather than fail the page
        log.warning("help-center view limit not checked: counter store unavailable", exc_info=True)
        return True
