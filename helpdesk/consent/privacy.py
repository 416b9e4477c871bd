"""Consents and refusals are the customer's: erased with them and exported. A do-not-call entry
is kept after the erasure, under a keyed hash of the number that still matches it (its note,
which staff may have written about the person, is blanked): it is a refusal to be called, and
erasing it would let the number be called again. An e-mail opt-out is stored under a keyed
hash of the address from the start, so the erasure leaves it as it is (it still matches)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, or_, select

from helpdesk.consent.models import ContactConsent, ContactRefusal, DoNotCall, EmailOptOut
from helpdesk.consent.service import number_key
from helpdesk.consent.unsubscribe import address_key
from helpdesk.db import DbSession
from helpdesk.privacy.registry import Holder, Subject, exempt, register


def _refusals_of(subject: Subject) -> Any:
    return or_(
        ContactRefusal.customer_id.in_(subject.customer_ids),
        ContactRefusal.number.in_(subject.phones),
    )


def erase(session: DbSession, subject: Subject) -> int:
    """Delete consents and refusals; keep the do-not-call entries under a keyed hash of the
    number (it still matches, so the number is not called again) and blank their notes."""
    consents = session.execute(
        delete(ContactConsent).where(ContactConsent.customer_id.in_(subject.customer_ids))
    )
    refusals = session.execute(delete(ContactRefusal).where(_refusals_of(subject)))
    changed = _rows(consents) + _rows(refusals)
    for entry in session.scalars(select(DoNotCall).where(DoNotCall.number.in_(subject.phones))):
        key = number_key(entry.number)
        kept = session.scalar(
            select(DoNotCall).where(DoNotCall.number == key, DoNotCall.source == entry.source)
        )
        if kept is None:
            entry.number, entry.note = key, ""
        else:  # already kept from an earlier erasure: one entry is enough
            kept.channels = ",".join(
                sorted(set(kept.channels.split(",")) | set(entry.channels.split(",")))
            )
            session.delete(entry)
        changed += 1
    session.flush()
    return changed


def _keys_of(subject: Subject) -> list[str]:
    return sorted({address_key(e) for e in subject.emails if e})


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    consents = session.scalars(
        select(ContactConsent)
        .where(ContactConsent.customer_id.in_(subject.customer_ids))
        .order_by(ContactConsent.given_at, ContactConsent.id)
    )
    refusals = session.scalars(
        select(ContactRefusal).where(_refusals_of(subject)).order_by(ContactRefusal.at)
    )
    listed = session.scalars(
        select(DoNotCall).where(DoNotCall.number.in_(subject.phones)).order_by(DoNotCall.id)
    )  # the entries still under the number: after an erasure, only a hash is left
    opt_outs = session.scalars(
        select(EmailOptOut)
        .where(EmailOptOut.address.in_(_keys_of(subject)))
        .order_by(EmailOptOut.id)
    )
    return {
        "marketing_consents": [
            {
                "channel": c.channel,
                "given_at": c.given_at,
                "source": c.source,
                "proof": c.proof,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in consents
        ],
        "contact_refusals": [
            {"channel": r.channel, "number": r.number, "at": r.at} for r in refusals
        ],
        "do_not_call": [
            {"number": d.number, "source": d.source, "channels": d.channels, "added_at": d.added_at}
            for d in listed
        ],
        "email_opt_outs": [
            {"at": o.at, "source": o.source, "campaign_id": o.campaign_id} for o in opt_outs
        ],
    }


register(
    Holder(
        name="consent",
        covers={
            "contact_consents": ("proof",),
            "contact_refusals": ("number",),
            "do_not_call": ("number", "note"),
        },
        erase=erase,
        export=export,
        parts=("marketing_consents", "contact_refusals", "do_not_call", "email_opt_outs"),
    )
)

exempt(
    "email_opt_outs",
    "address",
    "a keyed hash of the address (HMAC-SHA256 with SECRET_KEY), never the address: a refusal of "
    "campaign e-mails that must outlive the erasure, as a do-not-call entry does",
)
