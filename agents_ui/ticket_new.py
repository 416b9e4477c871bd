"""A new ticket from the console, for any customer, outside a call.

The customer is picked first: by a search on the same page (name, phone number or e-mail, as on
the customer list), or already chosen by the link that opened the page (the customer page's
"New ticket", or a customer just created from here). The form is checked by the API's rules and
the ticket made by the same service as `POST /api/v1/tickets`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import inspect

from agents_ui import form_input, labels
from agents_ui.account import me
from agents_ui.blueprint import bp
from agents_ui.queries import all_groups, assignable_staff
from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.api import TicketCreate
from helpdesk.tickets.workflow import Channel, Priority, reference_for

PICKER_RESULTS = 10


def _requester(raw: str | None) -> Customer | None:
    if not raw or not raw.isdigit():
        return None
    try:
        found = customers.get(db.session, int(raw))
    except NotFound:
        return None
    return None if found.erased_at is not None else found


def _matches(q: str) -> list[Customer]:
    if not q:
        return []
    return customers.search(
        db.session,
        q=q,
        limit=PICKER_RESULTS,
        region=current_app.config.get("HELPDESK_DEFAULT_REGION", "FR"),
    )


def _input(form: Any) -> dict[str, Any]:
    """The form as the API's JSON body: blank menus left out, so the model's defaults apply."""
    data: dict[str, Any] = {
        "subject": form.get("subject", ""),
        "description": form.get("description", ""),
        "priority": form.get("priority") or Priority.NORMAL.value,
        "channel": form.get("channel") or Channel.PHONE.value,
        "tags": form_input.tag_list(form.get("tags", "")),
    }
    for name in ("requester_id", "assignee_id", "group_id"):
        value = form_input.optional_int(form, name)
        if value is not None:
            data[name] = value
    return data


def _page(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    q = request.args.get("customer_q", "").strip()[:200]
    requester = _requester(str(values.get("requester_id") or ""))
    return render_template(
        "tickets/new.html",
        values=values,
        errors=errors,
        requester=requester,
        customer_q=q,
        matches=[] if requester else _matches(q),
        choices=_choices(),
    ), status


def _choices() -> dict[str, list[tuple[str, Any]]]:
    return {
        "priority": [(p.value, labels.PRIORITY[p]) for p in Priority],
        "channel": [(c.value, labels.CHANNEL[c]) for c in Channel],
        "assignee": [
            ("", _("Unassigned")),
            *((str(u.id), u.name) for u in assignable_staff(db.session)),
        ],
        "group": [("", _("No group")), *((str(g.id), g.name) for g in all_groups(db.session))],
    }


@bp.get("/tickets/new")
@login_required
def new_ticket() -> ResponseReturnValue:
    values = {
        "requester_id": request.args.get("requester", ""),
        "priority": Priority.NORMAL.value,
        "channel": Channel.PHONE.value,
        "assignee_id": str(me().id),
    }
    return _page(values, {})


@bp.post("/tickets/new")
@login_required
def create_ticket() -> ResponseReturnValue:
    form = request.form
    values = {key: form.get(key, "") for key in form}
    try:
        body = form_input.check(TicketCreate, _input(form))
        ticket = form_input.apply(
            lambda: tickets.create(db.session, actor=me(), **body.model_dump())
        )
    except form_input.Refused as refused:
        db.session.rollback()
        return _page(values, refused.errors, 422)
    # The id from the identity map: reading `ticket.id` after the commit would reload the row.
    ticket_id: int = inspect(ticket).identity[0]
    flash(_("Ticket %(ref)s created.", ref=reference_for(ticket_id)), "success")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))
