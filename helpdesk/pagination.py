"""Opaque cursors for keyset pagination.

A cursor carries the sort key of the last row served, so the next page is an indexed range scan
whatever its depth, where OFFSET would read and discard every earlier row.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any


class BadCursor(ValueError):
    """The cursor was not produced by this server (or was tampered with)."""


def encode_cursor(*values: Any) -> str:
    parts = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """Decode a cursor whose values have the given types (datetime, int or str), in order."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor("malformed cursor") from exc
    if not isinstance(parts, list) or len(parts) != len(kinds):
        raise BadCursor("malformed cursor")
    out: list[Any] = []
    for kind, value in zip(kinds, parts, strict=True):
        try:
            if kind is datetime:
                if not isinstance(value, str):
                    raise BadCursor("malformed cursor")
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise BadCursor("malformed cursor")
                out.append(parsed)
            elif kind is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise BadCursor("malformed cursor")
                out.append(value)
            else:
                if not isinstance(value, str):
                    raise BadCursor("malformed cursor")
                out.append(value)
        except ValueError as exc:
            raise BadCursor("malformed cursor") from exc
    return tuple(out)
