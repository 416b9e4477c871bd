"""The composition root: `create_app(config)` binds extensions, blueprints and adapters."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_login import current_user
from flask_socketio import SocketIO

from helpdesk import events
from helpdesk.api.openapi import bp as openapi_bp
from helpdesk.audit.api import bp as audit_api
from helpdesk.auth.api import bp as auth_api
from helpdesk.config import Settings
from helpdesk.customers.api import bp as customers_api
from helpdesk.db import install_sqlite_pragmas, release_session_safely
from helpdesk.dispatch.api import bp as dispatch_api
from helpdesk.extensions import babel, csrf, db, limiter, login_manager, socketio
from helpdesk.mail.api import bp as mail_api
from helpdesk.reporting.api import bp as reporting_api
from helpdesk.security.origins import socketio_origin_check
from helpdesk.sla.api import bp as sla_api
from helpdesk.supervision.api import bp as supervision_api
from helpdesk.tickets.api import bp as tickets_api
from helpdesk.timeline.api import bp as timeline_api
from helpdesk.value.api import bp as value_api
from kb.api import bp as kb_api
from telephony import degraded, sms_spool
from telephony.api import bp as telephony_api
from telephony.simulator_api import bp as simulator_api
from telephony.sms_api import bp as sms_api
from telephony.sms_webhooks import bp as sms_webhooks
from telephony.webhooks import bp as voice_webhooks

# A database failure under a voice webhook answers an apology, not a 500 (telephony.degraded).
degraded.install(voice_webhooks)
# And under an inbound text, the text is spooled to disk and recorded later (telephony.sms_spool).
sms_spool.install(sms_webhooks)

# Imported at module level so that every API operation is declared (and documented) on import.
API_BLUEPRINTS = (
    auth_api,
    customers_api,
    tickets_api,
    timeline_api,
    sla_api,
    telephony_api,
    simulator_api,
    sms_api,
    reporting_api,
    supervision_api,
    value_api,
    dispatch_api,
    kb_api,
    audit_api,
    mail_api,
    openapi_bp,
)
TASK_MODULES = (
    "helpdesk.tickets.tasks",
    "helpdesk.sla.tasks",
    "telephony.tasks",
    "helpdesk.supervision.tasks",
    "helpdesk.value.tasks",
    "helpdesk.dispatch.tasks",
    "kb.tasks",
)
SUPPORTED_LOCALES = ("en", "fr")
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "agents_ui" / "translations"


def _select_locale() -> str:
    if current_user and getattr(current_user, "is_authenticated", False):
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or "en"


def _select_timezone() -> str:
    return str(g.get("timezone") or "Europe/Paris")


def create_app(config: Settings | dict[str, Any] | None = None, *, role: str = "web") -> Flask:
    """Build the application from `Settings` (or a dict of overrides on the environment).

    `role` is "web" for processes that serve requests and sockets, "worker" for Celery workers
    and beat, which only ever emit events (through the Redis queue) and serve no socket, and
    "cli" for one-off commands (as "web", without the per-request database deadlines).
    """
    if config is None:
        settings = Settings.from_env()
    elif isinstance(config, dict):
        settings = Settings.from_env(**config)
    else:
        settings = config

    app = Flask(
        "helpdesk",
        instance_path=settings.HELPDESK_INSTANCE_PATH,
        template_folder=None,
        static_folder=None,
    )
    app.config.update(settings.flask_config())
    if role == "web":
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].update(settings.request_deadlines())
    app.config.update(
        {
            k: getattr(settings, k)
            for k in (
                "REDIS_URL",
                "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN",
                "TWILIO_PHONE_NUMBER",
                "TWILIO_API_KEY_SID",
                "TWILIO_API_KEY_SECRET",
                "TWILIO_TWIML_APP_SID",
                "HELPDESK_VOICE_TOKEN_TTL_S",
                "PUBLIC_BASE_URL",
                "PORT",
                "HELPDESK_TIMEZONE",
                "HELPDESK_DEFAULT_REGION",
                "HELPDESK_LOGIN_LIMIT",
                "HELPDESK_HELP_VOTE_LIMIT",
                "HELPDESK_HELP_VIEW_LIMIT",
                "HELPDESK_AUTO_CLOSE_DAYS",
                "HELPDESK_SCHEDULER",
                "HELPDESK_TOKEN_TTL_DAYS",
                "HELPDESK_SL_THRESHOLD_S",
                "HELPDESK_SL_TARGET",
                "HELPDESK_MAX_WAIT_S",
                "HELPDESK_WALLBOARD_PUSH_S",
                "HELPDESK_DISPATCH_ON_COMPLETION",
                "HELPDESK_METRICS_TOKEN",
                "HELPDESK_VOICE_FALLBACK_URL",
            )
        }
    )
    app.config["HELPDESK_TELEPHONY_BACKEND"] = settings.telephony_backend
    app.config["HELPDESK_SETTINGS"] = settings
    app.json.sort_keys = False  # type: ignore[attr-defined]
    from helpdesk.api.converters import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter

    db.init_app(app)
    release_session_safely(app, db.session)
    with app.app_context():
        install_sqlite_pragmas(
            db.engine,
            statement_timeout_s=settings.HELPDESK_STATEMENT_TIMEOUT_S if role == "web" else 0,
        )
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # The Limiter is module-level: an earlier app whose Redis went away (it then counts in
    # memory) must not leave a new app, with its own storage, in that fallback for good.
    limiter._storage_dead = False
    babel.init_app(
        app,
        locale_selector=_select_locale,
        timezone_selector=_select_timezone,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
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
        # The public address and the page's own loopback origin; never a foreign site's.
        cors_allowed_origins=socketio_origin_check(settings.PUBLIC_BASE_URL),
        logger=False,
        engineio_logger=False,
    )
    if settings.HELPDESK_TRUSTED_PROXIES > 0:
        # Outermost, so that pages, the API, the throttle, the audit log and the Socket.IO
        # handshake all see the client's address rather than the proxy's.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.HELPDESK_TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    from helpdesk.realtime import init_realtime

    init_realtime(app)
    app.extensions["helpdesk_events"] = _event_backend(settings, role)
    from helpdesk.supervision import live

    app.extensions["live_stats"] = live.build(app.config)
    from helpdesk.supervision import service as supervision
    from telephony import supervision as call_floor
    from telephony.service import presences

    live.PRESENCES.fill(presences)
    supervision.FLOOR.fill(call_floor)

    from helpdesk.celery_app import celery_init_app

    celery_init_app(app)
    for module in TASK_MODULES:  # importing a tasks module registers its tasks
        importlib.import_module(module)

    app.extensions["telephony_gateway"] = _gateway(settings)
    from helpdesk.supervision.monitoring import register_monitors
    from telephony.monitoring import from_gateway

    register_monitors(app, from_gateway)
    from helpdesk import health
    from telephony import ivr_queues

    health.register_ivr_check(app, ivr_queues.menu_dead_keys)
    _warn_about_the_test_number(settings)
    from helpdesk import coalesce

    app.extensions["dispatch_gate"] = coalesce.from_url(settings.REDIS_URL)
    _attach_simulator(app, settings)
    app.extensions["sms_settings"] = _sms_settings(settings)
    from helpdesk.mail.setup import init_inbound

    init_inbound(app, settings)
    from kb import indexing as kb_indexing

    kb_indexing.init_app(app, settings)
    from kb import suggestions as kb_suggestions
    from telephony.service import get_call
    from telephony.sms import last_inbound_text

    kb_suggestions.CALLS.fill(kb_suggestions.CallSource(get_call, last_inbound_text))
    from helpdesk.tickets import delivery
    from telephony.sms import deliver_reply, reply_reach

    delivery.register("sms", deliver_reply, reach=reply_reach)
    from helpdesk.dispatch import inbound as dispatch_inbound
    from helpdesk.dispatch import notify as dispatch_notify
    from helpdesk.dispatch.geocoding import NullGeocoder
    from telephony.sms import queue_sms, register_inbound

    register_inbound(dispatch_inbound.handle)
    dispatch_notify.OUTBOX.fill(queue_sms)
    from helpdesk.value import service as value_service
    from telephony.usage import contacts_since

    value_service.CONTACTS.fill(contacts_since)
    app.extensions["geocoder"] = NullGeocoder()
    if settings.HELPDESK_ONCALL_NUMBER:
        from telephony.sms import oncall_notifier

        app.extensions["oncall_notifier"] = oncall_notifier(app, settings.HELPDESK_ONCALL_NUMBER)

    _register_blueprints(app)
    from helpdesk.errors import register_error_handlers

    register_error_handlers(app)
    from helpdesk.security.nul import init_nul_stripping

    init_nul_stripping(app, skip_prefixes=("/api/", "/twilio/"))
    from helpdesk.security.headers import init_security_headers

    init_security_headers(app)
    from helpdesk.audit.recorder import init_audit

    init_audit(app)
    from helpdesk.metrics import init_metrics, register_gauges
    from telephony import metrics as telephony_metrics

    register_gauges("telephony", telephony_metrics.gauges)
    init_metrics(app)
    from helpdesk.auth.login import init_login

    init_login(app)
    from helpdesk.logs import configure_logging, init_request_ids

    init_request_ids(app)
    if not app.debug and not settings.TESTING:
        configure_logging(settings.HELPDESK_LOG_FORMAT, logging.INFO)
    return app


def _event_backend(settings: Settings, role: str) -> events.EventBackend:
    if settings.TESTING:
        return events.RecordingBackend()
    if role == "worker" and settings.REDIS_URL:
        # A write-only emitter: it publishes to the queue the web processes listen on.
        return events.SocketIOBackend(SocketIO(message_queue=settings.REDIS_URL, write_only=True))
    return events.SocketIOBackend(socketio)


TWILIO_TEST_NUMBER = "+15005550006"  # Twilio's "from" number for test credentials only


def _warn_about_the_test_number(settings: Settings) -> None:
    """Twilio mode against Twilio itself, sending from the number that only Twilio's test
    credentials accept: with live credentials every text and call from it fails (error 21606)."""
    if (
        settings.telephony_backend == "twilio"
        and not settings.TWILIO_API_BASE_URL
        and settings.TWILIO_PHONE_NUMBER == TWILIO_TEST_NUMBER
    ):
        logging.getLogger("helpdesk.app").warning(
            "TWILIO_PHONE_NUMBER is %s, Twilio's number for test credentials: with live "
            "credentials nothing can be sent from it. Set TWILIO_PHONE_NUMBER to a number of "
            "the account.",
            TWILIO_TEST_NUMBER,
        )


def _gateway(settings: Settings) -> object:
    """Twilio when both credentials are set, otherwise the built-in simulator."""
    if settings.telephony_backend == "twilio":
        from telephony.gateway import TwilioGateway

        return TwilioGateway.from_credentials(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            api_base_url=settings.TWILIO_API_BASE_URL,
        )
    from telephony.gateway import SimulatorGateway

    return SimulatorGateway()


def _attach_simulator(app: Flask, settings: Settings) -> None:
    """In simulator mode the gateway talks to a simulator that posts webhooks back in-process."""
    gateway = app.extensions["telephony_gateway"]
    if settings.telephony_backend != "simulator":
        return
    from telephony.simulator import Simulator, test_client_post

    sim = Simulator(
        test_client_post(app),
        auth_token=settings.TWILIO_AUTH_TOKEN,
        public_base_url=settings.PUBLIC_BASE_URL,
        our_number=settings.TWILIO_PHONE_NUMBER,
    )
    gateway.simulator = sim
    app.extensions["telephony_simulator"] = sim


def _sms_settings(settings: Settings) -> object:
    """Per-number flood limit for inbound texts: counted in Redis when scaled out."""
    from limits import parse, storage, strategies

    from telephony.sms import SmsSettings

    store = storage.storage_from_string(settings.REDIS_URL or "memory://")
    return SmsSettings(
        region=settings.HELPDESK_DEFAULT_REGION,
        ack_period_s=settings.HELPDESK_SMS_ACK_PERIOD_S,
        limiter=strategies.MovingWindowRateLimiter(store),
        limit=parse(settings.HELPDESK_SMS_FLOOD_LIMIT),
        public_base_url=settings.PUBLIC_BASE_URL,
    )


def _register_blueprints(app: Flask) -> None:
    from agents_ui.views import bp as console_bp
    from helpdesk.health import bp as health_bp

    for api_bp in API_BLUEPRINTS:
        csrf.exempt(api_bp)  # bearer tokens, not cookies: nothing for a forged form to ride on
        app.register_blueprint(api_bp)
    from telephony.sms_webhooks import bp as sms_bp
    from telephony.webhooks import bp as voice_bp

    app.register_blueprint(voice_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(console_bp)
