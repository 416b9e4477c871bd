"""Which requests are privileged actions, and what the audit log calls each one.

The table is keyed by Flask endpoint (`blueprint.view_method`, as `flask routes` prints it). A
request to one of these endpoints that succeeds is written to the audit log after its change has
committed, with the acting user, the target, the fields asked for (secrets removed), the client
address and the request id. Declaring an endpoint here is all a new privileged operation needs;
tests/functional/test_audit_coverage.py fails for a change restricted beyond agents (or an
export) that is missing. Only changes are audited: a GET (opening a form, reading a list) never
is, unless the rule is an export, where reading is the act.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Audited:
    action: str
    target_type: str
    # The URL variable holding the target's id; None for a creation (the new id is read from
    # the response: the JSON `id`, or the last number of the redirect's Location).
    target_arg: str | None = None
    # Renames the action from the fields the entry keeps (a PATCH that changes a role is a role
    # change).
    refine: Callable[[Mapping[str, Any]], str | None] | None = None
    # A download of data (CSV report, personal-data export): its GET is the audited act.
    export: bool = False
    # Audits only the requests whose fields pass (a report asked for as CSV, an article published);
    # it sees the view's `audit_details` too (a change to a shared macro, not to a personal one).
    when: Callable[[Mapping[str, Any]], bool] | None = None
    # The request fields kept in the entry; None keeps them all. Requests that carry customers'
    # data (invoice lines, a visit's notes) keep none or a few, and add counts instead.
    keep: tuple[str, ...] | None = None


def _role_change(fields: Mapping[str, Any]) -> str | None:
    return "user.role_change" if fields.get("role") else None


def _as_csv(fields: Mapping[str, Any]) -> bool:
    return fields.get("format") == "csv"


def _confirmed(fields: Mapping[str, Any]) -> bool:
    """The console's bulk form: its first post only asks for confirmation."""
    return fields.get("confirm") == "1"


def _publishes(fields: Mapping[str, Any]) -> bool:
    return fields.get("status") == "published"


# An article's fields worth keeping (its body is long and already in the revision history).
_ARTICLE = ("title", "locale", "status", "visibility")
# A technician's, without the phone number and home position.
_TECHNICIAN = ("name", "skills", "language", "calendar_id", "max_jobs_per_day", "active")

# A campaign's settings worth keeping (its scripts and messages are long; the list is personal).
_CAMPAIGN = (
    "name",
    "kind",
    "legal_basis",
    "channel",
    "skill",
    "window_start",
    "window_end",
    "max_attempts",
    "retry_delay_minutes",
    "starts_at",
    "ends_at",
)
_CAMPAIGN_IMPORT = ("source", "segment", "view_id", "added", "excluded", "rejected")

# A macro's fields worth keeping (its text is long and written for every customer).
_MACRO = ("title", "language", "visibility", "set_status", "add_tags", "set_group_id", "shared")


def _shared_macro(fields: Mapping[str, Any]) -> bool:
    """A change to a macro all staff use (the view says so in its details); personal ones are
    their owner's business."""
    return bool(fields.get("shared"))


def _shared_view(fields: Mapping[str, Any]) -> bool:
    """A shared view reaches every agent's ticket list; a personal one is its owner's affair."""
    return fields.get("shared") is True


def _published(fields: Mapping[str, Any]) -> bool:
    """An IVR version was published (the view says which); a preview or a refusal was not."""
    return bool(fields.get("version"))


# A saved view's fields worth keeping.
_VIEW = ("name", "filters", "sort", "position", "shared")

# A webhook subscription's fields worth keeping.
_WEBHOOK = ("url", "event_types", "description", "active")

AUDITED: dict[str, Audited] = {
    # Staff accounts and roles
    "auth_api.create_user_post": Audited("user.create", "user"),
    "auth_api.update_user_patch": Audited("user.update", "user", "user_id", _role_change),
    # The console's forms: the entry keeps what the view says changed (`audit_details`), not the
    # raw form (skill rows, the password typed)
    "console.admin_user_create": Audited("user.create", "user", keep=()),
    "console.admin_user_update": Audited("user.update", "user", "user_id", _role_change, keep=()),
    "console.admin_user_password": Audited("user.password_reset", "user", "user_id", keep=()),
    "console.admin_user_deactivate": Audited("user.deactivate", "user", "user_id", keep=()),
    "console.admin_user_reactivate": Audited("user.reactivate", "user", "user_id", keep=()),
    # Personal data: export, erasure, merge
    "customers_api.export_customer_get": Audited(
        "customer.export", "customer", "customer_id", export=True
    ),
    "customers_api.erase_customer_delete": Audited("customer.erase", "customer", "customer_id"),
    "customers_api.merge_customer_post": Audited("customer.merge", "customer", "customer_id"),
    # Tickets: a duplicate merged into another, bulk changes of the list and their undo
    "tickets_api.merge_ticket_post": Audited("ticket.merge", "ticket", "ticket_id"),
    "tickets_api.bulk_tickets_post": Audited(
        "ticket.bulk_change", "ticket", keep=("set", "filter")
    ),
    "tickets_api.undo_bulk_post": Audited("ticket.bulk_undo", "ticket_bulk_change", "change_id"),
    "console.ticket_merge_post": Audited("ticket.merge", "ticket", "ticket_id", keep=("into",)),
    "console.tickets_bulk": Audited(
        "ticket.bulk_change",
        "ticket",
        when=_confirmed,
        keep=("action", "scope", "assignee", "status", "group", "add_tags", "remove_tags", "into"),
    ),
    "console.tickets_bulk_undo": Audited(
        "ticket.bulk_undo", "ticket_bulk_change", "change_id", keep=()
    ),
    # Marketing consents and the do-not-call list (numbers and proof notes are not kept: counts,
    # channels and sources only)
    "consent_api.record_consent_post": Audited(
        "consent.record", "customer", "customer_id", keep=("channel", "source")
    ),
    "consent_api.withdraw_consent_post": Audited(
        "consent.withdraw", "customer", "customer_id", keep=()
    ),
    "consent_api.add_do_not_call_post": Audited(
        "do_not_call.add", "do_not_call", keep=("channels",)
    ),
    "consent_api.remove_do_not_call_delete": Audited(
        "do_not_call.remove", "do_not_call", "entry_id", keep=()
    ),
    "console.customer_consent_record": Audited(
        "consent.record", "customer", "customer_id", keep=("channel",)
    ),
    "console.customer_consent_withdraw": Audited(
        "consent.withdraw", "customer", "customer_id", keep=()
    ),
    "console.customer_do_not_call": Audited(
        "do_not_call.customer_request", "customer", "customer_id", keep=("channels",)
    ),
    "console.admin_do_not_call_import": Audited(
        "do_not_call.import", "do_not_call", keep=("source", "replace")
    ),
    "console.admin_do_not_call_add": Audited("do_not_call.add", "do_not_call", keep=("channels",)),
    "console.admin_do_not_call_remove": Audited(
        "do_not_call.remove", "do_not_call", "entry_id", keep=()
    ),
    # Reports downloaded
    "console.sla_report_csv": Audited("report.export", "sla_report", export=True),
    "console.calls_report_csv": Audited("report.export", "call_report", export=True),
    "supervision_api.get_call_report_get": Audited(
        "report.export", "call_report", export=True, when=_as_csv
    ),
    # Supervision: another agent's presence, moving a waiting call, listening in
    "supervision_api.put_agent_presence_put": Audited("agent.presence", "user", "agent_id"),
    "console.wallboard_agent_state": Audited("agent.presence", "user", "agent_id"),
    "supervision_api.move_call_post": Audited("call.move", "call", "call_id"),
    "console.wallboard_move": Audited("call.move", "call", "call_id"),
    "supervision_api.monitor_call_post": Audited("call.monitor", "call", "call_id"),
    "console.wallboard_monitor": Audited("call.monitor", "call", "call_id"),
    # Customer value: invoices from billing (lines name customers: counts only), recompute
    "value_api.post_invoices_post": Audited("invoice.import", "invoice", keep=()),
    "value_api.import_invoices_csv_post": Audited("invoice.import", "invoice", keep=()),
    "value_api.post_recompute_post": Audited("value.recompute", "customer_value", keep=()),
    "console.value_recompute": Audited("value.recompute", "customer_value", keep=()),
    # The analytics warehouse: an export run or queued from the page (counts only).
    "console.analytics_export": Audited("warehouse.export", "warehouse", keep=()),
    # Customer models retrained on demand (the outcome: methods and counts)
    "console.customer_models_train": Audited("models.train", "model_run", keep=()),
    # Knowledge base: what the public help center shows
    "kb_api.delete_article_delete": Audited("kb.article.delete", "kb_article", "article_id"),
    "kb_api.create_article_post": Audited(
        "kb.article.publish", "kb_article", when=_publishes, keep=_ARTICLE
    ),
    "kb_api.update_article_patch": Audited(
        "kb.article.publish", "kb_article", "article_id", when=_publishes, keep=_ARTICLE
    ),
    "console.kb_new": Audited("kb.article.publish", "kb_article", when=_publishes, keep=_ARTICLE),
    "console.kb_edit": Audited(
        "kb.article.publish", "kb_article", "article_id", when=_publishes, keep=_ARTICLE
    ),
    # Field dispatch: technicians, and who is sent where (notes and signatures left out)
    "dispatch_api.create_technician_post": Audited(
        "technician.create", "technician", keep=_TECHNICIAN
    ),
    "dispatch_api.update_technician_patch": Audited(
        "technician.update", "technician", "technician_id", keep=_TECHNICIAN
    ),
    "console.dispatch_technician_new": Audited("technician.create", "technician", keep=_TECHNICIAN),
    "console.dispatch_technician": Audited(
        "technician.update", "technician", "technician_id", keep=_TECHNICIAN
    ),
    "dispatch_api.assign_work_order_post": Audited(
        "work_order.assign", "work_order", "work_order_id", keep=("technician_id",)
    ),
    "console.dispatch_assign": Audited(
        "work_order.assign", "work_order", "work_order_id", keep=("technician_id",)
    ),
    "dispatch_api.unassign_work_order_post": Audited(
        "work_order.unassign", "work_order", "work_order_id", keep=()
    ),
    "dispatch_api.work_order_status_post": Audited(
        "work_order.status", "work_order", "work_order_id", keep=("status",)
    ),
    "dispatch_api.complete_work_order_post": Audited(
        "work_order.complete", "work_order", "work_order_id", keep=()
    ),
    "console.dispatch_status": Audited(
        "work_order.status", "work_order", "work_order_id", keep=("action",)
    ),
    "dispatch_api.auto_dispatch_post": Audited("work_order.auto_dispatch", "work_order", keep=()),
    "console.dispatch_auto": Audited("work_order.auto_dispatch", "work_order", keep=("day",)),
    # Configuration: SLA calendars and policies, call queues
    "sla_api.create_calendar_post": Audited("sla.calendar.create", "sla_calendar"),
    "sla_api.replace_calendar_put": Audited("sla.calendar.update", "sla_calendar", "calendar_id"),
    "sla_api.delete_calendar_delete": Audited("sla.calendar.delete", "sla_calendar", "calendar_id"),
    "sla_api.create_policy_post": Audited("sla.policy.create", "sla_policy"),
    "sla_api.replace_policy_put": Audited("sla.policy.update", "sla_policy", "policy_id"),
    "sla_api.delete_policy_delete": Audited("sla.policy.delete", "sla_policy", "policy_id"),
    "console.sla_calendar_new": Audited("sla.calendar.create", "sla_calendar"),
    "console.sla_calendar": Audited("sla.calendar.update", "sla_calendar", "calendar_id"),
    "console.sla_policy_new": Audited("sla.policy.create", "sla_policy"),
    "console.sla_policy": Audited("sla.policy.update", "sla_policy", "policy_id"),
    "console.simulator_open_center": Audited("center.open_around_the_clock", "sla_calendar"),
    "telephony_queues_api.create_queue_post": Audited("queue.create", "queue"),
    "telephony_queues_api.replace_queue_put": Audited("queue.update", "queue", "queue_id"),
    "console.admin_queue_create": Audited("queue.create", "queue", keep=()),
    "console.admin_queue_update": Audited("queue.update", "queue", "queue_id", keep=()),
    "console.admin_queue_deactivate": Audited("queue.deactivate", "queue", "queue_id", keep=()),
    "telephony_recordings_api.put_policy_put": Audited(
        "queue.recording_update", "queue", "queue_id"
    ),
    # Outgoing webhooks: where events go (the secret is never kept: helpdesk.audit.service.scrub)
    "webhooks_api.create_webhook_post": Audited("webhook.create", "webhook", keep=_WEBHOOK),
    "webhooks_api.update_webhook_patch": Audited(
        "webhook.update", "webhook", "webhook_id", keep=_WEBHOOK
    ),
    "webhooks_api.delete_webhook_delete": Audited("webhook.delete", "webhook", "webhook_id"),
    "webhooks_api.rotate_webhook_secret_post": Audited(
        "webhook.secret_rotate", "webhook", "webhook_id", keep=()
    ),
    # Outbound campaigns: who is contacted, how and when (the lists' contents are not kept)
    "campaigns_api.create_campaign_post": Audited("campaign.create", "campaign", keep=_CAMPAIGN),
    "campaigns_api.update_campaign_patch": Audited(
        "campaign.update", "campaign", "campaign_id", keep=_CAMPAIGN
    ),
    "campaigns_api.set_campaign_status_post": Audited(
        "campaign.status", "campaign", "campaign_id", keep=("status", "from")
    ),
    "campaigns_api.import_members_post": Audited(
        "campaign.members_import", "campaign", "campaign_id", keep=_CAMPAIGN_IMPORT
    ),
    "console.campaign_create": Audited("campaign.create", "campaign", keep=_CAMPAIGN),
    "console.campaign_update": Audited(
        "campaign.update", "campaign", "campaign_id", keep=_CAMPAIGN
    ),
    "console.campaign_status": Audited(
        "campaign.status", "campaign", "campaign_id", keep=("status", "from")
    ),
    "console.campaign_members_add": Audited(
        "campaign.members_import", "campaign", "campaign_id", keep=_CAMPAIGN_IMPORT
    ),
    "console.campaign_report_csv": Audited("report.export", "campaign", "campaign_id", export=True),
    # Shared macros: the canned replies every agent sends (personal ones are not audited)
    "macros_api.create_macro_post": Audited(
        "macro.create", "macro", keep=_MACRO, when=_shared_macro
    ),
    "macros_api.update_macro_patch": Audited(
        "macro.update", "macro", "macro_id", keep=_MACRO, when=_shared_macro
    ),
    "macros_api.delete_macro_delete": Audited(
        "macro.delete", "macro", "macro_id", keep=_MACRO, when=_shared_macro
    ),
    "console.macro_create": Audited("macro.create", "macro", keep=_MACRO, when=_shared_macro),
    "console.macro_update": Audited(
        "macro.update", "macro", "macro_id", keep=_MACRO, when=_shared_macro
    ),
    "console.macro_delete": Audited(
        "macro.delete", "macro", "macro_id", keep=_MACRO, when=_shared_macro
    ),
    "console.admin_webhook_create": Audited("webhook.create", "webhook", keep=()),
    "console.admin_webhook_update": Audited("webhook.update", "webhook", "webhook_id", keep=()),
    "console.admin_webhook_delete": Audited("webhook.delete", "webhook", "webhook_id", keep=()),
    # The texts sent to customers: the new wording is kept by the view (`audit_details`).
    "console.admin_text_update": Audited("texts.update", "message_text", "key", keep=()),
    "console.admin_text_reset": Audited("texts.update", "message_text", "key", keep=()),
    "console.admin_webhook_secret": Audited(
        "webhook.secret_rotate", "webhook", "webhook_id", keep=()
    ),
    # The IVR: what every caller hears (a preview on the same form changes nothing: not audited)
    "console.admin_ivr_publish": Audited("ivr.publish", "ivr_version", keep=(), when=_published),
    "console.admin_ivr_rollback": Audited("ivr.rollback", "ivr_version", keep=(), when=_published),
    # Shared views of the ticket list (personal views are not audited: see `_shared_view`)
    "views_api.create_view_post": Audited("view.create", "view", when=_shared_view, keep=_VIEW),
    "views_api.update_view_patch": Audited(
        "view.update", "view", "view_id", when=_shared_view, keep=_VIEW
    ),
    "views_api.delete_view_delete": Audited(
        "view.delete", "view", "view_id", when=_shared_view, keep=_VIEW
    ),
    "console.saved_view_create": Audited("view.create", "view", when=_shared_view, keep=("name",)),
    "console.saved_view_rename": Audited(
        "view.update", "view", "view_id", when=_shared_view, keep=("name",)
    ),
    "console.saved_view_move": Audited(
        "view.update", "view", "view_id", when=_shared_view, keep=("direction",)
    ),
    "console.saved_view_delete": Audited(
        "view.delete", "view", "view_id", when=_shared_view, keep=()
    ),
    # Sign-ins ended by an administrator (their live connections close too)
    "auth_api.revoke_user_tokens_delete": Audited("user.tokens_revoke", "user", "user_id"),
    "auth_api.revoke_user_token_delete": Audited("user.token_revoke", "user", "user_id"),
    "auth_api.end_user_sessions_delete": Audited("user.sessions_end", "user", "user_id"),
    "auth_api.end_user_session_delete": Audited("user.session_end", "user", "user_id"),
    "console.admin_user_tokens_revoke": Audited("user.tokens_revoke", "user", "user_id"),
    "console.admin_user_token_revoke": Audited("user.token_revoke", "user", "user_id"),
    "console.admin_user_sessions_end": Audited("user.sessions_end", "user", "user_id"),
    "console.admin_user_session_end": Audited("user.session_end", "user", "user_id"),
}
