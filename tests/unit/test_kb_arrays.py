"""The Whoosh backend's array scoring reads and scores exactly what Whoosh itself does."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from whoosh import query as Q  # noqa: N812 - Whoosh's own convention
from whoosh.codec.whoosh3 import W3LeafMatcher, W3TermsReader
from whoosh.matching.wrappers import FilterMatcher

from kb.search import SearchDocument
from kb.search.arrays import (
    ArrayScorer,
    SegmentCache,
    dense,
    read_term,
    read_w3,
    top,
)
from kb.search.whoosh import WhooshIndex

WORDS = [
    *("imprimante", "papier", "bourrage", "encre", "cartouche", "wifi", "box", "routeur"),
    *("facture", "remboursement", "écran", "clavier", "souris", "batterie", "chargeur"),
    *("livraison", "colis", "technicien", "rendez-vous", "mot", "passe"),
]


def _documents(start: int, count: int, seed: int) -> list[SearchDocument]:
    rng = random.Random(seed)
    docs = []
    for i in range(start, start + count):
        # Word repeats give weights above one; a few rare words give lists of one to three.
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40)))
        title = " ".join(rng.sample(WORDS, 3))
        if i % 97 == 0:
            body += f" rare{i % 3}"
        docs.append(
            SearchDocument(
                id=i,
                version=1,
                locale="fr",
                title=title,
                body=body,
                status="published" if i % 5 else "draft",
                visibility="public" if i % 3 else "internal",
            )
        )
    return docs


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> WhooshIndex:
    """Two segments of 600 and 150 articles, with some of the first rewritten or deleted."""
    ix = WhooshIndex(tmp_path_factory.mktemp("arrays") / "ix")
    ix.index(_documents(1, 600, seed=1))
    ix.index(_documents(1, 40, seed=2) + _documents(601, 110, seed=3))
    ix.delete([50, 51, 52, 700])
    return ix


def _walk(matcher: Any) -> tuple[list[int], list[float]]:
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


def test_every_posting_list_reads_as_whoosh_reads_it(index: WhooshIndex) -> None:
    searcher = index._current()
    leaves = list(searcher.reader().leaf_readers())
    assert len(leaves) == 2 and any(r.has_deletions() for r, _ in leaves)
    lists = longest = 0
    for reader, _ in leaves:
        assert isinstance(reader._terms, W3TermsReader)  # read_term reads the term's own bytes
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)
            if isinstance(matcher, FilterMatcher):
                matcher = matcher.child
                matcher.reset()
            want_ids, want_weights = _walk(matcher)
            if isinstance(matcher, W3LeafMatcher):  # not inlined: the fast path must read it
                lists += 1
                longest = max(longest, len(want_ids))
                length = matcher._length[0]
                raw = read_w3(matcher._postfile.get(matcher._startoffset, length), False)
                assert raw is not None, (fieldname, text)
                assert raw[0].tolist() == want_ids, (fieldname, text)
                assert np.allclose(raw[1], want_weights), (fieldname, text)
            ids, weights = read_term(reader, fieldname, text)
            assert ids.tolist() == want_ids, (fieldname, text)
            assert np.allclose(weights, want_weights), (fieldname, text)
    assert lists > 100 and longest > 128  # lists of one block and of several were read


def test_a_list_not_laid_out_as_expected_is_left_to_whoosh() -> None:
    assert read_w3(b"", False) is None
    assert read_w3(b"XXXX\x00\x00\x00\x10" + b"\x00" * 16, False) is None


def _whoosh_scores(searcher: Any, query: Any) -> dict[int, float]:
    found = {}
    for sub, offset in searcher.leaf_searchers():
        matcher = query.matcher(sub, searcher.context())
        while matcher.is_active():
            found[matcher.id() + offset] = matcher.score()
            matcher.next()
    return found


QUERIES = [
    Q.Term("body_fr", "imprim"),
    Q.Term("title_fr", "wif", boost=0.6),
    Q.Or(
        [Q.Term("title_fr", "box"), Q.Term("body_fr", "box"), Q.Term("body_fr", "routeur", boost=2)]
    ),
    Q.And(
        [
            Q.Or([Q.Term("title_fr", "factur"), Q.Term("body_fr", "factur")]),
            Q.Or([Q.Term("body_fr", "rembours"), Q.Term("body_fr", "colis", boost=0.6)]),
        ]
    ),
    Q.And([Q.Term("title_fr", "encre"), Q.NullQuery]),
    Q.Or([Q.Phrase("body_fr", ["mot", "pass"], slop=1, boost=2.0), Q.Term("title_fr", "mot")]),
    Q.And([Q.Prefix("words_fr", "cart"), Q.Term("body_fr", "papi")]),
    Q.Term("body_fr", "absent"),
    Q.Term("status", "published"),
]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q)[:60])
def test_array_scores_are_the_scores_whoosh_gives(index: WhooshIndex, query: Any) -> None:
    searcher = index._current()
    scorer = ArrayScorer(searcher, SegmentCache())
    result = dense(scorer.evaluate(query), scorer.size)
    expected = _whoosh_scores(searcher, query)
    assert sorted(np.flatnonzero(result.matched).tolist()) == sorted(expected)
    for docnum, score in expected.items():
        assert result.scores[docnum] == pytest.approx(score, rel=1e-6)
    empty = query in (QUERIES[4], QUERIES[7])  # an And with the null query; a word not there
    assert bool(expected) != empty  # so that each comparison says something


def test_cached_postings_stay_within_their_budget(index: WhooshIndex) -> None:
    searcher = index._current()
    reader = next(r for r, _ in searcher.reader().leaf_readers())
    cache = SegmentCache(budget_bytes=8_000)
    first = cache.postings(reader, "body_fr", b"imprim")
    assert cache.postings(reader, "body_fr", b"imprim") is first  # kept
    for word in ("papi", "encre", "box", "wif", "factur", "colis", "routeur", "batter"):
        cache.postings(reader, "body_fr", word.encode())
        assert cache.postings_bytes <= 8_000
    assert cache.postings(reader, "body_fr", b"imprim") is not first  # pushed out
    cache.keep_only(set())
    assert cache.postings_bytes == 0


def test_a_page_is_best_first_with_ties_in_document_order() -> None:
    scores = np.array([1.0, 3.0, 2.0, 3.0, 0.5, 2.0])
    mask = np.array([True, True, True, True, False, True])
    assert top(scores, mask, 0, 3)[0].tolist() == [1, 3, 2]
    page, total = top(scores, mask, 3, 3)
    assert page.tolist() == [5, 0] and total == 5
    assert top(scores, mask, 9, 3)[0].tolist() == []
    many = np.repeat(np.arange(50.0), 3)
    docnums, total = top(many, np.ones(len(many), dtype=bool), 2, 4)
    assert total == 150 and docnums.tolist() == [149, 144, 145, 146]


def test_threads_scoring_on_one_searcher_at_once_read_what_one_thread_reads(
    index: WhooshIndex,
) -> None:
    """Searches share one searcher: nothing they read may depend on a shared file position."""
    from concurrent.futures import ThreadPoolExecutor

    searcher = index._current()
    terms_only = [q for q in QUERIES if "Phrase" not in repr(q) and "Prefix" not in repr(q)]

    def answers(_: int) -> list[tuple[list[int], list[float]]]:
        scorer = ArrayScorer(searcher, SegmentCache())  # nothing decoded: every list is read
        out = []
        for query in terms_only:
            found = dense(scorer.evaluate(query), scorer.size)
            docnums = np.flatnonzero(found.matched)
            out.append((docnums.tolist(), found.scores[docnums].round(9).tolist()))
        return out

    serial = answers(0)
    assert sum(len(ids) for ids, _ in serial) > 100
    with ThreadPoolExecutor(8) as pool:
        assert all(found == serial for found in pool.map(answers, range(48)))
