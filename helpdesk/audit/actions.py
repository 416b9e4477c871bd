"""Which requests are privileged actions, and what the audit log calls each one.

The table is keyed by Flask endpoint (`blueprint.view_method`, as `flask routes` prints it). A
request to one of these endpoints that succeeds is written to the audit log after its change has
committed, with the acting user, the target, the fields asked for (secrets removed), the client
address and the request id. Declaring an endpoint here is all a new privileged operation needs;
tests/functional/test_security_matrix.py fails for an admin-only change that is missing.
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
    # Renames the action from what was asked for (a PATCH that changes a role is a role change).
    refine: Callable[[Mapping[str, Any]], str | None] | None = None


def _role_change(fields: Mapping[str, Any]) -> str | None:
    return "user.role_change" if fields.get("role") else None


AUDITED: dict[str, Audited] = {
    # Staff accounts and roles
    "auth_api.create_user_post": Audited("user.create", "user"),
    "auth_api.update_user_patch": Audited("user.update", "user", "user_id", _role_change),
    # Personal data: export, erasure, merge
    "customers_api.export_customer_get": Audited("customer.export", "customer", "customer_id"),
    "customers_api.erase_customer_delete": Audited("customer.erase", "customer", "customer_id"),
    "customers_api.merge_customer_post": Audited("customer.merge", "customer", "customer_id"),
    "console.sla_report_csv": Audited("report.export", "sla_report"),
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
    "telephony_api.create_queue_post": Audited("queue.create", "queue"),
    "telephony_api.replace_queue_put": Audited("queue.update", "queue", "queue_id"),
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
