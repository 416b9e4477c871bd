"""A ticket merged into another takes its e-mails and files along (`tickets.ticket_merge`)."""

from __future__ import annotations

from sqlalchemy import update

from helpdesk.db import DbSession, rowcount
from helpdesk.mail.models import Attachment, MailMessage


def move_mail(session: DbSession, *, source_id: int, target_id: int) -> int:
    """The duplicate's e-mails: a later reply threads by Message-ID onto the target."""
    return rowcount(
        session.execute(
            update(MailMessage)
            .where(MailMessage.ticket_id == source_id)
            .values(ticket_id=target_id)
            .execution_options(synchronize_session=False)
        )
    )


def move_files(session: DbSession, *, source_id: int, target_id: int) -> int:
    return rowcount(
        session.execute(
            update(Attachment)
            .where(Attachment.ticket_id == source_id)
            .values(ticket_id=target_id)
            .execution_options(synchronize_session=False)
        )
    )
