"""What dispatch reads from the app's configuration, in one frozen value.

Apart from the service so that the planner and the visit texts, which the service calls, can
take it without importing the service back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What the service reads from the app's configuration."""

    timezone: str = "Europe/Paris"
    region: str = "FR"
    on_completion: str = "solve"
    sender: str = "+15005550006"
    public_base_url: str = "http://127.0.0.1:5000"
    secret_key: str = "dev"  # noqa: S105 (outside an app only: tests of pure helpers)


def current_settings() -> Settings:
    """The running app's settings; the defaults outside an app (tests of pure helpers)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return Settings()
    cfg = current_app.config
    return Settings(
        timezone=cfg.get("HELPDESK_TIMEZONE") or "Europe/Paris",
        region=cfg.get("HELPDESK_DEFAULT_REGION") or "FR",
        on_completion=cfg.get("HELPDESK_DISPATCH_ON_COMPLETION") or "solve",
        sender=cfg.get("TWILIO_PHONE_NUMBER") or "+15005550006",
        public_base_url=cfg.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000",
        secret_key=str(cfg.get("SECRET_KEY") or "dev"),
    )
