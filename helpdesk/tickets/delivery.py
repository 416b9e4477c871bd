"""How an agent's public reply reaches the customer, by the ticket's channel.

The ticket service knows nothing of SMS or e-mail; the features that can deliver a reply register
here (`telephony.sms` registers the SMS channel), and every way of replying (API, console) goes
through `tickets.service.add_comment`, so a reply is delivered whatever screen it was typed on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Deliver = Callable[[Any, Any, Any], None]  # (session, ticket, comment)
_CHANNELS: dict[str, Deliver] = {}


def register(channel: str, deliver: Deliver) -> None:
    _CHANNELS[channel] = deliver


def deliverer(channel: str) -> Deliver | None:
    return _CHANNELS.get(channel)
