"""Secrets of the portal and what a customer types to sign in (pure: no database).

A secret is 32 random bytes in URL-safe text; the database keeps its SHA-256. No key is needed
for the digest: the secret itself has 256 bits, so guessing it from the digest is hopeless.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.customers.phones import try_e164

LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
LOCALES = ("en", "fr")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Address:
    """What the customer typed, read as an e-mail address or a mobile number."""

    channel: str  # email | sms
    value: str  # lower-cased address, or E.164


def read_address(raw: str, region: str = "FR") -> Address | None:
    """An e-mail address (anything with one @ and a dot after it) or a phone number; None
    for anything else, so the form can ask again instead of pretending to send."""
    text = raw.strip()
    if not text or len(text) > 254:
        return None
    if "@" in text:
        local, _, domain = text.rpartition("@")
        if not local or "." not in domain or any(c.isspace() for c in text):
            return None
        return Address("email", text.lower())
    e164 = try_e164(text, region)
    return Address("sms", e164) if e164 else None


def usable(*, expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    return used_at is None and now < expires_at


def locale_or(value: str | None, fallback: str = "en") -> str:
    return value if value in LOCALES else fallback
