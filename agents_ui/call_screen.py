"""The caller screen: one call and everything known about the caller, where the agent records
who the caller is and what the call was about.

The live pop (`screen_pop`, drawn by static/caller_screen.js in the phone panel) shows the same
facts the moment the call rings; this page is where the agent works during and after the call:
the customer card, open tickets with their service-level clocks, the whole timeline (loaded as
the agent scrolls), suggested articles, and the forms that link the call to a ticket or the
unknown caller to a customer. Every form posts and comes back here, so it works without
JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm

from agents_ui import kb_panel, model_labels, phone_state, sla_display, value_labels
from agents_ui.account import me
from agents_ui.blueprint import bp
from agents_ui.forms import CallerForm, CallLinkTicketForm, CallTicketForm, LinkCallerForm
from helpdesk.auth import permissions
from helpdesk.customers import service as customers
from helpdesk.customers.models import CustomerKind
from helpdesk.errors import APIError, Forbidden, ValidationFailed
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Priority, Status
from helpdesk.timeline import service as timeline
from kb import service as kb_service
from telephony import call_records
from telephony.models import Call
from telephony.screen import TIMELINE_ITEMS, screen

SEARCH_RESULTS = 10


def _call(call_id: int) -> Call:
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    return call


def _may_change(call: Call) -> None:
    try:
        call_records.check_may_record(call, me())
    except Forbidden:
        abort(403)


def _ticket_choices(open_tickets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(str(t["id"]), f"{t['reference']} {t['subject']}") for t in open_tickets]


def _forms(data: dict[str, Any], call: Call) -> dict[str, FlaskForm]:
    forms: dict[str, FlaskForm] = {}
    if call_records.is_unknown(data["customer"]):
        forms["caller_form"] = CallerForm(formdata=None, language=call.language)
        forms["link_caller_form"] = LinkCallerForm(formdata=None)
    if data["customer"] is None:
        return forms
    return {
        **forms,
        "ticket_form": CallTicketForm(formdata=None),
        "link_form": CallLinkTicketForm(
            formdata=None, tickets=_ticket_choices(data["open_tickets"])
        ),
    }


@bp.get("/calls/<int:call_id>")
@login_required
def call_screen(call_id: int) -> ResponseReturnValue:
    call = _call(call_id)
    data = screen(db.session, call)
    entries: list[Any] = []
    cursor: str | None = None
    if call.customer_id is not None:
        entries, cursor = timeline.page(
            db.session, customer_id=call.customer_id, limit=TIMELINE_ITEMS
        )
    more_url = (
        url_for("console.customer", customer_id=call.customer_id, before=cursor) if cursor else None
    )
    q = request.args.get("q", "").strip()[:200]
    matches = (
        customers.search(
            db.session,
            q=q,
            limit=SEARCH_RESULTS,
            region=current_app.config["HELPDESK_DEFAULT_REGION"],
        )
        if q and call_records.is_unknown(data["customer"])
        else []
    )
    matches = [r for r in matches if r.id != call.customer_id]
    linked = db.session.get(Ticket, call.ticket_id) if call.ticket_id else None
    user = me()
    queues = phone_state.queue_labels(db.session)
    return render_template(
        "calls/screen.html",
        call=call,
        screen=data,
        entries=entries,
        more_url=more_url,
        badges={t["id"]: sla_display.badge(t["sla"]) for t in data["open_tickets"]},
        linked=linked,
        unknown=call_records.is_unknown(data["customer"]),
        segment=_segment(data),
        scores=_scores(data),
        q=q,
        matches=matches,
        may_change=call.agent_id == user.id or user.has_role(*permissions.SUPERVISE),
        suggestions=kb_panel.suggestions_for_call(call.call_sid),
        duration=sla_display.duration,
        queue_label=queues.get(data["queue"] or "", data["queue"]),
        queues=queues,
        disposition_labels=phone_state.DISPOSITION,
        **_forms(data, call),
    )


def _segment(data: dict[str, Any]) -> dict[str, Any] | None:
    """The caller's value segment, what it means and the signals that decided it."""
    value = data.get("value")
    if not value:
        return None
    code = str(value["segment"])
    return {
        "code": code,
        "label": value_labels.segment_name(code),
        "hint": str(value_labels.SEGMENT_HINTS.get(code, "")),
        "reasons": [value_labels.signal_text(s) for s in value.get("signals") or []],
    }


def _back(call: Call, message: str = "", error: str = "") -> ResponseReturnValue:
    if error:
        flash(error, "error")
    elif message:
        flash(message, "success")
    return redirect(url_for("console.call_screen", call_id=call.id))


def _form_error(form: FlaskForm) -> str:
    for name, errors in form.errors.items():
        if errors:
            field = getattr(form, name, None)
            label = field.label.text if field is not None else name
            return f"{label}: {errors[0]}"
    return str(_("The form was incomplete. Try again."))


def _refused(call: Call, exc: APIError) -> ResponseReturnValue:
    db.session.rollback()
    reason = "; ".join(str(v) for v in (exc.fields or {}).values()) or exc.message
    return _back(call, error=_("Not saved: %(reason)s", reason=reason))


def _record(
    call_id: int, form: FlaskForm, change: Callable[[Call, FlaskForm], str]
) -> ResponseReturnValue:
    """What every form of the page does: check who may change the call, validate, let the
    service change it, and come back to the page with its message or the reason it refused."""
    call = _call(call_id)
    _may_change(call)
    if not form.validate_on_submit():
        return _back(call, error=_form_error(form))
    try:
        message = change(call, form)
    except APIError as exc:
        return _refused(call, exc)
    return _back(call, message)


@bp.post("/calls/<int:call_id>/ticket")
@login_required
def call_new_ticket(call_id: int) -> ResponseReturnValue:
    def change(call: Call, form: FlaskForm) -> str:
        ticket = call_records.open_ticket(
            db.session,
            call=call,
            actor=me(),
            subject=str(form.subject.data),
            description=str(form.description.data or ""),
            priority=Priority(form.priority.data),
        )
        return str(_("Ticket %(ref)s opened for this call.", ref=ticket.reference))

    return _record(call_id, CallTicketForm(), change)


@bp.post("/calls/<int:call_id>/ticket/link")
@login_required
def call_link_ticket(call_id: int) -> ResponseReturnValue:
    def change(call: Call, form: FlaskForm) -> str:
        if not str(form.ticket_id.data).isdigit():
            raise ValidationFailed(
                "choose a ticket", fields={"ticket_id": str(_("Choose a ticket."))}
            )
        ticket = call_records.link_ticket(
            db.session,
            call=call,
            actor=me(),
            ticket_id=int(form.ticket_id.data),
            note=str(form.note.data or ""),
            status=Status(form.status.data) if form.status.data else None,
        )
        return str(_("This call is now on ticket %(ref)s.", ref=ticket.reference))

    return _record(call_id, CallLinkTicketForm(tickets=[]), change)


@bp.post("/calls/<int:call_id>/caller")
@login_required
def call_new_caller(call_id: int) -> ResponseReturnValue:
    def change(call: Call, form: FlaskForm) -> str:
        customer = call_records.create_caller(
            db.session,
            call=call,
            name=str(form.name.data),
            language=str(form.language.data),
            kind=CustomerKind(form.kind.data),
            email=str(form.email.data or ""),
            region=current_app.config["HELPDESK_DEFAULT_REGION"],
        )
        return str(_("%(name)s is now a customer, with this number.", name=customer.name))

    return _record(call_id, CallerForm(), change)


@bp.post("/calls/<int:call_id>/caller/link")
@login_required
def call_link_caller(call_id: int) -> ResponseReturnValue:
    def change(call: Call, form: FlaskForm) -> str:
        customer = call_records.link_caller(
            db.session,
            call=call,
            customer_id=int(form.customer_id.data),
            actor=me(),
            region=current_app.config["HELPDESK_DEFAULT_REGION"],
        )
        return str(_("This number now belongs to %(name)s.", name=customer.name))

    return _record(call_id, LinkCallerForm(), change)


@bp.post("/calls/<int:call_id>/text-article")
@login_required
def call_text_article(call_id: int) -> ResponseReturnValue:
    """Text the caller the help-center link of a public article, in the caller's language."""
    call = _call(call_id)
    _may_change(call)
    raw = request.form.get("article_id", "")
    if not raw.isdigit():
        return _back(call, error=_("Choose an article."))
    try:
        article = kb_service.public_article(db.session, int(raw))
        message = call_records.text_article(
            db.session,
            call=call,
            article=call_records.ArticleLink(
                id=article.id, title=article.title, locale=article.locale
            ),
            actor=me(),
            public_base_url=current_app.config["PUBLIC_BASE_URL"],
            sender=current_app.config["TWILIO_PHONE_NUMBER"],
        )
    except APIError as exc:
        return _refused(call, exc)
    if message.status == "opted_out":
        return _back(call, error=_("Not sent: the caller asked to receive no more texts (STOP)."))
    return _back(call, _("The article's link is on its way to the caller by text."))


def _scores(data: dict[str, Any]) -> dict[str, Any] | None:
    """The caller's lifetime value and churn risk with its drivers, worded for the page."""
    found = data.get("scores")
    if not found:
        return None
    clv_method, _sep, churn_method = str(found.get("method") or "").partition("+")
    return model_labels.scores_view(
        {**found, "clv_method": clv_method, "churn_method": churn_method}
    )
