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


def _my_call(api, customer_id, sid="CA" + "7" * 32):
    call = Call(
        call_sid=sid,
        from_number="+33655555555",
        to_number="+33100000000",
        customer_id=customer_id,
        routing_state="connected",
        status="in-progress",
        agent_id=api.user.id,
        created_at=datetime.now(UTC),
    )
    db.session.add(call)
    db.session.commit()
    return call


def test_a_call_opens_or_joins_a_ticket(api, api_as, customer_factory, ticket_factory):
    hugo = customer_factory(name="Hugo Martin", phones=["+33655555555"])
    call = _my_call(api, hugo.id)
    r = api.post(f"/calls/{call.id}/ticket", json={"subject": "Line down", "priority": "high"})
    assert r.status_code == 200, r.get_json()
    first = r.get_json()["ticket_id"]
    r = api.get(f"/tickets/{first}")
    assert r.get_json()["channel"] == "phone" and r.get_json()["assignee"]["id"] == api.user.id
    older = ticket_factory(requester_id=hugo.id, subject="Invoice")
    r = api.post(
        f"/calls/{call.id}/ticket",
        json={"ticket_id": older.id, "note": "Refund agreed", "status": "pending"},
    )
    assert r.status_code == 200 and r.get_json()["ticket_id"] == older.id
    assert api.get(f"/tickets/{older.id}").get_json()["status"] == "pending"
    # Bad input names the field; someone else's ticket is refused; so is another agent.
    r = api.post(f"/calls/{call.id}/ticket", json={"ticket_id": older.id, "subject": "x"})
    assert r.status_code == 422 and "ticket_id" in r.get_json()["error"]["fields"]
    r = api.post(f"/calls/{call.id}/ticket", json={"priority": "whenever", "subject": "x"})
    assert r.status_code == 422 and "priority" in r.get_json()["error"]["fields"]
    stranger = ticket_factory(subject="Not theirs")
    r = api.post(f"/calls/{call.id}/ticket", json={"ticket_id": stranger.id})
    assert r.status_code == 422 and "ticket_id" in r.get_json()["error"]["fields"]
    other = api_as(Role.AGENT)
    r = other.post(f"/calls/{call.id}/ticket", json={"subject": "Mine now"})
    assert r.status_code == 403
    assert api.post("/calls/99999/ticket", json={"subject": "x"}).status_code == 404


def test_an_unknown_caller_is_identified(api, customer_factory):
    provisional = customer_factory(
        name="+33655555555", phones=["+33655555555"], tags=["new-caller"]
    )
    call = _my_call(api, provisional.id)
    zoe = customer_factory(name="Zoé Lambert", phones=["+33622222222"])
    r = api.post(f"/calls/{call.id}/caller", json={})
    assert r.status_code == 422 and "customer_id" in r.get_json()["error"]["fields"]
    r = api.post(f"/calls/{call.id}/caller", json={"customer_id": zoe.id})
    assert r.status_code == 200 and r.get_json()["customer_id"] == zoe.id
    r = api.get(f"/customers/{zoe.id}")
    assert {p["number"] for p in r.get_json()["phones"]} == {"+33622222222", "+33655555555"}
    # Known now: a second identification is refused.
    r = api.post(f"/calls/{call.id}/caller", json={"name": "Someone else"})
    assert r.status_code == 409
    second = _my_call(api, None, sid="CA" + "6" * 32)
    r = api.post(f"/calls/{second.id}/caller", json={"name": "New Person", "language": "en"})
    assert r.status_code == 200
    created = r.get_json()["customer_id"]
    assert api.get(f"/customers/{created}").get_json()["language"] == "en"


def test_merging_a_contact_with_history_needs_a_supervisor(
    api, api_as, customer_factory, ticket_factory
):
    provisional = customer_factory(
        name="+33655555555", phones=["+33655555555"], tags=["new-caller"]
    )
    ticket_factory(requester_id=provisional.id, subject="Voicemail from an unknown number")
    call = _my_call(api, provisional.id)
    zoe = customer_factory(name="Zoé Lambert", phones=["+33622222222"])
    r = api.post(f"/calls/{call.id}/caller", json={"customer_id": zoe.id})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "merge_needs_supervisor"
    boss = api_as(Role.SUPERVISOR)
    r = boss.post(f"/calls/{call.id}/caller", json={"customer_id": zoe.id})
    assert r.status_code == 200 and r.get_json()["customer_id"] == zoe.id
