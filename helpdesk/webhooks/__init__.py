"""Outgoing webhooks: subscriptions to event types, an outbox of deliveries written with the
change they describe, signed HTTP posts with retries, and a delivery log (docs/webhooks.md)."""

from helpdesk.webhooks.outbox import emit

__all__ = ["emit"]
