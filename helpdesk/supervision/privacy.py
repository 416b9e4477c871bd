"""The call event log holds no customer data: exempt, with why."""

from __future__ import annotations

from helpdesk.privacy.registry import exempt

exempt(
    "call_events",
    "data",
    "an event's facts for the statistics (agent states, break reasons, queue moves, priority, "
    "callback flag): no caller number or name is logged",
)
