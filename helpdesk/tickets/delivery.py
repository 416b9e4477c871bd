"""How an agent's public reply reaches the customer: which channel carries it, and to where.

The ticket service knows nothing of SMS or e-mail. A feature that can deliver a reply registers
its channel here with two functions: `reach` says whether (and where) that channel can reach a
ticket's customer, `deliver` hands one reply to it. Every way of replying (API, console) goes
through `tickets.service.add_comment`, which asks `route_for` first, so a reply is delivered
whatever screen it was typed on, and a reply that nothing can carry is recorded as
`undeliverable` instead of being reported as sent.

The choice itself (`choose`) is pure: like Zendesk and Zammad, a reply goes back through the
channel the ticket came in on; when that channel cannot reach the customer, it falls back to
what can. E-mail comes before SMS for tickets that did not start as a text or a call, since a
written answer to a web form or an e-mail reads best as an e-mail; a call or a visit is answered
by text first, on the number the customer can be texted at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# The states of a reply's delivery (the API's `delivery.status`).
QUEUED = "queued"  # accepted by us, waiting to leave
SENT = "sent"  # handed to the provider that carries it (Twilio, the SMTP server)
DELIVERED = "delivered"  # the provider confirmed it reached the customer
FAILED = "failed"  # the provider gave up, or the customer's number refused it
BOUNCED = "bounced"  # e-mail: the customer's server sent it back
UNDELIVERABLE = "undeliverable"  # no channel can reach the customer: saved, never sent
STATUSES = (QUEUED, SENT, DELIVERED, FAILED, BOUNCED, UNDELIVERABLE)

# A status only moves up this ranking: provider callbacks arrive out of order and are retried.
# `undeliverable` is decided when the reply is written and never changes.
_RANK = {QUEUED: 0, SENT: 1, DELIVERED: 2, FAILED: 2, BOUNCED: 2}

# The channels tried for a reply, in order, by the channel the ticket came in on.
PREFERENCES: dict[str, tuple[str, ...]] = {
    "sms": ("sms", "email"),
    "phone": ("sms", "email"),
    "field": ("sms", "email"),
    "email": ("email", "sms"),
    "web": ("email", "sms"),
}
_DEFAULT_ORDER = ("email", "sms")


@dataclass(frozen=True)
class Reach:
    """What one channel can do for one ticket's customer.

    `to` is where a reply would go (a number, an address), None when the customer has none on
    this channel; `refusal` says why the customer must not be contacted there (they opted out).
    """

    channel: str
    to: str | None
    refusal: str | None = None

    @property
    def usable(self) -> bool:
        return self.to is not None and self.refusal is None


@dataclass(frozen=True)
class Route:
    """Where a public reply goes: a channel and a destination, or nowhere (`channel` None).

    `refusal` is set when the ticket's own channel could reach the customer but they asked not
    to be contacted there, and no other channel can: the reply is refused rather than saved, so
    the agent learns it at once (an SMS conversation with a customer who sent STOP).
    """

    channel: str | None
    to: str | None = None
    refusal: str | None = None

    @property
    def deliverable(self) -> bool:
        return self.channel is not None and self.refusal is None


NOWHERE = Route(channel=None)


def choose(ticket_channel: str, reaches: Mapping[str, Reach]) -> Route:
    """The route of a public reply on a ticket that came in on `ticket_channel`, given what
    each registered channel can do (`reaches`, by channel name)."""
    order = PREFERENCES.get(ticket_channel, _DEFAULT_ORDER)
    order += tuple(sorted(set(reaches) - set(order)))  # a channel registered later, last
    for channel in order:
        reach = reaches.get(channel)
        if reach is not None and reach.usable:
            return Route(channel=channel, to=reach.to)
    own = reaches.get(ticket_channel)
    if own is not None and own.to is not None and own.refusal is not None:
        return Route(channel=ticket_channel, to=own.to, refusal=own.refusal)
    return NOWHERE


def initial_status(route: Route) -> str:
    return QUEUED if route.deliverable else UNDELIVERABLE


def earlier_than(status: str) -> tuple[str, ...]:
    """The recorded statuses that `status` may replace: the compare-and-set's condition."""
    return tuple(s for s, rank in _RANK.items() if rank < _RANK.get(status, -1))


# -- the registry ----------------------------------------------------------------------------------

# (session, ticket, comment) -> a reference the channel reports statuses under (an SMS row's id,
# an e-mail's Message-ID), or None when it reports none.
Deliver = Callable[[Any, Any, Any], str | None]
# (session, ticket) -> Reach
ReachFn = Callable[[Any, Any], Reach]


@dataclass(frozen=True)
class Registered:
    name: str
    deliver: Deliver
    reach: ReachFn


_CHANNELS: dict[str, Registered] = {}


def _email_reach(session: Any, ticket: Any) -> Reach:
    """The customer's first e-mail address: the default for an e-mail deliverer that brings no
    `reach` of its own."""
    from sqlalchemy import select

    from helpdesk.customers.models import CustomerEmail

    address = session.scalar(
        select(CustomerEmail.email)
        .where(CustomerEmail.customer_id == ticket.requester_id)
        .order_by(CustomerEmail.id)
        .limit(1)
    )
    return Reach(channel="email", to=address)


_DEFAULT_REACH: dict[str, ReachFn] = {"email": _email_reach}


def register(channel: str, deliver: Deliver, *, reach: ReachFn | None = None) -> None:
    reach = reach or _DEFAULT_REACH.get(channel)
    if reach is None:
        raise ValueError(f"channel {channel!r} needs a reach function")
    _CHANNELS[channel] = Registered(name=channel, deliver=deliver, reach=reach)


def unregister(channel: str) -> None:
    _CHANNELS.pop(channel, None)


def deliverer(channel: str) -> Deliver | None:
    found = _CHANNELS.get(channel)
    return found.deliver if found else None


def route_for(session: Any, ticket: Any) -> Route:
    """Ask each registered channel whether it can reach the ticket's customer, then choose."""
    reaches = {name: found.reach(session, ticket) for name, found in _CHANNELS.items()}
    return choose(ticket.channel.value, reaches)


def simulated(channel: str | None) -> bool:
    """Whether a reply on `channel` ends in this installation's simulator instead of leaving it:
    e-mail with no SMTP server configured (`make run`), SMS with no Twilio account. Such a reply
    is recorded as sent to the simulator; the console and the API say it did not leave."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return False
    if channel == "email":
        transport = current_app.extensions.get("mail_transport")
        return getattr(transport, "name", None) == "simulator"
    if channel == "sms":
        return current_app.config.get("HELPDESK_TELEPHONY_BACKEND") == "simulator"
    return False
