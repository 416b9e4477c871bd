"""`/api/v1/kb`: articles CRUD, revisions, translations, search with snippets, suggestions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk.api.core import current_api_user, operation
from helpdesk.api.text import Written
from helpdesk.auth import permissions
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from kb import service, suggestions
from kb.indexing import get_index
from kb.markdown import render
from kb.models import Article, ArticleRevision, ArticleStatus, Visibility
from kb.search import SearchHit, SearchQuery

bp = Blueprint("kb_api", __name__, url_prefix="/api/v1")

Locale = Literal["fr", "en"]


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Written] = Field(min_length=1, max_length=250)
    body: str = Field(default="", max_length=200_000)
    locale: Locale
    status: ArticleStatus = ArticleStatus.DRAFT
    visibility: Visibility = Visibility.INTERNAL
    categories: list[str] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=30)
    translation_of: int | None = None
    note: str = Field(default="", max_length=250)


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Written] | None = Field(default=None, min_length=1, max_length=250)
    body: str | None = Field(default=None, max_length=200_000)
    locale: Locale | None = None
    status: ArticleStatus | None = None
    visibility: Visibility | None = None
    categories: list[str] | None = Field(default=None, max_length=20)
    tags: list[str] | None = Field(default=None, max_length=30)
    note: str = Field(default="", max_length=250)


class TranslationRef(BaseModel):
    id: int
    locale: str
    title: str
    status: ArticleStatus


class ArticleOut(BaseModel):
    id: int
    title: str
    body: str
    html: str
    locale: str
    status: ArticleStatus
    visibility: Visibility
    categories: list[str]
    tags: list[str]
    version: int
    translations: list[TranslationRef]
    source_ticket_id: int | None
    views: int
    helpful: int
    not_helpful: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class ArticleSummary(BaseModel):
    id: int
    title: str
    locale: str
    status: ArticleStatus
    visibility: Visibility
    categories: list[str]
    version: int
    updated_at: datetime


class ArticleList(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None


class ArticleQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locale: Locale | None = None
    status: list[ArticleStatus] | None = None
    visibility: list[Visibility] | None = None
    category: str | None = Field(default=None, max_length=80)
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class RevisionOut(BaseModel):
    version: int
    title: str
    body: str
    status: str
    visibility: str
    note: str
    author: str | None
    created_at: datetime


class RevisionList(BaseModel):
    items: list[RevisionOut]


class SearchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(default="", max_length=500)
    locale: Locale | None = None
    category: str | None = Field(default=None, max_length=80)
    status: list[ArticleStatus] | None = None
    visibility: list[Visibility] | None = None
    limit: int = Field(default=10, ge=1, le=50)
    offset: int = Field(default=0, ge=0, le=1000)


class ResultOut(BaseModel):
    id: int
    title: str
    snippet: str = Field(description="HTML-escaped text; the matched words are wrapped in <mark>")
    score: float


class SearchOut(BaseModel):
    results: list[ResultOut]
    total: int
    corrected: list[str] = Field(description="words searched in place of unknown (misspelt) ones")
    backend: str


class SuggestionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: int | None = None
    call_sid: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=5000)
    locale: Locale | None = None
    visibility: Literal["all", "public"] = "all"
    limit: int = Field(default=5, ge=1, le=20)

    @model_validator(mode="after")
    def _one_source(self) -> SuggestionParams:
        given = [n for n in ("ticket_id", "call_sid", "text") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of ticket_id, call_sid or text")
        if self.text is not None and self.locale is None:
            raise ValueError("locale is required with text")
        return self


class SuggestionsOut(BaseModel):
    results: list[ResultOut]


def article_out(a: Article) -> ArticleOut:
    return ArticleOut(
        id=a.id,
        title=a.title,
        body=a.body,
        html=render(a.body),
        locale=a.locale,
        status=a.status,
        visibility=a.visibility,
        categories=a.category_slugs,
        tags=list(a.tags or []),
        version=a.version,
        translations=[
            TranslationRef(id=t.id, locale=t.locale, title=t.title, status=t.status)
            for t in service.translations(db.session, a)
        ],
        source_ticket_id=a.source_ticket_id,
        views=a.views,
        helpful=a.helpful,
        not_helpful=a.not_helpful,
        created_at=a.created_at,
        updated_at=a.updated_at,
        published_at=a.published_at,
    )


def _summary(a: Article) -> ArticleSummary:
    return ArticleSummary(
        id=a.id,
        title=a.title,
        locale=a.locale,
        status=a.status,
        visibility=a.visibility,
        categories=a.category_slugs,
        version=a.version,
        updated_at=a.updated_at,
    )


def _revision_out(r: ArticleRevision) -> RevisionOut:
    return RevisionOut(
        version=r.version,
        title=r.title,
        body=r.body,
        status=r.status,
        visibility=r.visibility,
        note=r.note,
        author=r.author.name if r.author else None,
        created_at=r.created_at,
    )


def _results(hits: list[SearchHit]) -> list[ResultOut]:
    return [
        ResultOut(id=h.id, title=h.title, snippet=h.snippet, score=round(h.score, 4)) for h in hits
    ]


@operation(
    bp,
    "/kb/articles",
    "GET",
    summary="List articles, newest first (filters, cursor pagination)",
    query=ArticleQuery,
    response=ArticleList,
    tag="kb",
)
def list_articles(query: ArticleQuery) -> ArticleList:
    rows, next_cursor = service.list_articles(
        db.session,
        locale=query.locale,
        statuses=[s.value for s in query.status or []],
        visibilities=[v.value for v in query.visibility or []],
        category=query.category,
        cursor=query.cursor,
        limit=query.limit,
    )
    return ArticleList(items=[_summary(a) for a in rows], next_cursor=next_cursor)


@operation(
    bp,
    "/kb/articles",
    "POST",
    summary="Create an article (optionally as the translation of another)",
    roles=permissions.KB_WRITE,
    body=ArticleCreate,
    response=ArticleOut,
    status=201,
    tag="kb",
)
def create_article(body: ArticleCreate) -> ArticleOut:
    article = service.create_article(
        db.session,
        title=body.title,
        body=body.body,
        locale=body.locale,
        status=body.status,
        visibility=body.visibility,
        categories=body.categories,
        tags=body.tags,
        translation_of=body.translation_of,
        author=current_api_user(),
        note=body.note,
    )
    return article_out(article)


@operation(
    bp, "/kb/articles/<int:article_id>", "GET", summary="One article", response=ArticleOut, tag="kb"
)
def get_article(article_id: int) -> ArticleOut:
    return article_out(service.get_article(db.session, article_id))


@operation(
    bp,
    "/kb/articles/<int:article_id>",
    "PATCH",
    summary="Change an article (each change is a new revision)",
    roles=permissions.KB_WRITE,
    body=ArticleUpdate,
    response=ArticleOut,
    tag="kb",
)
def update_article(article_id: int, body: ArticleUpdate) -> ArticleOut:
    article = service.get_article(db.session, article_id)
    changes = body.model_dump(exclude_unset=True, exclude={"note"})
    article = service.update_article(
        db.session, article, actor=current_api_user(), note=body.note, **changes
    )
    return article_out(article)


@operation(
    bp,
    "/kb/articles/<int:article_id>",
    "DELETE",
    summary="Delete an article and its revisions (archiving keeps them)",
    roles=permissions.KB_DELETE,
    status=204,
    tag="kb",
)
def delete_article(article_id: int) -> Response:
    service.delete_article(db.session, service.get_article(db.session, article_id))
    return Response(status=204)


@operation(
    bp,
    "/kb/articles/<int:article_id>/revisions",
    "GET",
    summary="An article's revision history, newest first",
    response=RevisionList,
    tag="kb",
)
def article_revisions(article_id: int) -> RevisionList:
    article = service.get_article(db.session, article_id)
    return RevisionList(items=[_revision_out(r) for r in service.revisions(db.session, article)])


@operation(
    bp,
    "/kb/articles/from-ticket/<int:ticket_id>",
    "POST",
    summary="A draft article from a solved ticket",
    roles=permissions.KB_WRITE,
    response=ArticleOut,
    status=201,
    tag="kb",
)
def article_from_ticket(ticket_id: int) -> ArticleOut:
    article = service.draft_from_ticket(db.session, ticket_id=ticket_id, actor=current_api_user())
    return article_out(article)


@operation(
    bp,
    "/kb/search",
    "GET",
    summary="Search articles: any text, filters, pagination, highlighted snippets",
    query=SearchParams,
    response=SearchOut,
    tag="kb",
)
def search(query: SearchParams) -> SearchOut:
    index = get_index()
    page = index.search(
        SearchQuery(
            text=query.q,
            locale=query.locale,
            category=query.category,
            statuses=tuple(s.value for s in query.status or [ArticleStatus.PUBLISHED]),
            visibilities=tuple(v.value for v in query.visibility or list(Visibility)),
            limit=query.limit,
            offset=query.offset,
        )
    )
    return SearchOut(
        results=_results(page.hits),
        total=page.total,
        corrected=list(page.corrected),
        backend=index.name,
    )


@operation(
    bp,
    "/kb/suggestions",
    "GET",
    summary="Suggested articles for a ticket, a call or some text, in the customer's language",
    query=SuggestionParams,
    response=SuggestionsOut,
    tag="kb",
)
def suggest(query: SuggestionParams) -> SuggestionsOut:
    visibility = ("public",) if query.visibility == "public" else suggestions.DEFAULT_VISIBILITY
    try:
        hits = _suggestions(query, visibility)
    except NotFound as exc:
        field = "ticket_id" if query.ticket_id is not None else "call_sid"
        raise ValidationFailed("nothing to suggest for", fields={field: exc.message}) from exc
    return SuggestionsOut(results=_results(hits))


def _suggestions(query: SuggestionParams, visibility: tuple[str, ...]) -> list[SearchHit]:
    if query.ticket_id is not None:
        hits = suggestions.for_ticket(
            db.session, ticket_id=query.ticket_id, limit=query.limit, visibility=visibility
        )
    elif query.call_sid is not None:
        hits = suggestions.for_call(
            db.session, call_sid=query.call_sid, limit=query.limit, visibility=visibility
        )
    elif query.text is not None and query.locale is not None:
        hits = suggestions.suggest(
            db.session,
            text=query.text,
            locale=query.locale,
            limit=query.limit,
            visibility=visibility,
        )
    else:  # the validator makes this unreachable; kept so a refactor cannot fall through
        raise ValidationFailed("nothing to suggest for", fields={"text": "required"})
    return hits
