"""Outgoing webhooks' part of the application: the API, the delivery settings, the tasks."""

from __future__ import annotations

from flask import Flask

from helpdesk.config import Settings
from helpdesk.extensions import csrf
from helpdesk.webhooks import config
from helpdesk.webhooks.api import bp as api_bp
from helpdesk.webhooks.transport import HttpSender

TASK_MODULES = ("helpdesk.webhooks.tasks",)


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[config.EXTENSION] = config.WebhookConfig(
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE,
        sender=HttpSender(timeout_s=settings.WEBHOOKS_TIMEOUT_S),
    )
    csrf.exempt(api_bp)  # bearer tokens, not cookies: nothing for a forged form to ride on
    app.register_blueprint(api_bp)
