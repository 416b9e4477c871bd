"""A saved view's filters: checked with the field named, stored with only what is set, read back
as the ticket service's filter (with "me" as whoever looks) and as the console list's link."""

from __future__ import annotations

import pytest

from helpdesk.errors import ValidationFailed
from helpdesk.saved_views.filters import checked, list_args, ticket_filter
from helpdesk.tickets.workflow import Channel, Priority, Status


def test_only_what_is_set_is_stored_tidied() -> None:
    stored = checked(
        {"status": ["open", "new", "open"], "tag": " VIP ", "q": "  printer ", "group": "3"}
    )
    assert stored == {"status": ["open", "new"], "tag": "vip", "q": "printer", "group": 3}
    assert checked({}) == {}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"status": ["open", "lost"]}, "filters.status.1"),
        ({"priority": "extreme"}, "filters.priority"),
        ({"assignee": "bob"}, "filters.assignee"),
        ({"group": 0}, "filters.group"),
        ({"requester": "x"}, "filters.requester"),
        ({"channel": "fax"}, "filters.channel"),
        ({"tag": "t" * 65}, "filters.tag"),
        ({"sort": "-created"}, "filters.sort"),  # the order is not a filter
    ],
)
def test_a_bad_filter_is_refused_by_name(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        checked(raw)
    assert field in (refused.value.fields or {})


def test_me_is_whoever_looks() -> None:
    stored = checked({"assignee": "me", "priority": "urgent", "channel": "sms"})
    flt = ticket_filter(stored, me_id=7)
    assert flt.assignee_id == 7 and not flt.unassigned
    assert flt.priority == [Priority.URGENT] and flt.channel is Channel.SMS
    assert ticket_filter(stored, me_id=9).assignee_id == 9
    unassigned = ticket_filter(checked({"assignee": "none", "status": ["new"]}), me_id=7)
    assert unassigned.unassigned and unassigned.assignee_id is None
    assert unassigned.status == [Status.NEW]


def test_the_console_link_of_a_view() -> None:
    assert list_args({"group": 3, "status": ["new"]}, "-created") == {
        "group": "3",
        "status": ["new"],
    }
    assert list_args({"tag": "vip"}, "-updated") == {"tag": "vip", "sort": "-updated"}
    # No filter at all: every ticket, not the user's default list.
    assert list_args({}, "-created") == {"all": "1"}
    assert list_args({}, "created") == {"sort": "created", "all": "1"}
