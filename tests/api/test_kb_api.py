"""`/api/v1/kb`: articles, revisions, translations, search and suggestions (SQLite with Whoosh;
PostgreSQL with its own full-text backend in the services tier)."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.workflow import Status

ARTICLE = {
    "title": "L'imprimante ne s'allume plus",
    "body": "Vérifiez **le câble** d'alimentation.\n\n<script>alert(1)</script>",
    "locale": "fr",
    "status": "published",
    "visibility": "public",
    "tags": ["Imprimante", "panne"],
}


def test_create_read_update_with_revisions(api):
    r = api.post("/kb/articles", json=ARTICLE)
    assert r.status_code == 201, r.get_json()
    art = r.get_json()
    assert art["version"] == 1 and art["tags"] == ["imprimante", "panne"]
    assert "<strong>le câble</strong>" in art["html"] and "<script>" not in art["html"]
    r = api.patch(
        f"/kb/articles/{art['id']}", json={"title": "Imprimante éteinte", "note": "titre"}
    )
    assert r.status_code == 200 and r.get_json()["version"] == 2
    revs = api.get(f"/kb/articles/{art['id']}/revisions").get_json()["items"]
    assert [v["version"] for v in revs] == [2, 1]
    assert revs[0]["note"] == "titre" and revs[0]["author"] == api.user.name
    assert revs[1]["title"] == ARTICLE["title"]
    listed = api.get("/kb/articles?locale=fr&status=published").get_json()
    assert [a["id"] for a in listed["items"]] == [art["id"]]


def test_translations_are_linked_both_ways(api):
    fr = api.post("/kb/articles", json=ARTICLE).get_json()
    en = api.post(
        "/kb/articles",
        json={"title": "Printer does not turn on", "locale": "en", "translation_of": fr["id"]},
    ).get_json()
    assert en["translations"] == [
        {"id": fr["id"], "locale": "fr", "title": fr["title"], "status": "published"}
    ]
    assert api.get(f"/kb/articles/{fr['id']}").get_json()["translations"][0]["id"] == en["id"]
    again = api.post(
        "/kb/articles", json={"title": "Encore", "locale": "en", "translation_of": fr["id"]}
    )
    assert again.status_code == 422 and "locale" in again.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "locale": "fr"}, "title"),
        ({"title": "x", "locale": "de"}, "locale"),
        ({"title": "x", "locale": "fr", "status": "live"}, "status"),
        ({"title": "x", "locale": "fr", "visibility": "everyone"}, "visibility"),
        ({"title": "x", "locale": "fr", "categories": ["nope"]}, "categories"),
        ({"title": "x", "locale": "fr", "translation_of": 999}, "translation_of"),
        ({"title": "x", "locale": "fr", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field(api, body, field):
    r = api.post("/kb/articles", json=body)
    assert r.status_code == 422
    assert field in r.get_json()["error"]["fields"]


def test_missing_article_is_404_and_delete_needs_a_supervisor(api, api_as):
    assert api.get("/kb/articles/12345").status_code == 404
    art = api.post("/kb/articles", json=ARTICLE).get_json()
    assert api.delete(f"/kb/articles/{art['id']}").status_code == 403
    boss = api_as("supervisor")
    assert boss.delete(f"/kb/articles/{art['id']}").status_code == 204
    assert api.get(f"/kb/articles/{art['id']}").status_code == 404


def test_search_with_snippets_filters_and_odd_text(api):
    api.post("/kb/articles", json=ARTICLE)
    api.post("/kb/articles", json={**ARTICLE, "title": "Brouillon imprimante", "status": "draft"})
    r = api.get("/kb/search?q=imprimnte&locale=fr")
    body = r.get_json()
    assert r.status_code == 200
    assert [x["title"] for x in body["results"]] == [ARTICLE["title"]]
    assert "imprimante" in body["corrected"]
    assert "<script>" not in body["results"][0]["snippet"]
    drafts = api.get("/kb/search?q=imprimante&status=draft").get_json()["results"]
    assert [x["title"] for x in drafts] == ["Brouillon imprimante"]
    for q in ['"', "((AND", "NOT", "*", ""]:
        assert api.get("/kb/search", query_string={"q": q}).status_code == 200
    bad = api.get("/kb/search?limit=500")
    assert bad.status_code == 422 and "limit" in bad.get_json()["error"]["fields"]


def test_suggestions_for_a_ticket_and_for_text(api, ticket_factory):
    art = api.post("/kb/articles", json=ARTICLE).get_json()
    api.post("/kb/articles", json={**ARTICLE, "title": "Facture trop élevée", "body": "Forfait."})
    ticket = ticket_factory(subject="Mon imprimante ne s'allume plus depuis hier")
    r = api.get(f"/kb/suggestions?ticket_id={ticket.id}")
    assert r.status_code == 200
    assert r.get_json()["results"][0]["id"] == art["id"]
    r = api.get("/kb/suggestions", query_string={"text": "imprimante éteinte", "locale": "fr"})
    assert r.get_json()["results"][0]["id"] == art["id"]
    assert api.get("/kb/suggestions?ticket_id=999999").status_code == 422
    missing = api.get("/kb/suggestions?text=x")
    assert missing.status_code == 422


def test_a_solved_ticket_becomes_a_draft_article(api, ticket_factory):
    ticket = ticket_factory(subject="Box qui redémarre", description="La box redémarre seule.")
    open_ = api.post(f"/kb/articles/from-ticket/{ticket.id}")
    assert open_.status_code == 422 and "ticket_id" in open_.get_json()["error"]["fields"]
    tickets.add_comment(
        db.session, ticket, body="Remplacez le bloc d'alimentation.", public=True,
        actor=api.user, status=Status.SOLVED,
    )  # fmt: skip
    r = api.post(f"/kb/articles/from-ticket/{ticket.id}")
    assert r.status_code == 201
    art = r.get_json()
    assert art["status"] == "draft" and art["visibility"] == "internal"
    assert art["source_ticket_id"] == ticket.id and art["locale"] == "fr"
    assert "La box redémarre seule." in art["body"]
    assert "Remplacez le bloc d'alimentation." in art["body"]


def test_kb_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/kb/articles", "/api/v1/kb/search", "/api/v1/kb/suggestions"):
        assert path in paths
