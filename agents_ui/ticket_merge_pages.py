"""Merging a ticket from its page: find the ticket where the request continues (this customer's
open tickets, or a search by reference or subject), see what will happen, confirm.

The same service as `POST /api/v1/tickets/{id}/merge` does the work; the confirmation says
whether (and how) the customer will be told, from the same route a reply would take.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from agents_ui import reply_delivery
from agents_ui.account import me
from agents_ui.blueprint import bp
from helpdesk.errors import APIError, NotFound
from helpdesk.extensions import db
from helpdesk.tickets import service, ticket_merge
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.tickets.service import TicketFilter
from helpdesk.tickets.workflow import UNRESOLVED, Status

CANDIDATES = 20
# The service's reasons (helpdesk.tickets.merge_rules) in the agent's language.
REFUSALS = {
    "a ticket cannot be merged into itself": _l("A ticket cannot be merged into itself."),
    "this ticket was already merged into another": _l(
        "This ticket was already merged into another."
    ),
    "the target was itself merged: merge into the ticket it points to": _l(
        "That ticket was itself merged: merge into the ticket it points to."
    ),
    "a closed ticket cannot be merged": _l("A closed ticket cannot be merged."),
    "a closed ticket cannot take a merge": _l("A closed ticket cannot take a merge."),
    "the tickets belong to different customers (requester or company)": _l(
        "These tickets belong to different customers: only tickets of the same requester or "
        "the same company can be merged."
    ),
}


def refusal_text(exc: APIError) -> str:
    return str(REFUSALS.get(exc.message, exc.message))


def _candidates(source: Ticket, q: str) -> list[Ticket]:
    """The tickets this one may be merged into: its requester's, or, when the requester is a
    company or belongs to one, the company's and its people's (the merge rules' own scope), found
    by the search or, without one, the unresolved ones."""
    requester = source.requester
    company = requester.company_id or (requester.id if requester.kind == "company" else None)
    flt = (
        TicketFilter(company_id=company)
        if company is not None
        else TicketFilter(requester_id=source.requester_id)
    )
    if q:
        flt.q = q
    else:
        flt.status = list(UNRESOLVED)
    rows, _next = service.list_tickets(db.session, flt, limit=CANDIDATES + 1)
    return [t for t in rows if t.id != source.id][:CANDIDATES]


@bp.get("/tickets/<int:ticket_id>/merge")
@login_required
def ticket_merge_form(ticket_id: int) -> ResponseReturnValue:
    source = service.get(db.session, ticket_id)
    if source.status is Status.CLOSED:
        flash(_("This ticket is closed and can no longer be merged."), "error")
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    q = request.args.get("q", "").strip()[:200]
    into = request.args.get("into", type=int)
    target = refusal = notice = None
    if into is not None:
        try:
            target = service.get(db.session, into)
            ticket_merge.check(db.session, source=source, target=target)
        except NotFound:
            flash(_("No ticket has that reference."), "error")
        except APIError as exc:
            refusal = refusal_text(exc)
        notice = reply_delivery.route_notice(service.reply_route(db.session, source))
    return render_template(
        "tickets/merge.html",
        ticket=source,
        q=q,
        candidates=[] if target is not None else _candidates(source, q),
        target=target,
        refusal=refusal,
        notice=notice,
    )


@bp.post("/tickets/<int:ticket_id>/merge")
@login_required
def ticket_merge_post(ticket_id: int) -> ResponseReturnValue:
    source = service.get(db.session, ticket_id)
    into = request.form.get("into", type=int)
    try:
        if into is None:
            raise NotFound("no target")
        target = service.get(db.session, into)
        done = ticket_merge.merge(db.session, source=source, target=target, actor=me())
    except NotFound:
        flash(_("No ticket has that reference."), "error")
        return redirect(url_for("console.ticket_merge_form", ticket_id=ticket_id))
    except APIError as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        return redirect(url_for("console.ticket_merge_form", ticket_id=ticket_id, into=into))
    source_ref = service.get(db.session, done.source_id).reference
    flash(_("%(source)s was merged into this ticket.", source=source_ref), "success")
    notice = db.session.get(Comment, done.notice_comment_id) if done.notice_comment_id else None
    if notice is None or notice.delivery_status is None:
        flash(_("No channel can reach the customer: they were not told of the merge."), "warning")
    else:
        flash(
            _(
                "The customer's notice of where the request continues: %(state)s, %(where)s.",
                state=reply_delivery.status_label(notice.delivery_status),
                where=reply_delivery.destination(notice.delivery_channel, notice.delivery_to),
            ),
            "success",
        )
    return redirect(url_for("console.ticket", ticket_id=done.target_id))
