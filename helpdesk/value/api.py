"""Customer value API: invoice import (JSON or CSV), a customer's value with its signals, the
value report, and a recompute on demand."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk.api.core import operation
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.errors import APIError, ValidationFailed
from helpdesk.extensions import db
from helpdesk.value import service

bp = Blueprint("value_api", __name__, url_prefix="/api/v1")

MAX_CSV_BYTES = 10 * 1024 * 1024


class InvoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=1, max_length=64)
    customer: str = Field(
        min_length=1, max_length=254, description="customer id, e-mail address or phone number"
    )
    amount: float = Field(ge=0, le=100_000_000, description="in the currency's units (12.50)")
    currency: str = Field(default="EUR", pattern="^[A-Za-z]{3}$")
    issued_on: date
    due_on: date
    paid_on: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> InvoiceIn:
        if self.due_on < self.issued_on:
            raise ValueError("due_on must not be before issued_on")
        return self


class InvoicesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoices: list[InvoiceIn] = Field(min_length=1, max_length=5000)


class ImportOut(BaseModel):
    created: int
    updated: int
    errors: list[dict[str, Any]]


class ValueOut(BaseModel):
    customer_id: int
    segment: str
    revenue_cents: int
    previous_revenue_cents: int
    cost_cents: int
    cost_breakdown: dict[str, int]
    late_invoices: int
    late_payer: bool
    info_only: bool
    contacts: int
    complaints: int
    sla_breaches: int
    signals: list[dict[str, Any]]
    computed_at: str


class ValueReportOut(BaseModel):
    segments: list[dict[str, Any]]
    best: list[dict[str, Any]]
    costly: list[dict[str, Any]]
    at_risk: list[dict[str, Any]]
    computed_at: str | None


class RecomputeOut(BaseModel):
    segments: dict[str, int]


def _region() -> str:
    return str(current_app.config.get("HELPDESK_DEFAULT_REGION") or "FR")


@operation(
    bp,
    "/invoices",
    "POST",
    summary="Import invoices (created or updated by number); unknown customers are reported",
    roles=permissions.SUPERVISE,
    body=InvoicesIn,
    response=ImportOut,
    tag="value",
)
def post_invoices(body: InvoicesIn) -> ImportOut:
    rows = [
        service.InvoiceRow(
            number=i.number,
            customer=i.customer,
            amount_cents=round(i.amount * 100),
            currency=i.currency.upper(),
            issued_on=i.issued_on,
            due_on=i.due_on,
            paid_on=i.paid_on,
        )
        for i in body.invoices
    ]
    result = service.import_invoices(db.session, rows, region=_region(), line_offset=0)
    audit_details(result.counts(len(rows)))
    for err in result.errors:  # index into the request's list rather than a CSV line
        err["field"] = f"invoices.{err.pop('line')}.{err['field']}"
    return ImportOut(**result.as_dict())


@operation(
    bp,
    "/invoices/import",
    "POST",
    summary="Import invoices from a CSV file (text/csv body: number, customer, amount, "
    "currency, issued_on, due_on, paid_on)",
    roles=permissions.SUPERVISE,
    response=ImportOut,
    tag="value",
    raw_body={"text/csv": {"type": "string"}, "text/plain": {"type": "string"}},
    errors={413: "the file is larger than 10 MB"},
)
def import_invoices_csv() -> ImportOut:
    if request.mimetype not in ("text/csv", "text/plain"):
        raise APIError(
            "expected a CSV body (Content-Type: text/csv)",
            code="unsupported_media_type",
            status=415,
        )
    if (request.content_length or 0) > MAX_CSV_BYTES:
        raise APIError("the file is larger than 10 MB", code="too_large", status=413)
    try:
        text = request.get_data(as_text=False).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "the file is not UTF-8 text", fields={"body": "expected UTF-8 CSV"}
        ) from exc
    rows, errors = service.parse_csv(text)
    if not rows and errors:
        raise ValidationFailed(
            "the file cannot be imported",
            fields={f"line {e['line']}.{e['field']}": e["message"] for e in errors[:50]},
        )
    result = service.import_invoices(db.session, rows, region=_region(), line_offset=2)
    result.errors = errors + result.errors
    audit_details(result.counts(len(rows) + len({e["line"] for e in errors})))
    return ImportOut(**result.as_dict())


@operation(
    bp,
    "/customers/<int:customer_id>/value",
    "GET",
    summary="A customer's segment, revenue, cost to serve and the signals behind the segment",
    response=ValueOut,
    tag="value",
)
def get_customer_value(customer_id: int) -> ValueOut:
    return ValueOut(**service.value_dict(service.require_value(db.session, customer_id)))


@operation(
    bp,
    "/value/report",
    "GET",
    summary="Segments with revenue and cost to serve; the best, costliest and at-risk customers",
    roles=permissions.SUPERVISE,
    response=ValueReportOut,
    tag="value",
)
def get_value_report() -> ValueReportOut:
    return ValueReportOut(**service.report(db.session))


@operation(
    bp,
    "/value/recompute",
    "POST",
    summary="Recompute every customer's value now (it also runs every hour)",
    roles=permissions.SUPERVISE,
    response=RecomputeOut,
    tag="value",
)
def post_recompute() -> RecomputeOut:
    segments = service.recompute_all(db.session)
    audit_details(service.recompute_counts(segments))
    return RecomputeOut(segments=segments)
