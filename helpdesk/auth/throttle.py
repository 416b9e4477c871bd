"""Throttling of failed logins, shared by the console form and the token endpoint.

Only failures count (a user who logs in fine is never slowed down), per client address (the
client's own behind `HELPDESK_TRUSTED_PROXIES` proxies, never the proxy's) and per account, so that
neither one address guessing many accounts nor many addresses guessing one account get far. The
counters live in Redis when scaled out and in memory otherwise.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address

from helpdesk.extensions import limiter


def _limit() -> str:
    return str(current_app.config.get("HELPDESK_LOGIN_LIMIT", "10 per minute"))


def _account_key() -> str:
    email = ""
    if request.is_json:
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            email = str(data.get("email", ""))
    else:
        email = request.form.get("email", "")
    return "login-account:" + email.strip().lower()


def _failed(response: Any) -> bool:
    return bool(
        getattr(response, "status_code", 200) == 401
        or getattr(response, "headers", {}).get("X-Login-Failed")
    )


def login_throttle(view: Any) -> Any:
    """Shared limits: the console form and the token endpoint draw on the same counters, so an
    account's ten guesses are ten in all, not ten on each door."""
    by_address = limiter.shared_limit(
        _limit,
        scope="login-address",
        key_func=lambda: "login-ip:" + get_remote_address(),
        deduct_when=_failed,
        methods=["POST"],
    )
    by_account = limiter.shared_limit(
        _limit, scope="login-account", key_func=_account_key, deduct_when=_failed, methods=["POST"]
    )
    return by_address(by_account(view))
