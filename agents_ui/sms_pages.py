"""SMS conversations in the console: the list of threads and one thread as a conversation,
with its delivery states and a reply box that counts SMS segments as the agent types.

A thread is an SMS-channel ticket (telephony.sms_inbound threads each text into the customer's open
conversation). Replying here is a public reply on that ticket, which the ticket service hands to
the SMS outbox: the same path as a reply typed on the ticket page, so it is sent exactly once.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select

from agents_ui.account import me
from agents_ui.blueprint import bp
from agents_ui.forms import SmsReplyForm
from helpdesk.customers.models import Customer
from helpdesk.errors import APIError
from helpdesk.extensions import db
from helpdesk.pagination import BadCursor
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.service import TicketFilter
from helpdesk.tickets.workflow import UNRESOLVED, Channel
from telephony import sms, sms_optout
from telephony.models import SmsMessage

THREADS_PAGE = 25
MESSAGES_SHOWN = 200


def _last_messages(ticket_ids: list[int]) -> dict[int, SmsMessage]:
    """The latest text of each thread, in two queries whatever the number of threads."""
    if not ticket_ids:
        return {}
    latest = (
        select(func.max(SmsMessage.id))
        .where(SmsMessage.ticket_id.in_(ticket_ids))
        .group_by(SmsMessage.ticket_id)
    )
    rows = db.session.scalars(select(SmsMessage).where(SmsMessage.id.in_(latest)))
    return {m.ticket_id: m for m in rows if m.ticket_id is not None}


@bp.get("/sms")
@login_required
def sms_threads() -> ResponseReturnValue:
    open_only = request.args.get("all") != "1"
    flt = TicketFilter(channel=Channel.SMS, status=list(UNRESOLVED) if open_only else None)
    if request.args.get("fragment") == "rows":
        return _live_rows(flt, open_only)
    try:
        rows, next_cursor = tickets.list_tickets(
            db.session, flt, cursor=request.args.get("cursor"), limit=THREADS_PAGE, sort="-updated"
        )
    except BadCursor:
        return redirect(url_for("console.sms_threads", all=None if open_only else "1"))
    cursor = request.args.get("cursor")
    return render_template(
        "sms/threads.html",
        rows=rows,
        last=_last_messages([t.id for t in rows]),
        open_only=open_only,
        next_url=url_for("console.sms_threads", cursor=next_cursor, all=None if open_only else "1")
        if next_cursor
        else None,
        live={
            "rows_url": url_for(
                "console.sms_threads", all=None if open_only else "1", fragment="rows"
            ),
            "first_page": not cursor,
            "full": next_cursor is not None,
            "ascending": False,
            "filter": {
                "status": [s.value for s in UNRESOLVED] if open_only else [],
                "channel": Channel.SMS.value,
            },
        },
    )


LIVE_ROWS = 50


def _live_rows(flt: TicketFilter, open_only: bool) -> Response:
    """For the page's script (static/list_live.js), as the ticket list's: the rows of the
    conversations named in `ids` that the list shows, and the ids it no longer shows; or the
    first page's rows in order (`page=first`)."""
    wanted = [int(i) for i in request.args.get("ids", "").split(",") if i.isdigit()][:LIVE_ROWS]
    if request.args.get("page") != "first":
        flt.ids = wanted
    limit = LIVE_ROWS if flt.ids is not None else THREADS_PAGE
    rows, _next = tickets.list_tickets(db.session, flt, limit=limit, sort="-updated")
    last = _last_messages([t.id for t in rows])
    rendered = {t.id: render_template("sms/_row.html", t=t, last=last) for t in rows}
    return jsonify(
        {
            "rows": rendered,
            "order": [t.id for t in rows],
            "gone": [i for i in wanted if i not in rendered],
        }
    )


def _thread(ticket: Ticket) -> dict[str, Any]:
    messages = list(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.ticket_id == ticket.id)
            .order_by(SmsMessage.id.desc())
            .limit(MESSAGES_SHOWN + 1)
        )
    )
    older = len(messages) > MESSAGES_SHOWN
    messages = list(reversed(messages[:MESSAGES_SHOWN]))
    customer = db.session.get(Customer, ticket.requester_id)
    number = sms.reply_number(db.session, ticket.id, customer)
    sender = current_app.config["TWILIO_PHONE_NUMBER"]
    return {
        "messages": messages,
        "older": older,
        "customer": customer,
        "number": number,
        "opted_out": bool(number and sms_optout.is_opted_out(db.session, number, sender)),
        "authors": _authors({m.author_user_id for m in messages if m.author_user_id}),
    }


def _authors(ids: set[int]) -> dict[int, str]:
    from helpdesk.auth.models import User

    if not ids:
        return {}
    return {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


@bp.get("/sms/<int:ticket_id>")
@login_required
def sms_thread(ticket_id: int) -> ResponseReturnValue:
    ticket = tickets.get(db.session, ticket_id)
    if ticket.channel is not Channel.SMS:
        abort(404)
    thread = _thread(ticket)
    if request.args.get("fragment") == "messages":
        # What the page's script fetches when a text arrives or changes state.
        return render_template("sms/_messages.html", ticket=ticket, **thread)
    return render_template(
        "sms/thread.html", ticket=ticket, form=SmsReplyForm(formdata=None), **thread
    )


@bp.post("/sms/<int:ticket_id>/reply")
@login_required
def sms_reply(ticket_id: int) -> ResponseReturnValue:
    ticket = tickets.get(db.session, ticket_id)
    if ticket.channel is not Channel.SMS:
        abort(404)
    form = SmsReplyForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("console.sms_thread", ticket_id=ticket.id))
    try:
        sms.reply(db.session, ticket_id=ticket.id, body=str(form.body.data).strip(), author=me())
    except APIError as exc:
        db.session.rollback()
        reason = "; ".join(str(v) for v in (exc.fields or {}).values()) or exc.message
        flash(_("Not sent: %(reason)s", reason=reason), "error")
        return redirect(url_for("console.sms_thread", ticket_id=ticket.id))
    flash(_("Text queued: it leaves in a moment."), "success")
    return redirect(url_for("console.sms_thread", ticket_id=ticket.id))
