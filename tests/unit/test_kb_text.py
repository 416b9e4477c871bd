"""Query reading, folding, snippets, synonyms and Markdown sanitising (no database, no index)."""

from __future__ import annotations

import pytest
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


_ALIGNED = [*"abcdeéèêàçÉEÎîï² ,.'-_<>&", "  ", "ecran", "imprim", "cafe", "oeuvre", " fin "]


@given(
    st.lists(st.sampled_from(_ALIGNED), min_size=1, max_size=40).map("".join),
    st.lists(st.sampled_from(["ecrans", "imprimante", "cafe", "oeuvre", "fin", "ab", "ee"])),
    st.integers(10, 80),
)
def test_snippet_folding_the_text_at_once_marks_what_word_by_word_marks(
    text: str, terms: list[str], width: int
) -> None:
    """Where every character folds to one, the text is folded at once and searched by one
    expression: the extract and the marks are those the word-by-word reading finds."""
    from kb.text import _folded_at_once, _word_by_word, light_stem

    plain = " ".join(text.split())
    stems = frozenset(light_stem(t) for t in terms if len(t) > 1)
    if stems:
        assert _folded_at_once(plain, stems, width) == _word_by_word(plain, stems, width)


@given(st.sampled_from(["œ", "æ", "…", "ﬁ", "e\u0301", "Σ"]), st.text(max_size=20))
def test_snippet_reads_word_by_word_where_folding_shifts_positions(odd: str, rest: str) -> None:
    from kb.text import _folded_at_once

    assert _folded_at_once("ecran " + odd + rest, frozenset({"ecran"}), 50) is None
    out = snippet("<b>" + odd + rest + "</b> ecran", ("ecran",))
    assert "<b>" not in out and "<mark>ecran</mark>" in out


def test_snippet_marks_accented_and_capitalised_words_on_the_fast_path() -> None:
    out = snippet("Redémarrez l'ÉCRAN puis les écrans.", ("ecrans",))
    assert out == "Redémarrez l'<mark>ÉCRAN</mark> puis les <mark>écrans</mark>."
    # A ligature shifts positions: the word-by-word reading marks the same words.
    assert snippet("Cœur de l'ÉCRAN", ("ecran",)) == "Cœur de l'<mark>ÉCRAN</mark>"


def test_snippet_marks_hyphenated_compounds_on_both_paths() -> None:
    # A ligature sends the text word by word; the query's joined form marks the compound there
    # as on the fast path.
    assert snippet("Le Wi-Fi du bureau", ("wifi",)) == "Le <mark>Wi-Fi</mark> du bureau"
    assert snippet("Le Wi-Fi du cœur", ("wifi",)) == "Le <mark>Wi-Fi</mark> du cœur"
    assert snippet("Un e-mail, un œil", ("fi", "mail")) == "Un e-<mark>mail</mark>, un œil"


def test_markdown_is_reduced_to_its_words() -> None:
    from kb.text import strip_markdown

    body = (
        "# Barème\n\n| situation | geste |\n|:---|---:|\n| **absent** | 20 € |\n\n---\n\n"
        "1. Saisir dans l'[outil](https://x.test) ![capture](c.png)\n- puce\n"
        "> cité _ici_ \\*vraiment\\*\n\n```\ncode\n```\n<https://y.test>"
    )
    flat = " ".join(strip_markdown(body).split())
    assert flat == (
        "Barème situation geste absent 20 € Saisir dans l'outil capture puce cité ici "
        "*vraiment* code https://y.test"
    )
    assert strip_markdown("snake_case and <b>bold</b>") == "snake_case and <b>bold</b>"


def test_compounds_are_joined_and_swaps_are_one_edit() -> None:
    from kb.text import compounds, edit_distance, parse_query

    assert compounds("Le Wi-Fi et l'e-mail, 2026-12-06") == ["wifi", "email"]
    assert parse_query("wi-fi lent").terms == ("wifi", "lent")
    assert edit_distance("factrue", "facture") == 1
    assert edit_distance("priter", "printer") == 1


def test_a_joined_query_word_marks_its_hyphenated_form() -> None:
    from kb.text import snippet

    marked = snippet("Le Wi-Fi et l'e-mail passent par la box.", ("wifi", "email"))
    assert marked == "Le <mark>Wi-Fi</mark> et l'<mark>e-mail</mark> passent par la box."


@pytest.mark.timeout(5)
def test_a_very_long_word_is_read_once_not_once_per_letter() -> None:
    """One 200,000-letter word took minutes before (each letter a new start): work a request
    can ask for must grow with its length, not its square."""
    from kb.text import compounds, with_compounds

    assert compounds("x" * 200_000) == []
    assert with_compounds("x" * 200_000 + " Wi-Fi").endswith("\nwifi")
