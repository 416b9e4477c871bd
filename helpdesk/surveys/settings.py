"""The survey settings as the service reads them: from the app's `Settings` (environment
variables, docs/surveys.md), with the same defaults outside an app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_app_context


@dataclass(frozen=True)
class SurveySettings:
    sms: bool = True
    email: bool = True
    period: timedelta = timedelta(days=7)
    open_for: timedelta = timedelta(days=14)
    skip_tags: frozenset[str] = frozenset({"spam", "merged", "duplicate"})
    base_url: str = "http://127.0.0.1:5000"


def current() -> SurveySettings:
    settings = current_app.config.get("HELPDESK_SETTINGS") if has_app_context() else None
    if settings is None:
        return SurveySettings()
    tags = {t.strip().lower() for t in settings.HELPDESK_SURVEY_SKIP_TAGS.split(",") if t.strip()}
    return SurveySettings(
        sms=settings.HELPDESK_SURVEY_SMS,
        email=settings.HELPDESK_SURVEY_EMAIL,
        period=timedelta(days=max(settings.HELPDESK_SURVEY_PERIOD_DAYS, 0)),
        open_for=timedelta(days=max(settings.HELPDESK_SURVEY_OPEN_DAYS, 1)),
        skip_tags=frozenset(tags),
        base_url=settings.PUBLIC_BASE_URL.rstrip("/"),
    )
