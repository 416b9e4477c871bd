"""Outgoing webhooks hold no customer's data: their payloads carry ids, states and times only
(docs/webhooks.md), and the rest describes the receiving systems."""

from __future__ import annotations

from helpdesk.privacy.registry import exempt

_RECEIVER = "the receiving system's endpoint, set by an administrator: no customer's data"
exempt("webhook_subscriptions", "url", _RECEIVER)
exempt("webhook_subscriptions", "description", "an administrator's label for the receiver")
exempt("webhook_subscriptions", "disabled_reason", "why delivery stopped: failure counts and times")
exempt("webhook_deliveries", "payload", "ids, states and times of the event, never names or text")
exempt("webhook_deliveries", "last_error", "the receiver's HTTP status or connection error")
exempt("webhook_attempts", "error", "the receiver's HTTP status or connection error")
