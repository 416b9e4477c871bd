"""The public help center: published public articles by category and by search, in French and
English, readable without signing in.

The language is in the address (`/help/fr/...`), so a link sent by SMS opens in the customer's
language whatever their browser says, and each page says which language it is in.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from markupsafe import Markup
from sqlalchemy import select

from agents_ui.blueprint import bp
from agents_ui.forms import ActionForm
from agents_ui.help_visitor import view_counts, visitor_key, vote_limit
from helpdesk.extensions import db, limiter
from kb import service
from kb.indexing import get_index
from kb.markdown import render
from kb.models import LOCALES, Article, ArticleStatus, Category, Visibility
from kb.search import SearchQuery

PAGE = 20


def _check(locale: str) -> None:
    if locale not in LOCALES:
        abort(404)
    g.page_locale = locale  # the page and its form errors in the language of its address


def _render(locale: str, template: str, **context: object) -> str:
    with force_locale(locale):
        return render_template(
            template, locale=locale, other_locale="en" if locale == "fr" else "fr", **context
        )


@bp.get("/help")
def help_home() -> ResponseReturnValue:
    best = request.accept_languages.best_match(LOCALES) or "fr"
    return redirect(url_for("console.help_index", locale=best))


@bp.get("/help/<locale>")
def help_index(locale: str) -> ResponseReturnValue:
    _check(locale)
    counts = service.category_counts(db.session, locale=locale)
    cats = [c for c in service.categories(db.session) if counts.get(c.id)]
    popular = list(
        db.session.scalars(
            select(Article)
            .where(
                Article.locale == locale,
                Article.status == ArticleStatus.PUBLISHED,
                Article.visibility == Visibility.PUBLIC,
            )
            .order_by(Article.views.desc(), Article.id.desc())
            .limit(8)
        )
    )
    return _render(locale, "help/index.html", categories=cats, counts=counts, popular=popular)


@bp.get("/help/<locale>/category/<slug>")
def help_category(locale: str, slug: str) -> ResponseReturnValue:
    _check(locale)
    category = db.session.scalar(select(Category).where(Category.slug == slug[:80]))
    if category is None:
        abort(404)
    articles = list(
        db.session.scalars(
            select(Article)
            .where(
                Article.locale == locale,
                Article.status == ArticleStatus.PUBLISHED,
                Article.visibility == Visibility.PUBLIC,
                Article.categories.any(Category.id == category.id),
            )
            .order_by(Article.title)
            .limit(500)
        )
    )
    return _render(locale, "help/category.html", category=category, articles=articles)


@bp.get("/help/<locale>/search")
def help_search(locale: str) -> ResponseReturnValue:
    _check(locale)
    q = request.args.get("q", "").strip()[:200]
    page = (
        get_index().search(
            SearchQuery(
                text=q, locale=locale, statuses=("published",), visibilities=("public",), limit=PAGE
            )
        )
        if q
        else None
    )
    results = [(h, Markup(h.snippet)) for h in page.hits] if page else []  # noqa: S704 - escaped by kb.text.snippet
    return _render(locale, "help/search.html", q=q, results=results)


def _public(locale: str, article_id: int) -> Article:
    _check(locale)
    article = db.session.get(Article, article_id)
    if (
        article is None
        or article.status is not ArticleStatus.PUBLISHED
        or article.visibility is not Visibility.PUBLIC
    ):
        abort(404)
    if article.locale != locale:
        abort(404)
    return article


@bp.get("/help/<locale>/articles/<int:article_id>")
def help_article(locale: str, article_id: int) -> ResponseReturnValue:
    article = _public(locale, article_id)
    if view_counts(article.id):
        service.record_view(db.session, article)
    translation = next(
        (
            t
            for t in service.translations(db.session, article)
            if t.status is ArticleStatus.PUBLISHED and t.visibility is Visibility.PUBLIC
        ),
        None,
    )
    return _render(
        locale,
        "help/article.html",
        article=article,
        html=Markup(render(article.body)),  # noqa: S704 - sanitised by nh3 in kb.markdown
        translation=translation,
        vote_form=ActionForm(),
    )


@bp.post("/help/<locale>/articles/<int:article_id>/vote")
@limiter.limit(vote_limit, key_func=lambda: "help-vote:" + get_remote_address())
def help_vote(locale: str, article_id: int) -> ResponseReturnValue:
    article = _public(locale, article_id)
    form = ActionForm()
    answer = request.form.get("helpful")
    if not form.validate_on_submit() or answer not in ("yes", "no"):
        abort(400)
    outcome = service.vote(db.session, article, visitor=visitor_key(), helpful=answer == "yes")
    with force_locale(locale):
        if outcome == "changed":
            flash(_("Your answer has been changed."), "success")
        else:
            flash(_("Thank you for your answer."), "success")
    return redirect(url_for("console.help_article", locale=locale, article_id=article.id))
