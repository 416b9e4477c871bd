"""Every change to the customer record: create, update, contacts, search and merge (export and
erasure walk every feature's personal data: helpdesk.privacy)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Select, func, or_, select, update

from helpdesk.customers.models import (
    Customer,
    CustomerEmail,
    CustomerKind,
    CustomerPhone,
    CustomerTag,
)
from helpdesk.customers.phones import InvalidPhoneNumber, to_e164, try_e164
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import Conflict, NotFound, ValidationFailed
from helpdesk.events import FEED_CUSTOMERS, publish
from helpdesk.slots import Slot
from helpdesk.timeline import service as timeline
from helpdesk.timeline.models import TimelineEntry


class MoveToSurvivor(Protocol):
    """Moves a feature's rows from a merged duplicate to the customer it is folded into, in the
    merge's transaction."""

    def __call__(self, session: DbSession, *, source_id: int, target_id: int) -> None: ...


# Tickets point at customers, and customers sit below tickets: the tickets feature hands its
# move in when the app is created (`helpdesk.wiring`), so a merge never leaves tickets behind.
TICKETS_FOLLOW: Slot[MoveToSurvivor] = Slot("tickets' merge")


def name_key(name: str) -> str:
    """Lower-case without accents: `Élodie` and `elodie` find the same customer."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def normalise_tags(tags: Iterable[str]) -> list[str]:
    return sorted({t.strip().lower() for t in tags if t and t.strip()})


def _phones(raw: Sequence[dict[str, str] | str], region: str) -> list[CustomerPhone]:
    out: list[CustomerPhone] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        number, label = (
            (item, "mobile")
            if isinstance(item, str)
            else (item.get("number", ""), item.get("label", "mobile"))
        )
        try:
            e164 = to_e164(number, region)
        except InvalidPhoneNumber as exc:
            raise ValidationFailed(
                "invalid phone number", fields={f"phones.{i}": str(exc)}
            ) from exc
        if e164 not in seen:
            seen.add(e164)
            out.append(CustomerPhone(e164=e164, label=label or "mobile"))
    return out


def _emails(raw: Sequence[dict[str, str] | str]) -> list[CustomerEmail]:
    out: list[CustomerEmail] = []
    seen: set[str] = set()
    for item in raw:
        address, label = (
            (item, "work")
            if isinstance(item, str)
            else (item.get("email", ""), item.get("label", "work"))
        )
        address = address.strip().lower()
        if address and address not in seen:
            seen.add(address)
            out.append(CustomerEmail(email=address, label=label or "work"))
    return out


# How many merges are followed from a record to the one that holds its history: a chain longer
# than this (or a loop, which no merge makes) stops where it is.
MERGE_HOPS = 10


def get(session: DbSession, customer_id: int, *, follow_merge: bool = True) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    hops = 0
    while follow_merge and customer.merged_into_id is not None and hops < MERGE_HOPS:
        customer = session.get(Customer, customer.merged_into_id) or customer
        hops += 1
    return customer


def create(
    session: DbSession,
    *,
    name: str,
    kind: CustomerKind = CustomerKind.PERSON,
    language: str = "fr",
    phones: Sequence[dict[str, str] | str] = (),
    emails: Sequence[dict[str, str] | str] = (),
    tags: Iterable[str] = (),
    company_id: int | None = None,
    notes: str = "",
    region: str = "FR",
    commit: bool = True,
) -> Customer:
    if company_id is not None:
        company = session.get(Customer, company_id)
        if company is None or company.kind is not CustomerKind.COMPANY:
            raise ValidationFailed("no such company", fields={"company_id": "not a company"})
    customer = Customer(
        name=name.strip(),
        name_key=name_key(name),
        kind=kind,
        language=language,
        company_id=company_id,
        notes=notes,
    )
    customer.phones = _phones(phones, region)
    customer.emails = _emails(emails)
    customer.tag_rows = [CustomerTag(tag=t) for t in normalise_tags(tags)]
    session.add(customer)
    session.flush()
    publish(session, "customer.created", [FEED_CUSTOMERS], {"customer_id": customer.id})
    if commit:
        session.commit()
    return customer


def update_customer(
    session: DbSession,
    customer: Customer,
    *,
    region: str = "FR",
    **changes: Any,
) -> Customer:
    """Apply the given fields; contacts and tags given replace the current ones."""
    if customer.erased_at is not None:
        raise Conflict("this customer was erased and can no longer be changed")
    for field in ("kind", "language", "notes"):
        if changes.get(field) is not None:
            setattr(customer, field, changes[field])
    if changes.get("name") is not None:
        customer.name = changes["name"].strip()
        customer.name_key = name_key(customer.name)
    if "company_id" in changes:
        company_id = changes["company_id"]
        if company_id is not None:
            company = session.get(Customer, company_id)
            if (
                company is None
                or company.kind is not CustomerKind.COMPANY
                or company_id == customer.id
            ):
                raise ValidationFailed("no such company", fields={"company_id": "not a company"})
        customer.company_id = company_id
    if changes.get("phones") is not None:
        wanted = _phones(changes["phones"], region)
        keep = {p.e164: p for p in customer.phones}
        customer.phones = [keep.get(p.e164, p) for p in wanted]
        for phone, new in zip(customer.phones, wanted, strict=True):
            phone.label = new.label
    if changes.get("emails") is not None:
        wanted_emails = _emails(changes["emails"])
        keep_emails = {e.email: e for e in customer.emails}
        customer.emails = [keep_emails.get(e.email, e) for e in wanted_emails]
    if changes.get("tags") is not None:
        current = {t.tag: t for t in customer.tag_rows}
        customer.tag_rows = [
            current.get(t) or CustomerTag(tag=t) for t in normalise_tags(changes["tags"])
        ]
    customer.updated_at = utcnow()
    publish(
        session,
        "customer.updated",
        [FEED_CUSTOMERS, f"customer:{customer.id}"],
        {"customer_id": customer.id},
    )
    session.commit()
    return customer


def lookup_by_phone(session: DbSession, raw: str, *, region: str = "FR") -> list[Customer]:
    """Customers reachable on this number, most recently active first (one indexed query)."""
    e164 = try_e164(raw, region)
    if e164 is None:
        return []
    return list(session.scalars(by_phone(e164).limit(20)).unique())


def by_phone(e164: str) -> Select[Customer]:
    """The customers on a number in E.164, most recently active first, merged ones left out:
    the statement `lookup_by_phone` runs, for a caller that adds columns or a lock to it."""
    return (
        select(Customer)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164 == e164, Customer.merged_into_id.is_(None))
        .order_by(Customer.updated_at.desc(), Customer.id.desc())
    )


def company(session: DbSession, company_id: int) -> Customer:
    """A customer of kind company, or `ValidationFailed` naming `company_id`."""
    found = session.get(Customer, company_id)
    if found is None or found.merged_into_id is not None:
        raise ValidationFailed(
            "unknown company", fields={"company_id": f"no customer {company_id}"}
        )
    if found.kind is not CustomerKind.COMPANY:
        raise ValidationFailed(
            "not a company", fields={"company_id": f"customer {company_id} is not a company"}
        )
    return found


def search(
    session: DbSession,
    *,
    q: str = "",
    tag: str | None = None,
    limit: int = 25,
    after_id: int | None = None,
    region: str = "FR",
    company_id: int | None = None,
) -> list[Customer]:
    """By phone number, e-mail, or name prefix (accent- and case-insensitive), by tag, by the
    company they are a contact of."""
    stmt = select(Customer).where(Customer.merged_into_id.is_(None))
    if company_id is not None:
        stmt = stmt.where(Customer.company_id == company_id)
    q = q.strip()
    if q:
        e164 = try_e164(q, region) if any(ch.isdigit() for ch in q) else None
        if e164:
            stmt = stmt.where(
                Customer.id.in_(select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164))
            )
        elif "@" in q:
            stmt = stmt.where(
                Customer.id.in_(
                    select(CustomerEmail.customer_id).where(CustomerEmail.email == q.lower())
                )
            )
        else:
            key = name_key(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(
                or_(
                    Customer.name_key.like(f"{key}%", escape="\\"),
                    Customer.name_key.like(f"% {key}%", escape="\\"),
                )
            )
    if tag:
        stmt = stmt.where(
            Customer.id.in_(
                select(CustomerTag.customer_id).where(CustomerTag.tag == tag.strip().lower())
            )
        )
    if after_id is not None:
        stmt = stmt.where(Customer.id > after_id)
    return list(session.scalars(stmt.order_by(Customer.id).limit(limit)))


def merge(
    session: DbSession, *, source: Customer, target: Customer, actor_id: int | None
) -> Customer:
    """Fold a duplicate into `target`: its tickets, comments, timeline and contacts follow.

    The source row stays as a tombstone pointing at the target so that old links and ids still
    resolve, and the merge itself is written on the target's timeline.
    """
    if source.id == target.id:
        raise ValidationFailed("cannot merge a customer into itself", fields={"source_id": "same"})
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict("one of these customers was already merged")
    if source.erased_at is not None or target.erased_at is not None:
        raise Conflict("erased customers cannot be merged")
    TICKETS_FOLLOW.get()(session, source_id=source.id, target_id=target.id)
    session.execute(
        update(TimelineEntry)
        .where(TimelineEntry.customer_id == source.id)
        .values(customer_id=target.id)
    )
    session.execute(
        update(Customer).where(Customer.company_id == source.id).values(company_id=target.id)
    )
    have_phones = {p.e164 for p in target.phones}
    have_emails = {e.email for e in target.emails}
    have_tags = set(target.tags)
    target.phones.extend(
        CustomerPhone(e164=p.e164, label=p.label)
        for p in source.phones
        if p.e164 not in have_phones
    )
    target.emails.extend(
        CustomerEmail(email=e.email, label=e.label)
        for e in source.emails
        if e.email not in have_emails
    )
    target.tag_rows.extend(CustomerTag(tag=t) for t in source.tags if t not in have_tags)
    source.phones = []
    source.emails = []
    source.tag_rows = []
    source.merged_into_id = target.id
    target.updated_at = utcnow()
    timeline.append(
        session,
        customer_id=target.id,
        kind="customer_merged",
        summary=f"Merged duplicate record #{source.id} ({source.name})",
        data={"source_id": source.id, "actor_id": actor_id},
    )
    publish(
        session,
        "customer.merged",
        [FEED_CUSTOMERS, f"customer:{target.id}"],
        {"customer_id": target.id, "source_id": source.id},
    )
    session.commit()
    return target


def count(session: DbSession) -> int:
    return int(session.scalar(select(func.count(Customer.id))) or 0)
