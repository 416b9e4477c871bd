"""Signatures of outgoing webhooks: HMAC-SHA256 over "<timestamp>.<body>".

The scheme is Stripe's, so receivers can reuse what they know: the timestamp is signed with the
body, which lets a receiver refuse a replay of an old request (compare `t` with its clock) as well
as a forged one. The `v1=` prefix leaves room for another scheme, or for two secrets while one is
rolled over, without breaking receivers that check `v1`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Helpdesk-Signature"
EVENT_ID_HEADER = "X-Helpdesk-Event-Id"
EVENT_TYPE_HEADER = "X-Helpdesk-Event"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label in front of the secret, not one


def new_secret() -> str:
    """A signing secret: 32 random bytes, prefixed so that one found in a log says what it is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of `X-Helpdesk-Signature`: `t=<unix seconds>,v1=<hex>`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, value: str, body: bytes, *, now: int, tolerance_s: int = 300) -> bool:
    """What a receiver does: the header's `v1` matches and its `t` is recent. For the docs'
    example and for receivers written in Python; the tests check signatures on their own."""
    parts = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
