"""`POST /tickets/bulk` and its undo: by ids and by filter, per-ticket refusals, the history of
each ticket, bad input naming the field, who may undo."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.auth.models import Group
from helpdesk.extensions import db


def _ticket(api: Any, customer_id: int, **body: Any) -> dict[str, Any]:
    payload = {"subject": "Box down", "requester_id": customer_id, **body}
    r = api.post("/tickets", json=payload)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def test_bulk_assign_status_tags_then_undo(api, make_user, customer_factory, recorded):
    c = customer_factory()
    agent = make_user("agent")
    a = _ticket(api, c.id, tags=["old", "keep"])
    b = _ticket(api, c.id, status="open")

    r = api.post(
        "/tickets/bulk",
        json={
            "ids": [a["id"], b["id"]],
            "set": {
                "assignee_id": agent.id,
                "status": "pending",
                "add_tags": ["Billing"],
                "remove_tags": ["old"],
            },
        },
    )

    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert sorted(out["changed"]) == sorted([a["id"], b["id"]])
    assert out["change_id"] is not None and out["undo_until"]
    got = api.get(f"/tickets/{a['id']}").get_json()
    assert (got["status"], got["assignee"]["id"], got["tags"]) == (
        "pending",
        agent.id,
        ["billing", "keep"],
    )
    last = api.get(f"/tickets/{a['id']}/history").get_json()["items"][-1]
    assert last["note"] == "bulk change"
    assert last["changes"]["status"] == ["new", "pending"]
    assert {a["id"], b["id"]} <= {e.payload["ticket_id"] for e in recorded.named("ticket.updated")}

    # Ticket b is changed again by hand: the undo keeps it and says so.
    assert api.patch(f"/tickets/{b['id']}", json={"status": "open"}).status_code == 200
    undo = api.post(f"/tickets/bulk/{out['change_id']}/undo")

    assert undo.status_code == 200, undo.get_json()
    assert undo.get_json()["restored"] == [a["id"]]
    assert undo.get_json()["skipped"] == [{"id": b["id"], "reason": "status changed since"}]
    back = api.get(f"/tickets/{a['id']}").get_json()
    assert (back["status"], back["assignee"], back["tags"]) == ("new", None, ["keep", "old"])
    assert api.get(f"/tickets/{b['id']}").get_json()["status"] == "open"
    again = api.post(f"/tickets/bulk/{out['change_id']}/undo")
    assert again.status_code == 409 and "change_id" in again.get_json()["error"]["fields"]


def test_bulk_by_filter_skips_what_the_workflow_refuses(api, customer_factory):
    c = customer_factory()
    group = Group(name="Level 2")
    db.session.add(group)
    db.session.commit()
    new = _ticket(api, c.id, tags=["bulk-filter"])
    solved = _ticket(api, c.id, tags=["bulk-filter"], status="open")
    api.patch(f"/tickets/{solved['id']}", json={"status": "solved"})
    _ticket(api, c.id, tags=["elsewhere"])

    r = api.post(
        "/tickets/bulk",
        json={"filter": {"tag": "bulk-filter"}, "set": {"status": "closed", "group_id": group.id}},
    )

    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["changed"] == [solved["id"]]
    assert [s["id"] for s in out["skipped"]] == [new["id"]]
    assert "new to closed" in out["skipped"][0]["reason"]
    assert api.get(f"/tickets/{new['id']}").get_json()["group"] is None


def test_bulk_merge_folds_the_selection_into_one(api, customer_factory):
    c = customer_factory(phones=[])
    keep, d1, d2 = (_ticket(api, c.id) for _ in range(3))
    r = api.post(
        "/tickets/bulk",
        json={"ids": [keep["id"], d1["id"], d2["id"]], "set": {"merge_into": keep["id"]}},
    )
    assert r.status_code == 200, r.get_json()
    assert sorted(r.get_json()["changed"]) == sorted([d1["id"], d2["id"]])
    assert r.get_json()["change_id"] is None
    assert api.get(f"/tickets/{d2['id']}").get_json()["merged_into_id"] == keep["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"set": {"status": "open"}}, "ids"),
        ({"ids": [1], "filter": {}, "set": {"status": "open"}}, "ids"),
        ({"ids": [], "set": {"status": "open"}}, "ids"),
        ({"ids": list(range(1, 1002)), "set": {"status": "open"}}, "ids"),
        ({"ids": [1], "set": {}}, "set"),
        ({"ids": [1], "set": {"status": "frozen"}}, "set.status"),
        ({"ids": [1], "set": {"assignee_id": 999999}}, "set.assignee_id"),
        ({"ids": [1], "set": {"group_id": 999999}}, "set.group_id"),
        ({"ids": [1], "set": {"colour": "red"}}, "set.colour"),
        ({"ids": [1], "set": {"merge_into": 1, "status": "open"}}, "set.merge_into"),
        ({"filter": {"status": ["nope"]}, "set": {"status": "open"}}, "filter.status.0"),
    ],
)
def test_bulk_bad_input_names_the_field(api, body, field):
    r = api.post("/tickets/bulk", json=body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"], r.get_json()


def test_only_the_author_or_a_supervisor_undoes(api_as, customer_factory):
    author = api_as("agent")
    t = _ticket(author, customer_factory().id)
    change = author.post("/tickets/bulk", json={"ids": [t["id"]], "set": {"status": "open"}})
    change_id = change.get_json()["change_id"]
    assert api_as("agent").post(f"/tickets/bulk/{change_id}/undo").status_code == 403
    assert (
        api_as("integration").post("/tickets/bulk", json={"ids": [t["id"]], "set": {}}).status_code
        == 403
    )
    r = api_as("supervisor").post(f"/tickets/bulk/{change_id}/undo")
    assert r.status_code == 200 and r.get_json()["restored"] == [t["id"]]
