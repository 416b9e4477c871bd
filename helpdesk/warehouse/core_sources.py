"""The warehouse tables that core features own: tickets, e-mails, visits, invoices, surveys,
customers and staff. Each query names its columns as `schema` does; costs come from the value
module's `CostRates`, the same figures as the customer value's cost to serve."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import Select, and_, exists, select

from helpdesk.auth.models import User
from helpdesk.campaigns.warehouse import campaign_of
from helpdesk.customers.models import Customer
from helpdesk.dispatch.models import WorkOrder
from helpdesk.dispatch.workflow import WorkOrderStatus
from helpdesk.mail.models import MailMessage
from helpdesk.surveys.models import Survey
from helpdesk.tickets.models import Ticket, TicketTag
from helpdesk.value.models import CustomerValue, Invoice
from helpdesk.warehouse.sources import Context, Row, Source, register, seconds_between

COMPLAINT_TAGS = ("complaint", "reclamation")


def _tickets() -> Select[*tuple[Any, ...]]:
    complaint = exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag.in_(COMPLAINT_TAGS))
    return select(
        Ticket.requester_id.label("customer_key"),
        Ticket.created_at.label("at"),
        Ticket.id.label("ticket_key"),
        Ticket.assignee_id.label("agent_key"),
        Ticket.channel.label("channel"),
        Ticket.status.label("status"),
        Ticket.priority.label("priority"),
        complaint.label("is_complaint"),
        Ticket.solved_at.label("solved_at"),
    ).order_by(Ticket.id)


def _ticket_cost(row: Row, ctx: Context) -> int:
    return ctx.rates.ticket + (ctx.rates.complaint if row["is_complaint"] else 0)


def _emails() -> Select[*tuple[Any, ...]]:
    campaign = campaign_of("mail")
    return (
        select(
            MailMessage.customer_id.label("customer_key"),
            MailMessage.created_at.label("at"),
            MailMessage.id.label("email_key"),
            MailMessage.direction.label("direction"),
            MailMessage.kind.label("kind"),
            MailMessage.status.label("status"),
            campaign.c.campaign_id.label("campaign_key"),
        )
        .select_from(MailMessage)
        .outerjoin(campaign, campaign.c.made_id == MailMessage.id)
        .order_by(MailMessage.id)
    )


def _visits() -> Select[*tuple[Any, ...]]:
    return select(
        WorkOrder.customer_id.label("customer_key"),
        WorkOrder.window_start.label("at"),
        WorkOrder.id.label("visit_key"),
        WorkOrder.technician_id.label("technician_key"),
        WorkOrder.status.label("status"),
        WorkOrder.completed_at.label("completed_at"),
        WorkOrder.late_s.label("late_s"),
    ).order_by(WorkOrder.id)


def _visit_cost(row: Row, ctx: Context) -> int:
    # The value module counts completed visits only: a cancelled one cost nothing on site.
    return ctx.rates.field_visit if str(row["status"]) == WorkOrderStatus.COMPLETED else 0


def _invoices() -> Select[*tuple[Any, ...]]:
    return select(
        Invoice.customer_id.label("customer_key"),
        Invoice.issued_on.label("issued_on"),
        Invoice.id.label("invoice_key"),
        Invoice.amount_cents.label("amount_cents"),
        Invoice.currency.label("currency"),
        Invoice.due_on.label("due_on"),
        Invoice.paid_on.label("paid_on"),
    ).order_by(Invoice.id)


def _invoice_at(row: Row, ctx: Context) -> datetime:
    return datetime.combine(row["issued_on"], time(0), tzinfo=UTC)


def _days_late(row: Row, ctx: Context) -> int:
    """Paid late: the days past due when paid; unpaid past due: the days past due today;
    otherwise 0. The periodic export rewrites every month with an unpaid invoice, so the
    count stays current."""
    due, paid = row["due_on"], row["paid_on"]
    end = paid if paid is not None else ctx.today
    return max(int((end - due).days), 0)


def _surveys() -> Select[*tuple[Any, ...]]:
    return select(
        Survey.customer_id.label("customer_key"),
        Survey.sent_at.label("at"),
        Survey.id.label("survey_key"),
        Survey.trigger.label("trigger"),
        Survey.channel.label("channel"),
        Survey.agent_id.label("agent_key"),
        Survey.score.label("score"),
        Survey.answered_at.label("answered_at"),
    ).order_by(Survey.id)


def _customers() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Customer.id.label("customer_key"),
            Customer.kind.label("kind"),
            Customer.company_id.label("company_key"),
            Customer.language.label("language"),
            Customer.created_at.label("created_at"),
            CustomerValue.segment.label("segment"),
            Customer.erased_at.label("erased_at"),
        )
        .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
        .order_by(Customer.id)
    )


def _unless_erased(name: str) -> Any:
    """An erased customer keeps its key and `erased = true`, nothing else."""
    return lambda row, ctx: None if row["erased_at"] is not None else row[name]


def _agents() -> Select[*tuple[Any, ...]]:
    return select(
        User.id.label("agent_key"),
        User.name.label("name"),
        User.role.label("role"),
        User.locale.label("language"),
        User.active.label("active"),
    ).order_by(User.id)


def register_core() -> None:
    register(
        Source(
            "fact_ticket",
            _tickets,
            derived={
                "resolution_s": lambda r, c: seconds_between(r["at"], r["solved_at"]),
                "cost_cents": _ticket_cost,
            },
            at=Ticket.created_at,
            id=Ticket.id,
            updated=Ticket.updated_at,
            still_open=lambda now: Ticket.status.notin_(("solved", "closed")),
        )
    )
    register(
        Source(
            "fact_email",
            _emails,
            at=MailMessage.created_at,
            id=MailMessage.id,
            still_open=lambda now: MailMessage.status.in_(("queued", "sending")),
        )
    )
    register(
        Source(
            "fact_visit",
            _visits,
            derived={"cost_cents": _visit_cost},
            at=WorkOrder.window_start,
            id=WorkOrder.id,
            updated=WorkOrder.updated_at,
        )
    )
    register(
        Source(
            "fact_invoice",
            _invoices,
            derived={"at": _invoice_at, "days_late": _days_late},
            at=Invoice.issued_on,
            id=Invoice.id,
            # Unpaid: its `days_late` grows every day, and it will be paid.
            still_open=lambda now: Invoice.paid_on.is_(None),
        )
    )
    register(
        Source(
            "fact_survey",
            _surveys,
            at=Survey.sent_at,
            id=Survey.id,
            still_open=lambda now: and_(Survey.answered_at.is_(None), Survey.expires_at > now),
        )
    )
    register(
        Source(
            "dim_customer",
            _customers,
            derived={
                "kind": _unless_erased("kind"),
                "company_key": _unless_erased("company_key"),
                "language": _unless_erased("language"),
                "created_at": _unless_erased("created_at"),
                "segment": _unless_erased("segment"),
                "erased": lambda r, c: r["erased_at"] is not None,
            },
        )
    )
    register(Source("dim_agent", _agents))
