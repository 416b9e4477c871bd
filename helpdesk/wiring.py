"""The helpdesk core's part of the app, in the manner of a Flask extension.

`init_app` binds the module-level extensions (database, login, CSRF, limiter, Babel, Socket.IO),
chooses the core's adapters from the settings (the event backend, the live statistics' store,
the dispatch gate, the geocoder), starts Celery and registers the core's blueprints and tasks.
`init_request_handling` adds what wraps every request (errors, security headers, audit, metrics,
request ids); it runs last, once telephony and the knowledge base have registered their parts
(telephony's gauges must be known before the metrics are). Nothing here imports telephony, kb
or the console: they add their own parts with their own `init_app`.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_limiter import Limiter
from flask_login import current_user
from flask_socketio import SocketIO

from helpdesk import events
from helpdesk.api.openapi import bp as openapi_bp
from helpdesk.audit.api import bp as audit_api
from helpdesk.auth.api import bp as auth_api
from helpdesk.campaigns.api import bp as campaigns_api
from helpdesk.config import Settings
from helpdesk.consent.api import bp as consent_api
from helpdesk.customers.api import bp as customers_api
from helpdesk.customers.timeline_api import bp as timeline_api
from helpdesk.db import (
    DbSession,
    install_sqlite_pragmas,
    ping_when_idle,
    release_session_safely,
)
from helpdesk.dispatch.api import bp as dispatch_api
from helpdesk.extensions import babel, csrf, db, limiter, login_manager, socketio
from helpdesk.macros.api import bp as macros_api
from helpdesk.mail import wiring as mail_wiring
from helpdesk.process_roles import SERVING_ROLES, live_only, without_live
from helpdesk.reporting.api import bp as reporting_api
from helpdesk.saved_views.api import bp as views_api
from helpdesk.security.origins import socketio_origin_check
from helpdesk.sla.api import bp as sla_api
from helpdesk.supervision.api import bp as supervision_api
from helpdesk.surveys.api import bp as surveys_api
from helpdesk.tickets.bulk_api import bp as tickets_with_bulk  # tickets_api with the bulk routes
from helpdesk.value.api import bp as value_api
from helpdesk.webhooks import wiring as webhooks_wiring

# Imported at module level so that every API operation is declared (and documented) on import.
API_BLUEPRINTS = (
    auth_api,
    customers_api,
    tickets_with_bulk,
    views_api,
    timeline_api,
    sla_api,
    reporting_api,
    supervision_api,
    value_api,
    dispatch_api,
    audit_api,
    macros_api,
    surveys_api,
    campaigns_api,
    consent_api,
    openapi_bp,
)
TASK_MODULES = (
    "helpdesk.tickets.tasks",
    "helpdesk.sla.tasks",
    "helpdesk.supervision.tasks",
    "helpdesk.value.tasks",
    "helpdesk.warehouse.tasks",
    "helpdesk.analytics.tasks",
    "helpdesk.dispatch.tasks",
    "helpdesk.campaigns.tasks",
    *mail_wiring.TASK_MODULES,
    *webhooks_wiring.TASK_MODULES,
)
SUPPORTED_LOCALES = ("en", "fr")
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "agents_ui" / "translations"


def init_app(app: Flask, settings: Settings, *, role: str) -> None:
    _init_extensions(app, settings, role)
    from helpdesk.realtime import init_realtime

    init_realtime(app)
    app.extensions["helpdesk_events"] = _event_backend(settings, role)
    from helpdesk.supervision import live

    app.extensions["live_stats"] = live.build(app.config)
    from helpdesk.celery_app import celery_init_app

    celery_init_app(app)
    for module in TASK_MODULES:  # importing a tasks module registers its tasks
        importlib.import_module(module)
    _fill_core_slots()
    from helpdesk import coalesce
    from helpdesk.dispatch.geocoding import GEOCODER, NullGeocoder

    app.extensions[coalesce.GATE] = coalesce.from_url(settings.REDIS_URL)
    app.extensions[GEOCODER] = NullGeocoder()
    from helpdesk.health import bp as health_bp

    for api_bp in API_BLUEPRINTS:
        csrf.exempt(api_bp)  # bearer tokens, not cookies: nothing for a forged form to ride on
        app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    mail_wiring.init_app(app, settings)
    webhooks_wiring.init_app(app, settings)


def _fill_core_slots() -> None:
    """Where one core feature sits below another that it must tell about a change."""
    from helpdesk.customers.service import TICKETS_FOLLOW
    from helpdesk.dispatch.ticket_follow import move_work_orders
    from helpdesk.macros import service as macros_service
    from helpdesk.sla import service as sla_service
    from helpdesk.surveys import service as surveys
    from helpdesk.tickets.clocks import CLOCKS
    from helpdesk.tickets.followups import AFTER_SOLVED
    from helpdesk.tickets.merge import move_to_survivor
    from helpdesk.tickets.reply_actions import MACRO_ACTIONS
    from helpdesk.tickets.ticket_merge import register_follower
    from helpdesk.warehouse.core_sources import register_core

    def follow_merge(session: DbSession, *, source_id: int, target_id: int) -> None:
        """A merged duplicate's tickets and satisfaction surveys move to the survivor."""
        move_to_survivor(session, source_id=source_id, target_id=target_id)
        surveys.move_to_survivor(session, source_id=source_id, target_id=target_id)

    TICKETS_FOLLOW.fill(follow_merge)
    CLOCKS.fill(sla_service)
    MACRO_ACTIONS.fill(macros_service.reply_actions)
    register_follower("visits", move_work_orders)
    AFTER_SOLVED.fill(surveys.after_ticket_solved)
    register_core()


def init_request_handling(app: Flask, settings: Settings) -> None:
    from helpdesk.audit.recorder import init_audit
    from helpdesk.auth.login import init_login
    from helpdesk.errors import register_error_handlers
    from helpdesk.logs import configure_logging, init_request_ids
    from helpdesk.metrics import init_metrics
    from helpdesk.security.headers import init_security_headers
    from helpdesk.security.nul import init_nul_stripping

    register_error_handlers(app)
    init_nul_stripping(app, skip_prefixes=("/api/", "/twilio/"))
    init_security_headers(app)
    init_audit(app)
    init_metrics(app)
    init_login(app)
    init_request_ids(app)
    if not app.debug and not settings.TESTING:
        configure_logging(settings.HELPDESK_LOG_FORMAT, logging.INFO)


def _select_locale() -> str:
    # A customer's page (help center, contact form, portal) is in the language it was asked in,
    # whoever browses it: its form errors included, which are worded while it is validated.
    page = g.get("page_locale")
    if page in SUPPORTED_LOCALES:
        return str(page)
    if current_user and getattr(current_user, "is_authenticated", False):
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or "en"


def _select_timezone() -> str:
    return str(g.get("timezone") or "Europe/Paris")


def _init_extensions(app: Flask, settings: Settings, role: str) -> None:
    db.init_app(app)
    from helpdesk import caches

    caches.init_app(app, redis_url=settings.REDIS_URL)
    release_session_safely(app, db.session)
    with app.app_context():
        ping_when_idle(db.engine, settings.HELPDESK_POOL_PING_IDLE_S)
        install_sqlite_pragmas(
            db.engine,
            statement_timeout_s=(
                settings.HELPDESK_STATEMENT_TIMEOUT_S if role in SERVING_ROLES else 0
            ),
        )
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # The Limiter is module-level: an earlier app whose Redis went away (it then counts in
    # memory) must not leave a new app, with its own storage, in that fallback for good.
    limiter._storage_dead = False
    check_limits_where_declared(app, limiter)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        timezone_selector=_select_timezone,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
    _init_socketio(app, settings, role)
    if settings.HELPDESK_TRUSTED_PROXIES > 0:
        # Outermost, so that pages, the API, the throttle, the audit log and the Socket.IO
        # handshake all see the client's address rather than the proxy's.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.HELPDESK_TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


def _init_socketio(app: Flask, settings: Settings, role: str) -> None:
    """The Socket.IO endpoint, in the processes that serve it (helpdesk.process_roles)."""
    if role == "api" and settings.REDIS_URL:
        # No endpoint: it emits through a write-only queue of its own (_event_backend).
        app.wsgi_app = without_live(app.wsgi_app)  # type: ignore[method-assign,assignment]
        return
    if role == "sockets":
        app.wsgi_app = live_only(app.wsgi_app)  # type: ignore[method-assign,assignment]
    # The SocketIO object is module-level and init_app keeps the previous client manager when no
    # queue is given; drop it so that an app without REDIS_URL never inherits another's queue.
    socketio.server_options.pop("client_manager", None)
    queue: dict[str, Any] = {}
    if settings.REDIS_URL:
        from helpdesk.socketqueue import RedisQueue

        queue["client_manager"] = RedisQueue(settings.REDIS_URL, channel="flask-socketio")
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=settings.REDIS_URL or None,
        **queue,
        # The sockets process takes a loopback page from any port: the console's pages come
        # from the web processes' port.
        cors_allowed_origins=socketio_origin_check(
            settings.PUBLIC_BASE_URL, any_port=role == "sockets"
        ),
        logger=False,
        engineio_logger=False,
    )
    if role == "api":
        # Without Redis its events reach no one (a benchmark of the API alone, say): the local
        # server takes them, and no client can join it.
        app.wsgi_app = without_live(app.wsgi_app)  # type: ignore[method-assign,assignment]
        logging.getLogger(__name__).warning(
            "no REDIS_URL: the live events of this web process reach no console"
        )


def _event_backend(settings: Settings, role: str) -> events.EventBackend:
    if settings.TESTING:
        return events.RecordingBackend()
    if role in ("worker", "api") and settings.REDIS_URL:
        # A write-only emitter: it publishes to the queue the socket-serving processes listen on.
        from helpdesk.socketqueue import RedisQueue

        queue = RedisQueue(settings.REDIS_URL, channel="flask-socketio", write_only=True)
        return events.SocketIOBackend(
            SocketIO(message_queue=settings.REDIS_URL, client_manager=queue, write_only=True)
        )
    return events.SocketIOBackend(socketio)


def check_limits_where_declared(app: Flask, rate_limiter: Limiter) -> None:
    """Take Flask-Limiter's per-request hook out: every limit here is declared on the view it
    guards (sign-in, the token endpoint, help-centre votes), and such a view checks its limits in
    its own decorator. The hook looks for application-wide, default, blueprint and meta limits,
    of which there are none, and that search was about a twentieth of the CPU of every API call
    and webhook (docs/benchmarks.md). Its after-request part stays: it deducts failed sign-ins
    and writes the rate-limit headers of the views that have limits.

    Where such a limit is declared the hook stays, so that it is never silently ignored."""
    manager = rate_limiter.limit_manager
    if manager.application_limits or manager.default_limits or manager._blueprint_limits:
        return
    if rate_limiter._meta_limits:
        return
    hooks = app.before_request_funcs.get(None, [])
    if rate_limiter._check_request_limit in hooks:
        hooks.remove(rate_limiter._check_request_limit)
