# ruff: noqa: F811 - pytest fixtures are imported, then named as test arguments
"""One contract for every search backend: each test runs on Whoosh and on PostgreSQL.

Articles go through the service, so these also check that an article is indexed once its
transaction commits (by the task, eager in tests) and is findable by the very next query.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import update

from helpdesk.extensions import db
from kb import indexing, service
from kb.models import Article
from kb.search import SearchIndex, SearchQuery
from kb.search.whoosh import WhooshIndex
from tests.functional.kb_fixtures import backend, index, kb_search, settings  # noqa: F401


def make(**kwargs: Any) -> Article:
    kwargs.setdefault("locale", "en")
    kwargs.setdefault("status", "published")
    kwargs.setdefault("visibility", "public")
    kwargs.setdefault("body", "")
    return service.create_article(db.session, **kwargs)


def ids(index: SearchIndex, text: str, **kwargs: Any) -> list[int]:
    return [h.id for h in index.search(SearchQuery(text=text, **kwargs)).hits]


def test_a_published_article_is_found_by_the_next_query(index: SearchIndex) -> None:
    article = make(title="Router keeps rebooting", body="Unplug it for thirty seconds.")
    assert ids(index, "rebooting") == [article.id]


def test_changes_and_deletions_reach_the_index(index: SearchIndex) -> None:
    article = make(title="Voicemail code", body="Dial 888.")
    service.update_article(db.session, article, actor=None, title="Answerphone code")
    assert ids(index, "answerphone") == [article.id]
    assert ids(index, "voicemail") == []
    service.archive(db.session, article, actor=None)
    assert ids(index, "answerphone") == []
    assert ids(index, "answerphone", statuses=("archived",)) == [article.id]
    service.delete_article(db.session, article)
    assert ids(index, "answerphone", statuses=("archived",)) == []


def test_a_rollback_indexes_nothing(index: SearchIndex) -> None:
    db.session.add(Article(title="Never committed", body="", locale="en", tags=[]))
    db.session.flush()
    db.session.rollback()
    assert ids(index, "committed") == []


def test_filters_by_locale_category_visibility_and_status(index: SearchIndex) -> None:
    service.ensure_category(db.session, slug="tv", name_fr="Télé", name_en="TV")
    fr = make(title="Télécommande en panne", locale="fr", categories=["tv"])
    en = make(title="Remote control broken télécommande", locale="en")
    internal = make(title="Télécommande: procédure interne", locale="fr", visibility="internal")
    draft = make(title="Télécommande brouillon", locale="fr", status="draft")
    assert set(ids(index, "telecommande", locale="fr")) == {fr.id, internal.id}
    assert ids(index, "telecommande", locale="fr", visibilities=("public",)) == [fr.id]
    assert ids(index, "telecommande", locale="fr", category="tv") == [fr.id]
    assert ids(index, "telecommande", locale="fr", statuses=("draft",)) == [draft.id]
    assert en.id in ids(index, "remote")


def test_the_title_weighs_more_than_the_body(index: SearchIndex) -> None:
    body_only = make(title="Line problems", body="Sometimes the modem needs a new filter.")
    in_title = make(title="Modem problems", body="Sometimes the line needs a new filter.")
    assert ids(index, "modem")[:2] == [in_title.id, body_only.id]


def test_every_word_first_then_some_and_paging_never_repeats(index: SearchIndex) -> None:
    in_title = make(title="Voicemail greeting reset", body="Press 9.")
    in_body = make(title="Greeting", body="To reset a voicemail greeting, press 9.")
    some = [make(title=f"Voicemail number {n}", body="Dial 888.") for n in range(3)]
    found = ids(index, "voicemail greeting reset", limit=10)
    assert found[:2] == [in_title.id, in_body.id]
    assert set(found[2:]) == {a.id for a in some}
    page = index.search(SearchQuery(text="voicemail greeting reset", limit=10))
    assert page.total == 5
    pages = [ids(index, "voicemail greeting reset", limit=2, offset=o) for o in (0, 2, 4)]
    assert [i for p in pages for i in p] == found
    # A word no article has does not empty the tiers that need every word.
    assert ids(index, "voicemail greeting reset zzqxv")[:2] == [in_title.id, in_body.id]


def test_french_stemming_accents_and_elisions(index: SearchIndex) -> None:
    article = make(title="L'écran reste noir", body="Les écrans externes aussi.", locale="fr")
    for query in ("ecran", "écrans", "ECRANS", "l'écran", "noir"):
        assert ids(index, query, locale="fr") == [article.id], query


def test_english_stemming(index: SearchIndex) -> None:
    article = make(title="Printing invoices", body="The printer prints each invoice.")
    for query in ("invoice", "printed", "prints"):
        assert ids(index, query, locale="en") == [article.id], query


def test_typo_tolerance(index: SearchIndex) -> None:
    article = make(title="Printer offline", body="Restart the printer.")
    make(title="Billing address", body="Change it in your account.")
    page = index.search(SearchQuery(text="priter", locale="en"))
    assert [h.id for h in page.hits] == [article.id]
    assert "printer" in page.corrected


def test_two_swapped_letters_are_one_typo(index: SearchIndex) -> None:
    article = make(title="Payer sa facture", body="Par carte bancaire.", locale="fr")
    make(title="Changer de forfait", body="Depuis votre espace client.", locale="fr")
    page = index.search(SearchQuery(text="factrue", locale="fr"))
    assert [h.id for h in page.hits] == [article.id]
    assert "facture" in page.corrected


def test_hyphenated_and_joined_spellings_meet(index: SearchIndex) -> None:
    hyphenated = make(title="Le Wi-Fi ne marche plus", body="Redémarrez la box.", locale="fr")
    joined = make(title="Mot de passe", body="Le code wifi est sous la box.", locale="fr")
    english = make(title="Set up e-mail on a phone", body="Use the mail app.")
    for query in ("wifi", "Wi-Fi", "wi-fi", "WIFI"):
        assert sorted(ids(index, query, locale="fr")) == [hyphenated.id, joined.id], query
    assert ids(index, "wifi", locale="fr")[0] == hyphenated.id  # the title match first
    assert ids(index, "email setup", locale="en")[0] == english.id


def test_a_phrase_ranks_words_together_first(index: SearchIndex) -> None:
    apart = make(title="Jam sessions", body="Paper cups and a jam jar for the break room.")
    together = make(title="Tray problems", body="A paper jam blocks the tray.")
    found = ids(index, '"paper jam"')
    assert found[0] == together.id
    assert apart.id not in found[:1]


def test_snippets_are_escaped_and_highlighted(index: SearchIndex) -> None:
    make(title="Script kiddies", body="Never paste <script>alert(1)</script> into the router page.")
    hit = index.search(SearchQuery(text="router")).hits[0]
    assert "<mark>router</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;" in hit.snippet


def test_pagination_and_exclusion(index: SearchIndex) -> None:
    made = [make(title=f"Fibre box number {i}", body="fibre") for i in range(7)]
    first = index.search(SearchQuery(text="fibre", limit=3))
    second = index.search(SearchQuery(text="fibre", limit=3, offset=3))
    assert first.total >= 7  # an upper bound when the page is full
    assert index.search(SearchQuery(text="fibre", limit=10)).total == 7
    assert len(first.hits) == 3 and len(second.hits) == 3
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    excluded = ids(index, "fibre", limit=10, exclude_ids=(made[0].id,))
    assert made[0].id not in excluded and len(excluded) == 6


def test_an_empty_query_lists_the_filtered_articles(index: SearchIndex) -> None:
    a = make(title="One", locale="fr")
    make(title="Two", locale="en")
    assert ids(index, "", locale="fr") == [a.id]


def test_check_reports_missing_and_stale_entries_and_reindex_repairs(index: SearchIndex) -> None:
    a = make(title="Parental controls", body="Profiles per child.")
    b = make(title="Guest network", body="Separate devices.")
    assert indexing.check(db.session, index).ok
    # Changed behind the service's back: the index still holds version 1.
    db.session.execute(update(Article).where(Article.id == a.id).values(version=5))
    db.session.commit()
    index.delete([b.id])
    report = indexing.check(db.session, index)
    assert report.stale == [a.id] and report.missing == [b.id]
    assert indexing.rebuild(db.session, index, batch=1) == 2
    assert indexing.check(db.session, index).ok
    assert ids(index, "guest") == [b.id]
    assert ids(index, "parental") == [a.id]
    if isinstance(index, WhooshIndex):
        # Written one article per batch, read as one segment.
        assert index._current().reader().is_atomic()


ODD = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            ['"', "'", "(", ")", "[", "]", "{", "}", "AND", "OR", "NOT", "*", "?", "~", "^",
             ":", "\\", "-", "+", "!", "&", "|", "<->", ":*", "imprim*", "é", "", " ", "\x00",
             "title:", "ET", "OU"]
        ),
        max_size=12,
    ).map("".join),
)  # fmt: skip


@hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=ODD, locale=st.sampled_from([None, "fr", "en"]))
def test_any_query_string_gets_an_answer(index: SearchIndex, text: str, locale: str | None) -> None:
    """Whatever surrounds it, a word the article holds still finds it, in its locale only; the
    odd text never raises nor finds an article that is not there."""
    if not getattr(index, "_seeded", None):
        index._seeded = make(  # type: ignore[attr-defined]
            title="Imprimante (bourrage) AND papier",
            body='Texte "entre guillemets" [1]',
            locale="fr",
        ).id
    seeded: int = index._seeded  # type: ignore[attr-defined]
    alone = index.search(SearchQuery(text=text, locale=locale))
    assert {h.id for h in alone.hits} <= {seeded}
    assert alone.total == len(alone.hits)
    found = ids(index, f"{text} imprimante", locale=locale)
    assert found == ([] if locale == "en" else [seeded])


EVERY = {"fr", "en"}  # a query with no word in it lists the filtered articles, as "" does


@pytest.mark.parametrize(
    ("text", "in_french", "anywhere"),
    [
        ('"', {"fr"}, EVERY),
        ("((", {"fr"}, EVERY),
        ("AND", {"fr"}, EVERY),  # an operator of a query language is no word to look for
        ("NOT OR", {"fr"}, EVERY),
        ("*", {"fr"}, EVERY),
        ("imprim*", {"fr"}, {"fr"}),
        ('"unclosed phrase', set(), set()),
        ('"imprimante bourrage', {"fr"}, {"fr"}),  # an unclosed quote still looks for the words
        ("[]", {"fr"}, EVERY),
        ("", {"fr"}, EVERY),
        ("a" * 600, set(), set()),
    ],
)
def test_named_odd_queries_get_an_answer(
    index: SearchIndex, text: str, in_french: set[str], anywhere: set[str]
) -> None:
    made = {
        "fr": make(title="Imprimante AND papier", body="bourrage", locale="fr").id,
        "en": make(title="Router lights", body="Green is fine.", locale="en").id,
    }
    for locale, expected in (("fr", in_french), (None, anywhere)):
        page = index.search(SearchQuery(text=text, locale=locale))
        assert {h.id for h in page.hits} == {made[k] for k in expected}, locale
        assert page.total == len(page.hits)


def test_a_repeated_postgresql_search_is_planned_afresh(index: SearchIndex, kb_search: str) -> None:
    """psycopg prepares a statement run five times, and PostgreSQL then moves a prepared ranking
    statement to a generic plan that evaluates `to_tsquery` for every match: searches must not be
    prepared, and must leave the pooled connection's own setting as they found it."""
    if kb_search != "postgresql":
        pytest.skip("PostgreSQL's plans")
    from sqlalchemy import create_engine, text

    from kb.search.postgres import PostgresIndex

    make(title="Printer offline", body="Restart the printer.")
    engine = create_engine(db.engine.url, pool_size=1, max_overflow=0)
    try:
        one = PostgresIndex(engine)
        for _ in range(12):
            assert one.search(SearchQuery(text="printer")).total == 1
        with engine.connect() as conn:
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
            threshold = conn.connection.driver_connection.prepare_threshold  # type: ignore[union-attr]
        assert prepared == 0
        assert threshold == 5
    finally:
        engine.dispose()


def test_a_word_searched_before_any_article_had_it_is_found_once_one_does(
    index: SearchIndex,
) -> None:
    router = make(title="Router lights", body="Green is fine.")
    assert ids(index, "zebrafish") == []
    assert ids(index, "zebrafish router") == [router.id]
    article = make(title="Zebrafish tank heater", body="Unplug it first.")
    assert ids(index, "zebrafish") == [article.id]
    assert set(ids(index, "zebrafish router")) == {article.id, router.id}
