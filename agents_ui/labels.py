"""Translated display names for the values the console shows.

The database stores stable English codes (`on_hold`, `urgent`, `ticket_reply`); agents read them in
their own language. Keeping every name here, as lazy strings, gives the catalogue one place to
extract them from and the templates one place to look them up.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from helpdesk.customers.models import CustomerKind
from helpdesk.tickets.workflow import Channel, Priority, Status

STATUS: dict[str, Any] = {
    Status.NEW: _l("New"),
    Status.OPEN: _l("Open"),
    Status.PENDING: _l("Pending"),
    Status.ON_HOLD: _l("On hold"),
    Status.SOLVED: _l("Solved"),
    Status.CLOSED: _l("Closed"),
}

PRIORITY: dict[str, Any] = {
    Priority.LOW: _l("Low"),
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}

CHANNEL: dict[str, Any] = {
    Channel.PHONE: _l("Phone"),
    Channel.SMS: _l("SMS"),
    Channel.EMAIL: _l("E-mail"),
    Channel.WEB: _l("Web"),
    Channel.FIELD: _l("On site"),
}

CUSTOMER_KIND: dict[str, Any] = {
    CustomerKind.PERSON: _l("Person"),
    CustomerKind.COMPANY: _l("Company"),
}

PHONE_LABEL: dict[str, Any] = {
    "mobile": _l("mobile"),
    "work": _l("work"),
    "home": _l("home"),
    "landline": _l("landline"),
    "fax": _l("fax"),
}

EMAIL_LABEL: dict[str, Any] = {
    "work": _l("work"),
    "home": _l("home"),
    "personal": _l("personal"),
}

TIMELINE_KIND: dict[str, Any] = {
    "ticket_created": _l("Ticket opened"),
    "ticket_reply": _l("Reply"),
    "ticket_note": _l("Internal note"),
    "ticket_status": _l("Status change"),
    "customer_merged": _l("Records merged"),
    "customer_erased": _l("Data erased"),
    "call": _l("Call"),
    "call_note": _l("Call notes"),
    "voicemail": _l("Voicemail"),
    "recording": _l("Recording"),
    "sms": _l("SMS"),
    "email": _l("E-mail"),
    "visit": _l("Visit"),
    "survey": _l("Satisfaction"),
}

# The kinds of e-mail (helpdesk.mail.models.MailMessage.kind) shown apart from the conversation.
MAIL_KIND: dict[str, Any] = {
    "message": _l("Message"),
    "ack": _l("Acknowledgement"),
    "auto": _l("Automatic reply"),
    "bounce": _l("Bounce"),
}

CALL_DIRECTION: dict[str, Any] = {
    "inbound": _l("Incoming"),
    "outbound": _l("Outgoing"),
}

CALL_OUTCOME: dict[str, Any] = {
    "answered": _l("Answered"),
    "abandoned": _l("Abandoned"),
    "voicemail": _l("Voicemail"),
    "callback": _l("Called back"),
    "missed": _l("Not answered"),
}

# What an agent chose when wrapping up a call (stored on the call as the code).
DISPOSITION: dict[str, Any] = {
    "resolved": _l("Resolved"),
    "follow_up": _l("Follow-up needed"),
    "escalated": _l("Escalated"),
    "wrong_number": _l("Wrong number"),
    "other": _l("Other"),
}

# Steps of a call's IVR path (telephony.webhooks); `menu:<digit>:<action>` steps name an action.
IVR_STEP: dict[str, Any] = {
    "closed": _l("Outside opening hours"),
    "ticket_lookup": _l("Ticket number typed"),
    "callback": _l("Asked for a callback"),
    "voicemail": _l("Left a message"),
    "click-to-call": _l("Dialled from the console"),
    # The menu's default routes (telephony.ivr_menu): where a caller goes after N menus.
    "menu:default:no_input": _l("No key pressed: sent to the default route"),
    "menu:default:invalid": _l("Only unknown keys: sent to the default route"),
}

IVR_ACTION: dict[str, Any] = {
    "queue": _l("Queue"),
    "technician": _l("Where is my technician"),
    "ticket_status": _l("Status of a ticket"),
    "voicemail": _l("Voicemail"),
}

# Tags the caller screen shows as flags (telephony.screen.FLAG_TAGS).
CUSTOMER_FLAG: dict[str, Any] = {
    "vip": _l("VIP"),
    "late-payer": _l("Late payer"),
    "complaint": _l("Open complaint"),
    "new-caller": _l("New caller"),
    "new-texter": _l("New by SMS"),
}

ROLE: dict[str, Any] = {
    "agent": _l("Agent"),
    "supervisor": _l("Supervisor"),
    "dispatcher": _l("Dispatcher"),
    "admin": _l("Administrator"),
    "integration": _l("Integration (mail ingress)"),
}

SMS_STATUS: dict[str, Any] = {
    "queued": _l("Queued"),
    "retry": _l("Retrying"),
    "sending": _l("Sending"),
    "accepted": _l("Accepted"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Failed"),
    "received": _l("Received"),
    "opted_out": _l("Opted out"),
    "rejected": _l("Rejected"),
}

HISTORY_ACTION: dict[str, Any] = {
    "created": _l("created the ticket"),
    "updated": _l("changed the ticket"),
    "reply": _l("replied publicly"),
    "note": _l("added an internal note"),
    "sla": _l("updated the service level"),
    "merged": _l("merged this ticket into another"),
    "merged_in": _l("merged another ticket into this one"),
    "undo": _l("undid a bulk change"),
}

HISTORY_FIELD: dict[str, Any] = {
    "status": _l("Status"),
    "priority": _l("Priority"),
    "channel": _l("Channel"),
    "assignee_id": _l("Assignee"),
    "group_id": _l("Group"),
    "subject": _l("Subject"),
    "description": _l("Description"),
    "tags": _l("Tags"),
    "requester_id": _l("Requester"),
    "merged_into_id": _l("Merged into"),
    "merged_from_id": _l("Merged from"),
}

LANGUAGES: dict[str, Any] = {"en": _l("English"), "fr": _l("French")}

# Service levels (helpdesk.sla): the three metrics, a clock's states, escalations.
SLA_METRIC: dict[str, Any] = {
    "first_response": _l("First reply"),
    "next_response": _l("Next reply"),
    "resolution": _l("Resolution"),
}

SLA_STATE: dict[str, Any] = {
    "running": _l("Running"),
    "at_risk": _l("At risk"),
    "paused": _l("Paused"),
    "met": _l("Met"),
    "breached": _l("Breached"),
    "cancelled": _l("Cancelled"),
}

SLA_TRIGGER: dict[str, Any] = {
    "at_risk": _l("At risk"),
    "breached": _l("Breached"),
}

ESCALATION_ACTION: dict[str, Any] = {
    "notify_assignee": _l("Notify the assignee"),
    "notify_supervisors": _l("Notify supervisors"),
    "raise_priority": _l("Raise the priority one step"),
    "reassign_group": _l("Move to a group"),
    "sms_oncall": _l("Text the on-call number"),
}

CALENDAR_EXCEPTION: dict[str, Any] = {
    "closure": _l("Closure"),
    "opening": _l("Exceptional opening"),
}


def label(table: dict[str, Any], value: object) -> str:
    """The translated name of `value`, or the raw code when it is one this console does not know.

    New codes (a timeline kind added by another feature) then still show, untranslated, rather
    than breaking the page.
    """
    code = getattr(value, "value", value)
    if code is None:
        return ""
    found = table.get(str(code))
    return str(found) if found is not None else str(code)


def queue_label(queue: Any) -> str:
    """A call queue as the reader names it: its label in their language, else its English
    label, else its internal name (anything with `name`, `label_en` and `label_fr`)."""
    french = str(get_locale() or "en") == "fr"
    return str((queue.label_fr if french else queue.label_en) or queue.label_en or queue.name)
