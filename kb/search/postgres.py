"""The scaled-out search backend: PostgreSQL full-text search, shared by every host.

Each article's `search_vector` holds its title (weight A) and body (weight B) analysed with
`kb_french` or `kb_english`: text search configurations created by the migration as copies of
`french`/`english` with `unaccent` ahead of the stemmer, so accents never matter. A GIN index serves
`@@`; `ts_rank` with the default weights ranks a title match above a body match.

Typos: the accent-folded words of the corpus are kept in `kb_terms` with a trigram GIN index. A
query word the corpus does not have is corrected to its most similar corpus words (`pg_trgm`'s `%`
and `similarity`), which are searched as alternatives.

The tsquery is written by us from words `kb.text.parse_query` extracted (letters and digits only),
so no user input reaches `to_tsquery` syntax and nothing a user types can make it fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text

from kb.search import TIERS, SearchDocument, SearchHit, SearchPage, SearchQuery, tiered_page
from kb.synonyms import expand
from kb.text import (
    ParsedQuery,
    edit_distance,
    parse_query,
    significant,
    snippet,
    strip_markdown,
    typo_edits,
    with_compounds,
    words,
)

CONFIGS = {"fr": "kb_french", "en": "kb_english"}
BATCH = 500

_UPDATE = text(
    "UPDATE kb_articles SET search_vector = "
    "setweight(to_tsvector(CAST(:cfg AS regconfig), :title), 'A') || "
    "setweight(to_tsvector(CAST(:cfg AS regconfig), :body), 'B'), "
    "title_vector = setweight(to_tsvector(CAST(:cfg AS regconfig), :title), 'A'), "
    "indexed_version = :version WHERE id = :id"
)
_TERMS = text(
    "INSERT INTO kb_terms (locale, word) SELECT :locale, w FROM unnest(CAST(:words AS text[])) w "
    "ON CONFLICT DO NOTHING"
)
_LOOKUP = text(
    "SELECT q.w, k.known, CASE WHEN NOT k.known AND q.w = ANY(CAST(:fixable AS text[])) "
    "THEN ARRAY(SELECT t.word FROM kb_terms t WHERE t.locale = :locale AND t.word % q.w "
    "ORDER BY similarity(t.word, q.w) DESC, t.word LIMIT 8) END "
    "FROM unnest(CAST(:words AS text[])) AS q(w), LATERAL (SELECT EXISTS (SELECT 1 FROM kb_terms t "
    "WHERE t.locale = :locale AND t.word = q.w) AS known) k"
)

# Each tier (kb.search.TIERS) as the condition an article meets, leaving out the tier before it,
# and the tsquery it is ranked by. `strict` joins the clauses with & and `loose` with |.
_TIERS = {
    "title": ("a.title_vector @@ {strict}", "strict"),
    "all": (
        "a.search_vector @@ {strict} AND NOT COALESCE(a.title_vector @@ {strict}, false)",
        "strict",
    ),
    "any": ("a.search_vector @@ {loose} AND NOT a.search_vector @@ {strict}", "loose"),
}


class PostgresIndex:
    """`SearchIndex` inside PostgreSQL; takes the application's engine."""

    name = "postgresql"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writes ----------

    def index(self, documents: Iterable[SearchDocument]) -> int:
        count = 0
        batch: list[SearchDocument] = []
        for doc in documents:
            batch.append(doc)
            if len(batch) >= BATCH:
                count += self._write(batch)
                batch = []
        if batch:
            count += self._write(batch)
        return count

    def _write(self, docs: list[SearchDocument]) -> int:
        vocab: dict[str, set[str]] = {}
        rows = []
        for doc in docs:
            locale = doc.locale if doc.locale in CONFIGS else "en"
            body = with_compounds(strip_markdown(doc.body))
            title = with_compounds(doc.title + " " + " ".join(doc.tags))
            rows.append(
                {
                    "cfg": CONFIGS[locale],
                    "title": title,
                    "body": body,
                    "version": doc.version,
                    "id": doc.id,
                }
            )
            vocab.setdefault(locale, set()).update(
                w for w in words(title + " " + body) if 3 <= len(w) <= 64 and not w.isdigit()
            )
        with self.engine.begin() as conn:
            conn.execute(_UPDATE, rows)
            for locale, found in vocab.items():
                conn.execute(_TERMS, {"locale": locale, "words": sorted(found)})
        return len(docs)

    def delete(self, ids: Iterable[int]) -> None:
        wanted = list(ids)
        if not wanted:
            return
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE kb_articles SET search_vector = NULL, title_vector = NULL, "
                    "indexed_version = NULL WHERE id = ANY(:ids)"
                ),
                {"ids": wanted},
            )

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE kb_articles SET search_vector = NULL, title_vector = NULL, "
                    "indexed_version = NULL"
                )
            )
            conn.execute(text("DELETE FROM kb_terms"))

    def optimize(self) -> None:
        # Fresh statistics, so the planner sizes the matches of the new vectors right.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE kb_articles"))

    def versions(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, indexed_version FROM kb_articles WHERE indexed_version IS NOT NULL"
                )
            )
            return {int(r[0]): int(r[1]) for r in rows}

    # -- reads ----------

    def _lookup(
        self, conn: Any, locale: str, chosen: tuple[str, ...], others: set[str]
    ) -> tuple[set[str], dict[str, list[str]]]:
        """Which words the corpus has, and corrections for the query words it has not."""
        checkable = sorted({w for w in (*chosen, *others) if len(w) >= 3 and not w.isdigit()})
        if not checkable:
            return set(), {}
        fixable = [w for w in chosen if len(w) >= 4 and not w.isdigit()]
        rows = conn.execute(
            _LOOKUP, {"locale": locale, "words": checkable, "fixable": fixable}
        ).all()
        unknown = {w for w, exists, _ in rows if not exists}
        # Trigram similarity finds the candidates; an edit distance keeps the typos (as Whoosh
        # does), so `refnd` becomes `refund` and not the `ref` of every reference number.
        fixes = {}
        for word, exists, found in rows:
            if exists or not found:
                continue
            near = [w for w in found if edit_distance(w, word) <= typo_edits(word)]
            if near:
                fixes[word] = near[:3]
        # Words too short or numeric to look up are taken as known.
        return {w for w in (*chosen, *others) if w not in unknown}, fixes

    def _clauses(
        self, conn: Any, locale: str, parsed: ParsedQuery, corrected: list[str]
    ) -> list[str]:
        """One tsquery clause per query word (the word, its corrections and its synonyms as
        alternatives) and per phrase; operands are letters and digits only.

        A word the corpus does not have, with no correction and no synonym it has, gets no
        clause: it could match nothing, and would empty every tier that needs all the words.
        """
        chosen = significant(parsed.terms, locale) or parsed.terms
        synonyms = {w: [words(s) for s in expand(w, locale)] for w in chosen}
        others = {x for groups in synonyms.values() for g in groups for x in g}
        known, fixes = self._lookup(conn, locale, chosen, others)
        clauses: list[str] = []
        for word in chosen:
            options = []
            if word in parsed.prefixes:
                options.append(f"{word}:*")
            elif word in known:
                options.append(word)
            for fix in fixes.get(word, []):
                corrected.append(fix)
                options.append(fix)
            options.extend(
                " <-> ".join(g) for g in synonyms[word] if g and all(x in known for x in g)
            )
            if options:
                clauses.append("(" + " | ".join(dict.fromkeys(options)) + ")")
        for phrase in parsed.phrases:
            clauses.append("(" + " <-> ".join(phrase) + ")")
        return clauses

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A connection for one search: autocommit, since a search only reads and a transaction
        costs two more round trips (BEGIN, and the ROLLBACK when the connection goes back to the
        pool); and with psycopg's statement preparation off. Prepared and run again, a ranking
        statement soon gets PostgreSQL's generic plan, which evaluates `to_tsquery` for every
        matching row instead of once: three times slower over a tier of 3,000 articles."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            raw: Any = conn.connection.driver_connection
            threshold = raw.prepare_threshold
            raw.prepare_threshold = None
            try:
                yield conn
            finally:
                raw.prepare_threshold = threshold

    def search(self, query: SearchQuery) -> SearchPage:
        parsed = parse_query(query.text)
        corrected: list[str] = []
        locales = [query.locale] if query.locale in CONFIGS else list(CONFIGS)
        params: dict[str, Any] = {
            "statuses": list(query.statuses),
            "visibilities": list(query.visibilities),
        }
        where = ["a.status = ANY(:statuses)", "a.visibility = ANY(:visibilities)"]
        if query.locale:
            where.append("a.locale = :locale")
            params["locale"] = query.locale
        if query.category:
            where.append(
                "EXISTS (SELECT 1 FROM kb_article_categories ac JOIN kb_categories c "
                "ON c.id = ac.category_id WHERE ac.article_id = a.id AND c.slug = :category)"
            )
            params["category"] = query.category
        if query.exclude_ids:
            where.append("NOT (a.id = ANY(:exclude))")
            params["exclude"] = list(query.exclude_ids)
        with self._reading() as conn:
            if parsed.empty:
                rows, total = self._page(conn, where, params, query.offset, query.limit)
                return self._answer(parsed, corrected, rows, total)
            clauses = {
                str(loc): c
                for loc in locales
                if (c := self._clauses(conn, str(loc), parsed, corrected))
            }
            if not clauses:
                return SearchPage(corrected=tuple(corrected))
            for loc, c in clauses.items():
                params[f"s_{loc}"] = " & ".join(c)  # every clause
                params[f"l_{loc}"] = " | ".join(c)  # some clause

            def run(tier: str, offset: int, limit: int) -> tuple[list[Any], int]:
                return self._page(conn, where, params, offset, limit, tier, list(clauses))

            single = all(len(c) == 1 for c in clauses.values())
            tiers = TIERS[:2] if single else TIERS  # with one clause "any" is "all"
            rows, total = tiered_page(run, tiers, query.offset, query.limit)
            return self._answer(parsed, corrected, rows, total)

    def _page(
        self,
        conn: Any,
        where: list[str],
        params: dict[str, Any],
        offset: int,
        limit: int,
        tier: str | None = None,
        locales: list[str] | None = None,
    ) -> tuple[list[Any], int]:
        """One page of a tier's articles (see _TIERS; the strict and loose tsqueries are the
        `s_<locale>` and `l_<locale>` parameters), best first, with how many the tier holds.
        Without a tier: every filtered article, newest first."""
        where = list(where)
        params = {**params, "limit": limit, "offset": offset}
        keys = ""
        if tier is None:
            order, rank, keys = "a.updated_at DESC, a.id DESC", "0.0", ", a.updated_at"
        else:
            condition, ranked = _TIERS[tier]
            matches, ranks = [], []
            for loc in locales or []:
                strict = f"to_tsquery('{CONFIGS[loc]}', :s_{loc})"
                loose = f"to_tsquery('{CONFIGS[loc]}', :l_{loc})"
                queries = {"strict": strict, "loose": loose}
                matches.append(f"(a.locale = '{loc}' AND {condition.format(**queries)})")
                ranks.append(
                    f"CASE WHEN a.locale = '{loc}' "
                    f"THEN ts_rank(a.search_vector, {queries[ranked]}) END"
                )
            where.append("(" + " OR ".join(matches) + ")")
            rank = "COALESCE(" + ", ".join(ranks) + ", 0)"
            order = "a.score DESC, a.id"
        # Only our own fragments are formatted in; every value is a bound parameter.
        # The matches are read once into `m`, carrying only ids and what orders them: every
        # match is counted and goes through the sort, and titles and bodies are read for the
        # page's rows only. Counting `m` costs less than a window count over the sorted rows,
        # and the one-row count, joined to the page, still answers a page past the end.
        sql = (
            f"WITH m AS MATERIALIZED (SELECT a.id, {rank} AS score{keys} "  # noqa: S608
            f"FROM kb_articles a WHERE {' AND '.join(where)}), "
            f"page AS (SELECT id, score{keys} FROM m a ORDER BY {order} "
            "LIMIT :limit OFFSET :offset) "
            "SELECT p.id, k.title, k.body, p.score, c.total "
            "FROM (SELECT count(*) AS total FROM m) c "
            "LEFT JOIN (page p JOIN kb_articles k ON k.id = p.id) ON true "
            f"ORDER BY {order.replace('a.', 'p.')}"
        )
        found = conn.execute(text(sql), params).all()
        rows = [(r[0], r[1], r[2], r[3]) for r in found if r[0] is not None]
        return rows, int(found[0][4])

    @staticmethod
    def _answer(
        parsed: ParsedQuery, corrected: list[str], rows: list[Any], total: int
    ) -> SearchPage:
        marks = parsed.all_words() + tuple(corrected)
        hits = [
            SearchHit(id=r[0], score=float(r[3] or 0), title=r[1], snippet=snippet(r[2], marks))
            for r in rows
        ]
        return SearchPage(hits=hits, total=total, corrected=tuple(dict.fromkeys(corrected)))
