from __future__ import annotations

import pytest

from helpdesk.auth.models import Role


def _create(api, **body):
    body.setdefault("name", "Élodie Moreau")
    r = api.post("/customers", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_create_normalises_contacts(api):
    c = _create(
        api,
        phones=[{"number": "06 12 34 56 78"}, {"number": "+1 415 555 2671", "label": "work"}],
        emails=[{"email": "Elodie@Example.com"}],
        tags=["VIP", "vip", " loyal "],
        language="fr",
    )
    assert [p["number"] for p in c["phones"]] == ["+33612345678", "+14155552671"]
    assert c["emails"] == [{"email": "elodie@example.com", "label": "work"}]
    assert c["tags"] == ["loyal", "vip"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "A", "phones": [{"number": "not a number"}]}, "phones.0"),
        ({"name": "A", "phones": [{"number": "06 12"}]}, "phones.0"),
        ({"name": "A", "emails": [{"email": "nope"}]}, "emails.0.email"),
        ({"name": "A", "language": "de"}, "language"),
        ({"name": "A", "kind": "alien"}, "kind"),
        ({"name": "A", "colour": "red"}, "colour"),
        ({"name": "A", "company_id": 999999}, "company_id"),
    ],
)
def test_bad_input_names_the_field(api, body, field):
    r = api.post("/customers", json=body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"], r.get_json()


def test_malformed_json_and_wrong_type(api):
    r = api.client.post(
        "/api/v1/customers",
        data="{not json",
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"
    r = api.client.post(
        "/api/v1/customers",
        data="name=x",
        headers={
            "Authorization": f"Bearer {api.token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert r.status_code == 415
    r = api.post("/customers", json=["a list"])
    assert r.status_code == 422 and "body" in r.get_json()["error"]["fields"]


def test_lookup_by_phone_any_format(api):
    c = _create(api, phones=[{"number": "+33 6 11 22 33 44"}])
    _create(api, name="Other", phones=[{"number": "+33 6 99 88 77 66"}])
    for number in ("0611223344", "+33611223344", "06 11 22 33 44", "0033611223344"):
        items = api.get("/customers/lookup", query_string={"number": number}).get_json()["items"]
        assert [i["id"] for i in items] == [c["id"]], number
    assert api.get("/customers/lookup?number=garbage").get_json()["items"] == []
    r = api.get("/customers/lookup")
    assert r.status_code == 422 and "number" in r.get_json()["error"]["fields"]


def test_search_by_name_accent_insensitive_and_paginated(api):
    for name in ["Élodie Moreau", "elodie Martin", "Hugo Élan", "Zoé Petit"]:
        _create(api, name=name)
    names = [c["name"] for c in api.get("/customers?q=elo").get_json()["items"]]
    assert names == ["Élodie Moreau", "elodie Martin"]
    assert [c["name"] for c in api.get("/customers?q=ELAN").get_json()["items"]] == ["Hugo Élan"]
    page = api.get("/customers?limit=3").get_json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = api.get(f"/customers?limit=3&cursor={page['next_cursor']}").get_json()
    assert [c["name"] for c in rest["items"]] == ["Zoé Petit"] and rest["next_cursor"] is None
    assert api.get("/customers?cursor=%%%").status_code == 422
    assert api.get("/customers?q=%25_").status_code == 200  # LIKE wildcards are literal


def test_update_and_company(api):
    company = _create(api, name="Garage Fontaine", kind="company")
    person = _create(api, name="Louis", phones=[{"number": "0612345678"}])
    r = api.patch(
        f"/customers/{person['id']}",
        json={
            "company_id": company["id"],
            "tags": ["business"],
            "phones": [{"number": "0698765432"}],
        },
    )
    body = r.get_json()
    assert body["company"] == {"id": company["id"], "name": "Garage Fontaine"}
    assert [p["number"] for p in body["phones"]] == ["+33698765432"]
    r = api.patch(f"/customers/{company['id']}", json={"company_id": person["id"]})
    assert r.status_code == 422
    assert api.patch("/customers/999999", json={"name": "x"}).status_code == 404


def test_merge_moves_history(api_as):
    sup = api_as(Role.SUPERVISOR)
    keep = _create(sup, name="Camille Durand", phones=[{"number": "0611111111"}])
    dup = _create(sup, name="C. Durand", phones=[{"number": "0622222222"}], tags=["vip"])
    t = sup.post("/tickets", json={"subject": "Box", "requester_id": dup["id"]}).get_json()
    r = sup.post(f"/customers/{keep['id']}/merge", json={"source_id": dup["id"]})
    assert r.status_code == 200, r.get_json()
    merged = r.get_json()
    assert {p["number"] for p in merged["phones"]} == {"+33611111111", "+33622222222"}
    assert merged["tags"] == ["vip"]
    assert sup.get(f"/tickets/{t['id']}").get_json()["requester"]["id"] == keep["id"]
    # The old id still resolves, to the surviving record.
    assert sup.get(f"/customers/{dup['id']}").get_json()["id"] == keep["id"]
    kinds = [e["kind"] for e in sup.get(f"/customers/{keep['id']}/timeline").get_json()["items"]]
    assert kinds == ["customer_merged", "ticket_created"]
    lookup = sup.get("/customers/lookup?number=0622222222").get_json()["items"]
    assert [c["id"] for c in lookup] == [keep["id"]]
    again = sup.post(f"/customers/{keep['id']}/merge", json={"source_id": dup["id"]})
    assert again.status_code == 409
    assert (
        sup.post(f"/customers/{keep['id']}/merge", json={"source_id": keep["id"]}).status_code
        == 422
    )


def test_export_and_erase(api_as):
    admin = api_as(Role.ADMIN)
    c = _create(
        admin,
        name="Manon Leroy",
        phones=[{"number": "0633333333"}],
        emails=[{"email": "manon@example.com"}],
    )
    t = admin.post(
        "/tickets",
        json={
            "subject": "Refund for Manon",
            "description": "IBAN FR76...",
            "requester_id": c["id"],
            "priority": "high",
        },
    ).get_json()
    admin.post(f"/tickets/{t['id']}/comments", json={"body": "Call me at 0633333333"})
    export = admin.get(f"/customers/{c['id']}/export").get_json()
    assert export["customer"]["phones"] == [{"number": "+33633333333", "label": "mobile"}]
    assert export["tickets"][0]["subject"] == "Refund for Manon"
    assert export["tickets"][0]["comments"][0]["body"] == "Call me at 0633333333"

    assert admin.delete(f"/customers/{c['id']}").status_code == 204
    erased = admin.get(f"/customers/{c['id']}").get_json()
    assert erased["erased"] is True and "Manon" not in erased["name"]
    assert erased["phones"] == [] and erased["emails"] == []
    ticket = admin.get(f"/tickets/{t['id']}").get_json()
    assert ticket["subject"] == "[erased]" and ticket["description"] == ""
    # Aggregates survive: the ticket's priority, channel and timestamps are still there.
    assert ticket["priority"] == "high" and ticket["created_at"] == t["created_at"]
    assert admin.get(f"/tickets/{t['id']}/comments").get_json()["items"][0]["body"] == "[erased]"
    assert admin.get("/customers/lookup?number=0633333333").get_json()["items"] == []
    timeline = admin.get(f"/customers/{c['id']}/timeline").get_json()["items"]
    assert all("Manon" not in e["summary"] and "0633" not in e["summary"] for e in timeline)
    assert admin.patch(f"/customers/{c['id']}", json={"name": "Back"}).status_code == 409


def test_supervisor_only_for_export_and_merge(api_as):
    agent = api_as(Role.AGENT)
    c = _create(agent)
    assert agent.get(f"/customers/{c['id']}/export").status_code == 403
    assert agent.delete(f"/customers/{c['id']}").status_code == 403
    assert api_as(Role.SUPERVISOR).delete(f"/customers/{c['id']}").status_code == 403
