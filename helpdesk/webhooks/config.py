"""What the delivery side needs from the app, chosen at app creation (helpdesk.app)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, has_app_context

from helpdesk.webhooks.policy import RetryPolicy
from helpdesk.webhooks.transport import HttpSender, Sender

EXTENSION = "helpdesk_webhooks"


@dataclass
class WebhookConfig:
    allow_private: bool = False
    sender: Sender = field(default_factory=HttpSender)
    policy: RetryPolicy = field(default_factory=RetryPolicy)


def current() -> WebhookConfig:
    """The app's configuration; outside an app (scripts, pure tests) the safe defaults."""
    if has_app_context():
        found = current_app.extensions.get(EXTENSION)
        if isinstance(found, WebhookConfig):
            return found
    return WebhookConfig()
