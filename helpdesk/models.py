"""Every feature's models, imported together so that the metadata is complete (Alembic, tests)."""

from __future__ import annotations

import importlib
from types import ModuleType

MODEL_MODULES = (
    "helpdesk.auth.models",
    "helpdesk.customers.models",
    "helpdesk.tickets.models",
    "helpdesk.timeline.models",
    "helpdesk.sla.models",
    "telephony.models",
    "telephony.recording_models",
    "telephony.ivr_models",
    "helpdesk.supervision.models",
    "helpdesk.value.models",
    "helpdesk.analytics.models",
    "helpdesk.dispatch.models",
    "kb.models",
    "helpdesk.audit.models",
    "helpdesk.mail.models",
    "helpdesk.webhooks.models",
    "helpdesk.macros.models",
    "helpdesk.saved_views.models",
    "helpdesk.portal.models",
    "helpdesk.surveys.models",
    "helpdesk.texts.models",
    "helpdesk.campaigns.models",
    "helpdesk.consent.models",
)


def load_all() -> list[ModuleType]:
    return [importlib.import_module(name) for name in MODEL_MODULES]
