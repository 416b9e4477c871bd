"""The inbound side's wiring, called by the composition root: its settings, with the flood
limiter (counted in Redis when scaled out, as for SMS), and the attachment store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpdesk.mail.inbound import InboundSettings
from helpdesk.mail.store import LocalStore


def inbound_settings(settings: Any) -> InboundSettings:
    from limits import parse, storage, strategies

    store = storage.storage_from_string(settings.REDIS_URL or "memory://")
    own = getattr(settings, "MAIL_FROM", "") or ""
    from email.utils import parseaddr

    own_address = parseaddr(own)[1].lower()
    return InboundSettings(
        max_message_bytes=settings.MAIL_MAX_MESSAGE_BYTES,
        ack_period_s=settings.MAIL_ACK_PERIOD_S,
        own_addresses=(own_address,) if own_address else (),
        remote_images=settings.MAIL_REMOTE_IMAGES,
        limiter=strategies.MovingWindowRateLimiter(store),
        limit=parse(settings.MAIL_FLOOD_LIMIT),
    )


def init_inbound(app: Any, settings: Any) -> None:
    app.extensions["mail_inbound"] = inbound_settings(settings)
    folder = settings.MAIL_STORE_PATH or str(Path(settings.HELPDESK_INSTANCE_PATH) / "mail")
    app.extensions["mail_store"] = LocalStore(Path(folder))
