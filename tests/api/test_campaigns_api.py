"""`/api/v1/campaigns`: supervisors create and run campaigns (audited), lists imported from a CSV
with the rejected lines and the exclusions named, bad input refused naming the field, the
agent's side (join, disposition), and the audit of attempts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role
from helpdesk.extensions import db

CSV = (
    "name,phone,email,customer_id\n"
    "Alice Martin,06 12 34 56 01,alice@example.com,\n"
    "Alice again,+33612345601,,\n"
    "Bob,not a number,,\n"
    "Carl,0612345603,,\n"
)


def _fields(r):
    return r.get_json()["error"].get("fields", {})


@pytest.fixture
def supervisor(api_as):
    return api_as(Role.SUPERVISOR, name="Sam Super")


def _create(client, **body):
    r = client.post(
        "/campaigns",
        json={"name": "Renewals", "script_en": "Hello", "script_fr": "Bonjour"} | body,
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_supervisor_creates_imports_starts_and_reads_a_campaign(
    supervisor, api, customer_factory
):
    known = customer_factory(name="Carl Known", phones=["+33612345603"])
    made = _create(supervisor)
    assert made["status"] == "draft" and made["channel"] == "call"
    assert [d["outcome"] for d in made["dispositions"]][:3] == ["converted", "reached", "refused"]

    r = supervisor.post(f"/campaigns/{made['id']}/members", json={"source": "csv", "csv": CSV})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["added"] == 2 and body["excluded"] == 0
    assert [(x["line"], x["reason"]) for x in body["rejected"]] == [
        (3, "duplicate"),
        (4, "bad_number"),
    ]
    members = supervisor.get(f"/campaigns/{made['id']}/members").get_json()["items"]
    assert [(m["number"], m["customer_id"]) for m in members] == [
        ("+33612345601", None),
        ("+33612345603", known.id),  # matched to the customer by number
    ]
    assert members[1]["display_name"] == "Carl"

    r = supervisor.post(f"/campaigns/{made['id']}/status", json={"status": "active"})
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert r.get_json()["figures"]["pending"] == 2
    r = supervisor.post(f"/campaigns/{made['id']}/status", json={"status": "draft"})
    assert r.status_code == 422 and "status" in _fields(r)

    # Agents read campaigns and may join a running call campaign, but not run one.
    assert [c["id"] for c in api.get("/campaigns").get_json()["items"]] == [made["id"]]
    assert api.post("/campaigns", json={"name": "x"}).status_code == 403
    assert api.get(f"/campaigns/{made['id']}/attempts").status_code == 403
    r = api.put(f"/campaigns/{made['id']}/agents/me")
    assert r.status_code == 200 and r.get_json()["joined"] is True

    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"campaign.create", "campaign.members_import", "campaign.status"} <= actions
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "campaign.members_import")
    )
    assert "Alice" not in str(entry.details)  # the list's contents are not copied to the log


def test_bad_input_is_refused_naming_the_field(app_clock, supervisor):
    r = supervisor.post("/campaigns", json={"name": "", "channel": "fax"})
    assert r.status_code == 422 and {"name", "channel"} <= set(_fields(r))
    r = supervisor.post(
        "/campaigns",
        json={
            "name": "Offer",
            "channel": "sms",
            "message_en": "Hi {{customer.nam}}",
            "message_fr": "Salut",
        },
    )
    assert r.status_code == 422 and "customer.nam" in _fields(r)["message_en"]
    r = supervisor.post(
        "/campaigns", json={"name": "Offer", "kind": "marketing", "script_en": "Hi"}
    )
    assert r.status_code == 422 and "legal_basis" in _fields(r)
    r = supervisor.post(
        "/campaigns",
        json={
            "name": "Calls",
            "script_en": "Hi",
            "dispositions": [
                {"code": "busy", "label_en": "Busy", "label_fr": "Occupé", "outcome": "retry"}
            ],
        },
    )
    assert r.status_code == 422 and "dispositions" in _fields(r)
    r = supervisor.post(
        "/campaigns",
        json={"name": "Calls", "script_en": "Hi", "window_start": "20:00", "window_end": "09:00"},
    )
    assert r.status_code == 422 and "window_end" in _fields(r)
    made = _create(supervisor)
    r = supervisor.post(f"/campaigns/{made['id']}/members", json={"source": "csv", "csv": "a\n1"})
    assert r.status_code == 422 and "csv" in _fields(r)
    r = supervisor.post(f"/campaigns/{made['id']}/members", json={"source": "view"})
    assert r.status_code == 422 and "view_id" in _fields(r)
    r = supervisor.post(f"/campaigns/{made['id']}/status", json={"status": "active"})
    assert r.status_code == 409  # nobody on the list yet
    assert supervisor.get("/campaigns/999999").status_code == 404


def test_customers_of_a_segment_join_the_list_and_the_erased_are_excluded(
    app_clock, supervisor, customer_factory
):
    from helpdesk.customers.models import Customer
    from helpdesk.value.models import CustomerValue

    kept = customer_factory(name="Best One", phones=["+33612345611"])
    gone = customer_factory(name="Erased", phones=["+33612345612"])
    other = customer_factory(name="Standard", phones=["+33612345613"])
    db.session.get(Customer, gone.id).erased_at = db.session.get(Customer, gone.id).created_at
    for c, seg in ((kept, "best"), (gone, "best"), (other, "standard")):
        db.session.add(CustomerValue(customer_id=c.id, segment=seg))
    db.session.commit()
    made = _create(supervisor)
    r = supervisor.post(
        f"/campaigns/{made['id']}/members", json={"source": "segment", "segment": "best"}
    )
    assert r.status_code == 200 and r.get_json()["added"] == 1 and r.get_json()["excluded"] == 1
    excluded = supervisor.get(f"/campaigns/{made['id']}/members?status=excluded").get_json()
    assert [(m["customer_id"], m["excluded_reason"]) for m in excluded["items"]] == [
        (gone.id, "erased")
    ]


def test_the_dialer_from_the_api_says_why_no_call_and_refuses_an_unknown_disposition(
    app_clock, supervisor, api, app
):
    from helpdesk.auth.models import User
    from telephony import agent_presence

    made = _create(supervisor)
    supervisor.post(
        f"/campaigns/{made['id']}/members",
        json={"source": "csv", "csv": "phone\n0612345631\n0612345632\n"},
    )
    supervisor.post(f"/campaigns/{made['id']}/status", json={"status": "active"})
    assert api.put(f"/campaigns/{made['id']}/agents/me").status_code == 200

    r = api.post("/campaigns/dialer/next")
    assert r.status_code == 200 and r.get_json() == {
        "placed": False,
        "reason": "not_free",
        "offer": None,
        "waiting": None,  # given with nobody_due only
    }
    agent_presence.set_presence(
        db.session, user=db.session.get(User, api.user.id), state="available"
    )
    r = api.post("/campaigns/dialer/next")
    assert r.get_json()["placed"] is True
    attempt_id = r.get_json()["offer"]["attempt_id"]
    assert api.get("/campaigns/dialer/current").get_json()["offer"]["attempt_id"] == attempt_id

    r = api.post(f"/campaigns/attempts/{attempt_id}/disposition", json={"disposition": "maybe"})
    assert r.status_code == 422 and "disposition" in _fields(r)
    # Only the agent of the call (or a supervisor) records it.
    r = supervisor.post(
        f"/campaigns/attempts/{attempt_id}/disposition", json={"disposition": "busy"}
    )
    assert r.status_code == 200 and r.get_json()["member"]["status"] == "pending"
    r = api.post(f"/campaigns/attempts/{attempt_id}/disposition", json={"disposition": "busy"})
    assert r.status_code == 409
