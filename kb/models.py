"""Knowledge-base articles, their categories, revisions and the search vocabulary."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.auth.models import User
from helpdesk.db import JSONType, UTCDateTime, utcnow
from helpdesk.extensions import db

LOCALES = ("fr", "en")


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Visibility(enum.StrEnum):
    INTERNAL = "internal"  # agents only
    PUBLIC = "public"  # the help center, customers


def _enum(cls: type[Any], length: int = 12) -> Enum:
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


# The tsvector the PostgreSQL backend searches; a plain (unused) text column on SQLite, so that one
# model serves both databases.
SearchVector = Text().with_variant(TSVECTOR(), "postgresql")

article_categories = Table(
    "kb_article_categories",
    db.metadata,
    Column("article_id", ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("kb_categories.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_kb_article_categories_category", "category_id", "article_id"),
)


class Category(db.Model):  # type: ignore[name-defined,misc]
    """A help-center section. Names are kept in both languages so one tree serves fr and en."""

    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)

    def name(self, locale: str) -> str:
        return self.name_fr if locale == "fr" else self.name_en


class Article(db.Model):  # type: ignore[name-defined,misc]
    """One article in one language. Translations share `translation_group`."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        Index("ix_kb_articles_listing", "locale", "status", "visibility", "updated_at"),
        Index("ix_kb_articles_translation_group", "translation_group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_group: Mapped[int | None] = mapped_column(Integer, nullable=True)
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ArticleStatus] = mapped_column(_enum(ArticleStatus), default=ArticleStatus.DRAFT)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility), default=Visibility.INTERNAL)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Bumped by every saved change; the search index records the version it holds, so
    # `helpdesk kb check` can tell a stale entry from a current one.
    version: Mapped[int] = mapped_column(Integer, default=1)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Kept by the PostgreSQL backend only (see kb/search/postgres.py).
    search_vector: Mapped[str | None] = mapped_column(SearchVector, nullable=True)
    title_vector: Mapped[str | None] = mapped_column(SearchVector, nullable=True)
    indexed_version: Mapped[int | None] = mapped_column(Integer, nullable=True)

    author: Mapped[User | None] = relationship(lazy="raise")
    categories: Mapped[list[Category]] = relationship(
        secondary=article_categories, lazy="selectin", order_by="Category.position"
    )

    @property
    def category_slugs(self) -> list[str]:
        return [c.slug for c in self.categories]


class ArticleRevision(db.Model):  # type: ignore[name-defined,misc]
    """The article as it was after each saved change, with who made it."""

    __tablename__ = "kb_article_revisions"
    __table_args__ = (Index("ix_kb_article_revisions_article", "article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12))
    visibility: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(250), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class Term(db.Model):  # type: ignore[name-defined,misc]
    """The accent-folded words of the corpus, per locale: what the PostgreSQL backend corrects a
    misspelt query word to, by trigram similarity (a GIN `gin_trgm_ops` index on PostgreSQL)."""

    __tablename__ = "kb_terms"

    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    word: Mapped[str] = mapped_column(String(64), primary_key=True)


class ArticleVote(db.Model):  # type: ignore[name-defined,misc]
    """One help-center visitor's answer to "was this helpful?" on one article.

    The article's `helpful` and `not_helpful` counters are what pages read; this row is what
    keeps them honest: a visitor counts once per article (answering again changes their answer),
    whatever they replay. `visitor` is a keyed hash of the browser's help-center id, never the
    id itself or an address.
    """

    __tablename__ = "kb_article_votes"
    __table_args__ = (
        UniqueConstraint("article_id", "visitor", name="uq_kb_article_votes_visitor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    visitor: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
