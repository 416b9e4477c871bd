"""Knowledge base pages for agents: search and list, read, write with a preview, revisions,
translations; and "turn this solved ticket into a draft article" from the ticket page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from agents_ui.account import me
from agents_ui.blueprint import bp, role_required
from agents_ui.kb_forms import LOCALE_LABELS, STATUS_LABELS, VISIBILITY_LABELS, ArticleForm
from helpdesk.auth.permissions import KB_WRITE
from helpdesk.errors import APIError
from helpdesk.extensions import db
from helpdesk.pagination import BadCursor
from kb import service
from kb.indexing import get_index
from kb.markdown import render
from kb.models import Article
from kb.search import SearchQuery

PAGE = 25


def _category_choices() -> list[tuple[str, str]]:
    locale = str(get_locale() or "en")
    return [(c.slug, c.name(locale)) for c in service.categories(db.session)]


def kb_labels() -> dict[str, Any]:
    return {"status": STATUS_LABELS, "visibility": VISIBILITY_LABELS, "locale": LOCALE_LABELS}


@bp.get("/kb")
@login_required
def kb_list() -> ResponseReturnValue:
    """Search (any words; typos and accents forgiven) or, with no words, the latest changes."""
    q = request.args.get("q", "").strip()[:200]
    raw_locale = request.args.get("locale", "")
    locale = raw_locale if raw_locale in LOCALE_LABELS else None
    raw_status = request.args.get("status", "")
    status = raw_status if raw_status in STATUS_LABELS else None
    category = request.args.get("category", "")[:80] or None
    cursor = request.args.get("cursor") or None
    results: list[Any] = []
    rows: list[Article] = []
    next_url = None
    corrected: tuple[str, ...] = ()
    if q:
        page = get_index().search(
            SearchQuery(
                text=q,
                locale=locale,
                category=category,
                statuses=(status,) if status else ("published", "draft"),
                visibilities=("internal", "public"),
                limit=PAGE,
            )
        )
        results = [(h, Markup(h.snippet)) for h in page.hits]  # noqa: S704 - escaped by kb.text.snippet
        corrected = page.corrected
    else:
        try:
            rows, next_cursor = service.list_articles(
                db.session,
                locale=locale,
                statuses=[status] if status else [],
                category=category,
                cursor=cursor,
                limit=PAGE,
            )
        except BadCursor:
            rows, next_cursor = [], None
        if next_cursor:
            next_url = url_for(
                "console.kb_list",
                locale=locale,
                status=status,
                category=category,
                cursor=next_cursor,
            )
    return render_template(
        "kb/list.html",
        q=q,
        locale=locale or "",
        status=status or "",
        category=category or "",
        categories=_category_choices(),
        results=results,
        rows=rows,
        corrected=corrected,
        next_url=next_url,
        first_url=url_for("console.kb_list", locale=locale, status=status, category=category)
        if cursor
        else None,
        kb=kb_labels(),
    )


@bp.get("/kb/<int:article_id>")
@login_required
def kb_article(article_id: int) -> ResponseReturnValue:
    article = service.get_article(db.session, article_id)
    return render_template(
        "kb/article.html",
        article=article,
        html=Markup(render(article.body)),  # noqa: S704 - sanitised by nh3 in kb.markdown
        translations=service.translations(db.session, article),
        missing_locales=[
            loc
            for loc in LOCALE_LABELS
            if loc != article.locale
            and loc not in {t.locale for t in service.translations(db.session, article)}
        ],
        kb=kb_labels(),
        category_names=dict(_category_choices()),
    )


def _render_form(
    form: ArticleForm, article: Article | None, status: int = 200, preview: str | None = None
) -> ResponseReturnValue:
    original = None
    if form.translation_of.data and str(form.translation_of.data).isdigit():
        original = db.session.get(Article, int(form.translation_of.data))
    return (
        render_template(
            "kb/edit.html",
            form=form,
            article=article,
            original=original,
            preview=Markup(preview) if preview is not None else None,  # noqa: S704 - nh3-sanitised
        ),
        status,
    )


def _tags(raw: str | None) -> list[str]:
    return [t for t in (raw or "").split(",") if t.strip()]


@bp.route("/kb/new", methods=["GET", "POST"])
@role_required(*KB_WRITE)
def kb_new() -> ResponseReturnValue:
    form = ArticleForm(categories=_category_choices())
    if request.method == "GET":
        form.locale.data = request.args.get("locale") or str(get_locale() or "fr")
        translation_of = request.args.get("translation_of", "")
        if translation_of.isdigit():
            original = service.get_article(db.session, int(translation_of))
            form.translation_of.data = translation_of
            form.categories.data = original.category_slugs
            form.visibility.data = original.visibility.value
            form.tags.data = ", ".join(original.tags or [])
        return _render_form(form, None)
    if not form.validate_on_submit():
        return _render_form(form, None, 400)
    if form.preview.data:
        return _render_form(form, None, preview=render(form.body.data or ""))
    try:
        article = service.create_article(
            db.session,
            title=form.title.data or "",
            body=form.body.data or "",
            locale=form.locale.data,
            status=form.status.data,
            visibility=form.visibility.data,
            categories=form.categories.data or [],
            tags=_tags(form.tags.data),
            author=me(),
            translation_of=int(form.translation_of.data) if form.translation_of.data else None,
            note=form.note.data or "",
        )
    except APIError as exc:
        db.session.rollback()
        flash(_("The article was not saved: %(reason)s", reason=_reason(exc)), "error")
        return _render_form(form, None, exc.status)
    flash(_("Article saved."), "success")
    return redirect(url_for("console.kb_article", article_id=article.id))


def _reason(exc: APIError) -> str:
    if exc.fields and "locale" in exc.fields:
        return str(_("this article already has a translation in that language"))
    if exc.fields and "categories" in exc.fields:
        return str(_("a chosen category no longer exists"))
    return exc.message


@bp.route("/kb/<int:article_id>/edit", methods=["GET", "POST"])
@role_required(*KB_WRITE)
def kb_edit(article_id: int) -> ResponseReturnValue:
    article = service.get_article(db.session, article_id)
    if request.method == "GET":
        form = ArticleForm(
            formdata=None,
            categories=_category_choices(),
            title=article.title,
            body=article.body,
            locale=article.locale,
            status=article.status.value,
            visibility=article.visibility.value,
            tags=", ".join(article.tags or []),
        )
        form.categories.data = article.category_slugs
        return _render_form(form, article)
    form = ArticleForm(categories=_category_choices())
    if not form.validate_on_submit():
        return _render_form(form, article, 400)
    if form.preview.data:
        return _render_form(form, article, preview=render(form.body.data or ""))
    before = article.version
    try:
        service.update_article(
            db.session,
            article,
            actor=me(),
            note=form.note.data or "",
            title=form.title.data,
            body=form.body.data or "",
            locale=form.locale.data,
            status=form.status.data,
            visibility=form.visibility.data,
            categories=form.categories.data or [],
            tags=_tags(form.tags.data),
        )
    except APIError as exc:
        db.session.rollback()
        flash(_("The article was not saved: %(reason)s", reason=_reason(exc)), "error")
        return _render_form(form, article, exc.status)
    if article.version == before:
        flash(_("Nothing to change."), "info")
    else:
        flash(_("Article saved."), "success")
    return redirect(url_for("console.kb_article", article_id=article.id))


@bp.get("/kb/<int:article_id>/revisions")
@login_required
def kb_revisions(article_id: int) -> ResponseReturnValue:
    article = service.get_article(db.session, article_id)
    return render_template(
        "kb/revisions.html",
        article=article,
        revisions=service.revisions(db.session, article),
        kb=kb_labels(),
    )


@bp.post("/tickets/<int:ticket_id>/kb-draft")
@role_required(*KB_WRITE)
def kb_draft_from_ticket(ticket_id: int) -> ResponseReturnValue:
    try:
        article = service.draft_from_ticket(db.session, ticket_id=ticket_id, actor=me())
    except APIError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(_("Only a solved ticket can become an article."), "error")
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    flash(_("Draft article created from the ticket: rewrite it, then publish it."), "success")
    return redirect(url_for("console.kb_edit", article_id=article.id))
