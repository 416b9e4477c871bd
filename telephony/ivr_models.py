"""The IVR's published versions: its configuration as data, edited by administrators in the
console (`/admin/ivr`), each publication a new row so that any earlier one can be restored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db


class IvrVersion(db.Model):  # type: ignore[name-defined,misc]
    """One complete IVR configuration (the shape of `telephony/ivr.json`), never changed once
    written. The newest published row is the one callers hear; with none, the file applies."""

    __tablename__ = "ivr_versions"
    __table_args__ = (Index("ix_ivr_versions_published", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(json_type())
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The version a rollback copied (0: the packaged file); None for one written in the editor.
    copied_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
