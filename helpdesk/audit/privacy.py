"""The audit log: who did what to which record. It names staff, and customers by id only."""

from __future__ import annotations

from helpdesk.privacy.registry import exempt

exempt(
    "audit_entries",
    "actor_email",
    "staff: who acted, kept so the log survives the account; never a customer's address",
)
exempt(
    "audit_entries",
    "details",
    "the audited request's fields, secrets removed: the customer operations audited (export, "
    "erasure, merge) carry ids and row counts only, never a name, number or address",
)
exempt("audit_entries", "ip", "the acting staff member's client address")
