"""`/api/v1`: a customer's consents to marketing (recorded by agents, the portal, a form or an
import, always with a proof) and the do-not-call list (looked up by staff, kept by
administrators). The list's bulk import is the `helpdesk consent dnc-import` command."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.audit.recorder import audit_details, audit_target
from helpdesk.auth import permissions
from helpdesk.consent import service
from helpdesk.consent.models import ContactConsent, DoNotCall
from helpdesk.errors import NotFound
from helpdesk.extensions import db

bp = Blueprint("consent_api", __name__, url_prefix="/api/v1")

Channel = Literal["call", "sms", "email"]
DncChannel = Literal["call", "sms"]
ConsentSource = Literal["agent", "portal", "import", "form", "call", "paper", "email", "other"]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    source: ConsentSource = "agent"
    proof: Annotated[str, Written] = Field(
        min_length=1,
        max_length=service.PROOF_MAX,
        description="How the consent was given (what the customer said, the form's reference): "
        "the professional must be able to prove it.",
    )
    given_at: datetime | None = Field(default=None, description="Now when absent.")


class ConsentOut(BaseModel):
    id: int
    customer_id: int
    channel: Channel
    purpose: str
    given_at: datetime
    source: str
    proof: str
    recorded_by_id: int | None
    withdrawn_at: datetime | None
    withdrawn_by_id: int | None


class ConsentList(BaseModel):
    items: list[ConsentOut]


class DncQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=40, description="In any common form.")


class DncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=40)
    channels: list[DncChannel] = Field(default=["call"], min_length=1)
    note: Annotated[str, Written] = Field(default="", max_length=service.NOTE_MAX)


class DncOut(BaseModel):
    id: int
    source: str
    channels: list[str]
    added_at: datetime
    note: str


class DncLookup(BaseModel):
    number: str = Field(description="The number in E.164.")
    listed: bool
    entries: list[DncOut]


def consent_out(c: ContactConsent) -> ConsentOut:
    return ConsentOut.model_validate(c, from_attributes=True)


def dnc_out(e: DoNotCall) -> DncOut:
    return DncOut(
        id=e.id, source=e.source, channels=e.channels.split(","), added_at=e.added_at, note=e.note
    )


@operation(
    bp,
    "/customers/<int:customer_id>/consents",
    "GET",
    summary="A customer's consents to marketing, newest first, withdrawn ones included",
    response=ConsentList,
    tag="consent",
)
def list_consents(customer_id: int) -> ConsentList:
    rows = service.consents_of(db.session, customer_id=customer_id)
    return ConsentList(items=[consent_out(c) for c in rows])


@operation(
    bp,
    "/customers/<int:customer_id>/consents",
    "POST",
    summary="Record a consent to marketing on one channel, with its proof (audited)",
    body=ConsentIn,
    response=ConsentOut,
    status=201,
    tag="consent",
    errors={404: "no such customer"},
)
def record_consent(customer_id: int, body: ConsentIn) -> ConsentOut:
    saved = service.record_consent(
        db.session,
        customer_id=customer_id,
        channel=body.channel,
        source=body.source,
        proof=body.proof,
        by_user_id=current_api_user().id,
        given_at=body.given_at,
    )
    db.session.commit()
    audit_details({"consent_id": saved.id})
    return consent_out(saved)


@operation(
    bp,
    "/customers/<int:customer_id>/consents/<int:consent_id>/withdraw",
    "POST",
    summary="Withdraw a consent from now on; the record keeps both dates (audited)",
    response=ConsentOut,
    tag="consent",
    errors={404: "no such consent for this customer"},
)
def withdraw_consent(customer_id: int, consent_id: int) -> ConsentOut:
    row = db.session.get(ContactConsent, consent_id)
    if row is None or row.customer_id != customer_id:
        raise NotFound(f"no consent {consent_id} for customer {customer_id}")
    service.withdraw_consent(db.session, consent_id=consent_id, by_user_id=current_api_user().id)
    db.session.commit()
    return consent_out(row)


@operation(
    bp,
    "/do-not-call",
    "GET",
    summary="Whether a number is on the do-not-call list, and from which sources",
    query=DncQuery,
    response=DncLookup,
    tag="consent",
)
def lookup_do_not_call(query: DncQuery) -> DncLookup:
    number = service.normalise_number(query.number)
    entries = service.lookup_do_not_call(db.session, number=number)
    return DncLookup(number=number, listed=bool(entries), entries=[dnc_out(e) for e in entries])


@operation(
    bp,
    "/do-not-call",
    "POST",
    summary="Put a number on the do-not-call list (staff's own entry; audited)",
    roles=permissions.ADMINISTER,
    body=DncIn,
    response=DncOut,
    status=201,
    tag="consent",
)
def add_do_not_call(body: DncIn) -> DncOut:
    entry = service.add_do_not_call(
        db.session,
        number=body.number,
        source="manual",
        channels=body.channels,
        note=body.note,
        by_user_id=current_api_user().id,
    )
    db.session.commit()
    audit_target(entry.id)
    return dnc_out(entry)


@operation(
    bp,
    "/do-not-call/<int:entry_id>",
    "DELETE",
    summary="Remove a staff's or customer's entry (an opposition list's leaves with its next "
    "import; audited)",
    roles=permissions.ADMINISTER,
    status=204,
    tag="consent",
    errors={404: "no such entry"},
)
def remove_do_not_call(entry_id: int) -> Response:
    entry = service.remove_do_not_call(db.session, entry_id=entry_id)
    source = entry.source
    db.session.commit()
    audit_details({"source": source})
    return Response(status=204)
