"""How a texted survey answer reads, and the survey's words in each language."""

from __future__ import annotations

import pytest

from helpdesk.surveys.texts import Answer, language, parse_sms, text, valid_score


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("5", Answer(5, "")),
        ("  3  ", Answer(3, "")),
        ("4 merci", Answer(4, "merci")),
        ("2. trop long", Answer(2, "trop long")),
        ("4/5 bien", Answer(4, "bien")),
        ("1, jamais rappelé", Answer(1, "jamais rappelé")),
        ("5!", Answer(5, "")),
        ("3.", Answer(3, "")),
        ("3\nle technicien était en retard", Answer(3, "le technicien était en retard")),
    ],
)
def test_answers_read_as_a_score_and_a_comment(body, expected):
    assert parse_sms(body) == expected


@pytest.mark.parametrize("body", ["", "0", "6", "10", "3.5", "1er", "bonjour", "A5", "-2", "5x"])
def test_other_texts_are_not_answers(body):
    assert parse_sms(body) is None


def test_a_long_comment_is_cut():
    assert len(parse_sms("4 " + "x" * 5000).comment) == 2000


def test_scores_from_a_form():
    assert [valid_score(v) for v in ("1", "5", 3, "0", "6", "x", "", None)] == [
        1,
        5,
        3,
        None,
        None,
        None,
        None,
        None,
    ]


def test_words_in_the_customers_language_english_otherwise():
    assert language("fr") == "fr" and language("de") == "en" and language(None) == "en"
    assert text("fr", "sms_thanks", score=4) == "Merci pour votre réponse (4/5)."
    assert text("es", "sms_thanks", score=4) == "Thank you for your answer (4/5)."
    body = text("en", "mail_ticket", reference="T-10001", link="http://x/survey/abc", days=14)
    assert "T-10001" in body and "http://x/survey/abc" in body and "14 days" in body
