"""The customer record's personal data: name, notes, numbers, e-mail addresses, tags.

The record itself stays (tickets, calls and invoices point at it, and statistics count by it),
renamed `Erased customer #id`; its contacts and tags are deleted. Duplicates merged into it are
the same person and are anonymised with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from helpdesk.customers.models import Customer, CustomerEmail, CustomerPhone, CustomerTag
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.privacy.registry import Holder, Subject, register

ERASED_NAME = "Erased customer"


def erased_name(customer_id: int) -> str:
    return f"{ERASED_NAME} #{customer_id}"


def erase(session: DbSession, subject: Subject) -> int:
    from helpdesk.customers.service import name_key

    ids = list(subject.customer_ids)
    changed = 0
    for model in (CustomerPhone, CustomerEmail, CustomerTag):
        changed += rowcount(session.execute(delete(model).where(model.customer_id.in_(ids))))
    now = utcnow()
    for customer in session.scalars(select(Customer).where(Customer.id.in_(ids))):
        session.expire(customer, ["phones", "emails", "tag_rows"])
        name = erased_name(customer.id)
        if customer.name != name or customer.notes:
            customer.name = name
            customer.name_key = name_key(name)
            customer.notes = ""
            customer.updated_at = now
            changed += 1
        if customer.id != subject.customer_id and customer.erased_at is None:
            customer.erased_at = now
    return changed


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    customer = session.get(Customer, subject.customer_id)
    assert customer is not None
    others = [i for i in subject.customer_ids if i != customer.id]
    people = [customer, *(session.get(Customer, i) for i in others)]
    return {
        "customer": {
            "id": customer.id,
            "kind": customer.kind.value,
            "name": customer.name,
            "language": customer.language,
            "notes": customer.notes,
            "tags": customer.tags,
            "company": (
                {"id": customer.company.id, "name": customer.company.name}
                if customer.company
                else None
            ),
            "phones": [{"number": p.e164, "label": p.label} for c in people if c for p in c.phones],
            "emails": [{"email": e.email, "label": e.label} for c in people if c for e in c.emails],
            "created_at": customer.created_at,
            "erased": customer.erased_at is not None,
            "merged_ids": others,
        }
    }


register(
    Holder(
        name="customer",
        covers={
            "customers": ("name", "name_key", "notes"),
            "customer_phones": ("e164", "label"),
            "customer_emails": ("email", "label"),
            "customer_tags": ("tag",),
        },
        erase=erase,
        export=export,
        parts=("customer",),
        # Last: the other holders read the record's links before it is renamed.
        order=1000,
    )
)
