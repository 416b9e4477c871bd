"""When to try a delivery again, when to give up on it, and when to disable a subscription.

Pure: the service applies these to the rows; tests walk them without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# A catalogue of event types; each is documented in docs/webhooks.md with its payload.
EVENT_TYPES = (
    "ticket.created",
    "ticket.updated",
    "call.ended",
    "sms.received",
    "survey.answered",
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: `base_s`, then twice as long each time, never more than `cap_s`.

    With the defaults a delivery is tried 8 times over about an hour (30 s, 1 min, 2 min ...
    32 min). A subscription is disabled after `disable_after` failed attempts in a row, or once it
    has failed for `disable_after_s` without a single success in between.
    """

    base_s: float = 30.0
    cap_s: float = 3600.0
    max_attempts: int = 8
    disable_after: int = 10
    disable_after_s: float = 24 * 3600.0

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 for the first)."""
        exponent = max(attempts - 1, 0)
        return timedelta(seconds=min(self.base_s * 2 ** min(exponent, 30), self.cap_s))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def disables(self, consecutive_failures: int, failing_since: datetime, now: datetime) -> bool:
        if consecutive_failures >= self.disable_after:
            return True
        return (now - failing_since).total_seconds() >= self.disable_after_s


def succeeded(status_code: int | None) -> bool:
    """A 2xx answer delivers; redirects are not followed (a receiver's URL says where it is)."""
    return status_code is not None and 200 <= status_code < 300
