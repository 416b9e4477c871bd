"""The ticket list: filters read from the query string, newest first, one page per cursor, kept
current over the live connection (static/list_live.js asks for the rows an event concerns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, flash, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from agents_ui import bulk_undo, sla_display
from agents_ui.account import me
from agents_ui.blueprint import bp, can_supervise
from agents_ui.queries import all_groups, assignable_staff
from helpdesk.customers import service as customers
from helpdesk.errors import NotFound
from helpdesk.extensions import db
from helpdesk.pagination import BadCursor
from helpdesk.saved_views import service as saved_views
from helpdesk.saved_views.filters import list_args
from helpdesk.saved_views.models import SavedView
from helpdesk.sla import service as sla_service
from helpdesk.tickets import service, ticket_bulk
from helpdesk.tickets.bulk_rules import MAX_IDS
from helpdesk.tickets.service import TicketFilter
from helpdesk.tickets.workflow import UNRESOLVED, Channel, Priority, Status

PAGE_SIZE = 25
SORTS = {
    "-created": _l("Newest first"),
    "-updated": _l("Recently updated"),
    "created": _l("Oldest first"),
}
STATUS_VALUES = frozenset(s.value for s in Status)
PRIORITY_VALUES = frozenset(p.value for p in Priority)
CHANNEL_VALUES = frozenset(c.value for c in Channel)
ASSIGNEE_CHOICES = {"": _l("Anyone"), "me": _l("Me"), "none": _l("Unassigned")}
# Arguments that page or refresh a list without choosing what it shows.
PAGING_ARGS = ("cursor", "fragment", "ids", "page")


@dataclass
class ListQuery:
    """The filters as the agent chose them, to refill the form and to build page links."""

    q: str = ""
    status: list[str] = field(default_factory=list)
    priority: str = ""
    assignee: str = ""
    group: str = ""
    tag: str = ""
    channel: str = ""
    requester: str = ""
    sort: str = "-created"
    everything: bool = False  # `all=1`: every ticket, rather than the default view

    @classmethod
    def from_args(cls, args: MultiDict[str, str], *, default: dict[str, Any]) -> ListQuery:
        """Unknown values are dropped rather than refused: a stale bookmark still opens.

        With no argument at all, the `default` view's filters apply (`default_view`)."""
        if not [k for k in args if k not in PAGING_ARGS]:
            args = MultiDict(default)
        statuses = [s for s in args.getlist("status") if s in STATUS_VALUES]
        pick = args.get
        return cls(
            everything=pick("all") == "1",
            q=pick("q", "").strip()[:200],
            status=list(dict.fromkeys(statuses)),
            priority=pick("priority", "") if pick("priority") in PRIORITY_VALUES else "",
            assignee=pick("assignee", "") if pick("assignee") in ASSIGNEE_CHOICES else "",
            group=pick("group", "") if pick("group", "").isdigit() else "",
            tag=pick("tag", "").strip().lower()[:64],
            channel=pick("channel", "") if pick("channel") in CHANNEL_VALUES else "",
            requester=pick("requester", "") if pick("requester", "").isdigit() else "",
            sort=pick("sort", "-created") if pick("sort") in SORTS else "-created",
        )

    def to_filter(self, me_id: int) -> TicketFilter:
        return TicketFilter(
            status=[Status(s) for s in self.status] or None,
            priority=[Priority(self.priority)] if self.priority else None,
            assignee_id=me_id if self.assignee == "me" else None,
            unassigned=self.assignee == "none",
            group_id=int(self.group) if self.group else None,
            tag=self.tag or None,
            channel=Channel(self.channel) if self.channel else None,
            requester_id=int(self.requester) if self.requester else None,
            q=self.q or None,
        )

    def args(self) -> dict[str, Any]:
        """Only the filters that are set, so links stay short and readable."""
        values = {
            "q": self.q,
            "status": self.status,
            "priority": self.priority,
            "assignee": self.assignee,
            "group": self.group,
            "tag": self.tag,
            "channel": self.channel,
            "requester": self.requester,
            "sort": "" if self.sort == "-created" else self.sort,
        }
        found = {k: v for k, v in values.items() if v}
        if self.everything and not set(found) - {"sort"}:
            found["all"] = "1"
        return found

    @property
    def is_filtered(self) -> bool:
        return bool(set(self.args()) - {"sort", "all"})

    @property
    def shows_created(self) -> bool:
        """The list shows (and is ordered by) when each ticket was created, else updated."""
        return self.sort != "-updated"

    def live_filter(self, me_id: int) -> dict[str, Any]:
        """What the page's script can check on an event's own fields (status, priority,
        assignee, requester, channel) before it asks the server about a ticket; the other
        filters (text, tag, group) only the server checks."""
        return {
            "status": self.status,
            "priority": [self.priority] if self.priority else [],
            "assignee": me_id if self.assignee == "me" else self.assignee,
            "customer_id": int(self.requester) if self.requester else None,
            "channel": self.channel,
        }


UNRESOLVED_VALUES = [s.value for s in Status if s in UNRESOLVED]
# One-click views over the same filters.
QUICK_VIEWS: list[tuple[Any, dict[str, Any]]] = [
    (_l("My unresolved tickets"), {"assignee": "me", "status": UNRESOLVED_VALUES}),
    (_l("Unassigned"), {"assignee": "none", "status": UNRESOLVED_VALUES}),
    (_l("All unresolved"), {"status": UNRESOLVED_VALUES}),
    (_l("All tickets"), {"all": "1"}),
]


def default_view() -> dict[str, Any]:
    """What `/tickets` shows with no filter: agents (and dispatchers) their own unresolved
    tickets, supervisors and admins every unresolved one. Every other view is one click away."""
    if can_supervise():
        return {"status": UNRESOLVED_VALUES}
    return {"assignee": "me", "status": UNRESOLVED_VALUES}


def view_url(view: SavedView) -> str:
    return url_for("console.tickets", **list_args(view.filters, view.sort))


def saved_menu(current: dict[str, Any]) -> dict[str, Any]:
    """The menu of saved views: each with its link, its count (kept current by
    static/view_counts.js) and whether the list shows it now."""
    user = me()
    views = saved_views.visible(db.session, user=user)
    counts = saved_views.counts(db.session, user=user, views=views)
    items = [(v, view_url(v), counts[v.id], list_args(v.filters, v.sort) == current) for v in views]
    return {
        "items": items,
        "counts_url": url_for("console.saved_view_counts"),
        "may_share": saved_views.may_share(user),
    }


def _opening_view() -> dict[str, Any]:
    """The user's chosen default view, else the list's own default."""
    chosen = saved_views.default_of(db.session, user=me())
    return list_args(chosen.filters, chosen.sort) if chosen else default_view()


@bp.get("/tickets")
@login_required
def tickets() -> ResponseReturnValue:
    asked = [k for k in request.args if k not in PAGING_ARGS]
    # The opening view is read only for a list asked for without filters.
    query = ListQuery.from_args(request.args, default={} if asked else _opening_view())
    flt = query.to_filter(me().id)
    if request.args.get("fragment") == "rows":
        return _live_rows(query, flt)
    cursor = request.args.get("cursor") or None
    try:
        rows, next_cursor = service.list_tickets(
            db.session, flt, cursor=cursor, limit=PAGE_SIZE, sort=query.sort
        )
    except BadCursor:
        flash(_("That page link is no longer valid; here is the first page."), "warning")
        cursor = None
        rows, next_cursor = service.list_tickets(db.session, flt, limit=PAGE_SIZE, sort=query.sort)
    requester = None
    if query.requester:
        try:
            requester = customers.get(db.session, int(query.requester), follow_merge=False)
        except NotFound:
            requester = None
    # Every clock of the page's tickets in a fixed number of queries, whatever the page size.
    clocks = sla_service.views_for(db.session, [t.id for t in rows])
    current = query.args()
    # "Select all N matching": counted (up to the bulk limit) only when there is more than a page.
    matching = ticket_bulk.count_matching(db.session, flt) if next_cursor else len(rows)
    quick_views = [
        (name, url_for("console.tickets", **view), _same_view(current, view))
        for name, view in QUICK_VIEWS
    ]
    return render_template(
        "tickets/list.html",
        rows=rows,
        clocks=clocks,
        badges={tid: sla_display.badge(views) for tid, views in clocks.items()},
        query=query,
        groups=all_groups(db.session),
        requester=requester,
        quick_views=quick_views,
        saved=saved_menu(current),
        sorts=SORTS,
        assignee_choices=ASSIGNEE_CHOICES,
        matching=matching,
        bulk_limit=MAX_IDS,
        staff=assignable_staff(db.session),
        undo=bulk_undo.pending(),
        live={
            "rows_url": url_for("console.tickets", **current, fragment="rows"),
            "first_page": cursor is None,
            "full": next_cursor is not None,
            "ascending": query.sort == "created",
            "filter": query.live_filter(me().id),
        },
        next_url=url_for("console.tickets", **current, cursor=next_cursor) if next_cursor else None,
        first_url=url_for("console.tickets", **current) if cursor else None,
    )


LIVE_ROWS = 50  # tickets asked about at once by a page's script


def _live_rows(query: ListQuery, flt: TicketFilter) -> Response:
    """For the page's script (static/list_live.js): the rows of the tickets named in `ids` that
    match the page's filters, drawn as the page draws them, and the ids that no longer match
    (the page removes those); or, with `page=first`, the first page's rows in order."""
    wanted = [int(i) for i in request.args.get("ids", "").split(",") if i.isdigit()][:LIVE_ROWS]
    if request.args.get("page") != "first":
        flt.ids = wanted
    limit = LIVE_ROWS if flt.ids is not None else PAGE_SIZE
    rows, _next = service.list_tickets(db.session, flt, limit=limit, sort=query.sort)
    clocks = sla_service.views_for(db.session, [t.id for t in rows])
    badges = {tid: sla_display.badge(views) for tid, views in clocks.items()}
    rendered = {
        t.id: render_template("tickets/_row.html", t=t, clocks=clocks, badges=badges, query=query)
        for t in rows
    }
    return jsonify(
        {
            "rows": rendered,
            "order": [t.id for t in rows],
            "gone": [i for i in wanted if i not in rendered],
        }
    )


def _same_view(current: dict[str, Any], view: dict[str, Any]) -> bool:
    return {k: v for k, v in current.items() if k != "sort"} == view
