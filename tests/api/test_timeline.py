from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.extensions import db
from helpdesk.timeline import service as timeline


def test_timeline_streams_tickets_and_comments(api, customer_factory):
    c = customer_factory()
    t = api.post("/tickets", json={"subject": "Box down", "requester_id": c.id}).get_json()
    api.post(f"/tickets/{t['id']}/comments", json={"body": "Rebooting it now"})
    api.post(
        f"/tickets/{t['id']}/comments", json={"body": "Internal: known outage", "public": False}
    )
    api.patch(f"/tickets/{t['id']}", json={"status": "solved"})
    items = api.get(f"/customers/{c.id}/timeline").get_json()["items"]
    assert [i["kind"] for i in items] == [
        "ticket_status",
        "ticket_note",
        "ticket_status",
        "ticket_reply",
        "ticket_created",
    ]
    assert items[-1]["summary"] == f"{t['reference']} Box down"
    assert all(i["ticket_id"] == t["id"] for i in items)
    only = api.get(f"/customers/{c.id}/timeline?kind=ticket_reply").get_json()["items"]
    assert [i["kind"] for i in only] == ["ticket_reply"]


def test_timeline_pages_in_order_with_ties(app, api, customer_factory):
    c = customer_factory()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(25):
        # Pairs of entries share a timestamp: the cursor must break ties by id.
        timeline.append(
            db.session,
            customer_id=c.id,
            kind="call",
            summary=f"call {i}",
            occurred_at=base + timedelta(minutes=i // 2),
        )
    db.session.commit()
    seen, cursor = [], None
    while True:
        page = api.get(
            f"/customers/{c.id}/timeline?limit=4" + (f"&cursor={cursor}" if cursor else "")
        ).get_json()
        seen += [i["summary"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"call {i}" for i in reversed(range(25))]


def test_timestamps_come_back_aware_utc(api, customer_factory):
    c = customer_factory()
    t = api.post("/tickets", json={"subject": "x", "requester_id": c.id}).get_json()
    created = datetime.fromisoformat(t["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)
