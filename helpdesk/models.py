"""Imports every feature's models so that the metadata is complete (Alembic, create_all)."""

from __future__ import annotations


def load_all() -> None:
    import helpdesk.auth.models
    import helpdesk.customers.models
    import helpdesk.sla.models
    import helpdesk.tickets.models
    import helpdesk.timeline.models  # noqa: F401
