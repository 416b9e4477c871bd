"""`/api/v1/customers`: the customer record, lookup by phone, merge, export and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from flask import Blueprint, Response, current_app
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.customers import erasure as privacy
from helpdesk.customers import service
from helpdesk.customers.models import Customer, CustomerKind
from helpdesk.extensions import db
from helpdesk.privacy.export import CustomerExport

bp = Blueprint("customers_api", __name__, url_prefix="/api/v1")


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=40)
    label: str = Field(default="mobile", max_length=20)


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    label: str = Field(default="work", max_length=20)


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] = Field(min_length=1, max_length=200)
    kind: CustomerKind = CustomerKind.PERSON
    language: str = Field(default="fr", pattern="^(fr|en)$")
    company_id: int | None = None
    notes: str = Field(default="", max_length=10000)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    emails: list[EmailIn] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=50)


class CustomerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=200)
    kind: CustomerKind | None = None
    language: str | None = Field(default=None, pattern="^(fr|en)$")
    company_id: int | None = None
    notes: str | None = Field(default=None, max_length=10000)
    phones: list[PhoneIn] | None = Field(default=None, max_length=20)
    emails: list[EmailIn] | None = Field(default=None, max_length=20)
    tags: list[str] | None = Field(default=None, max_length=50)


class PhoneOut(BaseModel):
    number: str
    label: str


class EmailOut(BaseModel):
    email: str
    label: str


class CompanyRef(BaseModel):
    id: int
    name: str


class CustomerOut(BaseModel):
    id: int
    kind: CustomerKind
    name: str
    language: str
    company: CompanyRef | None
    notes: str
    phones: list[PhoneOut]
    emails: list[EmailOut]
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    merged_into_id: int | None
    erased: bool


class CustomerList(BaseModel):
    items: list[CustomerOut]
    next_cursor: str | None


class CustomerQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(default="", max_length=200)
    tag: str | None = Field(default=None, max_length=64)
    company_id: int | None = Field(
        default=None, description="Only the contacts of this company (a customer of kind company)."
    )
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class PhoneQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=40)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: int


def customer_out(c: Customer) -> CustomerOut:
    return CustomerOut(
        id=c.id,
        kind=c.kind,
        name=c.name,
        language=c.language,
        notes=c.notes,
        company=CompanyRef(id=c.company.id, name=c.company.name) if c.company else None,
        phones=[PhoneOut(number=p.e164, label=p.label) for p in c.phones],
        emails=[EmailOut(email=e.email, label=e.label) for e in c.emails],
        tags=c.tags,
        created_at=c.created_at,
        updated_at=c.updated_at,
        merged_into_id=c.merged_into_id,
        erased=c.erased_at is not None,
    )


def _region() -> str:
    return str(current_app.config["HELPDESK_DEFAULT_REGION"])


@operation(
    bp,
    "/customers",
    "GET",
    summary="Search customers by name, phone, e-mail or tag; list a company's contacts",
    query=CustomerQuery,
    response=CustomerList,
    tag="customers",
)
def list_customers(query: CustomerQuery) -> CustomerList:
    from helpdesk.pagination import decode_cursor, encode_cursor

    after = decode_cursor(query.cursor, (int,))[0] if query.cursor else None
    if query.company_id is not None:
        service.company(db.session, query.company_id)  # 422 naming company_id otherwise
    rows = service.search(
        db.session,
        q=query.q,
        tag=query.tag,
        company_id=query.company_id,
        limit=query.limit + 1,
        after_id=after,
        region=_region(),
    )
    next_cursor = encode_cursor(rows[query.limit - 1].id) if len(rows) > query.limit else None
    return CustomerList(
        items=[customer_out(c) for c in rows[: query.limit]], next_cursor=next_cursor
    )


@operation(
    bp,
    "/customers/lookup",
    "GET",
    summary="Customers reachable on a phone number",
    query=PhoneQuery,
    response=CustomerList,
    tag="customers",
)
def lookup(query: PhoneQuery) -> CustomerList:
    rows = service.lookup_by_phone(db.session, query.number, region=_region())
    return CustomerList(items=[customer_out(c) for c in rows], next_cursor=None)


@operation(
    bp,
    "/customers",
    "POST",
    summary="Create a customer",
    body=CustomerCreate,
    response=CustomerOut,
    status=201,
    tag="customers",
)
def create_customer(body: CustomerCreate) -> CustomerOut:
    customer = service.create(
        db.session,
        name=body.name,
        kind=body.kind,
        language=body.language,
        company_id=body.company_id,
        notes=body.notes,
        tags=body.tags,
        region=_region(),
        phones=[p.model_dump() for p in body.phones],
        emails=[e.model_dump() for e in body.emails],
    )
    return customer_out(customer)


@operation(
    bp,
    "/customers/<int:customer_id>",
    "GET",
    summary="One customer (follows merges)",
    response=CustomerOut,
    tag="customers",
)
def get_customer(customer_id: int) -> CustomerOut:
    return customer_out(service.get(db.session, customer_id))


@operation(
    bp,
    "/customers/<int:customer_id>",
    "PATCH",
    summary="Change a customer",
    body=CustomerUpdate,
    response=CustomerOut,
    tag="customers",
)
def update_customer(customer_id: int, body: CustomerUpdate) -> CustomerOut:
    customer = service.get(db.session, customer_id, follow_merge=False)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    customer = service.update_customer(db.session, customer, region=_region(), **changes)
    return customer_out(customer)


@operation(
    bp,
    "/customers/<int:customer_id>/merge",
    "POST",
    summary="Merge a duplicate customer into this one (supervisor)",
    roles=permissions.PERSONAL_DATA,
    body=MergeIn,
    response=CustomerOut,
    tag="customers",
)
def merge_customer(customer_id: int, body: MergeIn) -> CustomerOut:
    target = service.get(db.session, customer_id, follow_merge=False)
    source = service.get(db.session, body.source_id, follow_merge=False)
    merged = service.merge(db.session, source=source, target=target, actor_id=current_api_user().id)
    return customer_out(merged)


@operation(
    bp,
    "/customers/<int:customer_id>/export",
    "GET",
    summary="Everything held about a customer, part by part (supervisor)",
    roles=permissions.PERSONAL_DATA,
    response=CustomerExport,
    tag="customers",
)
def export_customer(customer_id: int) -> CustomerExport:
    return privacy.export(db.session, service.get(db.session, customer_id))


@operation(
    bp,
    "/customers/<int:customer_id>",
    "DELETE",
    summary="Erase a customer's personal data on request (admin); erasing again answers the same",
    roles=permissions.ADMINISTER,
    status=204,
    tag="customers",
    errors={409: "the record was merged into another: erase the surviving record"},
)
def erase_customer(customer_id: int) -> Response:
    customer = service.get(db.session, customer_id, follow_merge=False)
    report = privacy.erase(db.session, customer, actor_id=current_api_user().id)
    # The audit entry says who erased whom and how much, never what was erased.
    audit_details({"rows": report.rows, "repeated": report.repeated})
    return Response(status=204)
