"""Customer value: importing invoices, counting each customer's service from the history, and
recomputing every customer's segment (a periodic job).

Counting is done with one grouped query per kind of contact, not per customer, so a recompute
over a large customer base stays a handful of queries.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select

from helpdesk.db import DbSession, utcnow
from helpdesk.errors import NotFound
from helpdesk.slots import Slot
from helpdesk.value.models import CustomerValue, Invoice
from helpdesk.value.segments import Billing, CostRates, Usage, classify, population_rules

log = logging.getLogger(__name__)

YEAR = timedelta(days=365)
RISK_WINDOW = timedelta(days=90)
CSV_COLUMNS = ("number", "customer", "amount", "currency", "issued_on", "due_on", "paid_on")
MAX_IMPORT_ROWS = 50_000


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    customer: str  # a customer id, an e-mail address or a phone number
    amount_cents: int
    currency: str
    issued_on: date
    due_on: date
    paid_on: date | None = None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "errors": self.errors}

    def counts(self, lines: int) -> dict[str, int]:
        """What the audit log keeps of an import: counts, never the lines (they name customers)."""
        rejected = len({e["line"] for e in self.errors})
        return {
            "lines": lines,
            "created": self.created,
            "updated": self.updated,
            "rejected": rejected,
        }


# -- import ----------------------------------------------------------------------------------------


def parse_amount(text: str) -> int:
    """ "1234.50", "1234,50" or "1 234,50" -> 123450 cents."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("not an amount") from exc
    if not value.is_finite():  # "NaN" parses, and then refuses every comparison
        raise ValueError("not an amount")
    if value < 0 or value > Decimal("100000000"):
        raise ValueError("between 0 and 100,000,000")
    return int((value * 100).to_integral_value())


def parse_csv(text: str) -> tuple[list[InvoiceRow], list[dict[str, Any]]]:
    """Rows of a CSV export (header line with at least number, customer, amount, issued_on,
    due_on; `;` or `,` separated), and the errors of those that cannot be read."""
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    # newline="": the csv module reads line ends itself, so a lone "\r" (old Mac exports, or a
    # stray one inside a field) is a line end or data, never an exception for the whole file.
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[InvoiceRow] = []
    errors: list[dict[str, Any]] = []
    try:
        fields = set(reader.fieldnames or [])
        missing = {"number", "customer", "amount", "issued_on", "due_on"} - fields
        if missing:
            return [], [
                {"line": 1, "field": f, "message": "missing column"} for f in sorted(missing)
            ]
        for line, raw in enumerate(reader, start=2):
            if line - 1 > MAX_IMPORT_ROWS:
                errors.append({"line": line, "field": "", "message": "too many rows"})
                break
            try:
                rows.append(row_from(raw))
            except FieldError as exc:
                errors.append({"line": line, "field": exc.field, "message": exc.message})
    except csv.Error as exc:
        errors.append({"line": reader.line_num, "field": "", "message": f"not CSV: {exc}"})
    return rows, errors


class FieldError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def row_from(raw: Mapping[str, Any]) -> InvoiceRow:
    def text(name: str) -> str:
        return str(raw.get(name) or "").strip()

    def day(name: str, required: bool = True) -> date | None:
        value = text(name)
        if not value:
            if required:
                raise FieldError(name, "required")
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError as exc:
            raise FieldError(name, "not a date (YYYY-MM-DD)") from exc

    number, customer = text("number"), text("customer")
    if not number or len(number) > 64:
        raise FieldError("number", "required, at most 64 characters")
    if not customer:
        raise FieldError("customer", "required (an id, e-mail or phone number)")
    try:
        amount = parse_amount(text("amount"))
    except ValueError as exc:
        raise FieldError("amount", str(exc)) from exc
    currency = (text("currency") or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise FieldError("currency", "a three-letter code (EUR)")
    issued, due = day("issued_on"), day("due_on")
    assert issued is not None and due is not None
    if due < issued:
        raise FieldError("due_on", "before issued_on")
    return InvoiceRow(number, customer, amount, currency, issued, due, day("paid_on", False))


def _resolve_customers(session: DbSession, keys: Iterable[str], region: str) -> dict[str, int]:
    from helpdesk.customers.models import Customer, CustomerEmail, CustomerPhone
    from helpdesk.customers.phones import try_e164

    keys = set(keys)
    found: dict[str, int] = {}
    ids = {int(k) for k in keys if k.isdigit()}
    if ids:
        for cid in session.scalars(
            # An erased customer takes no invoices: a re-import of an old export would bring
            # back the numbers the erasure replaced.
            select(Customer.id).where(
                Customer.id.in_(ids),
                Customer.merged_into_id.is_(None),
                Customer.erased_at.is_(None),
            )
        ):
            found[str(cid)] = cid
    emails = {k.lower(): k for k in keys if "@" in k}
    if emails:
        for email, cid in session.execute(
            select(func.lower(CustomerEmail.email), CustomerEmail.customer_id).where(
                func.lower(CustomerEmail.email).in_(list(emails))
            )
        ):
            found.setdefault(emails[email], cid)
    phones = {try_e164(k, region): k for k in keys if k not in found and not k.isdigit()}
    phones.pop(None, None)
    if phones:
        for e164, cid in session.execute(
            select(CustomerPhone.e164, CustomerPhone.customer_id).where(
                CustomerPhone.e164.in_([p for p in phones if p])
            )
        ):
            found.setdefault(phones[e164], cid)
    return found


def import_invoices(
    session: DbSession, rows: list[InvoiceRow], *, region: str = "FR", line_offset: int = 1
) -> ImportResult:
    """Create or update invoices by number (a re-import of the same export changes nothing)."""
    result = ImportResult()
    customers = _resolve_customers(session, (r.customer for r in rows), region)
    existing = {
        inv.number: inv
        for inv in session.scalars(
            select(Invoice).where(Invoice.number.in_([r.number for r in rows]))
        )
    }
    for index, row in enumerate(rows):
        customer_id = customers.get(row.customer)
        if customer_id is None:
            result.errors.append(
                {
                    "line": index + line_offset,
                    "field": "customer",
                    "message": f"no customer {row.customer!r}",
                }
            )
            continue
        invoice = existing.get(row.number)
        values = {
            "customer_id": customer_id,
            "amount_cents": row.amount_cents,
            "currency": row.currency,
            "issued_on": row.issued_on,
            "due_on": row.due_on,
            "paid_on": row.paid_on,
        }
        if invoice is None:
            invoice = Invoice(number=row.number, **values)
            session.add(invoice)
            existing[row.number] = invoice
            result.created += 1
        elif any(getattr(invoice, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(invoice, k, v)
            result.updated += 1
    session.commit()
    return result


# -- recompute -------------------------------------------------------------------------------------


def _grouped(session: DbSession, stmt: Any) -> dict[int, Any]:
    return {int(cid): value for cid, value in session.execute(stmt) if cid is not None}


@dataclass(frozen=True)
class Contacts:
    """Per customer id, since a given time: seconds talked on calls, inbound calls, texts."""

    talk_seconds: Mapping[int, Any]
    inbound_calls: Mapping[int, int]
    texts: Mapping[int, int]


ContactSource = Callable[[DbSession, datetime], Contacts]
# Calls and texts belong to telephony, above the core: the app fills this slot with how to count
# them when it is created, and the recompute reads them through it.
CONTACTS: Slot[ContactSource] = Slot("contact source")


def _contacts(session: DbSession, since: datetime) -> Contacts:
    return CONTACTS.get()(session, since)


def recompute_all(
    session: DbSession, *, today: date | None = None, rates: CostRates | None = None
) -> dict[str, int]:
    """Every customer's value from the last two years of invoices and the last year of
    service; returns how many customers landed in each segment."""
    from helpdesk.customers.models import Customer
    from helpdesk.sla.models import SlaClock
    from helpdesk.tickets.models import Ticket, TicketTag

    rates = rates or CostRates()
    now = utcnow()
    today = today or now.date()
    year_ago, two_years_ago = today - YEAR, today - 2 * YEAR
    since, risk_since = now - YEAR, now - RISK_WINDOW

    revenue = _grouped(
        session,
        select(Invoice.customer_id, func.sum(Invoice.amount_cents))
        .where(Invoice.issued_on > year_ago)
        .group_by(Invoice.customer_id),
    )
    previous = _grouped(
        session,
        select(Invoice.customer_id, func.sum(Invoice.amount_cents))
        .where(Invoice.issued_on > two_years_ago, Invoice.issued_on <= year_ago)
        .group_by(Invoice.customer_id),
    )
    invoices = _grouped(
        session, select(Invoice.customer_id, func.count(Invoice.id)).group_by(Invoice.customer_id)
    )
    late = _grouped(
        session,
        select(Invoice.customer_id, func.count(Invoice.id))
        .where(
            Invoice.due_on > year_ago,
            or_(
                Invoice.paid_on > Invoice.due_on,
                (Invoice.paid_on.is_(None)) & (Invoice.due_on < today),
            ),
        )
        .group_by(Invoice.customer_id),
    )
    contacts = _contacts(session, since)
    talk, calls = contacts.talk_seconds, contacts.inbound_calls
    tickets = _grouped(
        session,
        select(Ticket.requester_id, func.count(Ticket.id))
        .where(Ticket.created_at >= since)
        .group_by(Ticket.requester_id),
    )
    sms = contacts.texts
    # Each visit puts several entries on the timeline (booked, on the way, done): count the
    # visits themselves, once each, when they were carried out.
    from helpdesk.dispatch.models import WorkOrder
    from helpdesk.dispatch.workflow import WorkOrderStatus

    visits = _grouped(
        session,
        select(WorkOrder.customer_id, func.count(WorkOrder.id))
        .where(WorkOrder.status == WorkOrderStatus.COMPLETED, WorkOrder.completed_at >= since)
        .group_by(WorkOrder.customer_id),
    )
    complaints = _grouped(
        session,
        select(Ticket.requester_id, func.count(Ticket.id))
        .join(TicketTag, TicketTag.ticket_id == Ticket.id)
        .where(Ticket.created_at >= risk_since, TicketTag.tag.in_(("complaint", "reclamation")))
        .group_by(Ticket.requester_id),
    )
    breaches = _grouped(
        session,
        select(Ticket.requester_id, func.count(SlaClock.id))
        .join(SlaClock, SlaClock.ticket_id == Ticket.id)
        .where(SlaClock.breached_at >= risk_since)
        .group_by(Ticket.requester_id),
    )
    from helpdesk.surveys.service import low_scores

    unhappy = low_scores(session, since=risk_since)
    people = (
        set(revenue) | set(previous) | set(invoices) | set(calls) | set(tickets) | set(sms)
    ) | set(visits)
    live_ids = (
        set(
            session.scalars(
                select(Customer.id).where(
                    Customer.id.in_(people), Customer.merged_into_id.is_(None)
                )
            )
        )
        if people
        else set()
    )
    stored = (
        {
            v.customer_id: v
            for v in session.scalars(
                select(CustomerValue).where(CustomerValue.customer_id.in_(live_ids))
            )
        }
        if live_ids
        else {}
    )
    profiles: dict[int, tuple[Usage, Billing]] = {}
    for cid in sorted(live_ids):
        usage = Usage(
            talk_s=float(talk.get(cid) or 0.0),
            tickets=int(tickets.get(cid, 0)),
            sms=int(sms.get(cid, 0)),
            field_visits=int(visits.get(cid, 0)),
            complaints=int(complaints.get(cid, 0)),
            sla_breaches=int(breaches.get(cid, 0)),
            calls=int(calls.get(cid, 0)),
            low_satisfaction=unhappy.get(cid, 0),
        )
        billing = Billing(
            revenue_cents=int(revenue.get(cid) or 0),
            previous_revenue_cents=int(previous.get(cid) or 0),
            invoices=int(invoices.get(cid, 0)),
            late_invoices=int(late.get(cid, 0)),
        )
        profiles[cid] = (usage, billing)
    rules = population_rules(profiles.values(), rates)
    counts: dict[str, int] = {}
    for cid, (usage, billing) in profiles.items():
        v = classify(usage, billing, rules, rates)
        row = stored.get(cid) or CustomerValue(customer_id=cid)
        if cid not in stored:
            session.add(row)
        row.segment = v.segment
        row.revenue_cents = billing.revenue_cents
        row.previous_revenue_cents = billing.previous_revenue_cents
        row.cost_cents = v.cost_cents
        row.cost_breakdown = v.cost_breakdown
        row.late_invoices = billing.late_invoices
        row.contacts = v.contacts
        row.complaints = usage.complaints
        row.sla_breaches = usage.sla_breaches
        row.late_payer = v.late_payer
        row.info_only = v.info_only
        row.signals = [
            {"code": s.code, "value": s.value, "decisive": s.decisive} for s in v.signals
        ]
        row.computed_at = now
        counts[v.segment] = counts.get(v.segment, 0) + 1
    session.commit()
    log.info("customer values recomputed: %s", counts)
    return counts


def recompute_counts(segments: dict[str, int]) -> dict[str, Any]:
    """What the audit log keeps of a recompute: how many customers were updated, per segment."""
    return {"customers_updated": sum(segments.values()), "segments": dict(sorted(segments.items()))}


def value_of(session: DbSession, customer_id: int) -> CustomerValue | None:
    return session.get(CustomerValue, customer_id)


def require_value(session: DbSession, customer_id: int) -> CustomerValue:
    value = value_of(session, customer_id)
    if value is None:
        raise NotFound(f"no value computed for customer {customer_id} yet")
    return value


def value_dict(v: CustomerValue) -> dict[str, Any]:
    return {
        "customer_id": v.customer_id,
        "segment": v.segment,
        "revenue_cents": v.revenue_cents,
        "previous_revenue_cents": v.previous_revenue_cents,
        "cost_cents": v.cost_cents,
        "cost_breakdown": dict(v.cost_breakdown or {}),
        "late_invoices": v.late_invoices,
        "late_payer": v.late_payer,
        "info_only": v.info_only,
        "contacts": v.contacts,
        "complaints": v.complaints,
        "sla_breaches": v.sla_breaches,
        "signals": list(v.signals or []),
        "computed_at": v.computed_at.isoformat(),
    }


def report(session: DbSession, *, top: int = 10) -> dict[str, Any]:
    """Segments with their customers, revenue and cost to serve; the best and costliest."""
    from helpdesk.customers.models import Customer

    segments = [
        {
            "segment": seg,
            "customers": int(n),
            "revenue_cents": int(rev or 0),
            "cost_cents": int(cost or 0),
        }
        for seg, n, rev, cost in session.execute(
            select(
                CustomerValue.segment,
                func.count(CustomerValue.customer_id),
                func.sum(CustomerValue.revenue_cents),
                func.sum(CustomerValue.cost_cents),
            )
            .group_by(CustomerValue.segment)
            .order_by(CustomerValue.segment)
        )
    ]

    def listed(segment: str, order: Any) -> list[dict[str, Any]]:
        rows = session.execute(
            select(CustomerValue, Customer.name)
            .join(Customer, Customer.id == CustomerValue.customer_id)
            .where(CustomerValue.segment == segment)
            .order_by(order, CustomerValue.customer_id)
            .limit(top)
        )
        return [{**value_dict(v), "name": name} for v, name in rows]

    computed = session.scalar(select(func.max(CustomerValue.computed_at)))
    return {
        "segments": segments,
        "best": listed("best", CustomerValue.revenue_cents.desc()),
        "costly": listed("costly", CustomerValue.cost_cents.desc()),
        "at_risk": listed("at_risk", CustomerValue.revenue_cents.desc()),
        "computed_at": computed.isoformat() if computed else None,
    }
