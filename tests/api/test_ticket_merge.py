"""`POST /tickets/{id}/merge`: the rules (same customer, no merge of or into a merged ticket,
not into itself), what the customer is told, and who may merge."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from helpdesk.customers.models import CustomerKind
from helpdesk.extensions import db
from telephony.models import SmsMessage

MOBILE = "+33612345670"


def _ticket(api: Any, customer_id: int, **body: Any) -> dict[str, Any]:
    payload = {"subject": "Box down", "requester_id": customer_id, **body}
    r = api.post("/tickets", json=payload)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _merge(api: Any, source: int, into: int) -> Any:
    return api.post(f"/tickets/{source}/merge", json={"into": into})


def test_merge_moves_comments_closes_the_duplicate_and_texts_the_customer(
    api, customer_factory, recorded
):
    c = customer_factory(phones=[MOBILE])
    dup = _ticket(api, c.id, channel="sms", tags=["wifi"])
    target = _ticket(api, c.id, channel="sms", tags=["box"])
    note = api.post(
        f"/tickets/{dup['id']}/comments", json={"body": "Router reset", "public": False}
    )
    assert note.status_code == 201

    r = _merge(api, dup["id"], target["id"])

    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["ticket"]["status"] == "closed"
    assert out["ticket"]["merged_into_id"] == target["id"]
    assert out["into"]["tags"] == ["box", "wifi"]
    assert out["moved"]["comments"] == 1
    notice = out["customer_notice"]
    assert notice["channel"] == "sms" and notice["to"] == MOBILE
    text = db.session.scalar(
        select(SmsMessage).where(SmsMessage.direction == "outbound").order_by(SmsMessage.id.desc())
    )
    assert text is not None and target["reference"] in text.body
    bodies = [x["body"] for x in api.get(f"/tickets/{target['id']}/comments").get_json()["items"]]
    assert "Router reset" in bodies
    assert any(f"{dup['reference']} (Box down) was merged into this ticket" in b for b in bodies)
    dup_comments = api.get(f"/tickets/{dup['id']}/comments").get_json()["items"]
    assert [x["public"] for x in dup_comments] == [True, False]
    assert dup_comments[1]["body"].startswith(f"Merged into {target['reference']} by ")
    actions = [h["action"] for h in api.get(f"/tickets/{dup['id']}/history").get_json()["items"]]
    assert actions[-1] == "merged"
    target_actions = api.get(f"/tickets/{target['id']}/history").get_json()["items"]
    assert target_actions[-1]["changes"] == {"merged_from_id": [None, dup["id"]]}
    updated = {e.payload["ticket_id"] for e in recorded.named("ticket.updated")}
    assert {dup["id"], target["id"]} <= updated
    # The duplicate is read-only from now on.
    again = api.post(f"/tickets/{dup['id']}/comments", json={"body": "more"})
    assert again.status_code == 409


def test_a_customer_no_channel_reaches_is_not_claimed_told(api, customer_factory):
    c = customer_factory(phones=[])
    dup = _ticket(api, c.id)
    target = _ticket(api, c.id)

    r = _merge(api, dup["id"], target["id"])

    assert r.status_code == 200, r.get_json()
    assert r.get_json()["customer_notice"] is None
    dup_comments = api.get(f"/tickets/{dup['id']}/comments").get_json()["items"]
    assert not [x for x in dup_comments if x["public"]]
    assert any("was not told" in x["body"] for x in dup_comments)


def test_people_of_one_company_may_merge(api, customer_factory):
    company = customer_factory(name="Acme", kind=CustomerKind.COMPANY, phones=[])
    alice = customer_factory(company_id=company.id)
    bob = customer_factory(company_id=company.id)
    r = _merge(api, _ticket(api, alice.id)["id"], _ticket(api, bob.id)["id"])
    assert r.status_code == 200, r.get_json()


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ("itself", 422, "into"),
        ("other_customer", 422, "into"),
        ("missing_target", 422, "into"),
        ("already_merged", 409, "ticket_id"),
        ("into_merged", 409, "into"),
        ("bad_body", 422, "into"),
    ],
)
def test_merge_refusals_name_the_field(api, customer_factory, case, status, field):
    c = customer_factory()
    a, b = _ticket(api, c.id), _ticket(api, c.id)
    if case == "itself":
        r = _merge(api, a["id"], a["id"])
    elif case == "other_customer":
        r = _merge(api, a["id"], _ticket(api, customer_factory().id)["id"])
    elif case == "missing_target":
        r = _merge(api, a["id"], 999999)
    elif case == "bad_body":
        r = api.post(f"/tickets/{a['id']}/merge", json={"into": "T-1"})
    else:
        third = _ticket(api, c.id)
        assert _merge(api, a["id"], b["id"]).status_code == 200
        r = (
            _merge(api, a["id"], third["id"])
            if case == "already_merged"
            else _merge(api, third["id"], a["id"])
        )
    assert r.status_code == status, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_merge_needs_staff(api_as, api, customer_factory):
    c = customer_factory()
    a, b = _ticket(api, c.id), _ticket(api, c.id)
    r = api_as("integration").post(f"/tickets/{a['id']}/merge", json={"into": b["id"]})
    assert r.status_code == 403
