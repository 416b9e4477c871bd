"""Erasing and exporting a customer's personal data: one function each, walking the registry.

With the customers, whose record both start from; the registry (`helpdesk.privacy`) stays below
every feature that registers in it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import Conflict
from helpdesk.events import FEED_CUSTOMERS, on_commit, publish
from helpdesk.privacy import registry
from helpdesk.privacy.export import CustomerExport
from helpdesk.timeline import service as timeline

log = logging.getLogger(__name__)


@dataclass
class ErasureReport:
    """How many rows each holder anonymised; `repeated` when the customer was already erased
    (the walk runs again, and finds only what arrived since)."""

    customer_id: int
    rows: dict[str, int] = field(default_factory=dict)
    repeated: bool = False


def subject_of(
    session: DbSession, customer: Customer, *, actor_id: int | None = None
) -> registry.Subject:
    """The person as found now, before any holder changes anything: the record, the duplicates
    merged into it, their names, numbers and addresses, and what each holder adds."""
    ids = [customer.id]
    frontier = [customer.id]
    while frontier:  # duplicates merged into this record, and those merged into them
        found = list(
            session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier)))
        )
        frontier = [i for i in found if i not in ids]
        ids.extend(frontier)
    people = list(session.scalars(select(Customer).where(Customer.id.in_(ids))))
    names = tuple(
        dict.fromkeys(
            p.name.strip()
            for p in people
            if p.erased_at is None and registry.names_a_person(p.name)
        )
    )
    phones = tuple(dict.fromkeys(ph.e164 for p in people for ph in p.phones))
    emails = tuple(dict.fromkeys(e.email for p in people for e in p.emails))
    subject = registry.Subject(
        customer_id=customer.id,
        customer_ids=tuple(ids),
        names=names,
        phones=phones,
        emails=emails,
        actor_id=actor_id,
    )
    identifiers: list[str] = [*names, *emails]
    for phone in phones:
        identifiers += registry.phone_forms(phone)
    for holder in registry.holders():
        if holder.identifiers is not None:
            identifiers += [i.strip() for i in holder.identifiers(session, subject)]
    kept = tuple(dict.fromkeys(i for i in identifiers if len(i) >= registry.MIN_IDENTIFIER))
    return replace(subject, identifiers=kept)


def erase(session: DbSession, customer: Customer, *, actor_id: int | None) -> ErasureReport:
    """Anonymise everything that identifies the customer, in every holder, in one transaction.

    Rows stay, with what statistics need (counts, durations, timestamps, queues, outcomes,
    amounts, segments); the columns that identify the person are blanked. Erasing again is
    harmless: the walk runs once more and changes only what arrived since.
    """
    if customer.merged_into_id is not None:
        raise Conflict(
            f"this record was merged into #{customer.merged_into_id}: erase that one",
            fields={"customer_id": "merged"},
        )
    repeated = customer.erased_at is not None
    subject = subject_of(session, customer, actor_id=actor_id)
    report = ErasureReport(customer_id=customer.id, repeated=repeated)
    for holder in registry.holders():
        report.rows[holder.name] = holder.erase(session, subject)
    if not repeated:
        customer.erased_at = utcnow()
        timeline.append(
            session,
            customer_id=customer.id,
            kind="customer_erased",
            summary="Personal data erased on request",
            data={"actor_id": actor_id},
        )
    # Open consoles drop what they show of the customer: the record page and lists reload.
    publish(
        session,
        "customer.updated",
        [FEED_CUSTOMERS, f"customer:{customer.id}"],
        {"customer_id": customer.id, "erased": True},
    )
    _compact_after_commit(session)
    session.commit()
    return report


def _compact_after_commit(session: DbSession) -> None:
    """On SQLite, fold the write-ahead log back into the database once the erasure commits.

    SQLite overwrites deleted content with zeros (`secure_delete`, set on every connection), but
    earlier versions of the changed pages stay in the `-wal` file until a checkpoint; truncating
    it leaves no copy of the erased values in the files under the instance folder.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    engine = bind.engine

    def checkpoint() -> None:
        try:
            # Outside any transaction (a checkpoint cannot run inside one): the DBAPI
            # connection itself, in autocommit as every SQLite connection here is.
            raw = engine.raw_connection()
            try:
                busy = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.close()
            if busy is not None and busy[0]:
                log.warning("erasure: the WAL checkpoint was blocked by a reader; it runs later")
        except Exception:
            log.exception("erasure: the WAL checkpoint failed")

    on_commit(session, checkpoint)


def export(session: DbSession, customer: Customer) -> CustomerExport:
    """Everything held about the customer, part by part, as each holder exports it."""
    subject = subject_of(session, customer)
    parts: dict[str, Any] = {}
    for holder in registry.holders():
        if holder.export is not None:
            parts.update(holder.export(session, subject))
    parts["exported_at"] = utcnow()
    return CustomerExport.model_validate(parts)
