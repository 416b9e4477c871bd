# ruff: noqa: F811 - pytest fixtures are imported, then named as test arguments
"""Suggested articles, on both search backends: ranked by score, the weak ones left out, found
in the language a ticket is written in as well as the customer's, snippets without Markdown."""

from __future__ import annotations

from typing import Any

from helpdesk.extensions import db
from kb import service, suggestions
from kb.models import Article
from kb.search import SearchIndex
from tests.functional.kb_fixtures import backend, index, kb_search, settings  # noqa: F401


def make(**kwargs: Any) -> Article:
    kwargs.setdefault("locale", "fr")
    kwargs.setdefault("status", "published")
    kwargs.setdefault("visibility", "public")
    kwargs.setdefault("body", "")
    return service.create_article(db.session, **kwargs)


def test_suggestions_are_ranked_by_score_and_weak_ones_left_out(index: SearchIndex) -> None:
    power = make(
        title="L'imprimante ne s'allume plus",
        body="Vérifiez le câble d'alimentation de l'imprimante, puis maintenez le bouton.",
    )
    # Every word of the text, once each, deep in a long body: the strict tier, a weak score.
    mention = make(
        title="Inventaire du matériel",
        body="Liste des équipements du siège, bureau par bureau. " * 20
        + "Une imprimante, un câble, un écran qui s'allume.",
    )
    hours = make(title="Horaires du service", body="Nous répondons le soir jusqu'à 20 h.")
    hits = suggestions.suggest(
        db.session, text="Mon imprimante ne s'allume plus, câble vérifié, hier soir", locale="fr"
    )
    found = [h.id for h in hits]
    assert found[0] == power.id, [(h.title, h.score) for h in hits]
    assert hours.id not in found, [(h.title, h.score) for h in hits]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert mention.id not in found[:1]


def test_a_ticket_written_in_another_language_than_the_customers(
    index: SearchIndex, ticket_factory: Any, customer_factory: Any
) -> None:
    french = make(title="L'imprimante ne s'allume plus", body="Vérifiez le câble.")
    english = make(
        title="The printer does not turn on",
        body="Check the power cable.",
        locale="en",
        translation_of=french.id,
    )
    customer = customer_factory(name="Jean Dupont", language="fr")
    ticket = ticket_factory(
        requester_id=customer.id,
        subject="My printer does not turn on",
        description="It is dead since yesterday, the light is off.",
    )
    hits = suggestions.for_ticket(db.session, ticket_id=ticket.id)
    # Found through the English words, and only once for the two translations.
    assert [h.id for h in hits] == [english.id], [(h.id, h.title) for h in hits]
    both = suggestions.suggest(
        db.session, text="imprimante printer allume turn", locale="fr", also=("en",)
    )
    assert [h.id for h in both] == [french.id]  # the customer's language
    alone = make(title="Paper jam in the tray", body="Open the tray.", locale="en")
    ticket = ticket_factory(requester_id=customer.id, subject="The paper is jammed in the tray")
    assert [h.id for h in suggestions.for_ticket(db.session, ticket_id=ticket.id)] == [alone.id]


def test_suggestion_snippets_carry_no_markdown(index: SearchIndex) -> None:
    make(
        title="Geste commercial : barème",
        body="## Barème\n\n| situation | geste |\n|---|---|\n| **technicien absent** | 20 € |\n\n"
        "1. Saisir le geste dans l'[outil](https://example.com/outil) de *facturation*.\n"
        "> Voir aussi `remboursement`.",
    )
    hits = suggestions.suggest(db.session, text="technicien absent geste", locale="fr")
    assert hits
    snippet = hits[0].snippet
    for raw in ("**", "|", "---", "##", "](", "`", "&gt;", "1. "):
        assert raw not in snippet, (raw, snippet)
    assert "outil de facturation" in snippet and "<mark>technicien</mark>" in snippet


def test_the_language_of_a_text() -> None:
    assert suggestions.written_in("My printer does not turn on, it is dead", "fr") == "en"
    assert suggestions.written_in("Mon imprimante est en panne depuis hier", "en") == "fr"
    assert suggestions.written_in("Imprimante HS", "fr") == "fr"  # too little to tell
