"""One ticket: its conversation and history, the reply form and the properties form.

A refused change (a transition the workflow forbids, a closed ticket) is rolled back and the page
is shown again with the agent's text still in the form and the reason at the top, with a 4xx
status: never a 500, never a lost reply.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from agents_ui import (
    kb_panel,
    labels,
    macro_picker,
    mail_reply,
    mail_thread,
    reply_delivery,
    sla_display,
)
from agents_ui.account import me
from agents_ui.blueprint import bp
from agents_ui.forms import PropertiesForm, ReplyForm
from agents_ui.queries import all_groups, assignable_staff, user_names
from helpdesk.auth import permissions
from helpdesk.errors import APIError, Conflict, NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.macros import service as macros_service
from helpdesk.mail import uploads
from helpdesk.sla import service as sla_service
from helpdesk.surveys import service as surveys
from helpdesk.tickets import delivery, reply_actions, service
from helpdesk.tickets.models import Comment, Ticket, TicketChange
from helpdesk.tickets.workflow import TRANSITIONS, Priority, Status, reference_for
from telephony import recordings


@dataclass
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    changes: list[tuple[str, str, str]]
    comment_id: int | None


def _properties_form(ticket: Ticket, *, submitted: bool = False) -> PropertiesForm:
    staff = [(str(u.id), u.name) for u in assignable_staff(db.session)]
    if ticket.assignee is not None and str(ticket.assignee_id) not in dict(staff):
        # Keep a departed assignee visible (and selectable as "no change") rather than
        # silently showing someone else.
        staff.append((str(ticket.assignee_id), _("%(name)s (inactive)", name=ticket.assignee.name)))
    groups = [(str(g.id), g.name) for g in all_groups(db.session)]
    if submitted:
        return PropertiesForm(assignees=staff, groups=groups)
    return PropertiesForm(
        formdata=None,
        assignees=staff,
        groups=groups,
        status=ticket.status.value,
        priority=ticket.priority.value,
        assignee=str(ticket.assignee_id or ""),
        group=str(ticket.group_id or ""),
    )


def _history(ticket: Ticket) -> list[HistoryEntry]:
    changes = service.history(db.session, ticket)
    ids: list[int] = []
    for change in changes:
        ids.extend(v for v in (change.changes or {}).get("assignee_id") or [] if isinstance(v, int))
    people = user_names(db.session, ids)
    groups = {g.id: g.name for g in all_groups(db.session)}
    return [_history_entry(c, people, groups) for c in changes]


def _history_entry(
    change: TicketChange, people: dict[int, str], groups: dict[int, str]
) -> HistoryEntry:
    def show(name: str, value: Any) -> str:
        if value is None or value == []:
            return "—"
        if _sla_metric(name):
            return _sla_value(value)
        if name == "status":
            return labels.label(labels.STATUS, value)
        if name == "priority":
            return labels.label(labels.PRIORITY, value)
        if name == "channel":
            return labels.label(labels.CHANNEL, value)
        if name == "assignee_id":
            return people.get(value, f"#{value}")
        if name == "group_id":
            return groups.get(value, f"#{value}")
        if name in ("merged_into_id", "merged_from_id") and isinstance(value, int):
            return reference_for(value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    rows = []
    for name, pair in (change.changes or {}).items():
        if name == "comment_id" or not isinstance(pair, list) or len(pair) != 2:
            continue
        if change.action == "created" and pair[1] is None:
            continue
        rows.append((_field_name(name), show(name, pair[0]), show(name, pair[1])))
    comment = (change.changes or {}).get("comment_id")
    return HistoryEntry(
        at=change.at,
        actor=change.actor.name if change.actor else _("System"),
        action=labels.label(labels.HISTORY_ACTION, change.action),
        changes=rows,
        comment_id=comment[1] if isinstance(comment, list) and len(comment) == 2 else None,
    )


def _sla_metric(name: str) -> str | None:
    """`first_response#2` (how SLA history entries name a clock) as `first_response`."""
    metric = name.partition("#")[0]
    return metric if metric in labels.SLA_METRIC else None


def _field_name(name: str) -> str:
    metric = _sla_metric(name)
    if metric is None:
        return labels.label(labels.HISTORY_FIELD, name)
    cycle = name.partition("#")[2]
    text = labels.label(labels.SLA_METRIC, metric)
    return f"{text} ({cycle})" if cycle not in ("", "1") else text


def _sla_value(value: Any) -> str:
    """A clock's state, or a target as recorded (`14400s`), in the agent's words."""
    text = str(value)
    if text.endswith("s") and text[:-1].isdigit():
        return sla_display.duration(int(text[:-1]))
    return labels.label(labels.SLA_STATE, text)


def _render(
    ticket: Ticket, reply: ReplyForm, props: PropertiesForm, status: int = 200
) -> ResponseReturnValue:
    current = ticket.status
    comments = service.comments(db.session, ticket)
    clocks = sla_service.views_for(db.session, [ticket.id])[ticket.id]
    return render_template(
        "tickets/detail.html",
        ticket=ticket,
        comments=comments,
        thread=mail_thread.thread_for(db.session, ticket.id, [c.id for c in comments]),
        upload_accept=mail_reply.ACCEPT,
        upload_hint=mail_reply.hint(),
        clocks=clocks,
        sla_badge=sla_display.badge(clocks),
        clock_rows=sla_display.clock_rows(clocks),
        history=_history(ticket),
        reply_form=reply,
        props_form=props,
        closed=current is Status.CLOSED,
        reply_route=None if current is Status.CLOSED else _route_notice(ticket),
        delivery_badge=reply_delivery.badge,
        delivery_statuses=delivery.STATUSES,
        delivery_label=reply_delivery.status_label,
        delivery_simulated=reply_delivery.simulated_labels(),
        reply_statuses={s.value for s in TRANSITIONS[current]},
        props_statuses={current.value} | {s.value for s in TRANSITIONS[current]},
        kb_suggestions=kb_panel.suggestions_for(ticket),
        # A merged duplicate's conversation lives on the ticket it was merged into.
        kb_can_draft=current in (Status.SOLVED, Status.CLOSED)
        and ticket.merged_into_id is None
        and current_user.has_role(*permissions.KB_WRITE),
        recordings=recordings.listed(db.session, user=me(), ticket_id=ticket.id),
        macros=[] if current is Status.CLOSED else macro_picker.choices(ticket),
        merged_into_reference=reference_for(ticket.merged_into_id)
        if ticket.merged_into_id
        else None,
        surveys=surveys.recent(db.session, ticket_id=ticket.id),
        survey_state=surveys.state,
    ), status


def _route_notice(ticket: Ticket) -> reply_delivery.RouteNotice:
    route = service.reply_route(db.session, ticket)
    notice = reply_delivery.route_notice(route)
    return replace(notice, warning=mail_reply.warning(db.session, ticket, route))


def describe_refusal(exc: APIError, ticket: Ticket, wanted: Status | None) -> str:
    """The service's refusal in the agent's language; its own (English) message as a fallback."""
    fields = exc.fields or {}
    message = exc.message
    if exc.code == "ticket_closed":
        message = _(
            "This ticket is closed and can no longer be changed. If the customer needs more "
            "help, open a new ticket."
        )
    elif "status" in fields and wanted is not None:
        allowed = ", ".join(
            labels.label(labels.STATUS, s)
            for s in sorted(TRANSITIONS[ticket.status], key=list(Status).index)
        )
        message = _(
            "A ticket cannot go from “%(old)s” to “%(new)s”. Possible next statuses: %(allowed)s.",
            old=labels.label(labels.STATUS, ticket.status),
            new=labels.label(labels.STATUS, wanted),
            allowed=allowed or "—",
        )
    elif "files" in fields:
        message = exc.message  # already in the agent's words (mail_reply.refusal_text)
    elif "body" in fields:
        message = _("Write a message before sending.")
    elif "macro_id" in fields:
        message = _("That macro no longer exists. Remove it from the reply or choose another.")
    elif "assignee_id" in fields:
        message = _("Choose an active agent as assignee.")
    elif "group_id" in fields:
        message = _("That group no longer exists.")
    return str(message)


def _form_errors(form: ReplyForm | PropertiesForm) -> None:
    for name, errors in form.errors.items():
        field = getattr(form, str(name), None)
        label = field.label.text if field is not None else str(name)
        for error in errors:
            flash(f"{label}: {error}", "error")


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int) -> ResponseReturnValue:
    found = service.get(db.session, ticket_id)
    return _render(found, ReplyForm(formdata=None), _properties_form(found))


@bp.post("/tickets/<int:ticket_id>/reply")
@login_required
def reply(ticket_id: int) -> ResponseReturnValue:
    found = service.get(db.session, ticket_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return _render(found, form, _properties_form(found), 400)
    wanted = Status(form.status.data) if form.status.data else None
    public = form.visibility.data == "public"
    before = found.status
    files: list[Any] = []
    actions: reply_actions.ReplyActions | None = None
    try:
        actions = _macro_actions(form)
        files = mail_reply.store_for_reply(found, form.files.data or [])
        comment = _send(found, form, public=public, wanted=wanted, files=files, actions=actions)
    except APIError as exc:
        db.session.rollback()
        mail_reply.discard(files)
        found = service.get(db.session, ticket_id)
        wanted = wanted or (actions.status if actions else None)
        message = describe_refusal(exc, found, wanted)
        route = service.reply_route(db.session, found) if public else None
        if isinstance(exc, Conflict) and route is not None and route.refusal is not None:
            message = reply_delivery.route_notice(route).text  # the opt-out, in their words
        flash(message, "error")
        return _render(found, form, _properties_form(found), exc.status)
    if public:
        # Read after the commit: the outbox may already have handed the reply over.
        flash(*reply_delivery.flash_after_reply(comment))
    else:
        flash(_("Internal note added."), "success")
    if found.status != before:
        flash(
            _("Status is now “%(status)s”.", status=labels.label(labels.STATUS, found.status)),
            "success",
        )
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


def _macro_actions(form: ReplyForm) -> reply_actions.ReplyActions | None:
    """The changes of the macro the reply was written with (None: no macro)."""
    if not form.macro_id.data:
        return None
    try:
        return macros_service.reply_actions(db.session, int(form.macro_id.data), me())
    except NotFound as exc:
        raise ValidationFailed("unknown macro", fields={"macro_id": "no such macro"}) from exc


def _send(
    found: Ticket,
    form: ReplyForm,
    *,
    public: bool,
    wanted: Status | None,
    files: list[Any],
    actions: reply_actions.ReplyActions | None,
) -> Comment:
    """The reply; with the changes of the macro it was written with, in the same step."""
    if actions is None:
        return service.add_comment(
            db.session,
            found,
            body=form.body.data or "",
            public=public,
            actor=me(),
            status=wanted,
            before_delivery=uploads.tie(files),
        )
    return reply_actions.reply_with_actions(
        db.session,
        found,
        actions=actions,
        body=form.body.data or "",
        public=public,
        actor=me(),
        status=wanted,
        before_delivery=uploads.tie(files),
    )


@bp.post("/tickets/<int:ticket_id>/properties")
@login_required
def properties(ticket_id: int) -> ResponseReturnValue:
    found = service.get(db.session, ticket_id)
    form = _properties_form(found, submitted=True)
    if not form.validate_on_submit():
        _form_errors(form)
        return _render(found, ReplyForm(formdata=None), form, 400)
    wanted = Status(form.status.data)
    changes: dict[str, Any] = {
        "status": wanted,
        "priority": Priority(form.priority.data),
        "assignee_id": int(form.assignee.data) if form.assignee.data else None,
        "group_id": int(form.group.data) if form.group.data else None,
    }
    current = {
        "status": found.status,
        "priority": found.priority,
        "assignee_id": found.assignee_id,
        "group_id": found.group_id,
    }
    changes = {k: v for k, v in changes.items() if current[k] != v}
    if not changes:
        flash(_("Nothing to change."), "info")
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    try:
        service.update(db.session, found, actor=me(), **changes)
    except APIError as exc:
        db.session.rollback()
        found = service.get(db.session, ticket_id)
        flash(describe_refusal(exc, found, wanted), "error")
        return _render(found, ReplyForm(formdata=None), form, exc.status)
    flash(_("Ticket updated."), "success")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))
