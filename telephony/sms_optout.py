"""Who asked not to be texted, per sending number.

Twilio enforces STOP itself on long codes, but a list of our own keeps the outbox from trying
(and failing with 21610) and survives a change of provider. An erased customer's opt-out keeps a
keyed hash of the number instead of the number.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection

from flask import current_app, has_app_context
from sqlalchemy import Exists, delete, exists, select

from helpdesk.db import DbSession, utcnow
from telephony.models import SmsOptOut


def opt_out_key(customer_number: str) -> str:
    """What an erased customer's opt-out keeps instead of the number: a keyed hash of it.

    A STOP must outlive the erasure of the person who sent it (texting them again would break
    it), yet the number itself identifies them. The hash (keyed with `SECRET_KEY`, so it cannot
    be reversed by trying every number) still matches when the number is texted again.
    """
    secret = str(current_app.config.get("SECRET_KEY") or "") if has_app_context() else ""
    digest = hmac.new(secret.encode(), customer_number.encode(), hashlib.sha256).hexdigest()
    return "h:" + digest[:30]


def _opt_out_keys(customer_number: str) -> list[str]:
    return [customer_number, opt_out_key(customer_number)]


def is_opted_out(session: DbSession, customer_number: str, sending_number: str) -> bool:
    return bool(session.scalar(select(opted_out(customer_number, sending_number))))


def opted_out(customer_number: str, sending_number: str) -> Exists:
    """Whether `customer_number` opted out of texts from `sending_number`, as an expression: a
    statement that reads more (the inbound text's customer) asks it in the same round trip."""
    return exists().where(
        SmsOptOut.customer_number.in_(_opt_out_keys(customer_number)),
        SmsOptOut.sending_number == sending_number,
    )


def opt_out(session: DbSession, customer_number: str, sending_number: str, source: str) -> None:
    if not is_opted_out(session, customer_number, sending_number):
        session.add(
            SmsOptOut(
                customer_number=customer_number,
                sending_number=sending_number,
                source=source,
                opted_out_at=utcnow(),
            )
        )


def opt_in(session: DbSession, customer_number: str, sending_number: str) -> None:
    session.execute(
        delete(SmsOptOut).where(
            SmsOptOut.customer_number.in_(_opt_out_keys(customer_number)),
            SmsOptOut.sending_number == sending_number,
        )
    )


def opted_out_numbers(session: DbSession, customer_numbers: Collection[str]) -> set[str]:
    """Those of `customer_numbers` that sent STOP to any of our sending numbers (campaigns honour
    a STOP whichever number it was sent to)."""
    keys = {key: number for number in customer_numbers for key in _opt_out_keys(number)}
    if not keys:
        return set()
    found = session.scalars(
        select(SmsOptOut.customer_number).where(SmsOptOut.customer_number.in_(list(keys)))
    )
    return {keys[key] for key in found}
