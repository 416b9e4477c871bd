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

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, text

from kb.search import SearchDocument, SearchHit, SearchPage, SearchQuery
from kb.synonyms import expand
from kb.text import ParsedQuery, parse_query, significant, snippet, strip_markdown, words

CONFIGS = {"fr": "kb_french", "en": "kb_english"}
BATCH = 500

_UPDATE = text(
    "UPDATE kb_articles SET search_vector = "
    "setweight(to_tsvector(CAST(:cfg AS regconfig), :title), 'A') || "
    "setweight(to_tsvector(CAST(:cfg AS regconfig), :body), 'B'), "
    "indexed_version = :version WHERE id = :id"
)
_TERMS = text(
    "INSERT INTO kb_terms (locale, word) SELECT :locale, w FROM unnest(CAST(:words AS text[])) w "
    "ON CONFLICT DO NOTHING"
)
_CORRECT = text(
    "SELECT q.w, ARRAY(SELECT t.word FROM kb_terms t WHERE t.locale = :locale AND t.word % q.w "
    "ORDER BY similarity(t.word, q.w) DESC, t.word LIMIT 3) "
    "FROM unnest(CAST(:words AS text[])) AS q(w) "
    "WHERE NOT EXISTS (SELECT 1 FROM kb_terms t WHERE t.locale = :locale AND t.word = q.w)"
)


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
            body = strip_markdown(doc.body)
            title = doc.title + " " + " ".join(doc.tags)
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
                    "UPDATE kb_articles SET search_vector = NULL, indexed_version = NULL "
                    "WHERE id = ANY(:ids)"
                ),
                {"ids": wanted},
            )

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE kb_articles SET search_vector = NULL, indexed_version = NULL")
            )
            conn.execute(text("DELETE FROM kb_terms"))

    def versions(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, indexed_version FROM kb_articles WHERE indexed_version IS NOT NULL"
                )
            )
            return {int(r[0]): int(r[1]) for r in rows}

    # -- reads ----------

    def _corrections(
        self, conn: Any, locale: str, candidates: tuple[str, ...]
    ) -> dict[str, list[str]]:
        wanted = [w for w in candidates if len(w) >= 4 and not w.isdigit()]
        if not wanted:
            return {}
        rows = conn.execute(_CORRECT, {"locale": locale, "words": wanted})
        return {r[0]: [w for w in r[1] if w != r[0]] for r in rows if r[1]}

    def _tsquery(self, conn: Any, locale: str, parsed: ParsedQuery, corrected: list[str]) -> str:
        """A tsquery string for `to_tsquery(kb_<locale>, ...)`; operands are letters and digits."""
        chosen = significant(parsed.terms, locale) or parsed.terms
        fixes = self._corrections(conn, locale, chosen)
        clauses: list[str] = []
        for word in chosen:
            options = [f"{word}:*" if word in parsed.prefixes else word]
            for fix in fixes.get(word, []):
                corrected.append(fix)
                options.append(fix)
            options.extend(" <-> ".join(words(s)) for s in expand(word, locale) if words(s))
            clauses.append("(" + " | ".join(dict.fromkeys(options)) + ")")
        for phrase in parsed.phrases:
            clauses.append("(" + " <-> ".join(phrase) + ")")
        return " | ".join(clauses)

    def search(self, query: SearchQuery) -> SearchPage:
        parsed = parse_query(query.text)
        corrected: list[str] = []
        locales = [query.locale] if query.locale in CONFIGS else list(CONFIGS)
        params: dict[str, Any] = {
            "statuses": list(query.statuses),
            "visibilities": list(query.visibilities),
            "limit": query.limit,
            "offset": query.offset,
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
        with self.engine.connect() as conn:
            if parsed.empty:
                order, rank = "a.updated_at DESC, a.id DESC", "0.0"
            else:
                matches, ranks = [], []
                for loc in locales:
                    tsq = self._tsquery(conn, str(loc), parsed, corrected)
                    if not tsq:
                        continue
                    params[f"q_{loc}"] = tsq
                    expr = f"to_tsquery('{CONFIGS[str(loc)]}', :q_{loc})"
                    matches.append(f"(a.locale = '{loc}' AND a.search_vector @@ {expr})")
                    ranks.append(
                        f"CASE WHEN a.locale = '{loc}' THEN ts_rank(a.search_vector, {expr}) END"
                    )
                if not matches:
                    return SearchPage(corrected=tuple(corrected))
                where.append("(" + " OR ".join(matches) + ")")
                rank = "COALESCE(" + ", ".join(ranks) + ", 0)"
                order = "score DESC, a.id"
            # Only our own fragments are formatted in; every value is a bound parameter.
            sql = (
                f"SELECT a.id, a.title, a.body, {rank} AS score, count(*) OVER () AS total "  # noqa: S608
                f"FROM kb_articles a WHERE {' AND '.join(where)} "
                f"ORDER BY {order} LIMIT :limit OFFSET :offset"
            )
            rows = conn.execute(text(sql), params).all()
        marks = parsed.all_words() + tuple(corrected)
        hits = [
            SearchHit(id=r[0], score=float(r[3] or 0), title=r[1], snippet=snippet(r[2], marks))
            for r in rows
        ]
        total = int(rows[0][4]) if rows else 0
        return SearchPage(hits=hits, total=total, corrected=tuple(dict.fromkeys(corrected)))
