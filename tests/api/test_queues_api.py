"""`/api/v1/queues`: a queue's priority, overflow loops refused by the step that makes them, and a
queue the phone menu or another queue sends callers to kept active and named, with the field."""

from __future__ import annotations

from helpdesk.auth.models import Role


def _queue(admin, name, **body):
    r = admin.post("/queues", json={"name": name, "skills": {"support": 1}, **body})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_priority_is_kept_and_bounded(api_as):
    admin = api_as(Role.ADMIN)
    made = _queue(admin, "sales", priority=20)
    assert made["priority"] == 20
    assert admin.get("/queues").get_json()["items"][0]["priority"] == 20
    r = admin.put(f"/queues/{made['id']}", json={"name": "sales", "priority": 99})
    assert r.status_code == 422 and "priority" in r.get_json()["error"]["fields"]


def test_an_overflow_loop_is_refused_on_its_step(api_as):
    admin = api_as(Role.ADMIN)
    alpha = _queue(admin, "alpha")
    _queue(admin, "beta", steps=[{"after_s": 60, "overflow_queue": "alpha"}])
    r = admin.put(
        f"/queues/{alpha['id']}",
        json={
            "name": "alpha",
            "steps": [{"after_s": 10, "level_drop": 1}, {"after_s": 30, "overflow_queue": "beta"}],
        },
    )
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert fields == {"steps.1.overflow_queue": "overflow loop: alpha → beta → alpha"}
    r = admin.put(
        f"/queues/{alpha['id']}",
        json={"name": "alpha", "steps": [{"after_s": 5, "overflow_queue": "alpha"}]},
    )
    assert r.get_json()["error"]["fields"] == {
        "steps.0.overflow_queue": "another queue than this one"
    }
    # An inactive queue overflows nowhere, so saving one inactive is no loop.
    r = admin.put(
        f"/queues/{alpha['id']}",
        json={
            "name": "alpha",
            "active": False,
            "steps": [{"after_s": 5, "overflow_queue": "beta"}],
        },
    )
    assert r.status_code == 422 and "active" in r.get_json()["error"]["fields"]  # beta sends here


def test_a_queue_the_menu_names_is_neither_deactivated_nor_renamed(api_as):
    admin = api_as(Role.ADMIN)
    support = _queue(admin, "support")
    r = admin.put(f"/queues/{support['id']}", json={"name": "support", "active": False})
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"]["active"].startswith("still in use: IVR key 1")
    r = admin.put(f"/queues/{support['id']}", json={"name": "helpdesk"})
    assert r.status_code == 422 and "name" in r.get_json()["error"]["fields"]
    other = _queue(admin, "spare")
    r = admin.put(f"/queues/{other['id']}", json={"name": "spare", "active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False
