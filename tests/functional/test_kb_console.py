# ruff: noqa: F811 - pytest fixtures are imported, then named as test arguments
"""Knowledge-base pages of the console and the public help center."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.workflow import Status
from kb import service
from kb.models import Article
from tests.functional.test_console import (  # noqa: F401 - fixtures
    agent,
    client,
    compiled_catalogues,
    console,
    html,
)


def article(**kwargs: Any) -> Article:
    kwargs.setdefault("locale", "fr")
    kwargs.setdefault("status", "published")
    kwargs.setdefault("visibility", "public")
    kwargs.setdefault("body", "Vérifiez le **câble**.")
    return service.create_article(db.session, **kwargs)


def test_agents_search_the_knowledge_base(console: FlaskClient) -> None:
    a = article(title="L'imprimante ne s'allume plus")
    page = html(console.get("/kb?q=imprimnte"))
    assert f'href="/kb/{a.id}"' in page
    assert "Also searched for: imprimante" in page
    empty = html(console.get("/kb?q=zzzzqqq"))
    assert "No article matches" in empty
    listing = html(console.get("/kb"))
    assert "L&#39;imprimante ne s&#39;allume plus" in listing


def test_write_preview_and_save_an_article(console: FlaskClient) -> None:
    service.ensure_category(db.session, slug="tv", name_fr="Télévision", name_en="TV")
    form = {
        "article-title": "Pas de son",
        "article-body": "# Le son\n\n<script>alert(1)</script> **Vérifiez** le câble HDMI.",
        "article-locale": "fr",
        "article-status": "published",
        "article-visibility": "public",
        "article-categories": "tv",
        "article-tags": "son, HDMI",
        "article-note": "première version",
    }
    preview = console.post("/kb/new", data={**form, "article-preview": "Preview"})
    page = html(preview)
    assert preview.status_code == 200
    assert "<h1>Le son</h1>" in page and "<strong>Vérifiez</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert db.session.query(Article).count() == 0
    saved = console.post("/kb/new", data={**form, "article-save": "Save"})
    assert saved.status_code == 302
    created = db.session.query(Article).one()
    assert created.category_slugs == ["tv"] and created.tags == ["hdmi", "son"]
    edit = console.post(
        f"/kb/{created.id}/edit",
        data={**form, "article-title": "Pas de son sur la télé", "article-save": "Save"},
    )
    assert edit.status_code == 302
    history = html(console.get(f"/kb/{created.id}/revisions"))
    assert "Version 2" in history and "Version 1" in history and "première version" in history


def test_a_bad_form_is_refused_with_the_field_named(console: FlaskClient) -> None:
    r = console.post("/kb/new", data={"article-title": "", "article-locale": "fr",
                                      "article-status": "draft", "article-visibility": "internal",
                                      "article-save": "Save"})  # fmt: skip
    assert r.status_code == 400
    assert 'aria-invalid="true"' in html(r)


def test_translations_are_linked_from_the_article_page(console: FlaskClient) -> None:
    fr = article(title="Redémarrer la box")
    page = html(console.get(f"/kb/{fr.id}"))
    assert f"/kb/new?translation_of={fr.id}&amp;locale=en" in page
    new = html(console.get(f"/kb/new?translation_of={fr.id}&locale=en"))
    assert "Redémarrer la box" in new  # the original is shown beside the form
    en = article(title="Restarting the router", locale="en", translation_of=fr.id)
    page = html(console.get(f"/kb/{fr.id}"))
    assert f'href="/kb/{en.id}"' in page and "Translate into" not in page


def test_the_ticket_page_suggests_articles_and_drafts_one_when_solved(
    console: FlaskClient, ticket_factory: Any, agent: Any
) -> None:
    a = article(title="L'imprimante ne s'allume plus")
    ticket = ticket_factory(subject="Mon imprimante ne s'allume plus")
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert "Suggested articles" in page and f'href="/kb/{a.id}"' in page
    assert "Turn this solved ticket into a draft article" not in page
    assert console.post(f"/tickets/{ticket.id}/kb-draft").status_code == 302
    assert db.session.query(Article).count() == 1  # refused: not solved
    tickets.add_comment(
        db.session, ticket, body="Changez le câble.", public=True, actor=agent,
        status=Status.SOLVED,
    )  # fmt: skip
    page = html(console.get(f"/tickets/{ticket.id}"))
    assert "Turn this solved ticket into a draft article" in page
    r = console.post(f"/tickets/{ticket.id}/kb-draft")
    assert r.status_code == 302 and re.search(r"/kb/\d+/edit$", r.headers["Location"])
    draft = db.session.query(Article).filter(Article.source_ticket_id == ticket.id).one()
    assert draft.status.value == "draft" and "Changez le câble." in draft.body


def test_the_help_center_is_public_and_bilingual(client: FlaskClient) -> None:
    service.ensure_category(db.session, slug="hardware", name_fr="Matériel", name_en="Hardware")
    fr = article(title="L'imprimante ne s'allume plus", categories=["hardware"])
    en = article(title="The printer does not turn on", locale="en", translation_of=fr.id,
                 categories=["hardware"])  # fmt: skip
    hidden = article(title="Procédure interne imprimante", visibility="internal")
    draft = article(title="Brouillon imprimante", status="draft")
    assert client.get("/help", headers={"Accept-Language": "en"}).headers["Location"] == "/help/en"
    home = html(client.get("/help/fr"))
    assert '<html lang="fr">' in home and "Matériel" in home and "Centre d'aide" in home
    results = html(client.get("/help/fr/search?q=imprimante"))
    assert f"/help/fr/articles/{fr.id}" in results
    assert "Procédure interne" not in results and "Brouillon" not in results
    page = client.get(f"/help/fr/articles/{fr.id}")
    assert page.status_code == 200 and f"/help/en/articles/{en.id}" in html(page)
    assert "<strong>câble</strong>" in html(page)
    for blocked in (hidden, draft):
        assert client.get(f"/help/fr/articles/{blocked.id}").status_code == 404
    assert client.get(f"/help/en/articles/{fr.id}").status_code == 404
    assert client.get("/help/de").status_code == 404
    category = html(client.get("/help/en/category/hardware"))
    assert "The printer does not turn on" in category and "L&#39;imprimante" not in category
    db.session.refresh(fr)
    assert fr.views == 1


def test_a_customer_votes_on_an_article(client: FlaskClient) -> None:
    a = article(title="Code PUK")
    page = html(client.get(f"/help/fr/articles/{a.id}"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"helpful": "yes"}
    if token:
        data["csrf_token"] = token.group(1)
    r = client.post(f"/help/fr/articles/{a.id}/vote", data=data)
    assert r.status_code == 302
    db.session.refresh(a)
    assert a.helpful == 1 and a.not_helpful == 0
    assert (
        client.post(f"/help/fr/articles/{a.id}/vote", data={"helpful": "maybe"}).status_code == 400
    )


def test_the_demo_articles_fill_the_help_center(client: FlaskClient) -> None:
    from kb.demo import seed_articles

    assert seed_articles(db.session) == 12
    home = html(client.get("/help/en"))
    assert "Internet and Wi-Fi" in home and "Billing" in home
    found = html(client.get("/help/fr/search?q=imprimnte"))
    assert "L&#39;imprimante ne s&#39;allume plus" in found
    internal = html(client.get("/help/fr/search?q=geste+commercial"))
    assert "barème" not in internal  # internal articles stay out of the help center


def test_a_dispatcher_cannot_write_articles_in_the_console_as_in_the_api(
    app: Flask, make_user: Any
) -> None:
    """One permission for both doors: the console once let dispatchers publish."""
    from helpdesk.auth.models import Role
    from tests.functional.test_console import SessionPerRequestClient, sign_in

    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    sign_in(client, make_user(Role.DISPATCHER))
    assert client.get("/kb/new").status_code == 403
    posted = client.post(
        "/kb/new", data={"title": "Free wifi", "body": "x", "locale": "en", "status": "published"}
    )
    assert posted.status_code == 403
    assert "New article" not in client.get("/kb").get_data(as_text=True)
