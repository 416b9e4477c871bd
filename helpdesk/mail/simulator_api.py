"""`/api/v1/simulator/mail`: the mail the helpdesk sent while no SMTP server is configured.

The simulator's page lists these; scripts and tests read them to see what a customer would have
received (headers, both parts, attachments' names).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import operation
from helpdesk.errors import APIError, NotFound
from helpdesk.mail.simulator import SentMail, SimulatorTransport
from helpdesk.mail.transport import simulator

bp = Blueprint("mail_simulator_api", __name__, url_prefix="/api/v1")


class SentMailQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str | None = Field(default=None, max_length=254, description="Only mail sent to this")
    limit: int = Field(default=50, ge=1, le=200)


class SentMailOut(BaseModel):
    message_id: str
    sender: str = Field(description="The envelope sender (MAIL FROM)")
    recipients: list[str] = Field(description="The envelope recipients (RCPT TO)")
    from_header: str = Field(description="The From header as sent (the agent's name in it)")
    to_header: str
    subject: str
    date: str
    in_reply_to: str
    references: list[str]
    auto_submitted: str
    text: str
    html: str = Field(description="The HTML part as sent (sanitised before it left)")
    attachments: list[str]
    stored_at: datetime
    size: int


class SentMailList(BaseModel):
    items: list[SentMailOut]


def _simulator() -> SimulatorTransport:
    found = simulator(current_app)
    if found is None:
        raise APIError(
            "the mail simulator is off: MAIL_SMTP_URL is set", code="simulator_off", status=404
        )
    return found


def _out(mail: SentMail) -> SentMailOut:
    return SentMailOut.model_validate(mail.as_dict())


@operation(
    bp,
    "/simulator/mail",
    "GET",
    summary="Mail sent to the local mail simulator (no SMTP server configured), latest first",
    query=SentMailQuery,
    response=SentMailList,
    tag="simulator",
    errors={404: "the mail simulator is off: an SMTP server is configured"},
)
def list_sent_mail(query: SentMailQuery) -> SentMailList:
    return SentMailList(items=[_out(m) for m in _simulator().sent(limit=query.limit, to=query.to)])


@operation(
    bp,
    "/simulator/mail/<string:message_id>",
    "GET",
    summary="One message sent to the local mail simulator, by its Message-ID",
    response=SentMailOut,
    tag="simulator",
    errors={404: "no such message, or the mail simulator is off"},
)
def get_sent_mail(message_id: str) -> SentMailOut:
    mail = _simulator().get(message_id)
    if mail is None:
        raise NotFound(f"no simulated mail {message_id}")
    return _out(mail)
