"""Macros are texts staff write for many customers: they hold no customer's data (a customer's
name only appears once a macro is rendered into a reply, which the tickets' holder covers)."""

from __future__ import annotations

from helpdesk.privacy.registry import exempt

exempt("macros", "title", "a staff member's name for a canned reply")
exempt("macros", "body", "a canned reply with placeholders, written for every customer")
