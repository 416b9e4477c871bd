"""One-time sign-in links: asked for with an e-mail address or a mobile number, sent through the
mail outbox or the SMS outbox, redeemed once within fifteen minutes for a portal session.

The SMS outbox belongs to telephony, above the core: telephony fills `TEXTS` when the app is
created. The answer a visitor sees never says whether the address belongs to a customer; it
only says so when the channel itself cannot carry a link (no SMS outbox in this installation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from flask import current_app, has_app_context
from sqlalchemy import func, select, update

from helpdesk.customers.models import Customer, CustomerEmail, CustomerPhone
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.portal import tokens
from helpdesk.portal.models import PortalLink, PortalSession
from helpdesk.slots import Slot
from helpdesk.texts import catalog
from helpdesk.texts import service as wording

log = logging.getLogger(__name__)

SENT = "sent"  # a link is on its way (or the address is nobody's: the visitor is told the same)
UNAVAILABLE = "unavailable"  # this installation cannot send on that channel


class QueueText(Protocol):
    """Writes an outbound text that is sent once the transaction commits."""

    def __call__(
        self,
        session: DbSession,
        *,
        to: str,
        from_number: str,
        body: str,
        customer_id: int | None = None,
        kind: str = "message",
    ) -> object: ...


TEXTS: Slot[QueueText] = Slot("SMS outbox")

SUBJECT = {"en": "Your sign-in link", "fr": "Votre lien de connexion"}
TEXT = {
    "en": "Open this link to see your requests. It works once, for 15 minutes:\n\n{link}\n\n"
    "If you did not ask for it, ignore this message.",
    "fr": "Ouvrez ce lien pour voir vos demandes. Il ne sert qu'une fois, pendant 15 minutes :"
    "\n\n{link}\n\nSi vous ne l'avez pas demandé, ignorez ce message.",
}
SMS_TEXT = {
    "en": "Your sign-in link (once, 15 min): {link}",
    "fr": "Votre lien de connexion (une fois, 15 min) : {link}",
}
# Administrators may reword them from the console (/admin/texts); these stay the defaults.
catalog.register("portal.mail_subject", "portal", SUBJECT, one_line=True)
catalog.register("portal.mail", "portal", TEXT)
catalog.register("portal.sms", "portal", SMS_TEXT, sms=True)


def can_send(channel: str) -> bool:
    if channel == "sms":
        return TEXTS.filled
    return has_app_context() and current_app.extensions.get("mail_transport") is not None


def _customer(session: DbSession, address: tokens.Address) -> Customer | None:
    if address.channel == "email":
        stmt = select(Customer).join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        stmt = stmt.where(func.lower(CustomerEmail.email) == address.value)
    else:
        stmt = select(Customer).join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        stmt = stmt.where(CustomerPhone.e164 == address.value)
    stmt = stmt.where(Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
    return session.scalar(stmt.order_by(Customer.updated_at.desc(), Customer.id.desc()).limit(1))


def request_link(
    session: DbSession,
    *,
    address: tokens.Address,
    locale: str | None,
    link_for: Callable[[str, str], str],
) -> str:
    """Queue a link to the customer `address` belongs to, if any; SENT either way (the caller
    shows the same answer), UNAVAILABLE when the channel cannot carry it at all.

    The link and the portal speak `locale` when the visitor chose one, else the customer's
    language."""
    if not can_send(address.channel):
        return UNAVAILABLE
    customer = _customer(session, address)
    if customer is None:
        log.info("portal link asked for an unknown %s", address.channel)
        return SENT
    secret = tokens.new_secret()
    now = utcnow()
    locale = tokens.locale_or(locale or customer.language)
    session.add(
        PortalLink(
            customer_id=customer.id,
            token_hash=tokens.digest(secret),
            channel=address.channel,
            locale=locale,
            created_at=now,
            expires_at=now + tokens.LINK_TTL,
        )
    )
    link = link_for(secret, locale)  # the landing page speaks the link's language
    if address.channel == "email":
        from helpdesk.mail import outbox

        outbox.queue_message(
            session,
            to=address.value,
            subject=wording.render(session, "portal.mail_subject", locale),
            text=wording.render(session, "portal.mail", locale, link=link),
            customer_id=customer.id,
            kind="portal_link",
            auto=True,
            language=locale,
        )
    else:
        TEXTS.get()(
            session,
            to=address.value,
            from_number=str(current_app.config.get("TWILIO_PHONE_NUMBER", "")),
            body=wording.render(session, "portal.sms", locale, link=link),
            customer_id=customer.id,
            kind="portal_link",
        )
    session.commit()
    return SENT


def link_is_live(session: DbSession, *, secret: str) -> bool:
    """Whether the link can still be used (the confirmation page says so before the click)."""
    row = session.scalar(select(PortalLink).where(PortalLink.token_hash == tokens.digest(secret)))
    return row is not None and tokens.usable(
        expires_at=row.expires_at, used_at=row.used_at, now=utcnow()
    )


def redeem(session: DbSession, *, secret: str) -> str | None:
    """Use the link once: a new portal session's secret, or None (unknown, used or expired).

    The link is spent by a compare-and-set, so two clicks at once open one session only.
    """
    now = utcnow()
    row = session.scalar(select(PortalLink).where(PortalLink.token_hash == tokens.digest(secret)))
    if row is None or not tokens.usable(expires_at=row.expires_at, used_at=row.used_at, now=now):
        return None
    spent = session.execute(
        update(PortalLink)
        .where(PortalLink.id == row.id, PortalLink.used_at.is_(None))
        .values(used_at=now)
    )
    if rowcount(spent) != 1:
        session.rollback()
        return None
    key = tokens.new_secret()
    session.add(
        PortalSession(
            customer_id=row.customer_id,
            key_hash=tokens.digest(key),
            locale=row.locale,
            created_at=now,
            expires_at=now + tokens.SESSION_TTL,
        )
    )
    session.commit()
    return key
