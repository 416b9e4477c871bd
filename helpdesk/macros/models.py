"""A macro: a reply text with placeholders, its language, who sees it, and what it changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db

SHARED = "shared"
PERSONAL = "personal"
VISIBILITIES = (SHARED, PERSONAL)
LANGUAGES = ("en", "fr")


class Macro(db.Model):  # type: ignore[name-defined,misc]
    """Shared macros are seen by all staff and written by supervisors and administrators; a
    personal one is seen and written by its owner alone."""

    __tablename__ = "macros"
    __table_args__ = (Index("ix_macros_visibility_owner", "visibility", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="en")
    visibility: Mapped[str] = mapped_column(String(8), default=PERSONAL)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The changes the reply sent with the macro brings along (none of them required).
    set_status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    add_tags: Mapped[list[str]] = mapped_column(MutableList.as_mutable(json_type()), default=list)
    set_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
