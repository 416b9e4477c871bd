"""Every change to the knowledge base: articles, translations, revisions, votes, categories.

Each change writes the article and a revision row in one transaction and asks for the article to
be (re)indexed once that transaction commits (`kb.tasks.reindex_on_commit`): the index never
holds an article that was rolled back, and the background task always finds the row it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.auth.models import User
from helpdesk.db import DbSession, rowcount, utcnow
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.pagination import decode_cursor, encode_cursor
from kb import tasks
from kb.models import (
    LOCALES,
    Article,
    ArticleRevision,
    ArticleStatus,
    ArticleVote,
    Category,
    Visibility,
)

EDITABLE = ("title", "body", "locale", "status", "visibility", "tags", "categories")


def _clean_tags(tags: Iterable[str]) -> list[str]:
    return sorted({t.strip().lower() for t in tags if t and t.strip()})[:30]


def _categories(session: DbSession, slugs: Iterable[str]) -> list[Category]:
    wanted = list(dict.fromkeys(s.strip().lower() for s in slugs if s and s.strip()))
    if not wanted:
        return []
    found = {c.slug: c for c in session.scalars(select(Category).where(Category.slug.in_(wanted)))}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise ValidationFailed(
            "unknown category", fields={"categories": "unknown: " + ", ".join(missing)}
        )
    return [found[s] for s in wanted]


def _check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise ValidationFailed("unsupported locale", fields={"locale": "expected fr or en"})
    return locale


def _revise(session: DbSession, article: Article, actor: User | None, note: str) -> None:
    session.add(
        ArticleRevision(
            article_id=article.id,
            version=article.version,
            title=article.title,
            body=article.body,
            status=ArticleStatus(article.status).value,
            visibility=Visibility(article.visibility).value,
            note=note[:250],
            author_id=actor.id if actor else None,
        )
    )


def create_article(
    session: DbSession,
    *,
    title: str,
    body: str = "",
    locale: str,
    status: ArticleStatus | str = ArticleStatus.DRAFT,
    visibility: Visibility | str = Visibility.INTERNAL,
    categories: Iterable[str] = (),
    tags: Iterable[str] = (),
    author: User | None = None,
    translation_of: int | None = None,
    source_ticket_id: int | None = None,
    note: str = "",
) -> Article:
    """A new article; `translation_of` links it to another article as its translation."""
    _check_locale(locale)
    group: int | None = None
    if translation_of is not None:
        original = get_article(session, translation_of, field="translation_of")
        if original.locale == locale or any(
            a.locale == locale for a in translations(session, original)
        ):
            raise ValidationFailed(
                "a translation in this language already exists",
                fields={"locale": f"article {translation_of} already has a {locale} version"},
            )
        if original.translation_group is None:
            original.translation_group = original.id
        group = original.translation_group
    now = utcnow()
    article = Article(
        title=title.strip(),
        body=body,
        locale=locale,
        status=ArticleStatus(status),
        visibility=Visibility(visibility),
        tags=_clean_tags(tags),
        categories=_categories(session, categories),
        author_id=author.id if author else None,
        translation_group=group,
        source_ticket_id=source_ticket_id,
        version=1,
        created_at=now,
        updated_at=now,
        published_at=now if ArticleStatus(status) is ArticleStatus.PUBLISHED else None,
    )
    session.add(article)
    session.flush()
    if article.translation_group is None:
        article.translation_group = article.id
    _revise(session, article, author, note or "created")
    tasks.reindex_on_commit(session, [article.id])
    session.commit()
    return article


def update_article(
    session: DbSession, article: Article, *, actor: User | None, note: str = "", **changes: Any
) -> Article:
    """Change some of `EDITABLE`; a change of nothing writes nothing."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("unknown fields", fields={k: "not editable" for k in unknown})
    changed = False
    for name, value in changes.items():
        if value is None:
            continue
        if name == "categories":
            cats = _categories(session, value)
            if [c.slug for c in cats] != article.category_slugs:
                article.categories = cats
                changed = True
            continue
        if name == "tags":
            value = _clean_tags(value)
        elif name == "locale":
            _check_locale(value)
        elif name == "status":
            value = ArticleStatus(value)
        elif name == "visibility":
            value = Visibility(value)
        elif name == "title":
            value = value.strip()
        if getattr(article, name) != value:
            setattr(article, name, value)
            changed = True
    if not changed:
        return article
    article.version += 1
    article.updated_at = utcnow()
    if article.status is ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = article.updated_at
    _revise(session, article, actor, note)
    tasks.reindex_on_commit(session, [article.id])
    session.commit()
    return article


def publish(session: DbSession, article: Article, *, actor: User | None) -> Article:
    return update_article(session, article, actor=actor, status="published", note="published")


def archive(session: DbSession, article: Article, *, actor: User | None) -> Article:
    return update_article(session, article, actor=actor, status="archived", note="archived")


def delete_article(session: DbSession, article: Article) -> None:
    article_id = article.id
    session.delete(article)
    tasks.reindex_on_commit(session, [article_id])
    session.commit()


def get_article(session: DbSession, article_id: int, *, field: str = "id") -> Article:
    article = session.get(Article, article_id)
    if article is None:
        if field == "id":
            raise NotFound(f"no article {article_id}")
        raise ValidationFailed("no such article", fields={field: f"no article {article_id}"})
    return article


def public_article(session: DbSession, article_id: int) -> Article:
    """`article_id` if it is published and public: the only articles sent outside (a text to a
    caller); anything else is refused on the `article_id` field."""
    article = session.get(Article, article_id)
    if (
        article is None
        or article.status is not ArticleStatus.PUBLISHED
        or article.visibility is not Visibility.PUBLIC
    ):
        raise ValidationFailed(
            "not a public article", fields={"article_id": "not a published public article"}
        )
    return article


def translations(session: DbSession, article: Article) -> list[Article]:
    """The other language versions of `article`."""
    if article.translation_group is None:
        return []
    return list(
        session.scalars(
            select(Article)
            .where(Article.translation_group == article.translation_group, Article.id != article.id)
            .order_by(Article.locale)
        )
    )


def revisions(session: DbSession, article: Article) -> list[ArticleRevision]:
    return list(
        session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article.id)
            .order_by(ArticleRevision.version.desc(), ArticleRevision.id.desc())
        )
    )


def list_articles(
    session: DbSession,
    *,
    locale: str | None = None,
    statuses: Iterable[str] = (),
    visibilities: Iterable[str] = (),
    category: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[Article], str | None]:
    """Articles newest change first, by keyset cursor."""
    stmt = select(Article)
    if locale:
        stmt = stmt.where(Article.locale == locale)
    if statuses := list(statuses):
        stmt = stmt.where(Article.status.in_([ArticleStatus(s) for s in statuses]))
    if visibilities := list(visibilities):
        stmt = stmt.where(Article.visibility.in_([Visibility(v) for v in visibilities]))
    if category:
        stmt = stmt.where(Article.categories.any(Category.slug == category))
    if cursor:
        (last,) = decode_cursor(cursor, (int,))
        stmt = stmt.where(Article.id < last)
    rows = list(session.scalars(stmt.order_by(Article.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def record_view(session: DbSession, article: Article) -> None:
    """Count a view with one UPDATE (no read-modify-write race between web processes)."""
    session.execute(update(Article).where(Article.id == article.id).values(views=Article.views + 1))
    session.commit()


def vote(session: DbSession, article: Article, *, visitor: str, helpful: bool) -> str:
    """Record a visitor's answer: `"counted"` the first time, `"changed"` when they change their
    mind (one counter down, the other up), `"unchanged"` for a repeat.

    The unique (article, visitor) row decides, so two copies of the same form posted at once
    count once: the loser of the insert finds the winner's row and compares with it.
    """
    row = ArticleVote(article_id=article.id, visitor=visitor, helpful=helpful, at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        previous = session.scalar(
            select(ArticleVote.helpful).where(
                ArticleVote.article_id == article.id, ArticleVote.visitor == visitor
            )
        )
        if previous is None or previous == helpful:
            session.commit()
            return "unchanged"
        # Compare-and-set: of two concurrent changes only the one that flips the row moves counts.
        flipped = rowcount(
            session.execute(
                update(ArticleVote)
                .where(
                    ArticleVote.article_id == article.id,
                    ArticleVote.visitor == visitor,
                    ArticleVote.helpful.is_(previous),
                )
                .values(helpful=helpful, at=utcnow())
            )
        )
        if not flipped:
            session.commit()
            return "unchanged"
        up, down = (Article.helpful, Article.not_helpful)
        if not helpful:
            up, down = down, up
        session.execute(
            update(Article)
            .where(Article.id == article.id)
            .values({up: up + 1, down: case((down > 0, down - 1), else_=0)})
        )
        outcome = "changed"
    else:
        column = Article.helpful if helpful else Article.not_helpful
        session.execute(
            update(Article).where(Article.id == article.id).values({column: column + 1})
        )
        outcome = "counted"
    session.commit()
    session.refresh(article)
    return outcome


def categories(session: DbSession) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.slug)))


def ensure_category(
    session: DbSession, *, slug: str, name_fr: str, name_en: str, position: int = 0
) -> Category:
    found = session.scalar(select(Category).where(Category.slug == slug))
    if found is None:
        found = Category(slug=slug, name_fr=name_fr, name_en=name_en, position=position)
        session.add(found)
        session.commit()
    return found


def category_counts(
    session: DbSession, *, locale: str, visibility: str = "public"
) -> dict[int, int]:
    """Published articles per category in `locale` (what the help center's index shows)."""
    rows = session.execute(
        select(Category.id, func.count(Article.id))
        .join(Article.categories)
        .where(
            Article.locale == locale,
            Article.status == ArticleStatus.PUBLISHED,
            Article.visibility == Visibility(visibility),
        )
        .group_by(Category.id)
    )
    return {int(r[0]): int(r[1]) for r in rows}


def draft_from_ticket(session: DbSession, *, ticket_id: int, actor: User | None) -> Article:
    """A draft internal article from a solved ticket: its subject, the problem and the answer.

    The customer's own words stay out of the title; the body quotes the description and the last
    public reply an agent wrote, for the author to rewrite before publishing.
    """
    from helpdesk.customers.models import Customer
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Status

    ticket = tickets.get(session, ticket_id)
    if ticket.status not in (Status.SOLVED, Status.CLOSED):
        raise ValidationFailed(
            "only a solved ticket can become an article",
            fields={"ticket_id": "the ticket is not solved"},
        )
    comments = tickets.comments(session, ticket, include_internal=False)
    answers = [c for c in comments if c.author_user_id is not None and c.public]
    requester = session.get(Customer, ticket.requester_id)
    locale = requester.language if requester and requester.language in LOCALES else "fr"
    problem, solution = ("Problème", "Solution") if locale == "fr" else ("Problem", "Solution")
    parts = [f"## {problem}", "", ticket.description.strip() or ticket.subject, ""]
    if answers:
        parts += [f"## {solution}", "", answers[-1].body.strip(), ""]
    return create_article(
        session,
        title=ticket.subject,
        body="\n".join(parts),
        locale=locale,
        status=ArticleStatus.DRAFT,
        visibility=Visibility.INTERNAL,
        tags=[t for t in ticket.tags][:10],
        author=actor,
        source_ticket_id=ticket.id,
        note=f"from ticket {ticket.reference}",
    )
