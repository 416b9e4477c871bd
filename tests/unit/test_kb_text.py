"""Query reading, folding, snippets, synonyms and Markdown sanitising (no database, no index)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kb.markdown import render
from kb.synonyms import expand
from kb.text import MAX_TERMS, edit_distance, fold, parse_query, snippet, typo_edits, words


def test_fold_drops_accents_and_case() -> None:
    assert fold("Écran Noël cœur") == "ecran noel coeur"


def test_words_drop_french_elisions() -> None:
    assert words("L'imprimante ne s'allume plus") == ["imprimante", "ne", "allume", "plus"]


def test_parse_query_reads_phrases_prefixes_and_ignores_operators() -> None:
    q = parse_query('"ne s\'allume plus" imprim* AND (papier OR NOT encre)')
    assert q.phrases == (("ne", "allume", "plus"),)
    assert q.terms == ("imprim", "papier", "encre")
    assert q.prefixes == {"imprim"}


def test_parse_query_of_nothing_or_punctuation_is_empty() -> None:
    for raw in (None, "", "   ", '"', "()[]{}*?", "AND OR NOT"):
        assert parse_query(raw).empty


def test_parse_query_bounds_the_number_of_terms() -> None:
    q = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert len(q.terms) == MAX_TERMS


@given(st.text(max_size=300))
def test_parse_query_never_fails_and_yields_only_word_characters(raw: str) -> None:
    q = parse_query(raw)
    for w in q.all_words():
        assert w and all(c.isalnum() for c in w)


def test_snippet_escapes_and_marks() -> None:
    text = "Avant <b>gras</b> puis l'Imprimante & le câble."
    out = snippet(text, ("imprimante", "cable"))
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert "<mark>Imprimante</mark>" in out and "<mark>câble</mark>" in out
    assert "&amp;" in out


def test_snippet_centres_on_a_late_match() -> None:
    text = "intro " * 100 + "the router light"
    out = snippet(text, ("router",), width=80)
    assert out.startswith("…") and "<mark>router</mark>" in out


def test_synonyms_are_symmetric_and_per_locale() -> None:
    assert "routeur" in expand("box", "fr")
    assert "box" in expand("routeur", "fr")
    assert "invoice" in expand("bill", "en")
    assert expand("bill", "fr") == ()


def test_markdown_is_rendered_and_sanitised() -> None:
    html = render(
        "# Titre\n\n**gras** [lien](https://example.org) [x](javascript:alert(1))\n\n"
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>"
    )
    assert "<h1>Titre</h1>" in html and "<strong>gras</strong>" in html
    assert 'href="https://example.org"' in html and "noopener" in html
    # Raw HTML is shown as text, never as markup; a javascript: link is not made a link.
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_corrections_are_vetted_by_edit_distance() -> None:
    # What PostgreSQL's trigram candidates must pass: `refnd` may become `refund`, not `ref`.
    assert edit_distance("refnd", "refund") == 1 <= typo_edits("refnd")
    assert edit_distance("refnd", "ref") == 2 > typo_edits("refnd")
    assert edit_distance("rembourssement", "remboursement") == 1
    assert typo_edits("rembourssement") == 2
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "abc") == 0
    assert edit_distance("kitten", "sitting") == edit_distance("sitting", "kitten") == 3
