"""The embedded search backend: a Whoosh index in a directory under `instance/`.

Per-locale analysis: French (Snowball stemmer, French stop words, elisions dropped) and English
(Porter2), both accent-folded before stemming, so `écran`, `ecran` and `écrans` meet. Scoring is
BM25F with the title weighted above the body. Typo tolerance: a query word that is not in the
index is corrected to words of the corpus within one or two edits (looked up in an unstemmed
word field), and those are searched instead.

Only one writer may hold a Whoosh index (a second `writer()` raises `LockError`), so writes take a
process-wide lock and then Whoosh's own file lock with a timeout, retrying with backoff: several
web processes and workers on one host wait for each other instead of failing or losing an update.
Searchers are refreshed on every search (a cheap check of the index generation), so a committed
write is visible to the next query.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as Q  # noqa: N812 - Whoosh's own convention
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.support.charset import accent_map
from whoosh.writing import IndexWriter

from kb.search import SearchDocument, SearchHit, SearchPage, SearchQuery
from kb.synonyms import expand
from kb.text import ParsedQuery, parse_query, significant, snippet, strip_markdown

log = logging.getLogger(__name__)

LOCALES = ("fr", "en")
TITLE_BOOST = 3.0
_WORD_PATTERN = r"[^\W_]+"
_ELISION_STOPS = ["l", "d", "s", "qu", "n", "j", "m", "t", "c", "jusqu", "lorsqu", "puisqu"]


def analyzer(locale: str) -> Analyzer:
    """Tokenise, lower-case, drop stop words, fold accents, stem (in that order)."""
    lang = "fr" if locale == "fr" else "en"
    stops = StopFilter(lang=lang, minsize=2)
    if lang == "fr":
        stops = StopFilter(stoplist=_ELISION_STOPS, minsize=1) | stops
    return (
        RegexTokenizer(_WORD_PATTERN)
        | LowercaseFilter()
        | stops
        | CharsetFilter(accent_map)
        | StemFilter(lang=lang, cachesize=50_000)
    )


def words_analyzer() -> Analyzer:
    """Unstemmed folded words: the dictionary typo correction looks words up in."""
    return RegexTokenizer(_WORD_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


def schema() -> Schema:
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True),
        "version": STORED(),
        "locale": ID(stored=True),
        "status": ID(),
        "visibility": ID(),
        "categories": KEYWORD(lowercase=True),
        "title": STORED(),
        "body": STORED(),
    }
    for locale in LOCALES:
        fields[f"title_{locale}"] = TEXT(analyzer=analyzer(locale), field_boost=TITLE_BOOST)
        fields[f"body_{locale}"] = TEXT(analyzer=analyzer(locale))
        fields[f"words_{locale}"] = TEXT(analyzer=words_analyzer(), phrase=False)
    return Schema(**fields)


class WhooshIndex:
    """`SearchIndex` over a Whoosh directory (one host; see the module docstring)."""

    name = "whoosh"

    def __init__(
        self, directory: str | Path, *, lock_timeout_s: float = 10.0, retries: int = 5
    ) -> None:
        self.directory = Path(directory)
        self.lock_timeout_s = lock_timeout_s
        self.retries = retries
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self.directory.mkdir(parents=True, exist_ok=True)
        if whoosh_index.exists_in(str(self.directory)):
            self._ix = whoosh_index.open_dir(str(self.directory))
        else:
            self._ix = whoosh_index.create_in(str(self.directory), schema())
        self._searcher = self._ix.searcher()
        self._analyzers = {locale: analyzer(locale) for locale in LOCALES}
        # (searcher, {filters: doc numbers}): valid while that searcher is the current one.
        self._filter_cache: tuple[Any, dict[Any, set[int]]] = (None, {})

    # -- writes ----------

    @contextmanager
    def _writer(self, **options: Any) -> Iterator[IndexWriter]:
        """One writer at a time: the thread lock, then Whoosh's file lock, with retries."""
        with self._write_lock:
            delay = 0.05
            for attempt in range(self.retries + 1):
                try:
                    writer = self._ix.writer(timeout=self.lock_timeout_s, **options)
                    break
                except LockError:
                    if attempt == self.retries:
                        raise
                    log.warning("search index busy, retrying in %.2fs", delay)
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
            try:
                yield writer
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    @staticmethod
    def _fields(doc: SearchDocument) -> dict[str, Any]:
        body = strip_markdown(doc.body)
        locale = doc.locale if doc.locale in LOCALES else "en"
        return {
            "id": str(doc.id),
            "version": doc.version,
            "locale": locale,
            "status": doc.status,
            "visibility": doc.visibility,
            "categories": " ".join(doc.categories),
            "title": doc.title,
            "body": doc.body,
            f"title_{locale}": doc.title + " " + " ".join(doc.tags),
            f"body_{locale}": body,
            f"words_{locale}": doc.title + " " + body,
        }

    def index(self, documents: Iterable[SearchDocument]) -> int:
        docs = list(documents)
        if not docs:
            return 0
        options = {"limitmb": 256} if len(docs) > 1000 else {}
        with self._writer(**options) as writer:
            for doc in docs:
                writer.update_document(**self._fields(doc))
        return len(docs)

    def bulk_writer(self) -> Any:
        """A writer for a full rebuild (`helpdesk kb reindex`): add_document only, one commit."""
        return self._writer(limitmb=256)

    def add(self, writer: IndexWriter, doc: SearchDocument) -> None:
        writer.add_document(**self._fields(doc))

    def delete(self, ids: Iterable[int]) -> None:
        wanted = [str(i) for i in ids]
        if not wanted:
            return
        with self._writer() as writer:
            for doc_id in wanted:
                writer.delete_by_term("id", doc_id)

    def clear(self) -> None:
        with self._write_lock:
            self._ix = whoosh_index.create_in(str(self.directory), schema())
        with self._read_lock:
            self._searcher = self._ix.searcher()

    # -- reads ----------

    def _current(self) -> Any:
        with self._read_lock:
            if not self._searcher.up_to_date():
                # A new searcher, not refresh(): reusing the reader of an empty index fails in
                # Whoosh 2.7 (its segments() is None). The old one is left to other threads that
                # may still read from it; Whoosh closes its files when it is collected.
                self._searcher = self._ix.searcher()
            return self._searcher

    def versions(self) -> dict[int, int]:
        searcher = self._current()
        return {int(f["id"]): int(f["version"]) for f in searcher.all_stored_fields()}

    def _analyse(self, locale: str, text: str) -> list[str]:
        return [t.text for t in self._analyzers[locale](text)]

    def _term_query(
        self, reader: Any, locale: str, word: str, prefix: bool, corrected: list[str]
    ) -> Q.Query | None:
        stems = self._analyse(locale, word)
        title, body = f"title_{locale}", f"body_{locale}"
        parts: list[Q.Query] = []
        for stem in stems:
            if reader.doc_frequency(title, stem) or reader.doc_frequency(body, stem):
                parts += [Q.Term(title, stem), Q.Term(body, stem)]
        if prefix:
            parts += [Q.Prefix(f"words_{locale}", word)]
        if not parts and stems and len(word) >= 4:
            parts += self._corrections(reader, locale, word, corrected)
        for synonym in expand(word, locale):
            for stem in self._analyse(locale, synonym):
                parts += [Q.Term(title, stem, boost=0.6), Q.Term(body, stem, boost=0.6)]
        return Q.Or(parts) if parts else None

    def _corrections(
        self, reader: Any, locale: str, word: str, corrected: list[str]
    ) -> list[Q.Query]:
        """Words of the corpus within one edit (two for long words) of a word it does not have."""
        maxdist = 2 if len(word) >= 8 else 1
        field = f"words_{locale}"
        candidates = list(reader.terms_within(field, word, maxdist, prefix=1))
        ranked = sorted(candidates, key=lambda w: -reader.doc_frequency(field, w))[:3]
        parts: list[Q.Query] = []
        for candidate in ranked:
            text = candidate.decode() if isinstance(candidate, bytes) else candidate
            corrected.append(text)
            for stem in self._analyse(locale, text):
                parts += [
                    Q.Term(f"title_{locale}", stem, boost=0.8),
                    Q.Term(f"body_{locale}", stem, boost=0.8),
                ]
        return parts

    def _locale_query(
        self, reader: Any, locale: str, parsed: ParsedQuery, corrected: list[str]
    ) -> Q.Query | None:
        clauses: list[Q.Query] = []
        for word in significant(parsed.terms, locale) or parsed.terms:
            clause = self._term_query(reader, locale, word, word in parsed.prefixes, corrected)
            if clause is not None:
                clauses.append(clause)
        for phrase in parsed.phrases:
            stems = self._analyse(locale, " ".join(phrase))
            if len(stems) > 1:
                clauses.append(Q.Phrase(f"title_{locale}", stems, slop=1, boost=2.0))
                clauses.append(Q.Phrase(f"body_{locale}", stems, slop=1, boost=2.0))
            elif stems:
                clauses.append(
                    Q.Or([Q.Term(f"title_{locale}", stems[0]), Q.Term(f"body_{locale}", stems[0])])
                )
        return Q.Or(clauses) if clauses else None

    def _filter(self, searcher: Any, query: SearchQuery) -> set[int]:
        """The document numbers the filters allow, cached for as long as the searcher lives.

        A filter query would be evaluated again on every search, walking the postings of every
        published article; the handful of filter combinations the console and the help center use
        are worked out once per index generation instead.
        """
        key = (query.statuses, query.visibilities, query.category, query.locale)
        if self._filter_cache[0] is not searcher:
            self._filter_cache = (searcher, {})
        cache = self._filter_cache[1]
        if key in cache:
            return cache[key]
        parts: list[Q.Query] = [
            Q.Or([Q.Term("status", s) for s in query.statuses] or [Q.NullQuery]),
            Q.Or([Q.Term("visibility", v) for v in query.visibilities] or [Q.NullQuery]),
        ]
        if query.category:
            parts.append(Q.Term("categories", query.category.lower()))
        if query.locale:
            parts.append(Q.Term("locale", query.locale))
        found = set(searcher.docs_for_query(Q.And(parts)))
        cache[key] = found
        return found

    def search(self, query: SearchQuery) -> SearchPage:
        searcher = self._current()
        parsed = parse_query(query.text)
        corrected: list[str] = []
        if parsed.empty:
            wq: Q.Query | None = Q.Every()
        else:
            locales = [query.locale] if query.locale in LOCALES else list(LOCALES)
            per_locale = [
                q
                for loc in locales
                if (q := self._locale_query(searcher.reader(), str(loc), parsed, corrected))
                is not None
            ]
            wq = Q.Or(per_locale) if per_locale else None
        if wq is None:
            return SearchPage(hits=[], total=0, corrected=tuple(corrected))
        mask = (
            Q.Or([Q.Term("id", str(i)) for i in query.exclude_ids]) if query.exclude_ids else None
        )
        allowed = self._filter(searcher, query)
        if not allowed:  # Whoosh reads an empty filter as no filter at all
            return SearchPage(hits=[], total=0, corrected=tuple(corrected))
        results = searcher.search(
            wq,
            limit=query.offset + query.limit if query.limit else None,
            filter=allowed,
            mask=mask,
        )
        marks = parsed.all_words() + tuple(corrected)
        hits = [
            SearchHit(
                id=int(hit["id"]),
                score=float(hit.score or 0.0),
                title=hit["title"],
                snippet=snippet(hit["body"], marks),
            )
            for hit in results[query.offset : query.offset + query.limit]
        ]
        # Counting every match exactly would run the whole query a second time (Whoosh's
        # len(results)): when the page is full, an upper bound is given instead.
        if results.scored_length() < (query.offset + query.limit if query.limit else 0):
            total = results.scored_length()
        else:
            total = min(wq.estimate_size(searcher.reader()), len(allowed))
        return SearchPage(hits=hits, total=total, corrected=tuple(corrected))
