"""A saved view (its filters as the ticket list's query string, its order) and each user's
default view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db


class SavedView(db.Model):  # type: ignore[name-defined,misc]
    """Personal (`owner_id` set, seen by its owner only) or shared (`owner_id` null, seen by all
    staff, changed by supervisors and administrators)."""

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_owner", "owner_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    # The ticket list's filters, by their query-string names (helpdesk.saved_views.filters).
    filters: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(json_type()), default=dict
    )
    sort: Mapped[str] = mapped_column(String(10), default="-created")
    # Order among the views of the same list (the owner's, or the shared ones), smallest first.
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def shared(self) -> bool:
        return self.owner_id is None


class DefaultView(db.Model):  # type: ignore[name-defined,misc]
    """The view a user's ticket list opens on when no filter is asked for."""

    __tablename__ = "saved_view_defaults"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    view_id: Mapped[int] = mapped_column(ForeignKey("saved_views.id", ondelete="CASCADE"))
