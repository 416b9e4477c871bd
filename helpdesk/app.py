"""The composition root: `create_app(config)` builds the Flask app and lets each package add
its part with its own `init_app`, as Flask extensions do: the helpdesk core (`helpdesk.wiring`),
telephony (`telephony.wiring`), the knowledge base (`kb.wiring`) and the console
(`agents_ui.wiring`). The root itself only joins what no single package may: telephony's calls
and texts to the knowledge base's suggestions, two siblings that do not import each other.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask

from agents_ui import wiring as console
from helpdesk import wiring as core
from helpdesk.api.converters import BoundedIntegerConverter
from helpdesk.config import Settings
from helpdesk.process_roles import SERVING_ROLES
from kb import wiring as knowledge_base
from telephony import wiring as telephony

# Settings the features read from `app.config` (the rest reach them through `Settings`).
CONFIG_KEYS = (
    "REDIS_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_PHONE_NUMBER",
    "TWILIO_API_KEY_SID",
    "TWILIO_API_KEY_SECRET",
    "TWILIO_TWIML_APP_SID",
    "HELPDESK_VOICE_TOKEN_TTL_S",
    "PUBLIC_BASE_URL",
    "SOCKETS_PUBLIC_URL",
    "PORT",
    "HELPDESK_TIMEZONE",
    "HELPDESK_DEFAULT_REGION",
    "HELPDESK_LOGIN_LIMIT",
    "HELPDESK_HELP_VOTE_LIMIT",
    "HELPDESK_HELP_VIEW_LIMIT",
    "HELPDESK_PORTAL_ADDRESS_LIMIT",
    "HELPDESK_PORTAL_IP_LIMIT",
    "HELPDESK_CONTACT_LIMIT",
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
    "HELPDESK_CLV_MONTHLY_DISCOUNT",
)


def create_app(config: Settings | dict[str, Any] | None = None, *, role: str = "web") -> Flask:
    """Build the application from `Settings` (or a dict of overrides on the environment).

    `role` is "web" for processes that serve requests and sockets (the embedded form), "api"
    and "sockets" for the scaled-out form's two halves of it (helpdesk.process_roles), "worker"
    for Celery workers and beat, which only ever emit events (through the Redis queue) and serve
    no socket, and "cli" for one-off commands (as "web", without the per-request database
    deadlines)."""
    settings = _settings(config)
    app = _flask_app(settings, role)
    core.init_app(app, settings, role=role)
    telephony.init_app(app, settings)
    knowledge_base.init_app(app, settings)
    _join_calls_to_suggestions(app)
    console.init_app(app)
    core.init_request_handling(app, settings)
    return app


def _settings(config: Settings | dict[str, Any] | None) -> Settings:
    if config is None:
        return Settings.from_env()
    if isinstance(config, dict):
        return Settings.from_env(**config)
    return config


def _flask_app(settings: Settings, role: str) -> Flask:
    app = Flask(
        "helpdesk",
        instance_path=settings.HELPDESK_INSTANCE_PATH,
        template_folder=None,
        static_folder=None,
    )
    app.config.update(settings.flask_config())
    if role in SERVING_ROLES:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].update(settings.request_deadlines())
    app.config.update({key: getattr(settings, key) for key in CONFIG_KEYS})
    app.config["HELPDESK_TELEPHONY_BACKEND"] = settings.telephony_backend
    app.config["HELPDESK_SETTINGS"] = settings
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["int"] = BoundedIntegerConverter
    return app


def _join_calls_to_suggestions(app: Flask) -> None:
    """Suggestions read a call's facts, the caller's last text and what the IVR menu's keys
    lead to; telephony has them, and kb may not import telephony (nor telephony kb)."""
    from kb import suggestions
    from telephony.calls import get_call
    from telephony.ivr import menu_topics
    from telephony.sms import last_inbound_text

    suggestions.CALLS.fill(
        suggestions.CallSource(
            get_call, last_inbound_text, functools.partial(menu_topics, app.instance_path)
        )
    )
