"""What a saved view may filter on: the ticket list's own filters, by their query-string names
(`/tickets?status=open&assignee=me`), so that a view opens as the list it was saved from.

Pure: the API, the console and the counts all go through `checked` and `ticket_filter`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpdesk.errors import ValidationFailed
from helpdesk.tickets.service import SORTS, TicketFilter
from helpdesk.tickets.workflow import Channel, Priority, Status

Sort = Literal["-created", "created", "-updated"]
assert set(SORTS) == {"-created", "created", "-updated"}  # the list's orders, one for one


class ViewFilters(BaseModel):
    """`assignee: "me"` is whoever opens the view: a shared view of "my tickets" is each
    agent's own."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(default="", max_length=200, description="Subject words or a reference")
    status: list[Status] = Field(default_factory=list, max_length=len(Status))
    priority: Priority | None = None
    assignee: Literal["me", "none"] | None = Field(
        default=None, description="`me`: the user looking at the view; `none`: unassigned"
    )
    group: int | None = Field(default=None, ge=1, description="A group's id")
    tag: str = Field(default="", max_length=64)
    channel: Channel | None = None
    requester: int | None = Field(default=None, ge=1, description="A customer's id")


def checked(raw: dict[str, Any], *, prefix: str = "filters.") -> dict[str, Any]:
    """The filters as stored (only those set), or `ValidationFailed` naming each bad field."""
    try:
        parsed = ViewFilters.model_validate(raw)
    except ValidationError as exc:
        fields = {prefix + ".".join(str(p) for p in err["loc"]): err["msg"] for err in exc.errors()}
        raise ValidationFailed("invalid filters", fields=fields) from exc
    parsed.q = parsed.q.strip()
    parsed.tag = parsed.tag.strip().lower()
    parsed.status = list(dict.fromkeys(parsed.status))
    return parsed.model_dump(mode="json", exclude_defaults=True)


def ticket_filter(filters: dict[str, Any], *, me_id: int) -> TicketFilter:
    """The stored filters as the ticket service reads them, for the user `me_id`."""
    f = ViewFilters.model_validate(filters)
    return TicketFilter(
        status=list(f.status) or None,
        priority=[f.priority] if f.priority else None,
        assignee_id=me_id if f.assignee == "me" else None,
        unassigned=f.assignee == "none",
        group_id=f.group,
        tag=f.tag or None,
        channel=f.channel,
        requester_id=f.requester,
        q=f.q or None,
    )


def list_args(filters: dict[str, Any], sort: str) -> dict[str, Any]:
    """The console's ticket-list query string for a view (the order only when not the default)."""
    args = {
        k: str(v) if isinstance(v, int) else v
        for k, v in filters.items()
        if v not in (None, "", [])
    }
    if sort != "-created":
        args["sort"] = sort
    if not args or set(args) == {"sort"}:
        args["all"] = "1"  # no filter: every ticket, not the signed-in user's default list
    return args
