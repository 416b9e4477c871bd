"""Knowledge-base search at scale: 100,000 generated articles, in one run.

For the Whoosh backend, the PostgreSQL backend and, as a yardstick, SQLite FTS5 over the same
articles: indexing throughput, then query latency (p50/p95) over the evaluation queries of
tests/kb_eval; and for both backends, how long a single updated article takes to be found by a
searcher that was already open (another process's, for Whoosh).

The Whoosh index and the SQLite file live in a temporary directory removed at the end; the
PostgreSQL database is dropped unless `--keep`.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from tqdm import tqdm

from bench import machine, pg
from bench.report import Figure, Run, save
from bench.stats import summarise
from kb.search import SearchDocument, SearchIndex, SearchQuery
from kb.text import parse_query
from tests.kb_eval.corpus import TOPICS
from tests.kb_eval.queries import QUERIES

DBNAME = "helpdesk_bench_kb"
RESULTS = Path(__file__).resolve().parent / "results"
BATCH = 5_000
INSERT_ARTICLE = (
    "INSERT INTO kb_articles (id, locale, title, body, status, visibility, tags, version, views, "
    "helpful, not_helpful, created_at, updated_at) "
)


@dataclass
class Options:
    articles: int = 100_000
    queries: int = 640
    updates: int = 20
    keep: bool = False
    seed: int = 7


def generate(n: int, seed: int) -> Iterator[SearchDocument]:
    """Articles built from the evaluation corpus's sentences, with product models and reference
    numbers mixed in so the vocabulary grows with the corpus, as a real one does."""
    rng = random.Random(seed)
    sentences: dict[str, list[str]] = {"fr": [], "en": []}
    titles: dict[str, list[str]] = {"fr": [], "en": []}
    for _key, _cat, fr_title, fr_body, en_title, en_body in TOPICS:
        titles["fr"].append(fr_title)
        titles["en"].append(en_title)
        sentences["fr"] += [s.strip() for s in fr_body.split(";") if s.strip()]
        sentences["en"] += [s.strip() for s in en_body.split(";") if s.strip()]
    categories = sorted({t[1] for t in TOPICS})
    for i in range(1, n + 1):
        locale = "fr" if i % 2 else "en"
        letters = "ABCDEFGHKLMPRSTX"
        model = f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(10, 9999)}"
        title = f"{rng.choice(titles[locale])} ({model})"
        body = ". ".join(rng.sample(sentences[locale], k=rng.randint(3, 6)))
        body += (
            f". Réf. {rng.randint(100000, 999999)}."
            if locale == "fr"
            else f". Ref {rng.randint(100000, 999999)}."
        )
        yield SearchDocument(
            id=i,
            version=1,
            locale=locale,
            title=title,
            body=body,
            status="published" if rng.random() < 0.9 else "draft",
            visibility="public" if rng.random() < 0.7 else "internal",
            categories=(rng.choice(categories),),
        )


def _time_queries(index: SearchIndex, queries: list[tuple[str, str]]) -> Any:
    for text_, locale in queries[:20]:  # warm-up: caches, first-use imports
        index.search(SearchQuery(text=text_, locale=locale))
    samples = []
    for text_, locale in queries:
        start = time.perf_counter()
        index.search(SearchQuery(text=text_, locale=locale, limit=10))
        samples.append(time.perf_counter() - start)
    return summarise(samples)


def _update_delay(writer: SearchIndex, reader: SearchIndex, n: int, start_id: int) -> Any:
    """Seconds from an update's return to the first search (by `reader`) that finds it."""
    delays = []
    for k in range(n):
        word = f"zq{k}x{start_id}"
        doc = SearchDocument(
            id=start_id + k, version=2, locale="en", title=f"Updated article {word}", body="",
            status="published", visibility="public",
        )  # fmt: skip
        writer.index([doc])
        t0 = time.perf_counter()
        while not reader.search(SearchQuery(text=word, locale="en")).hits:
            if time.perf_counter() - t0 > 10:
                break
            time.sleep(0.001)
        delays.append(time.perf_counter() - t0)
    return summarise(delays)


def _queries(opts: Options) -> list[tuple[str, str]]:
    rng = random.Random(opts.seed)
    pool = [(q, loc) for loc, q, _exp, _kind in QUERIES]
    return [rng.choice(pool) for _ in range(opts.queries)]


def bench_whoosh(
    run: Run, opts: Options, docs: list[SearchDocument], queries: list[tuple[str, str]], tmp: Path
) -> None:
    from kb.search.whoosh import WhooshIndex

    index = WhooshIndex(tmp / "whoosh")
    # As `helpdesk kb reindex` builds it: one writer, one commit, one segment. (Written in
    # batches of 5,000 the index keeps 20 segments, and every query pays for each of them.)
    start = time.perf_counter()
    with index.bulk_writer() as writer:
        for doc in tqdm(docs, desc="whoosh: indexing", unit="article", mininterval=1):
            index.add(writer, doc)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in (tmp / "whoosh").iterdir())
    run.add(
        Figure(
            "Whoosh: indexing",
            "-",
            f"{len(docs) / seconds:,.0f} articles/s ({seconds:.1f} s; index {size / 1e6:.0f} MB)",
            None,
            1,
        )
    )
    summary = _time_queries(index, queries)
    run.details["whoosh_query"] = summary.as_dict()
    run.add(
        Figure(
            "Whoosh: query p50 / p95",
            "p95 <= 20 ms",
            f"{summary.p50_ms:.1f} / {summary.p95_ms:.1f} ms "
            f"(p99 {summary.p99_ms:.1f}, max {summary.max_ms:.0f} ms)",
            summary.p95_ms <= 20,
            2,
        )
    )
    run.details["whoosh_postings_cache_bytes"] = index._segments.postings_bytes
    run.add(
        Figure(
            "Whoosh: posting lists kept decoded after the timed queries",
            "-",
            f"{index._segments.postings_bytes / 2**20:.1f} MiB "
            f"(budget {index._segments.budget_bytes / 2**20:.0f} MiB)",
            None,
            2,
        )
    )
    # Cold: a fresh handle, as a web process just started (or after a merge) has, with nothing
    # decoded yet; each distinct query once, so every posting list a query needs that an
    # earlier query did not is read from the index files.
    cold_index = WhooshIndex(tmp / "whoosh")
    distinct = list(dict.fromkeys(queries))
    random.Random(opts.seed).shuffle(distinct)
    cold = []
    for text_, locale in distinct:
        start = time.perf_counter()
        cold_index.search(SearchQuery(text=text_, locale=locale, limit=10))
        cold.append(time.perf_counter() - start)
    cold_summary = summarise(cold)
    run.details["whoosh_query_cold"] = cold_summary.as_dict()
    run.add(
        Figure(
            f"Whoosh: query p50 / p95 on a fresh handle, {len(distinct)} distinct queries once",
            "-",
            f"{cold_summary.p50_ms:.1f} / {cold_summary.p95_ms:.1f} ms "
            f"(max {cold_summary.max_ms:.0f} ms)",
            None,
            2,
        )
    )
    del cold_index
    reader = WhooshIndex(tmp / "whoosh")  # a second handle: what another process would hold
    delay = _update_delay(index, reader, opts.updates, len(docs) + 1)
    run.details["whoosh_update"] = delay.as_dict()
    run.add(
        Figure(
            "Whoosh: one update until found by an open searcher, p50 / max",
            "<= 2 s",
            f"{delay.p50_ms:.0f} / {delay.max_ms:.0f} ms",
            delay.max_ms <= 2000,
            3,
        )
    )


def bench_postgres(
    run: Run, opts: Options, docs: list[SearchDocument], queries: list[tuple[str, str]]
) -> None:
    from helpdesk.migrate import upgrade
    from kb.search.postgres import PostgresIndex

    server = pg.server_url()
    pg.create_database(server, DBNAME)
    url = pg.sqlalchemy_url(server, DBNAME)
    upgrade(url)
    engine = create_engine(url, pool_size=2)
    try:
        with engine.begin() as conn:
            rows = [
                {
                    "id": d.id,
                    "locale": d.locale,
                    "title": d.title,
                    "body": d.body,
                    "status": d.status,
                    "visibility": d.visibility,
                }
                for d in docs
            ]
            for i in tqdm(range(0, len(rows), BATCH), desc="postgresql: inserting", unit="batch"):
                conn.execute(
                    text(
                        INSERT_ARTICLE
                        + "VALUES (:id, :locale, :title, :body, :status, :visibility, "
                        "'[]', 1, 0, 0, 0, now(), now())"
                    ),
                    rows[i : i + BATCH],
                )
        index = PostgresIndex(engine)
        start = time.perf_counter()
        for i in tqdm(range(0, len(docs), BATCH), desc="postgresql: indexing", unit="batch"):
            index.index(docs[i : i + BATCH])
        seconds = time.perf_counter() - start
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE kb_articles"))
            conn.execute(text("VACUUM ANALYZE kb_terms"))
            terms = conn.execute(text("SELECT count(*) FROM kb_terms")).scalar()
        run.add(
            Figure(
                "PostgreSQL: indexing (tsvector + vocabulary)",
                "-",
                f"{len(docs) / seconds:,.0f} articles/s "
                f"({seconds:.1f} s; {terms:,} distinct words)",
                None,
                4,
            )
        )
        summary = _time_queries(index, queries)
        run.details["postgresql_query"] = summary.as_dict()
        run.add(
            Figure(
                "PostgreSQL: query p50 / p95",
                "p95 <= 10 ms",
                f"{summary.p50_ms:.1f} / {summary.p95_ms:.1f} ms "
                f"(p99 {summary.p99_ms:.1f}, max {summary.max_ms:.0f} ms)",
                summary.p95_ms <= 10,
                5,
            )
        )
        with engine.begin() as conn:
            conn.execute(
                text(
                    INSERT_ARTICLE
                    + "SELECT g, 'en', 'x', '', 'published', 'public', '[]', 1, 0, 0, 0, now(), "
                    "now() FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g"
                ),
                {"a": len(docs) + 1, "b": len(docs) + opts.updates},
            )
        delay = _update_delay(index, PostgresIndex(engine), opts.updates, len(docs) + 1)
        run.details["postgresql_update"] = delay.as_dict()
        run.add(
            Figure(
                "PostgreSQL: one update until found, p50 / max",
                "<= 2 s",
                f"{delay.p50_ms:.0f} / {delay.max_ms:.0f} ms",
                delay.max_ms <= 2000,
                6,
            )
        )
    finally:
        engine.dispose()
        if not opts.keep:
            pg.drop_database(server, DBNAME)


def bench_fts5(
    run: Run, docs: list[SearchDocument], queries: list[tuple[str, str]], tmp: Path
) -> None:
    """The yardstick: SQLite FTS5 with diacritics removed and BM25 ranking (no stemming, no typo
    tolerance: it answers an easier question, faster)."""
    conn = sqlite3.connect(tmp / "fts5.sqlite3")
    conn.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(title, body, locale UNINDEXED, status UNINDEXED, "
        "visibility UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
    )
    start = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO fts (rowid, title, body, locale, status, visibility) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((d.id, d.title, d.body, d.locale, d.status, d.visibility) for d in docs),
        )
    seconds = time.perf_counter() - start
    run.add(
        Figure(
            "SQLite FTS5 (yardstick): indexing",
            "-",
            f"{len(docs) / seconds:,.0f} articles/s ({seconds:.1f} s)",
            None,
            7,
        )
    )
    samples = []
    for text_, locale in queries:
        words = parse_query(text_).all_words()
        match = " OR ".join(f'"{w}"' for w in words) or '""'
        start = time.perf_counter()
        conn.execute(
            "SELECT rowid, title, snippet(fts, 1, '<mark>', '</mark>', '…', 20) FROM fts "
            "WHERE fts MATCH ? AND locale = ? AND status = 'published' "
            "ORDER BY bm25(fts, 3.0, 1.0) LIMIT 10",
            (match, locale),
        ).fetchall()
        samples.append(time.perf_counter() - start)
    summary = summarise(samples)
    run.details["fts5_query"] = summary.as_dict()
    run.add(
        Figure(
            "SQLite FTS5 (yardstick): query p50 / p95",
            "-",
            f"{summary.p50_ms:.1f} / {summary.p95_ms:.1f} ms "
            f"(p99 {summary.p99_ms:.1f}, max {summary.max_ms:.0f} ms)",
            None,
            8,
        )
    )
    conn.close()


def run(opts: Options) -> None:
    started = time.perf_counter()
    info = machine.describe(pg.server_url())
    result = Run(options=opts, machine=info)
    tqdm.write(machine.one_line(info))
    docs = list(generate(opts.articles, opts.seed))
    queries = _queries(opts)
    tmp = Path(tempfile.mkdtemp(prefix="helpdesk-bench-kb-"))
    try:
        bench_whoosh(result, opts, docs, queries, tmp)
        bench_postgres(result, opts, docs, queries)
        bench_fts5(result, docs, queries, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info["load_average_at_end"] = machine.load_average()
    result.details["seconds"] = time.perf_counter() - started
    save(result, "kb", RESULTS)
