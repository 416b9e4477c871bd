"""`/api/v1`: consents to marketing and the do-not-call list; bad input refused naming the field,
administrators alone keep the list, every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role
from helpdesk.consent import service as consent
from helpdesk.extensions import db


def _fields(r):
    return r.get_json()["error"].get("fields", {})


@pytest.fixture
def agent(api_as):
    return api_as(Role.AGENT, name="Léa Martin")


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_record_list_and_withdraw_a_consent(agent, customer_factory):
    customer = customer_factory(name="Ana")
    db.session.commit()
    base = f"/customers/{customer.id}/consents"
    r = agent.post(base, json={"channel": "sms", "proof": "Oui, par téléphone", "source": "agent"})
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert (made["channel"], made["recorded_by_id"]) == ("sms", agent.user.id)
    assert made["withdrawn_at"] is None
    again = agent.post(base, json={"channel": "sms", "proof": "again"})
    assert again.status_code == 422 and "channel" in _fields(again)
    blank = agent.post(base, json={"channel": "call", "proof": "   "})
    assert blank.status_code == 422 and "proof" in _fields(blank)
    bad = agent.post(base, json={"channel": "fax", "proof": "yes"})
    assert bad.status_code == 422 and "channel" in _fields(bad)
    assert (
        agent.post("/customers/999999/consents", json={"channel": "sms", "proof": "y"}).status_code
        == 404
    )

    r = agent.post(f"{base}/{made['id']}/withdraw")
    assert r.status_code == 200 and r.get_json()["withdrawn_at"] is not None
    listed = agent.get(base).get_json()["items"]
    assert [c["id"] for c in listed] == [made["id"]]
    other = customer_factory(name="Other")
    db.session.commit()
    assert agent.post(f"/customers/{other.id}/consents/{made['id']}/withdraw").status_code == 404
    assert _actions() == ["consent.record", "consent.withdraw"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "consent.record"))
    assert entry.target_id == str(customer.id) and "Oui" not in str(entry.details)


def test_do_not_call_lookup_add_and_remove(agent, api_as):
    admin = api_as(Role.ADMIN)
    consent.import_do_not_call(db.session, source="bloctel", numbers=["+33612000701"])
    db.session.commit()
    found = agent.get("/do-not-call", query_string={"number": "06 12 00 07 01"}).get_json()
    assert found["number"] == "+33612000701" and found["listed"] is True
    assert [e["source"] for e in found["entries"]] == ["bloctel"]
    free = agent.get("/do-not-call", query_string={"number": "0612000702"}).get_json()
    assert free["listed"] is False and free["entries"] == []
    bad = agent.get("/do-not-call", query_string={"number": "hello"})
    assert bad.status_code == 422 and "number" in _fields(bad)

    assert agent.post("/do-not-call", json={"number": "0612000702"}).status_code == 403
    r = admin.post("/do-not-call", json={"number": "0612000702", "channels": ["call", "sms"]})
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["channels"] == ["call", "sms"] and made["source"] == "manual"
    bad = admin.post("/do-not-call", json={"number": "0612000702", "channels": ["email"]})
    assert bad.status_code == 422 and "channels" in str(_fields(bad))
    bloctel = found["entries"][0]["id"]
    refused = admin.delete(f"/do-not-call/{bloctel}")
    assert refused.status_code == 422 and "source" in _fields(refused)
    assert admin.delete(f"/do-not-call/{made['id']}").status_code == 204
    assert admin.delete(f"/do-not-call/{made['id']}").status_code == 404
    assert _actions() == ["do_not_call.add", "do_not_call.remove"]
    added = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "do_not_call.add"))
    assert added.target_id == str(made["id"]) and "0612000702" not in str(added.details)
