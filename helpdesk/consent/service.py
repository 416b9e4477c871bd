"""Every change to consents, the do-not-call list and refusals goes through here; and the facts a
campaign loads, in a few queries, to ask `helpdesk.campaigns.compliance.check` about a contact.

Functions take the session explicitly and do not commit: the caller's request or command does,
so the audit entry and the change land together.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import delete, func, select

from helpdesk.consent import unsubscribe
from helpdesk.consent.models import (
    CHANNELS,
    CONSENT_SOURCES,
    DNC_CHANNELS,
    DNC_SOURCES,
    ContactConsent,
    ContactRefusal,
    DoNotCall,
)
from helpdesk.customers.models import Customer
from helpdesk.customers.phones import InvalidPhoneNumber, to_e164
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.mail.models import BouncingAddress
from helpdesk.slots import Slot

PROOF_MAX = 2000
NOTE_MAX = 300
CHUNK = 500

# The numbers, among those given, that sent STOP to any of our sending numbers (telephony fills
# it: the opt-outs are its table, which the core may not import).
SmsOptOuts = Callable[[DbSession, Collection[str]], set[str]]
SMS_OPT_OUTS: Slot[SmsOptOuts] = Slot("SMS opt-out lookup")

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _channel(channel: str, allowed: Collection[str] = CHANNELS) -> str:
    if channel not in allowed:
        raise ValidationFailed(
            "invalid channel", fields={"channel": f"must be one of {', '.join(allowed)}"}
        )
    return channel


# --- consents --------------------------------------------------------------------------------


def record_consent(
    session: DbSession,
    *,
    customer_id: int,
    channel: str,
    source: str,
    proof: str,
    by_user_id: int | None,
    given_at: datetime | None = None,
) -> ContactConsent:
    """A customer's consent to marketing on one channel, with what proves it (required: the
    professional must be able to show the consent was given, art. L.223-1)."""
    errors: dict[str, str] = {}
    if channel not in CHANNELS:
        errors["channel"] = f"must be one of {', '.join(CHANNELS)}"
    if source not in CONSENT_SOURCES:
        errors["source"] = f"must be one of {', '.join(CONSENT_SOURCES)}"
    proof = (proof or "").strip()
    if not proof:
        errors["proof"] = "say how the consent was given (what the customer said, the form…)"
    elif len(proof) > PROOF_MAX:
        errors["proof"] = f"at most {PROOF_MAX} characters"
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    if not errors and active_consent(session, customer_id=customer_id, channel=channel):
        errors["channel"] = "a consent on this channel is already recorded: withdraw it first"
    if errors:
        raise ValidationFailed("invalid consent", fields=errors)
    consent = ContactConsent(
        customer_id=customer_id,
        channel=channel,
        purpose="marketing",
        given_at=given_at or utcnow(),
        source=source,
        proof=proof,
        recorded_by_id=by_user_id,
    )
    session.add(consent)
    session.flush()
    return consent


def active_consent(session: DbSession, *, customer_id: int, channel: str) -> ContactConsent | None:
    return session.scalar(
        select(ContactConsent)
        .where(
            ContactConsent.customer_id == customer_id,
            ContactConsent.channel == channel,
            ContactConsent.purpose == "marketing",
            ContactConsent.withdrawn_at.is_(None),
        )
        .order_by(ContactConsent.given_at.desc())
        .limit(1)
    )


def withdraw_consent(
    session: DbSession, *, consent_id: int, by_user_id: int | None, at: datetime | None = None
) -> ContactConsent:
    """The consent stops counting from now; the row stays as the record of both dates."""
    consent = session.get(ContactConsent, consent_id)
    if consent is None:
        raise NotFound(f"no consent {consent_id}")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = at or utcnow()
        consent.withdrawn_by_id = by_user_id
    return consent


def consents_of(session: DbSession, *, customer_id: int) -> list[ContactConsent]:
    """Every consent of a customer, newest first, withdrawn ones included (their history)."""
    return list(
        session.scalars(
            select(ContactConsent)
            .where(ContactConsent.customer_id == customer_id)
            .order_by(ContactConsent.given_at.desc(), ContactConsent.id.desc())
        )
    )


# --- the do-not-call list ------------------------------------------------------------------


def number_key(number: str) -> str:
    """What an erased customer's do-not-call entry keeps instead of the number: a keyed hash.

    The entry must outlive the erasure (it is a refusal to be called), yet the number identifies
    the person. The hash, keyed with `SECRET_KEY` so that it cannot be reversed by trying every
    number, still matches when a campaign asks about the number again (as SMS opt-outs do).
    """
    secret = str(current_app.config.get("SECRET_KEY") or "") if has_app_context() else ""
    digest = hmac.new(secret.encode(), number.encode(), hashlib.sha256).hexdigest()
    return "h:" + digest[:30]


def _keys(numbers: Iterable[str]) -> dict[str, str]:
    """Each stored form (the number, its erased form) to the number."""
    return {key: n for n in numbers for key in (n, number_key(n))}


def normalise_number(raw: str, default_region: str = "FR") -> str:
    try:
        return to_e164(raw, default_region)
    except InvalidPhoneNumber as exc:
        raise ValidationFailed("invalid number", fields={"number": str(exc)}) from exc


def add_do_not_call(
    session: DbSession,
    *,
    number: str,
    source: str = "manual",
    channels: Iterable[str] = ("call",),
    note: str = "",
    by_user_id: int | None = None,
    default_region: str = "FR",
) -> DoNotCall:
    """A number not to contact on `channels`; adding it again widens the channels named."""
    if source not in DNC_SOURCES:
        raise ValidationFailed(
            "invalid source", fields={"source": f"one of {', '.join(DNC_SOURCES)}"}
        )
    wanted = sorted({_channel(c, DNC_CHANNELS) for c in channels})
    if not wanted:
        raise ValidationFailed("no channel", fields={"channels": "name at least one channel"})
    if len(note) > NOTE_MAX:
        raise ValidationFailed("note too long", fields={"note": f"at most {NOTE_MAX} characters"})
    e164 = normalise_number(number, default_region)
    entry = session.scalar(
        select(DoNotCall).where(DoNotCall.number == e164, DoNotCall.source == source)
    )
    if entry is None:
        entry = DoNotCall(
            number=e164,
            source=source,
            channels=",".join(wanted),
            note=note.strip(),
            added_at=utcnow(),
            added_by_id=by_user_id,
        )
        session.add(entry)
    else:
        entry.channels = ",".join(sorted(set(entry.channels.split(",")) | set(wanted)))
        if note.strip():
            entry.note = note.strip()
    session.flush()
    return entry


def remove_do_not_call(session: DbSession, *, entry_id: int) -> DoNotCall:
    """Staff remove the entries staff or the customer asked for; an opposition list's entries
    leave only with the next import of that list (`--replace`)."""
    entry = session.get(DoNotCall, entry_id)
    if entry is None:
        raise NotFound(f"no do-not-call entry {entry_id}")
    if entry.source == "bloctel":
        raise ValidationFailed(
            "imported entry",
            fields={"source": "an opposition list's entry leaves with its next import"},
        )
    session.delete(entry)
    session.flush()
    return entry


def lookup_do_not_call(session: DbSession, *, number: str) -> list[DoNotCall]:
    """The entries for a number, those kept after an erasure (hashed) included."""
    return list(
        session.scalars(
            select(DoNotCall)
            .where(DoNotCall.number.in_(list(_keys([number]))))
            .order_by(DoNotCall.id)
        )
    )


def counts_by_source(session: DbSession) -> dict[str, int]:
    rows = session.execute(select(DoNotCall.source, func.count()).group_by(DoNotCall.source))
    counts = dict.fromkeys(DNC_SOURCES, 0)
    counts.update({source: int(n) for source, n in rows})
    return counts


def recent_entries(session: DbSession, *, sources: Collection[str], limit: int = 50) -> list[Any]:
    return list(
        session.scalars(
            select(DoNotCall)
            .where(DoNotCall.source.in_(list(sources)))
            .order_by(DoNotCall.added_at.desc(), DoNotCall.id.desc())
            .limit(limit)
        )
    )


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    removed: int = 0
    rejected: list[Any] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added,
            "already": self.already,
            "removed": self.removed,
            "rejected": len(self.rejected),
        }


def import_do_not_call(
    session: DbSession,
    *,
    source: str,
    numbers: Sequence[str],
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Add the numbers (E.164, deduplicated) to `source`'s entries; already listed ones stay as
    they are, so importing the same file twice changes nothing. With `replace`, the source's
    entries absent from this list are removed: the list is the source's whole current list."""
    if source not in DNC_SOURCES:
        raise ValidationFailed(
            "invalid source", fields={"source": f"one of {', '.join(DNC_SOURCES)}"}
        )
    result = ImportResult()
    now = utcnow()
    for chunk in _chunks(list(dict.fromkeys(numbers))):
        present = set(
            session.scalars(
                select(DoNotCall.number).where(
                    DoNotCall.source == source, DoNotCall.number.in_(list(chunk))
                )
            )
        )
        fresh = [n for n in chunk if n not in present]
        if fresh:
            session.execute(
                DoNotCall.__table__.insert(),
                [
                    {"number": n, "source": source, "channels": "call", "added_at": now, "note": ""}
                    for n in fresh
                ],
            )
        result.added += len(fresh)
        result.already += len(present)
        if progress is not None:
            progress(len(chunk))
    if replace:
        keep = set(numbers)
        stale = [
            entry_id
            for entry_id, number in session.execute(
                select(DoNotCall.id, DoNotCall.number).where(DoNotCall.source == source)
            )
            if number not in keep
        ]
        for chunk_ids in _chunks(stale):
            session.execute(delete(DoNotCall).where(DoNotCall.id.in_(list(chunk_ids))))
        result.removed = len(stale)
    return result


# --- refusals ------------------------------------------------------------------------------


def record_refusal(
    session: DbSession,
    *,
    customer_id: int | None,
    number: str | None,
    channel: str,
    at: datetime,
    by_user_id: int | None,
    campaign_id: int | None = None,
) -> ContactRefusal:
    """A refusal heard during a conversation (a campaign's "refused" disposition)."""
    _channel(channel)
    if customer_id is None and not number:
        raise ValidationFailed("nobody refused", fields={"customer_id": "a customer or a number"})
    refusal = ContactRefusal(
        customer_id=customer_id,
        number=number or None,
        channel=channel,
        at=at,
        by_user_id=by_user_id,
        campaign_id=campaign_id,
    )
    session.add(refusal)
    session.flush()
    return refusal


# --- the facts a campaign loads ------------------------------------------------------------


def contact_facts(
    session: DbSession,
    *,
    customer_ids: Collection[int] = (),
    numbers: Collection[str] = (),
    emails: Collection[str] = (),
    channel: str,
) -> dict[str, Any]:
    """What is known about these contacts on `channel`, in a few queries per 500 of each:

    - `consent_at`: {customer_id: given_at} of the active marketing consents on the channel;
    - `do_not_call`: the numbers listed for the channel (any source);
    - `sms_opted_out`: the numbers that sent STOP (channel "sms" only);
    - `email_unsubscribed`: the addresses that unsubscribed (an opt-out no newer consent
      replaced) or that bounce (channel "email" only);
    - `refused_by_customer` / `refused_by_number`: {key: latest refusal on the channel}.
    `facts_for` turns them into one `Contact`'s fields.
    """
    _channel(channel)
    ids = sorted(set(customer_ids))
    phones = sorted({n for n in numbers if n})
    addresses = sorted({e.strip().lower() for e in emails if e})
    facts: dict[str, Any] = {
        "channel": channel,
        "consent_at": {},
        "do_not_call": set(),
        "sms_opted_out": set(),
        "email_unsubscribed": set(),
        "refused_by_customer": {},
        "refused_by_number": {},
    }
    for chunk in _chunks(ids):
        for customer_id, given_at in session.execute(
            select(ContactConsent.customer_id, func.max(ContactConsent.given_at))
            .where(
                ContactConsent.customer_id.in_(list(chunk)),
                ContactConsent.channel == channel,
                ContactConsent.purpose == "marketing",
                ContactConsent.withdrawn_at.is_(None),
            )
            .group_by(ContactConsent.customer_id)
        ):
            facts["consent_at"][customer_id] = given_at
        for refuser_id, at in session.execute(
            select(ContactRefusal.customer_id, func.max(ContactRefusal.at))
            .where(ContactRefusal.customer_id.in_(list(chunk)), ContactRefusal.channel == channel)
            .group_by(ContactRefusal.customer_id)
        ):
            facts["refused_by_customer"][refuser_id] = at
    for chunk_numbers in _chunks(phones):
        listed = list(chunk_numbers)
        if channel in DNC_CHANNELS:
            keys = _keys(listed)
            for stored, channels in session.execute(
                select(DoNotCall.number, DoNotCall.channels).where(DoNotCall.number.in_(list(keys)))
            ):
                if channel in channels.split(","):
                    facts["do_not_call"].add(keys[stored])
        for refusing_number, at in session.execute(
            select(ContactRefusal.number, func.max(ContactRefusal.at))
            .where(ContactRefusal.number.in_(listed), ContactRefusal.channel == channel)
            .group_by(ContactRefusal.number)
        ):
            facts["refused_by_number"][refusing_number] = at
        if channel == "sms":
            facts["sms_opted_out"] |= SMS_OPT_OUTS.get()(session, listed)
    if channel == "email":
        for chunk_addresses in _chunks(addresses):
            facts["email_unsubscribed"] |= set(
                session.scalars(
                    select(BouncingAddress.address).where(
                        func.lower(BouncingAddress.address).in_(list(chunk_addresses))
                    )
                )
            )
        facts["email_unsubscribed"] = {a.lower() for a in facts["email_unsubscribed"]}
        facts["email_unsubscribed"] |= unsubscribe.opted_out(session, addresses)
    return facts


def facts_for(
    facts: dict[str, Any],
    *,
    customer_id: int | None,
    number: str | None,
    email: str | None,
) -> dict[str, Any]:
    """The keyword arguments of `compliance.Contact` these facts give for one contact."""
    known: list[datetime] = []
    if customer_id is not None and customer_id in facts["refused_by_customer"]:
        known.append(facts["refused_by_customer"][customer_id])
    if number and number in facts["refused_by_number"]:
        known.append(facts["refused_by_number"][number])
    return {
        "consent_at": facts["consent_at"].get(customer_id) if customer_id is not None else None,
        "on_do_not_call": bool(number) and number in facts["do_not_call"],
        "sms_opted_out": bool(number) and number in facts["sms_opted_out"],
        "email_unsubscribed": bool(email)
        and (email or "").strip().lower() in facts["email_unsubscribed"],
        "refused_at": max(known) if known else None,
    }
