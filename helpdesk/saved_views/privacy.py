"""Saved views hold no customer's data: a name a staff member chose for a list of tickets, and
filters (statuses, a group, a tag, at most a customer's id, which an erasure leaves pointing at
the anonymised record)."""

from __future__ import annotations

from helpdesk.privacy.registry import exempt

exempt("saved_views", "name", "a staff member's label for a list of tickets")
