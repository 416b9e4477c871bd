"""Shared macros for the demo, in English and French, written by the demo's supervisor."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.auth.models import Group, Role, User
from helpdesk.db import DbSession
from helpdesk.macros.models import SHARED, Macro

# (title, language, body, status, tags, group name)
MACROS: tuple[tuple[str, str, str, str | None, list[str], str | None], ...] = (
    (
        "Refund issued",
        "en",
        "Hello {{customer.first_name}},\n\nWe have issued the refund for {{ticket.reference}}: "
        "it reaches your account within five working days.\n\nBest regards,\n{{agent.name}}",
        "solved",
        ["billing", "refund"],
        "Billing",
    ),
    (
        "Technician visit",
        "en",
        "Hello {{customer.first_name}},\n\nOur technician is expected at {{technician.eta}}. "
        "Reply to this message if you will not be home.\n\n{{agent.name}}",
        "pending",
        ["visit"],
        "Field service",
    ),
    (
        "Waiting for your answer",
        "en",
        "Hello {{customer.first_name}},\n\nCould you tell us more so that we can go on with "
        "{{ticket.reference}}?\n\nThank you,\n{{agent.name}}",
        "pending",
        [],
        None,
    ),
    (
        "Remboursement effectué",
        "fr",
        "Bonjour {{customer.first_name}},\n\nLe remboursement pour {{ticket.reference}} est "
        "effectué : il arrivera sur votre compte sous cinq jours ouvrés.\n\nCordialement,\n"
        "{{agent.name}}",
        "solved",
        ["billing", "refund"],
        "Billing",
    ),
    (
        "Visite du technicien",
        "fr",
        "Bonjour {{customer.first_name}},\n\nNotre technicien est attendu à "
        "{{technician.eta}}. Répondez à ce message si vous ne serez pas chez vous.\n\n"
        "{{agent.name}}",
        "pending",
        ["visit"],
        "Field service",
    ),
)


def seed(session: DbSession) -> None:
    supervisor = session.scalars(
        select(User).where(User.role == Role.SUPERVISOR).order_by(User.id).limit(1)
    ).first()
    groups = {g.name: g.id for g in session.scalars(select(Group))}
    for title, language, body, status, tags, group in MACROS:
        session.add(
            Macro(
                title=title,
                language=language,
                body=body,
                visibility=SHARED,
                owner_id=supervisor.id if supervisor else None,
                set_status=status,
                add_tags=list(tags),
                set_group_id=groups.get(group) if group else None,
            )
        )
    session.commit()
