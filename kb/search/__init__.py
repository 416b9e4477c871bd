"""The knowledge-base search index: one interface, two backends chosen by configuration.

- `WhooshIndex` (kb/search/whoosh.py): the embedded default, a directory under `instance/`.
- `PostgresIndex` (kb/search/postgres.py): full-text search inside PostgreSQL, for the scaled-out
  deployment where several hosts cannot share a Whoosh directory.

Both take `SearchQuery` and answer `SearchPage`; tests/functional/test_kb_search_contract.py runs
the same tests over both. The query text is read by `kb.text.parse_query`, never by a backend's
query parser, so no string a user types can make a search fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")

# How strictly an article must match, strictest first; each tier holds the one before it.
# "title": every query word (or a correction or synonym of it) is in the title; "all": every
# word is somewhere in the article; "any": some word is. Results come tier by tier, each ranked
# by the backend's score, and a looser tier is only read when the stricter ones leave the page
# short: the articles matching the most are found without scoring every article that has one
# common word, which is what keeps a query fast over a large knowledge base.
TIERS = ("title", "all", "any")


@dataclass(frozen=True)
class SearchDocument:
    """What the index holds of an article."""

    id: int
    version: int
    locale: str
    title: str
    body: str
    status: str
    visibility: str
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    locale: str | None = None
    statuses: tuple[str, ...] = ("published",)
    visibilities: tuple[str, ...] = ("public", "internal")
    category: str | None = None
    limit: int = 10
    offset: int = 0
    exclude_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    id: int
    score: float
    title: str
    snippet: str  # HTML-escaped text; matches wrapped in <mark>


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit] = field(default_factory=list)
    # Exact when the page is not full. When it is, the matches of the tiers read to fill it (see
    # TIERS): looser matches are not counted.
    total: int = 0
    corrected: tuple[str, ...] = ()  # words the backend added to correct a typo


class SearchIndex(Protocol):
    """Index upkeep and search. Writes may be called from any process; each backend serialises
    them itself."""

    name: str

    def index(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace these documents; returns how many were written."""
        ...

    def delete(self, ids: Iterable[int]) -> None: ...

    def clear(self) -> None:
        """Empty the index (before a full rebuild)."""
        ...

    def optimize(self) -> None:
        """Make the index fast to read after a rebuild (Whoosh: one segment instead of one per
        batch written)."""
        ...

    def versions(self) -> dict[int, int]:
        """Every indexed article id with the version the index holds (for `helpdesk kb check`)."""
        ...

    def search(self, query: SearchQuery) -> SearchPage: ...


def tiered_page(
    run: Callable[[str, int, int], tuple[list[T], int]],
    tiers: Iterable[str],
    offset: int,
    limit: int,
) -> tuple[list[T], int]:
    """One page of results read tier by tier, and the number of matches the tiers read hold.

    `run(tier, offset, limit)` answers that tier's page among the articles not in the tier
    before it, with their number (exact whenever it is short of `offset + limit`, since the next
    tier's offset is worked out from it). Paging through the tiers never repeats an article.
    """
    hits: list[T] = []
    seen = 0
    for tier in tiers:
        wanted = offset + limit
        rows, count = run(tier, max(0, offset - seen), wanted - max(offset, seen))
        hits += rows
        seen += count
        if seen >= wanted:
            break
    return hits, seen
