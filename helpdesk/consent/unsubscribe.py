"""E-mail opt-outs: the signed link every campaign e-mail carries, its one-click headers
(RFC 8058), and the store of addresses that asked for no more campaign e-mails.

The link's token is a keyed hash of the address and the campaign, signed with `SECRET_KEY`
(itsdangerous): it cannot be made up for someone else's address, nothing needs storing before
the e-mail is sent, and the address cannot be read back from a link in a log. The store keeps
the same keyed hash, never the address: an opt-out must outlive the customer's erasure (it is a
refusal, like a do-not-call entry kept under a keyed hash of the number), and a hash of the
address still matches when a campaign asks about it. It lasts until the person gives an e-mail
consent again (recorded after it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from helpdesk.consent.models import EMAIL_OPT_OUT_SOURCES, ContactConsent, EmailOptOut
from helpdesk.customers.models import CustomerEmail
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import ValidationFailed

SALT = "helpdesk.consent.email-unsubscribe"


def _secret() -> str:
    return str(current_app.config.get("SECRET_KEY") or "") if has_app_context() else ""


def _serializer() -> URLSafeSerializer:
    secret = _secret()
    if not secret:  # an empty key would let anyone make a link for any address
        raise RuntimeError("SECRET_KEY is needed to sign or read unsubscribe links")
    return URLSafeSerializer(secret, salt=SALT)


def normalise_address(address: str) -> str:
    return address.strip().lower()


def address_key(address: str) -> str:
    """What an erased customer's opt-out keeps instead of the address: a keyed hash, which still
    matches when a campaign asks about the address again but cannot be reversed by guessing."""
    digest = hmac.new(
        _secret().encode(), normalise_address(address).encode(), hashlib.sha256
    ).hexdigest()
    return "h:" + digest[:30]


@dataclass(frozen=True)
class Unsubscribe:
    """What a link's token says: the address's keyed hash and the campaign."""

    key: str
    campaign_id: int | None


def token_for(address: str, *, campaign_id: int | None) -> str:
    return str(_serializer().dumps([address_key(address), campaign_id]))


def read_token(token: str) -> Unsubscribe | None:
    """The address's key and campaign of a genuine token; None for a made-up or altered one."""
    try:
        key, campaign_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(key, str) or not key.startswith("h:"):
        return None
    if not (campaign_id is None or isinstance(campaign_id, int)):
        return None
    return Unsubscribe(key, campaign_id)


def _base_url() -> str:
    settings = current_app.config.get("HELPDESK_SETTINGS") if has_app_context() else None
    base = getattr(settings, "PUBLIC_BASE_URL", "") or "http://127.0.0.1:5000"
    return str(base).rstrip("/")


def unsubscribe_link(address: str, *, campaign_id: int | None, language: str | None = None) -> str:
    """The public page where the person confirms they want no more such e-mails (in the
    e-mail's language when given; the browser's otherwise)."""
    link = f"{_base_url()}/unsubscribe/{token_for(address, campaign_id=campaign_id)}"
    return f"{link}?lang={language}" if language in ("en", "fr") else link


def unsubscribe_headers(
    address: str, *, campaign_id: int | None, language: str | None = None
) -> Mapping[str, str]:
    """The one-click unsubscribe headers (RFC 8058): mail clients show an "Unsubscribe" button
    that POSTs `List-Unsubscribe=One-Click` to the link."""
    link = unsubscribe_link(address, campaign_id=campaign_id, language=language)
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def record_email_opt_out(
    session: DbSession,
    *,
    address: str | None = None,
    key: str | None = None,
    source: str,
    campaign_id: int | None = None,
    at: datetime | None = None,
) -> EmailOptOut:
    """No more campaign e-mails to `address` (or to the address whose `key` a link carried);
    asking again moves the date forward, past a consent given meanwhile (the newest word of the
    person counts)."""
    if source not in EMAIL_OPT_OUT_SOURCES:
        raise ValidationFailed(
            "invalid source", fields={"source": f"one of {', '.join(EMAIL_OPT_OUT_SOURCES)}"}
        )
    if key is None:
        normal = normalise_address(address or "")
        if "@" not in normal or len(normal) > 254:
            raise ValidationFailed("invalid address", fields={"address": "an e-mail address"})
        key = address_key(normal)
    when = at or utcnow()
    entry = session.scalar(select(EmailOptOut).where(EmailOptOut.address == key))
    if entry is None:
        entry = EmailOptOut(address=key, at=when, source=source, campaign_id=campaign_id)
        session.add(entry)
    else:
        entry.at, entry.source, entry.campaign_id = when, source, campaign_id
    session.flush()
    return entry


def opted_out(session: DbSession, addresses: Collection[str]) -> set[str]:
    """The addresses (normalised) whose opt-out is still in force: no e-mail consent of a
    customer with that address was given after it."""
    wanted = sorted({normalise_address(a) for a in addresses if a})
    if not wanted:
        return set()
    found: dict[str, datetime] = {}
    for start in range(0, len(wanted), 500):
        chunk = {address_key(a): a for a in wanted[start : start + 500]}
        for stored, at in session.execute(
            select(EmailOptOut.address, EmailOptOut.at).where(EmailOptOut.address.in_(list(chunk)))
        ):
            found[chunk[stored]] = at
    if not found:
        return set()
    renewed = set()
    for email, given_at in session.execute(
        select(func.lower(CustomerEmail.email), func.max(ContactConsent.given_at))
        .join(ContactConsent, ContactConsent.customer_id == CustomerEmail.customer_id)
        .where(
            func.lower(CustomerEmail.email).in_(list(found)),
            ContactConsent.channel == "email",
            ContactConsent.withdrawn_at.is_(None),
        )
        .group_by(func.lower(CustomerEmail.email))
    ):
        if given_at is not None and given_at > found[email]:
            renewed.add(email)
    return set(found) - renewed
