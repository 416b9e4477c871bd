"""Sign-in links and portal sessions name a customer: an erasure deletes them, which also ends
every portal session the person had open."""

from __future__ import annotations

from sqlalchemy import delete

from helpdesk.db import DbSession, rowcount
from helpdesk.portal.models import PortalLink, PortalSession
from helpdesk.privacy.registry import Holder, Subject, register


def erase(session: DbSession, subject: Subject) -> int:
    ids = list(subject.customer_ids)
    changed = 0
    for model in (PortalLink, PortalSession):
        changed += rowcount(session.execute(delete(model).where(model.customer_id.in_(ids))))
    return changed


register(
    Holder(
        name="portal",
        covers={
            "portal_links": ("customer_id", "token_hash"),
            "portal_sessions": ("customer_id", "key_hash"),
        },
        erase=erase,
    )
)
