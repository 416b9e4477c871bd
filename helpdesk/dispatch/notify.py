"""The texts of a visit, queued in the SMS outbox (each sent exactly once, after commit):
the technician's job sheet and link, the customer's confirmation, "on the way" with the ETA,
and completion with the one-question survey. In the recipient's language."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, utcnow
from helpdesk.dispatch import texts
from helpdesk.dispatch.models import Technician, WorkOrder
from helpdesk.slots import Slot

if TYPE_CHECKING:
    from helpdesk.dispatch.settings import Settings


class QueueText(Protocol):
    """Writes an outbound text that is sent once the transaction commits (a number that opted
    out gets nothing)."""

    def __call__(
        self,
        session: DbSession,
        *,
        to: str,
        from_number: str,
        body: str,
        customer_id: int | None = None,
        ticket_id: int | None = None,
        kind: str = "message",
        work_order_id: int | None = None,
    ) -> object: ...


# The SMS outbox belongs to telephony, above the core: the app fills this slot when it is
# created, and every visit text goes through it.
OUTBOX: Slot[QueueText] = Slot("SMS outbox")


LINK_SALT = "dispatch-job"
LINK_MAX_AGE_S = 7 * 86400


def local_clock(at: datetime | None, settings: Settings) -> str:
    return texts.clock(at, settings.timezone) if at else ""


def window_text(wo: WorkOrder, settings: Settings, language: str) -> str:
    return (
        f"{texts.day(wo.window_start, settings.timezone, language)} "
        f"{local_clock(wo.window_start, settings)}-{local_clock(wo.window_end, settings)}"
    )


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=LINK_SALT)


def job_token(wo: WorkOrder, technician: Technician, settings: Settings) -> str:
    """Signed for this work order and this technician: a reassigned job's old link stops working."""
    return str(_serializer(settings).dumps({"w": wo.id, "t": technician.id}))


def read_job_token(token: str, settings: Settings) -> tuple[int, int] | None:
    try:
        data = _serializer(settings).loads(token, max_age=LINK_MAX_AGE_S)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not {"w", "t"} <= set(data):
        return None
    return int(data["w"]), int(data["t"])


def job_link(wo: WorkOrder, technician: Technician, settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/m/jobs/{job_token(wo, technician, settings)}"


def customer_number(session: DbSession, wo: WorkOrder) -> tuple[Customer | None, str | None]:
    """The visit's customer and the number texts reach them on (their first), shared with the
    inbound SMS handlers that answer on the same thread."""
    customer = session.get(Customer, wo.customer_id)
    number = customer.phones[0].e164 if customer is not None and customer.phones else None
    return customer, number


def _to_customer(
    session: DbSession, wo: WorkOrder, key: str, settings: Settings, **values: object
) -> None:
    customer, number = customer_number(session, wo)
    if customer is None or number is None:
        return
    lang = customer.language
    body = texts.text(
        lang,
        key,
        reference=wo.reference,
        day=texts.day(wo.window_start, settings.timezone, lang),
        start=local_clock(wo.window_start, settings),
        end=local_clock(wo.window_end, settings),
        **values,
    )
    OUTBOX.get()(
        session,
        to=number,
        from_number=settings.sender,
        body=body,
        customer_id=customer.id,
        ticket_id=wo.ticket_id,
        kind="visit",
        work_order_id=wo.id,
    )


def to_technician(
    session: DbSession,
    technician: Technician,
    body: str,
    settings: Settings,
    wo: WorkOrder | None = None,
) -> None:
    """A text to the technician; `wo` is the visit it is about, when it is about one (the job
    sheet names the customer: the erasure of that customer finds the text by it)."""
    OUTBOX.get()(
        session,
        to=technician.phone,
        from_number=settings.sender,
        body=body,
        kind="dispatch",
        work_order_id=wo.id if wo is not None else None,
    )


def assigned(session: DbSession, wo: WorkOrder, technician: Technician, settings: Settings) -> None:
    customer, number = customer_number(session, wo)
    lang = technician.language
    to_technician(
        session,
        technician,
        texts.text(
            lang,
            "tech_assigned",
            reference=wo.reference,
            day=texts.day(wo.window_start, settings.timezone, lang),
            start=local_clock(wo.window_start, settings),
            end=local_clock(wo.window_end, settings),
            summary=wo.summary,
            address=wo.address,
            customer=customer.name if customer else "",
            phone=number or "",
            link=job_link(wo, technician, settings),
        ),
        settings,
        wo,
    )
    _to_customer(session, wo, "customer_confirmed", settings)


def technician_unassigned(
    session: DbSession, wo: WorkOrder, technician: Technician, settings: Settings
) -> None:
    lang = technician.language
    body = texts.text(
        lang,
        "tech_unassigned",
        reference=wo.reference,
        day=texts.day(wo.window_start, settings.timezone, lang),
    )
    to_technician(session, technician, body, settings, wo)


def eta_text(wo: WorkOrder, settings: Settings, language: str) -> str:
    """When the technician should arrive: the planned ETA, else the start of the window; with
    the date when that is not today."""
    return texts.eta(wo.eta_at or wo.window_start, settings.timezone, language, now=utcnow())


def on_the_way(
    session: DbSession, wo: WorkOrder, technician: Technician, settings: Settings
) -> None:
    customer, _number = customer_number(session, wo)
    _to_customer(
        session,
        wo,
        "customer_on_way",
        settings,
        name=technician.name.split()[0],
        eta=eta_text(wo, settings, customer.language if customer else "en"),
    )


def completed(session: DbSession, wo: WorkOrder, settings: Settings) -> None:
    _to_customer(session, wo, "customer_done", settings)


def cancelled(session: DbSession, wo: WorkOrder, settings: Settings) -> None:
    _to_customer(session, wo, "customer_cancelled", settings)
