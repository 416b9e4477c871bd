"""The agents' console: server-rendered pages under the site root.

`bp` is registered by `agents_ui.wiring.init_app`. The pages live in one module per area;
importing them here attaches their routes to the blueprint.
"""

from __future__ import annotations

from agents_ui import (
    account,
    assets,
    audit_pages,
    call_screen,
    customer_edit,
    customer_pages,
    dispatch_pages,
    help_center,
    kb_pages,
    macro_pages,
    mail_pages,
    mail_simulator,
    phone,
    phone_controls,
    recording_pages,
    saved_view_pages,
    simulator_pages,
    sla_admin,
    sla_pages,
    sla_report,
    sms_pages,
    supervision_pages,
    survey_page,
    ticket_list,
    ticket_new,
    ticket_page,
    user_access_pages,
    user_admin,
    webhook_admin,
)
from agents_ui.blueprint import bp

__all__ = [
    "account",
    "assets",
    "audit_pages",
    "bp",
    "call_screen",
    "customer_edit",
    "customer_pages",
    "dispatch_pages",
    "help_center",
    "kb_pages",
    "macro_pages",
    "mail_pages",
    "mail_simulator",
    "phone",
    "phone_controls",
    "recording_pages",
    "saved_view_pages",
    "simulator_pages",
    "sla_admin",
    "sla_pages",
    "sla_report",
    "sms_pages",
    "supervision_pages",
    "survey_page",
    "ticket_list",
    "ticket_new",
    "ticket_page",
    "user_access_pages",
    "user_admin",
    "webhook_admin",
]
