"""Suggested articles for what an agent is handling: a ticket, a call, or any text.

`suggest` is the one entry point; `for_ticket` and `for_call` gather the words that describe the
customer's problem (subject, description, the last text message, the IVR choice) and the
customer's language, then call it. The caller screen and the ticket page both use these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from helpdesk.db import DbSession
from kb.indexing import get_index
from kb.models import LOCALES
from kb.search import SearchHit, SearchQuery
from kb.text import MAX_TERMS, significant, words

DEFAULT_VISIBILITY = ("internal", "public")
# Words the IVR menu choice adds, by the action or queue it led to (telephony/ivr.json).
IVR_HINTS = {
    "fr": {
        "billing": "facture paiement facturation",
        "support": "assistance panne",
        "technician": "technicien intervention rendez-vous",
        "ticket_status": "suivi ticket",
    },
    "en": {
        "billing": "bill payment invoice",
        "support": "support fault",
        "technician": "technician appointment visit",
        "ticket_status": "ticket status",
    },
}


def suggest(
    session: DbSession,
    *,
    text: str,
    locale: str,
    limit: int = 5,
    visibility: Iterable[str] = DEFAULT_VISIBILITY,
    exclude_ids: Iterable[int] = (),
) -> list[SearchHit]:
    """The best published articles for `text` in `locale` ("fr" or "en"), best first.

    `visibility=("public",)` keeps to articles a customer may be sent. Never raises on odd text:
    an empty or unreadable `text` gives an empty list.
    """
    del session  # the index is the application's; the argument keeps every service alike
    # A ticket's description can be long: keep its first distinct meaningful words.
    chosen = significant(tuple(dict.fromkeys(words(text))), locale)[:MAX_TERMS]
    if not chosen:
        return []
    text = " ".join(chosen)
    page = get_index().search(
        SearchQuery(
            text=text,
            locale=locale if locale in LOCALES else None,
            statuses=("published",),
            visibilities=tuple(visibility),
            limit=max(1, min(limit, 20)),
            exclude_ids=tuple(exclude_ids),
        )
    )
    return page.hits


def ivr_hint(ivr_path: Iterable[str], locale: str) -> str:
    """Words for the menu choices of a call's IVR path (`menu:2:queue` -> billing words)."""

    menu = json.loads(
        (Path(__file__).resolve().parent.parent / "telephony" / "ivr.json").read_text()
    )["menu"]
    hints = IVR_HINTS.get(locale, IVR_HINTS["en"])
    words: list[str] = []
    for step in ivr_path:
        parts = step.split(":")
        if parts[0] != "menu" or len(parts) < 2:
            continue
        option = menu.get(parts[1]) or {}
        key = option.get("queue") or option.get("action")
        if key in hints:
            words.append(hints[key])
    return " ".join(words)


def _last_sms(session: DbSession, *, ticket_id: int | None, customer_id: int | None) -> str:
    from telephony.models import SmsMessage

    stmt = select(SmsMessage.body).where(SmsMessage.direction == "inbound")
    if ticket_id is not None:
        stmt = stmt.where(SmsMessage.ticket_id == ticket_id)
    elif customer_id is not None:
        stmt = stmt.where(SmsMessage.customer_id == customer_id)
    else:
        return ""
    return session.scalar(stmt.order_by(SmsMessage.id.desc()).limit(1)) or ""


def _language(session: DbSession, customer_id: int | None, fallback: str) -> str:
    from helpdesk.customers.models import Customer

    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is not None and customer.language in LOCALES:
            return customer.language
    return fallback if fallback in LOCALES else "fr"


def ticket_text(session: DbSession, ticket_id: int) -> tuple[str, str]:
    """The words describing a ticket's problem and the customer's language."""
    from helpdesk.tickets import service as tickets

    ticket = tickets.get(session, ticket_id)
    sms = _last_sms(session, ticket_id=ticket.id, customer_id=None)
    locale = _language(session, ticket.requester_id, "fr")
    return " ".join(p for p in (ticket.subject, ticket.description[:2000], sms) if p), locale


def for_ticket(
    session: DbSession,
    *,
    ticket_id: int,
    limit: int = 5,
    visibility: Iterable[str] = DEFAULT_VISIBILITY,
) -> list[SearchHit]:
    """Suggestions for a ticket: subject, description and last text, in the customer's language."""
    text, locale = ticket_text(session, ticket_id)
    return suggest(session, text=text, locale=locale, limit=limit, visibility=visibility)


def for_call(
    session: DbSession,
    *,
    call_sid: str,
    limit: int = 5,
    visibility: Iterable[str] = DEFAULT_VISIBILITY,
) -> list[SearchHit]:
    """Suggestions for a call: its ticket (if any), the caller's last text, the IVR choice, in
    the language the caller chose."""
    from telephony.service import get_call

    call = get_call(session, call_sid)
    locale = (
        call.language if call.language in LOCALES else _language(session, call.customer_id, "fr")
    )
    parts = [ivr_hint(call.ivr_path or [], locale)]
    if call.ticket_id is not None:
        parts.append(ticket_text(session, call.ticket_id)[0])
    else:
        parts.append(_last_sms(session, ticket_id=None, customer_id=call.customer_id))
    text = " ".join(p for p in parts if p)
    return suggest(session, text=text, locale=locale, limit=limit, visibility=visibility)
