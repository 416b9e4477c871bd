"""Bulk actions of the ticket list: the selected tickets (or every ticket the filter matches),
one change, a confirmation that says how many tickets change, then an undo offered on the list.

The list's form posts here with the list's filters in the query string; a first post shows the
confirmation, the second (`confirm=1`) runs the change through `tickets.ticket_bulk` (the same
service as `POST /api/v1/tickets/bulk`). The undo's handle is kept in the agent's session for as
long as the change can be undone.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from agents_ui import labels
from agents_ui.account import me
from agents_ui.blueprint import bp
from agents_ui.queries import all_groups, assignable_staff
from agents_ui.ticket_list import ListQuery, default_view
from agents_ui.ticket_merge_pages import refusal_text
from helpdesk.errors import APIError
from helpdesk.extensions import db
from helpdesk.tickets import service, ticket_bulk
from helpdesk.tickets.bulk_rules import MAX_IDS, BulkSet, norm_tags
from helpdesk.tickets.workflow import Status, reference_for

ACTIONS = ("assign", "status", "tags", "group", "merge")
SKIPPED_SHOWN = 10


def _list_args() -> dict[str, Any]:
    return ListQuery.from_args(request.args, default=default_view()).args()


def _selection() -> tuple[str, list[int]]:
    """("ids", the ticked ids) or ("filter", every id the list's filter matches)."""
    if request.form.get("scope") == "filter":
        query = ListQuery.from_args(request.args, default=default_view())
        return "filter", ticket_bulk.select_ids(db.session, query.to_filter(me().id))
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    return "ids", list(dict.fromkeys(ids))


def _optional_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _wanted(form: MultiDict[str, str]) -> tuple[BulkSet, str]:
    """The change the form asks for, and its description for the confirmation."""
    action = form.get("action", "")
    if action == "assign":
        assignee = _optional_id(form.get("assignee"))
        names = dict((u.id, u.name) for u in assignable_staff(db.session))
        what = _("Assign to %(name)s", name=names.get(assignee, "?")) if assignee else _("Unassign")
        return BulkSet(fields={"assignee_id": assignee}), what
    if action == "status" and form.get("status") in {s.value for s in Status}:
        status = form["status"]
        return BulkSet(fields={"status": status}), _(
            "Status: %(status)s", status=labels.label(labels.STATUS, status)
        )
    if action == "group":
        group = _optional_id(form.get("group"))
        names = {g.id: g.name for g in all_groups(db.session)}
        what = _("Group: %(name)s", name=names.get(group, "?")) if group else _("No group")
        return BulkSet(fields={"group_id": group}), what
    if action == "tags":
        add = tuple(norm_tags(form.get("add_tags", "").split(",")))
        remove = tuple(norm_tags(form.get("remove_tags", "").split(",")))
        what = _(
            "Tags: add %(add)s; remove %(remove)s",
            add=", ".join(add) or "—",
            remove=", ".join(remove) or "—",
        )
        return BulkSet(add_tags=add, remove_tags=remove), what
    return BulkSet(), ""


@bp.post("/tickets/bulk")
@login_required
def tickets_bulk() -> ResponseReturnValue:
    back = url_for("console.tickets", **_list_args())
    action = request.form.get("action", "")
    try:
        scope, ids = _selection()
    except APIError as exc:
        why = (exc.fields or {}).get("filter", exc.message)
        flash(_("Too many tickets match this filter: %(why)s", why=why), "error")
        return redirect(back)
    if not ids:
        flash(_("Select at least one ticket first."), "error")
        return redirect(back)
    if len(ids) > MAX_IDS:
        flash(_("At most %(max)d tickets can be changed at once.", max=MAX_IDS), "error")
        return redirect(back)
    if action == "merge":
        return _merge(ids, back)
    wanted, what = _wanted(request.form)
    if action not in ACTIONS or wanted.empty:
        flash(_("Choose an action and its value."), "error")
        return redirect(back)
    if request.form.get("confirm") != "1":
        return render_template(
            "tickets/bulk_confirm.html",
            scope=scope,
            ids=ids,
            what=what,
            form=request.form,
            list_args=_list_args(),
            back=back,
        )
    try:
        result = ticket_bulk.apply(db.session, actor=me(), ids=ids, wanted=wanted)
    except APIError as exc:
        db.session.rollback()
        flash(str(next(iter((exc.fields or {}).values()), exc.message)), "error")
        return redirect(back)
    _report(result)  # the list then offers its Undo (bulk_undo reads the change's row)
    return redirect(back)


def _merge(ids: list[int], back: str) -> ResponseReturnValue:
    into = _optional_id(request.form.get("into"))
    if len(ids) < 2:
        flash(_("Select at least two tickets to merge."), "error")
        return redirect(back)
    if into is None or into not in ids or request.form.get("confirm") != "1":
        rows, _next = service.list_tickets(
            db.session, service.TicketFilter(ids=ids[:50]), limit=50, sort="created"
        )
        return render_template(
            "tickets/bulk_confirm.html",
            scope="ids",
            ids=ids,
            what=_("Merge into one ticket"),
            form=request.form,
            list_args=_list_args(),
            back=back,
            merge_rows=rows,
        )
    result = ticket_bulk.merge_many(db.session, actor=me(), ids=ids, into=into)
    if result.changed:
        flash(
            ngettext(
                "%(num)d ticket merged into %(ref)s.",
                "%(num)d tickets merged into %(ref)s.",
                len(result.changed),
                ref=reference_for(into),
            ),
            "success",
        )
    _report_skipped(result.skipped, merge=True)
    return redirect(back)


def _report(result: ticket_bulk.BulkResult) -> None:
    flash(
        ngettext("%(num)d ticket changed.", "%(num)d tickets changed.", len(result.changed)),
        "success" if result.changed else "info",
    )
    if result.unchanged:
        flash(
            ngettext(
                "%(num)d ticket was already as asked.",
                "%(num)d tickets were already as asked.",
                len(result.unchanged),
            ),
            "info",
        )
    _report_skipped(result.skipped)


def reason_text(why: str) -> str:
    """A ticket's refusal (helpdesk.tickets.ticket_bulk) in the agent's language."""
    fixed = {
        "no such ticket": _("no such ticket"),
        "closed tickets cannot be changed": _("closed, cannot be changed"),
        "closed since": _("closed since"),
        "closed: closed is final": _("closed, and closed is final"),
        "the previous assignee is no longer an active agent": _(
            "the previous assignee is no longer an active agent"
        ),
        "the previous group no longer exists": _("the previous group no longer exists"),
    }
    if why in fixed:
        return str(fixed[why])
    if why.endswith(" changed since"):
        field = why.removesuffix(" changed since")
        return str(_("%(field)s changed since", field=labels.label(labels.HISTORY_FIELD, field)))
    if why.startswith("a ticket cannot go from "):
        return str(_("the workflow does not allow this status from the current one"))
    return why


def _report_skipped(skipped: dict[int, str], *, merge: bool = False) -> None:
    if not skipped:
        return
    shown = "; ".join(
        f"{reference_for(i)}: {refusal_text(APIError(why)) if merge else reason_text(why)}"
        for i, why in list(skipped.items())[:SKIPPED_SHOWN]
    )
    more = len(skipped) - SKIPPED_SHOWN
    flash(
        ngettext("%(num)d ticket skipped: ", "%(num)d tickets skipped: ", len(skipped))
        + shown
        + (_(" (and %(more)d more)", more=more) if more > 0 else ""),
        "warning",
    )


@bp.post("/tickets/bulk/<int:change_id>/undo")
@login_required
def tickets_bulk_undo(change_id: int) -> ResponseReturnValue:
    back = url_for("console.tickets", **_list_args())
    try:
        result = ticket_bulk.undo(db.session, actor=me(), change_id=change_id)
    except APIError as exc:
        db.session.rollback()
        flash(_("This change can no longer be undone: %(why)s", why=exc.message), "error")
        return redirect(back)
    flash(
        ngettext(
            "Undone: %(num)d ticket restored.",
            "Undone: %(num)d tickets restored.",
            len(result.restored),
        ),
        "success",
    )
    if result.skipped:
        _report_skipped(result.skipped)
    return redirect(back)
