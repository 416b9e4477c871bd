"""The embedded search backend: a Whoosh index in a directory under `instance/`.

Per-locale analysis: French (Snowball stemmer, French stop words, elisions dropped) and English
(Porter2), both accent-folded before stemming, so `écran`, `ecran` and `écrans` meet. Scoring is
BM25F with the title weighted above the body, computed over numpy arrays of the postings
(kb.search.arrays) rather than by Whoosh's posting-at-a-time matchers. Typo tolerance: a query
word that is not in the index is corrected to words of the corpus within one or two edits (looked
up among the words of an unstemmed word field), and those are searched instead.

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

from rapidfuzz import process
from rapidfuzz.distance import OSA
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

from kb.search import TIERS, SearchDocument, SearchHit, SearchPage, SearchQuery, tiered_page
from kb.search.arrays import ArrayScorer, Bools, Dense, SegmentCache, dense, top
from kb.synonyms import expand
from kb.text import (
    ParsedQuery,
    parse_query,
    significant,
    snippet,
    strip_markdown,
    typo_edits,
    with_compounds,
)

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


def _release(writer: IndexWriter) -> None:
    """Undo a writer whose commit failed: cancel it (files closed, lock freed), or at least free
    the lock when a half-done commit cannot be cancelled."""
    try:
        writer.cancel()
        return
    except Exception:
        log.warning("search index writer could not be cancelled; freeing its lock")
    lock = getattr(writer, "writelock", None)
    if lock is not None:
        try:
            lock.release()
        except Exception:  # already released by Whoosh itself
            log.debug("search index lock was already released")


def _open_or_create(directory: Path, attempts: int = 20) -> Any:
    """The index in `directory`, created if there is none.

    Whoosh opens an index by listing its table-of-contents files and reading the newest; a
    process committing at that moment writes the next one and deletes the one just listed, and
    the open fails with FileNotFoundError. Listing again finds the new generation."""
    for attempt in range(attempts):
        try:
            if whoosh_index.exists_in(str(directory)):
                return whoosh_index.open_dir(str(directory))
            return whoosh_index.create_in(str(directory), schema())
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


class WhooshIndex:
    """`SearchIndex` over a Whoosh directory (one host; see the module docstring)."""

    name = "whoosh"

    def __init__(
        self,
        directory: str | Path,
        *,
        lock_timeout_s: float = 10.0,
        retries: int = 5,
        postings_cache_mb: int = 64,
    ) -> None:
        self.directory = Path(directory)
        self.lock_timeout_s = lock_timeout_s
        self.retries = retries
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ix = _open_or_create(self.directory)
        self._searcher = self._ix.searcher()
        self._analyzers = {locale: analyzer(locale) for locale in LOCALES}
        # Valid while their searcher is the current one: the searcher's array scorer and, per
        # filter combination, the documents it allows.
        self._arrays: tuple[Any, ArrayScorer | None, dict[Any, Bools]] = (None, None, {})
        self._segments = SegmentCache(postings_cache_mb * 2**20)

    # -- writes ----------

    @contextmanager
    def _writer(self, optimize: bool = False, **options: Any) -> Iterator[IndexWriter]:
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
            try:
                writer.commit(optimize=optimize)
            except BaseException:
                # A commit that fails must not keep Whoosh's file lock: every later write would
                # wait out its timeout and retries (a minute) and then fail too.
                _release(writer)
                raise

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
            f"title_{locale}": with_compounds(doc.title + " " + " ".join(doc.tags)),
            f"body_{locale}": with_compounds(body),
            f"words_{locale}": with_compounds(doc.title + " " + body),
        }

    def index(self, documents: Iterable[SearchDocument]) -> int:
        docs = list(documents)
        if not docs:
            return 0
        options: dict[str, Any] = {"limitmb": 256} if len(docs) > 1000 else {}
        with self._writer(**options) as writer:
            for doc in docs:
                writer.update_document(**self._fields(doc))
        return len(docs)

    def bulk_writer(self) -> Any:
        """A writer for a full rebuild (`helpdesk kb reindex`): add_document only, one commit."""
        return self._writer(limitmb=256)

    def add(self, writer: IndexWriter, doc: SearchDocument) -> None:
        writer.add_document(**self._fields(doc))

    def optimize(self) -> None:
        # Every segment is searched in turn, so an index rebuilt in batches (one segment each)
        # answers several times slower than the same articles in one segment.
        with self._writer(optimize=True, limitmb=256):
            pass

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

    def _alternatives(
        self, reader: Any, locale: str, word: str, corrected: list[str]
    ) -> list[tuple[str, float]]:
        """The stems a query word stands for, with their weight: its own stems the index has,
        else corrections of it; and its synonyms', weaker."""
        stems = self._analyse(locale, word)
        title, body = f"title_{locale}", f"body_{locale}"
        found = [
            (stem, 1.0)
            for stem in stems
            if reader.doc_frequency(title, stem) or reader.doc_frequency(body, stem)
        ]
        if not found and stems and len(word) >= 4:
            found = self._corrections(reader, locale, word, corrected)
        for synonym in expand(word, locale):
            found += [(stem, 0.6) for stem in self._analyse(locale, synonym)]
        # One term per stem, at its strongest: `billing` stems to the `bill` already searched.
        best: dict[str, float] = {}
        for stem, boost in found:
            best[stem] = max(boost, best.get(stem, 0.0))
        return list(best.items())

    @staticmethod
    def _clause(
        locale: str,
        alternatives: list[tuple[str, float]],
        prefix: str | None,
        fields: tuple[str, ...],
    ) -> Q.Query | None:
        parts: list[Q.Query] = [
            Q.Term(f"{field}_{locale}", stem, boost=boost)
            for stem, boost in alternatives
            for field in fields
        ]
        if prefix:
            where = f"title_{locale}" if fields == ("title",) else f"words_{locale}"
            parts.append(Q.Prefix(where, prefix))
        return Q.Or(parts) if parts else None

    def _corrections(
        self, reader: Any, locale: str, word: str, corrected: list[str]
    ) -> list[tuple[str, float]]:
        """Words of the corpus within one edit (two for long words) of a word it does not have,
        sharing its first letter; the three most frequent are taken."""
        field = f"words_{locale}"
        edits = typo_edits(word)
        candidates: set[str] = set()
        for segment, _ in reader.leaf_readers():
            words = self._segments.vocabulary(segment, field).get(word[:1], [])
            for found, _distance, _ in process.extract(
                word, words, scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                candidates.add(found)
        ranked = sorted(candidates, key=lambda w: (-reader.doc_frequency(field, w), w))[:3]
        out: list[tuple[str, float]] = []
        for text in ranked:
            corrected.append(text)
            out += [(stem, 0.8) for stem in self._analyse(locale, text)]
        return out

    def _tier_queries(
        self, reader: Any, locale: str, parsed: ParsedQuery, corrected: list[str]
    ) -> dict[str, Q.Query]:
        """The query of each tier (see kb.search.TIERS) for one locale; none if nothing of the
        query is in the index. A word with nothing in the index gets no clause, so it cannot
        empty the tiers that need every word."""
        title_clauses: list[Q.Query] = []
        clauses: list[Q.Query] = []
        for word in significant(parsed.terms, locale) or parsed.terms:
            alternatives = self._alternatives(reader, locale, word, corrected)
            prefix = word if word in parsed.prefixes else None
            full = self._clause(locale, alternatives, prefix, ("title", "body"))
            if full is None:
                continue
            clauses.append(full)
            title_clauses.append(
                self._clause(locale, alternatives, prefix, ("title",)) or Q.NullQuery
            )
        for phrase in parsed.phrases:
            stems = self._analyse(locale, " ".join(phrase))
            if len(stems) > 1:
                in_title = Q.Phrase(f"title_{locale}", stems, slop=1, boost=2.0)
                in_body = Q.Phrase(f"body_{locale}", stems, slop=1, boost=2.0)
            elif stems:
                in_title = Q.Term(f"title_{locale}", stems[0])
                in_body = Q.Term(f"body_{locale}", stems[0])
            else:
                continue
            title_clauses.append(in_title)
            clauses.append(Q.Or([in_title, in_body]))
        if not clauses:
            return {}
        tiers = {"title": Q.And(title_clauses), "all": Q.And(clauses)}
        if len(clauses) > 1:  # with one clause, "any" is "all"
            tiers["any"] = Q.Or(clauses)
        return tiers

    def _scorer(self, searcher: Any) -> tuple[ArrayScorer, dict[Any, Bools]]:
        """The array scorer of this searcher and its filter cache (made on first use)."""
        cached, scorer, filters = self._arrays
        if cached is not searcher or scorer is None:
            scorer, filters = ArrayScorer(searcher, self._segments), {}
            self._segments.keep_only(scorer.segment_ids())
            self._arrays = (searcher, scorer, filters)
        return scorer, filters

    def _filter(self, scorer: ArrayScorer, filters: dict[Any, Bools], query: SearchQuery) -> Bools:
        """The documents the filters allow, worked out once per index generation for each of
        the handful of filter combinations the console and the help center use."""
        key = (query.statuses, query.visibilities, query.category, query.locale)
        if key in filters:
            return filters[key]
        parts: list[Q.Query] = [
            Q.Or([Q.Term("status", s) for s in query.statuses] or [Q.NullQuery]),
            Q.Or([Q.Term("visibility", v) for v in query.visibilities] or [Q.NullQuery]),
        ]
        if query.category:
            parts.append(Q.Term("categories", query.category.lower()))
        if query.locale:
            parts.append(Q.Term("locale", query.locale))
        allowed = dense(scorer.evaluate(Q.And(parts)), scorer.size).matched
        filters[key] = allowed
        return allowed

    def search(self, query: SearchQuery) -> SearchPage:
        searcher = self._current()
        scorer, filters = self._scorer(searcher)
        parsed = parse_query(query.text)
        corrected: list[str] = []
        allowed = self._filter(scorer, filters, query)
        if query.exclude_ids:
            allowed = allowed.copy()
            for article_id in query.exclude_ids:
                docnum = searcher.document_number(id=str(article_id))
                if docnum is not None:
                    allowed[docnum] = False
        if parsed.empty:
            tiers: dict[str, Q.Query] = {"all": Q.Every()}
        else:
            locales = [query.locale] if query.locale in LOCALES else list(LOCALES)
            per_locale = [
                q
                for loc in locales
                if (q := self._tier_queries(searcher.reader(), str(loc), parsed, corrected))
            ]
            if not per_locale:
                return SearchPage(corrected=tuple(dict.fromkeys(corrected)))
            tiers = {
                tier: Q.Or([q.get(tier, q["all"]) for q in per_locale])
                for tier in TIERS
                if any(tier in q for q in per_locale)
            }
        names = list(tiers)
        matches: dict[str, Dense] = {}

        def matched(tier: str) -> Dense:
            if tier not in matches:
                matches[tier] = dense(scorer.evaluate(tiers[tier]), scorer.size)
            return matches[tier]

        def run(tier: str, offset: int, limit: int) -> tuple[list[SearchHit], int]:
            found = matched(tier)
            mask = found.matched & allowed
            before = names.index(tier) - 1
            if before >= 0:  # each tier holds the one before it: leave that one out
                mask &= ~matched(names[before]).matched
            docnums, total = top(found.scores, mask, offset, limit)
            hits = []
            for docnum in docnums.tolist():
                stored = searcher.stored_fields(docnum)
                hits.append(
                    SearchHit(
                        id=int(stored["id"]),
                        score=float(found.scores[docnum]),
                        title=stored["title"],
                        snippet=snippet(stored["body"], marks),
                    )
                )
            return hits, total

        marks = parsed.all_words() + tuple(corrected)
        hits, total = tiered_page(run, names, query.offset, query.limit)
        return SearchPage(hits=hits, total=total, corrected=tuple(dict.fromkeys(corrected)))
