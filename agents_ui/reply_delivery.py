"""How the ticket page tells the agent where a public reply goes and how far each one got.

Before sending, the reply box names the channel and the destination its route chose (or says that
nothing can reach the customer); after sending, the flash message and each public reply's badge
say what really happened: a reply that nothing could carry is never called "sent", nor one that
went to this installation's simulator because no mail server (or no Twilio account) is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import pgettext

from agents_ui import formatting
from helpdesk.tickets import delivery
from helpdesk.tickets.models import Comment


def status_label(status: str) -> str:
    """A delivery state in the agent's words (a reply's: feminine in French, hence the context)."""
    names = {
        delivery.QUEUED: pgettext("delivery", "Queued"),
        delivery.SENT: pgettext("delivery", "Sent"),
        delivery.DELIVERED: pgettext("delivery", "Delivered"),
        delivery.FAILED: pgettext("delivery", "Failed"),
        delivery.BOUNCED: pgettext("delivery", "Bounced"),
        delivery.UNDELIVERABLE: pgettext("delivery", "Not sent"),
    }
    return str(names.get(status, status))


def destination(channel: str | None, to: str | None) -> str:
    """`SMS to +33 6 12 34 56 78`, `e-mail to manon@example.com`."""
    if channel == "sms":
        return str(_("SMS to %(to)s", to=formatting.phone(to or "")))
    if channel == "email":
        return str(_("e-mail to %(to)s", to=to or ""))
    return str(_("%(channel)s to %(to)s", channel=channel or "", to=to or ""))


def simulated_labels() -> dict[str, str]:
    """The badge of a reply "sent" or "delivered" on each channel that ends in the simulator, for
    the page's script to show when a delivery update arrives live."""
    label = str(pgettext("delivery", "Simulated"))
    return {channel: label for channel in ("email", "sms") if delivery.simulated(channel)}


def _simulator_note(channel: str | None) -> str:
    if channel == "email":
        return str(_("No mail server is configured: it stays in the mail simulator."))
    return str(_("No Twilio account is configured: it goes to the simulator."))


@dataclass(frozen=True)
class RouteNotice:
    """The reply box's sentence about a public reply, and whether it would leave at all."""

    channel: str | None  # the channel that carries it; None when none does or it is refused
    text: str
    deliverable: bool
    warning: str = ""  # e-mail's own explanation (agents_ui.mail_reply.warning)


def route_notice(route: delivery.Route) -> RouteNotice:
    if route.refusal is not None and route.channel == "sms":
        text = _(
            "The customer opted out of text messages: a public reply cannot be sent (they can "
            "text START to receive texts again). Add an internal note instead."
        )
        return RouteNotice(channel=None, text=text, deliverable=False)
    if route.refusal is not None:
        text = _(
            "The customer asked not to be contacted this way: a public reply cannot be sent. "
            "Add an internal note instead."
        )
        return RouteNotice(channel=None, text=text, deliverable=False)
    if route.channel is None:
        text = _("No channel can reach this customer: a public reply will be saved but not sent.")
        return RouteNotice(channel=None, text=text, deliverable=False)
    if route.channel == "sms":
        text = _(
            "A public reply will be sent by SMS to %(to)s.", to=formatting.phone(route.to or "")
        )
    elif route.channel == "email":
        text = _("A public reply will be sent by e-mail to %(to)s.", to=route.to or "")
    else:
        text = _(
            "A public reply will be sent: %(where)s.", where=destination(route.channel, route.to)
        )
    if delivery.simulated(route.channel):
        text = f"{text} {_simulator_note(route.channel)}"
    return RouteNotice(channel=route.channel, text=text, deliverable=True)


def _reached_the_simulator(comment: Comment) -> bool:
    """The reply was handed over ("sent", "delivered") to a channel that ends in the simulator:
    it reached no customer."""
    return comment.delivery_status in (delivery.SENT, delivery.DELIVERED) and delivery.simulated(
        comment.delivery_channel
    )


def badge(comment: Comment) -> tuple[str, str, str] | None:
    """A public reply's delivery as (status code, status label, detail), None when it has none."""
    status = comment.delivery_status
    if status is None:
        return None
    label = status_label(status)
    if status == delivery.UNDELIVERABLE:
        return status, label, _("no channel could reach the customer")
    where = destination(comment.delivery_channel, comment.delivery_to)
    if _reached_the_simulator(comment):
        return status, pgettext("delivery", "Simulated"), where
    return status, label, where


def flash_after_reply(comment: Comment) -> tuple[str, str]:
    """The message (and its flash category) once a public reply is saved: what really happened."""
    status = comment.delivery_status
    where = destination(comment.delivery_channel, comment.delivery_to)
    if _reached_the_simulator(comment):
        said = _("Reply saved, not sent: %(where)s.", where=where)
        return f"{said} {_simulator_note(comment.delivery_channel)}", "warning"
    if status in (delivery.SENT, delivery.DELIVERED):
        return _("Reply sent: %(where)s.", where=where), "success"
    if status == delivery.QUEUED:
        return _("Reply saved; it will be sent shortly: %(where)s.", where=where), "success"
    if status in (delivery.FAILED, delivery.BOUNCED):
        return _("Reply saved, but it could not be delivered: %(where)s.", where=where), "error"
    if status == delivery.UNDELIVERABLE:
        return _("Reply saved but not sent: no channel can reach this customer."), "warning"
    return _("Reply saved."), "success"
