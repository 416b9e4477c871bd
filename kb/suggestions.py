"""Suggested articles for what an agent is handling: a ticket, a call, or any text.

`suggest` is the one entry point; `for_ticket` and `for_call` gather the words that describe the
customer's problem (subject, description, the last text message, the IVR choice) and the
languages to look in (the customer's, and the one the text is written in), then call it. The
caller screen and the ticket page both use these.

A suggestion is offered unasked, so it must earn its place: the candidates of every language are
ranked together by score, and those scoring under a share of the best one (`RELEVANCE_FLOOR`)
are left out: an article that shares one common word with a long description is noise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from helpdesk.db import DbSession
from helpdesk.errors import NotFound
from helpdesk.slots import Slot
from kb.indexing import get_index
from kb.models import LOCALES, Article
from kb.search import SearchHit, SearchQuery
from kb.text import MAX_TERMS, STOP_WORDS, significant, words

DEFAULT_VISIBILITY = ("internal", "public")
# A suggestion scores at least this share of the best one's (scores are comparable within one
# search backend, not across them, so the floor is relative).
RELEVANCE_FLOOR = 0.4
# Candidates read per language before ranking, so that the best of a looser tier (see
# kb.search.TIERS) can still outrank a weak one of a stricter tier.
CANDIDATES = 20
# Words the IVR menu choice adds, by the action or queue it led to (`CallSource.menu_topics`).
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
    also: Iterable[str] = (),
    limit: int = 5,
    visibility: Iterable[str] = DEFAULT_VISIBILITY,
    exclude_ids: Iterable[int] = (),
) -> list[SearchHit]:
    """The best published articles for `text` in `locale` ("fr" or "en") and the `also`
    languages, best first, each scoring at least `RELEVANCE_FLOOR` of the best.

    Of an article and its translation both found, the one in `locale` (the customer's) is kept.
    `visibility=("public",)` keeps to articles a customer may be sent. Never raises on odd text:
    an empty or unreadable `text` gives an empty list.
    """
    found: dict[int, SearchHit] = {}
    locales: list[str | None] = [loc for loc in dict.fromkeys((locale, *also)) if loc in LOCALES]
    locales = locales or [None]
    for loc in locales:
        # A ticket's description can be long: keep its first distinct meaningful words.
        chosen = significant(tuple(dict.fromkeys(words(text))), loc or "en")[:MAX_TERMS]
        if not chosen:
            continue
        page = get_index().search(
            SearchQuery(
                text=" ".join(chosen),
                locale=loc,
                statuses=("published",),
                visibilities=tuple(visibility),
                limit=max(CANDIDATES, limit),
                exclude_ids=tuple(exclude_ids),
            )
        )
        for hit in page.hits:
            if hit.id not in found or hit.score > found[hit.id].score:
                found[hit.id] = hit
    if not found:
        return []
    ranked = sorted(found.values(), key=lambda h: (-h.score, h.id))
    floor = ranked[0].score * RELEVANCE_FLOOR
    kept = [h for h in ranked if h.score >= floor]
    if len(locales) > 1:
        kept = _one_per_translation(session, kept, locale)
    return kept[: max(1, min(limit, 20))]


def _one_per_translation(session: DbSession, hits: list[SearchHit], locale: str) -> list[SearchHit]:
    """The hits with one article per translation group: the one in `locale` when both came,
    in the place of the better-ranked of the two."""
    rows = session.execute(
        select(Article.id, Article.translation_group, Article.locale).where(
            Article.id.in_([h.id for h in hits])
        )
    ).all()
    group = {r.id: r.translation_group or r.id for r in rows}
    in_locale = {r.id for r in rows if r.locale == locale}
    chosen: dict[int, SearchHit] = {}
    for hit in hits:
        key = group.get(hit.id, hit.id)
        if key not in chosen:
            chosen[key] = hit
        elif hit.id in in_locale and chosen[key].id not in in_locale:
            chosen[key] = SearchHit(hit.id, chosen[key].score, hit.title, hit.snippet)
    return list(chosen.values())


def written_in(text: str, fallback: str) -> str:
    """The language `text` is written in, told by its common words (`le`, `est`, `the`, `is`):
    a customer whose record says French may well write in English."""
    counts = {loc: 0 for loc in LOCALES}
    for word in words(text)[:200]:
        for loc in LOCALES:
            if word in STOP_WORDS.get(loc, ()):
                counts[loc] += 1
    best = max(counts, key=lambda loc: counts[loc])
    others = [n for loc, n in counts.items() if loc != best]
    return best if counts[best] >= 2 and all(counts[best] > n for n in others) else fallback


def ivr_hint(ivr_path: Iterable[str], locale: str, topics: Mapping[str, str]) -> str:
    """Words for the menu choices of a call's IVR path (`menu:2:queue` -> billing words), where
    `topics` tells what each menu key leads to (`CallSource.menu_topics`)."""
    hints = IVR_HINTS.get(locale, IVR_HINTS["en"])
    words: list[str] = []
    for step in ivr_path:
        parts = step.split(":")
        if parts[0] != "menu" or len(parts) < 2:
            continue
        key = topics.get(parts[1])
        if key in hints:
            words.append(hints[key])
    return " ".join(words)


class CallFacts(Protocol):
    """What suggestions read of a call."""

    @property
    def language(self) -> str: ...
    @property
    def customer_id(self) -> int | None: ...
    @property
    def ticket_id(self) -> int | None: ...
    @property
    def ivr_path(self) -> Sequence[str]: ...


class LastInboundText(Protocol):
    """The body of the last text received on a ticket (or else from a customer), "" if none."""

    def __call__(
        self, session: DbSession, *, ticket_id: int | None, customer_id: int | None
    ) -> str: ...


@dataclass(frozen=True)
class CallSource:
    """Calls and texts belong to telephony, a sibling the knowledge base does not import: the app
    registers telephony's lookups here when it is created (`CALLS`)."""

    call: Callable[[DbSession, str], CallFacts]  # raises NotFound for an unknown call
    last_inbound_text: LastInboundText
    # {IVR menu key: the queue it leads to, or its action}; the menu is telephony's configuration
    menu_topics: Callable[[], Mapping[str, str]]


CALLS: Slot[CallSource] = Slot("call source")


def _last_sms(session: DbSession, *, ticket_id: int | None, customer_id: int | None) -> str:
    if not CALLS.filled or (ticket_id is None and customer_id is None):
        return ""
    return CALLS.get().last_inbound_text(session, ticket_id=ticket_id, customer_id=customer_id)


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
    """Suggestions for a ticket: subject, description and last text, in the customer's language
    and the one the ticket is written in."""
    text, locale = ticket_text(session, ticket_id)
    return suggest(
        session,
        text=text,
        locale=locale,
        also=(written_in(text, locale),),
        limit=limit,
        visibility=visibility,
    )


def for_call(
    session: DbSession,
    *,
    call_sid: str,
    limit: int = 5,
    visibility: Iterable[str] = DEFAULT_VISIBILITY,
) -> list[SearchHit]:
    """Suggestions for a call: its ticket (if any), the caller's last text, the IVR choice, in
    the language the caller chose and the one their ticket or text is written in."""
    if not CALLS.filled:
        raise NotFound(f"no call {call_sid}")
    call = CALLS.get().call(session, call_sid)
    locale = (
        call.language if call.language in LOCALES else _language(session, call.customer_id, "fr")
    )
    if call.ticket_id is not None:
        written = ticket_text(session, call.ticket_id)[0]
    else:
        written = _last_sms(session, ticket_id=None, customer_id=call.customer_id)
    hint = ivr_hint(call.ivr_path or [], locale, CALLS.get().menu_topics())
    text = " ".join(p for p in (hint, written) if p)
    return suggest(
        session,
        text=text,
        locale=locale,
        also=(written_in(written, locale),),
        limit=limit,
        visibility=visibility,
    )
