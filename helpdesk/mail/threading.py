"""Which ticket an inbound message belongs to, and who sent it.

The rules, in order (docs/email.md):
1. `In-Reply-To`, then `References` (newest first), naming a Message-ID we stored, sent or
   received: the message continues that ticket, whatever its subject became.
2. A ticket reference in the subject (`[T-10234]`, or `T-10234` alone) of a ticket of the same
   customer: a subject cannot move mail into someone else's ticket.
3. Otherwise a new ticket.
A reply to a solved ticket reopens it (the ticket service does that for any customer reply); a
reply to a closed ticket opens a follow-up, linked to the old one in both tickets' histories.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.db import DbSession, utcnow
from helpdesk.mail.models import MailMessage
from helpdesk.mail.parse import ParsedMail
from helpdesk.tickets.models import Ticket, TicketChange
from helpdesk.tickets.workflow import REFERENCE_OFFSET

_SUBJECT_REF = re.compile(r"\[\s*T-?(\d{5,9})\s*\]|\bT-(\d{5,9})\b", re.IGNORECASE)
_PREFIXES = re.compile(
    r"^\s*((re|fwd?|tr|réf|ref|aw|wg|sv|antw|r)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_FRENCH_WORDS = re.compile(
    r"\b(bonjour|merci|cordialement|je|vous|nous|mon|ma|est|pas|avec|pour|une?)\b", re.IGNORECASE
)
_ENGLISH_WORDS = re.compile(
    r"\b(hello|hi|thanks|thank|regards|the|is|my|your|with|for|not|and)\b", re.IGNORECASE
)


def clean_subject(subject: str) -> str:
    """The subject without reply and forward prefixes (Re:, Fwd:, TR:, AW: ...)."""
    return _PREFIXES.sub("", subject).strip()


def subject_reference(subject: str) -> int | None:
    """The ticket id a `[T-10234]` in the subject names, if any."""
    found = _SUBJECT_REF.search(subject)
    if not found:
        return None
    number = int(found.group(1) or found.group(2))
    return number - REFERENCE_OFFSET if number > REFERENCE_OFFSET else None


def guess_language(mail: ParsedMail, text: str) -> str:
    """French or English for a new customer's fixed texts: Content-Language first, else the
    words of the message."""
    declared = mail.headers.get("content-language", "").strip().lower()[:2]
    if declared in ("fr", "en"):
        return declared
    sample = f"{mail.subject}\n{text[:2000]}"
    return (
        "fr" if len(_FRENCH_WORDS.findall(sample)) > len(_ENGLISH_WORDS.findall(sample)) else "en"
    )


def _matching(session: DbSession, address: str, *, lock: bool) -> Customer | None:
    query = (
        select(Customer)
        .options(lazyload("*"))  # its contacts and tags are not needed here
        .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        .where(CustomerEmail.email == address.lower(), Customer.erased_at.is_(None))
        .order_by(Customer.merged_into_id.is_not(None), Customer.id.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update(of=Customer)
    found: Customer | None = session.scalar(query)
    return found


def find_customer(session: DbSession, address: str) -> Customer | None:
    """The customer who has this address, case-insensitively (addresses are stored lower-cased,
    so the indexed column is compared as it is); merged records lead to the one they were merged
    into."""
    found = _matching(session, address, lock=False)
    if found is not None and found.merged_into_id is not None:
        return customers.get(session, found.id)
    return found


def customer_for(session: DbSession, mail: ParsedMail, language: str) -> Customer:
    """The sender's record, locked on PostgreSQL so that two messages from one sender at once
    thread one after the other (and open one ticket, not two); a record made here is new to
    this transaction and needs no lock."""
    # Found and locked in one statement; a merged record's target is locked on its own.
    found = _matching(session, mail.from_address, lock=True)
    if found is not None and found.merged_into_id is not None:
        found = customers.get(session, found.id)
        session.scalar(select(Customer.id).where(Customer.id == found.id).with_for_update())
    if found is not None:
        return found
    return customers.create(
        session,
        name=mail.from_name or mail.from_address,
        language=language,
        emails=[mail.from_address],
        tags=["new-emailer"],
        commit=False,
    )


def by_headers(session: DbSession, mail: ParsedMail) -> Ticket | None:
    """The ticket of the newest message this one answers (In-Reply-To, then References)."""
    ids = [i for i in (mail.in_reply_to, *reversed(mail.references)) if i]
    if not ids:
        return None
    # The tickets come with the messages, in one statement.
    rows = session.execute(
        select(MailMessage.message_id, Ticket)
        .join(Ticket, Ticket.id == MailMessage.ticket_id)
        .where(MailMessage.message_id.in_(ids[:50]))
    ).all()
    by_id: dict[str, Ticket] = {r.message_id: r.Ticket for r in rows}
    for message_id in ids:
        if message_id in by_id:
            return by_id[message_id]
    return None


def by_subject(session: DbSession, mail: ParsedMail, customer: Customer) -> Ticket | None:
    ticket_id = subject_reference(mail.subject)
    if ticket_id is None:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.requester_id != customer.id:
        return None
    return ticket


def find_ticket(session: DbSession, mail: ParsedMail, customer: Customer) -> Ticket | None:
    """The ticket a mail answers; for a duplicate merged into another (the customer answers the
    merge notice, or an old message), the ticket where the request continues."""
    found = by_headers(session, mail) or by_subject(session, mail, customer)
    for _hop in range(10):  # merges never loop; the bound only keeps a damaged chain finite
        if found is None or found.merged_into_id is None:
            break
        found = session.get(Ticket, found.merged_into_id)
    return found


def link_follow_up(session: DbSession, *, old: Ticket, new: Ticket) -> None:
    """Each ticket's history names the other: the closed one stays closed and unchanged."""
    now = utcnow()
    session.add_all(
        [
            TicketChange(
                ticket_id=new.id,
                action="follow_up",
                at=now,
                changes={"follow_up_of": [None, old.id]},
                note=f"follow-up of {old.reference}",
            ),
            TicketChange(
                ticket_id=old.id,
                action="followed_up",
                at=now,
                changes={"follow_up_id": [None, new.id]},
                note=f"followed up in {new.reference}",
            ),
        ]
    )
