"""Flask-Limiter's per-request search for app-wide limits is left out where none is declared
(`helpdesk.wiring.check_limits_where_declared`): the limits declared on views still hold, and an
app-wide limit, were one declared, would still be enforced. (The sign-in throttle, declared on
its views, is tested in tests/api/test_auth.py.)"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from helpdesk.extensions import limiter
from helpdesk.wiring import check_limits_where_declared


def _app(rate_limiter: Limiter) -> Flask:
    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    app.config["RATELIMIT_HEADERS_ENABLED"] = True

    @app.get("/free")
    def free() -> str:
        return "free"

    @app.get("/guarded")
    @rate_limiter.limit("2/minute")
    def guarded() -> str:
        return "guarded"

    rate_limiter.init_app(app)
    check_limits_where_declared(app, rate_limiter)
    return app


def test_the_helpdesk_app_searches_no_app_wide_limit_on_each_request(app):
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])


def test_a_limit_declared_on_a_view_still_holds_without_the_hook():
    rate_limiter = Limiter(key_func=get_remote_address)
    app = _app(rate_limiter)
    assert rate_limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    client = app.test_client()
    assert [client.get("/guarded").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/guarded").headers.get("Retry-After")
    assert {client.get("/free").status_code for _ in range(5)} == {200}


def test_an_app_wide_limit_keeps_the_hook_and_is_enforced():
    rate_limiter = Limiter(key_func=get_remote_address, default_limits=["3/minute"])
    app = _app(rate_limiter)
    assert rate_limiter._check_request_limit in app.before_request_funcs[None]
    client = app.test_client()
    assert [client.get("/free").status_code for _ in range(4)] == [200, 200, 200, 429]
