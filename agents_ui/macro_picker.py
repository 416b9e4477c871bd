"""The macros offered in a ticket's reply box, rendered for that ticket.

Rendered on the server with the page, so that the picker needs no request of its own: the text
goes into the reply box as plain text (the script sets the box's value, never markup), and the
line saying what the macro also changes is shown before the agent sends.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from agents_ui.account import me
from agents_ui.macro_pages import actions_text
from agents_ui.queries import all_groups
from helpdesk.extensions import db
from helpdesk.macros import service
from helpdesk.tickets.models import Ticket


def choices(ticket: Ticket) -> list[dict[str, Any]]:
    """Each macro the agent can use: the console's language first, then by title."""
    agent = me()
    found = service.visible(db.session, user=agent)
    if not found:
        return []
    names = {g.id: g.name for g in all_groups(db.session)}
    locale = str(get_locale() or "en")[:2]
    out: list[dict[str, Any]] = []
    values = {
        lang: service.values_for(db.session, ticket, agent=agent, language=lang)
        for lang in {m.language for m in found}
    }
    for m in sorted(found, key=lambda m: (m.language != locale, m.title.lower(), m.id)):
        also = actions_text(m, names)
        out.append(
            {
                "id": m.id,
                "title": m.title,
                "language": m.language,
                "text": service.render(m, values[m.language]),
                "also": _("Will also %(changes)s.", changes=also) if also else "",
            }
        )
    return out
