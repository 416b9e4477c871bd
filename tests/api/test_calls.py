from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from telephony.models import Call


def test_queue_admin_and_validation(api_as):
    admin = api_as(Role.ADMIN)
    r = admin.post(
        "/queues",
        json={
            "name": "support",
            "skills": {"support": 2},
            "steps": [{"after_s": 30, "level_drop": 1}],
        },
    )
    assert r.status_code == 201, r.get_json()
    qid = r.get_json()["id"]
    r = admin.put(
        f"/queues/{qid}",
        json={"name": "support", "skills": {"support": 1}, "strategy": "round_robin"},
    )
    assert r.get_json()["strategy"] == "round_robin"
    agent = api_as(Role.AGENT)
    assert [q["name"] for q in agent.get("/queues").get_json()["items"]] == ["support"]
    assert agent.post("/queues", json={"name": "x"}).status_code == 403
    assert admin.put("/queues/9999", json={"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"name": "q", "skills": {"a": 9}}, "skills.a"),
        ({"name": "q", "strategy": "random"}, "strategy"),
        ({"name": "q", "steps": [{"after_s": -1}]}, "steps.0.after_s"),
        (
            {"name": "q", "steps": [{"after_s": 5, "overflow_queue": "nope"}]},
            "steps.0.overflow_queue",
        ),
        ({"name": "q", "ring_timeout_s": 1}, "ring_timeout_s"),
    ],
)
def test_queue_bad_input(api_as, body, field):
    r = api_as(Role.ADMIN).post("/queues", json=body)
    assert r.status_code == 422 and field in r.get_json()["error"]["fields"], r.get_json()


def test_calls_list_filters_and_pages(api, customer_factory):
    c = customer_factory()
    now = datetime.now(UTC)
    for i in range(5):
        db.session.add(
            Call(
                call_sid=f"CA{i:032d}",
                customer_id=c.id if i % 2 else None,
                outcome="answered" if i < 3 else "abandoned",
                created_at=now,
                routing_state="done",
                status="completed",
            )
        )
    db.session.commit()
    page = api.get("/calls?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get(f"/calls?limit=10&cursor={page['next_cursor']}").get_json()["items"]
    assert len(rest) == 3
    assert len(api.get("/calls?outcome=abandoned").get_json()["items"]) == 2
    assert len(api.get(f"/calls?customer_id={c.id}").get_json()["items"]) == 2
    assert api.get("/calls?outcome=lost").status_code == 422
    assert api.get("/calls?cursor=zzz").status_code == 422
    assert api.get("/calls/99999").status_code == 404
    assert api.post("/calls/99999/accept").status_code == 404


def test_accepting_a_call_that_is_not_ringing_for_me(api, customer_factory):
    call = Call(
        call_sid="CA" + "9" * 32,
        routing_state="waiting",
        status="in-progress",
        created_at=datetime.now(UTC),
    )
    db.session.add(call)
    db.session.commit()
    r = api.post(f"/calls/{call.id}/accept")
    assert r.status_code == 409 and "not ringing for you" in r.get_json()["error"]["message"]
    assert api.post(f"/calls/{call.id}/reject").status_code == 409
    r = api.post(f"/calls/{call.id}/wrap-up", json={"notes": "x"})
    assert r.status_code == 404
