"""SLA configuration and clocks hold no customer data: exempt, with why."""

from __future__ import annotations

from helpdesk.privacy.registry import exempt

exempt("sla_calendars", "name", "configuration: a business calendar's name")
exempt("sla_policies", "name", "configuration: a policy's name")
exempt("sla_calendar_exceptions", "label", "configuration: a holiday or closure's label")
exempt(
    "sla_clocks",
    "reason",
    "why a clock paused or stopped, written by the SLA engine from ticket statuses",
)
