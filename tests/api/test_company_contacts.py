"""`GET /api/v1/customers?company_id=N`: a company's contacts, a page at a time; refused with
`company_id` named when it is not an integer or not a company."""

from __future__ import annotations

import pytest


def _create(api, **body):
    r = api.post("/customers", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_company_s_contacts_paginated(api):
    company = _create(api, name="Garage Fontaine", kind="company")
    other = _create(api, name="Boulangerie Martin", kind="company")
    contacts = [_create(api, name=f"Contact {n}", company_id=company["id"]) for n in range(3)]
    _create(api, name="Someone else", company_id=other["id"])
    _create(api, name="No company")

    first = api.get(f"/customers?company_id={company['id']}&limit=2").get_json()
    assert [c["id"] for c in first["items"]] == [contacts[0]["id"], contacts[1]["id"]]
    assert all(c["company"]["id"] == company["id"] for c in first["items"])
    rest = api.get(
        f"/customers?company_id={company['id']}&limit=2&cursor={first['next_cursor']}"
    ).get_json()
    assert [c["id"] for c in rest["items"]] == [contacts[2]["id"]] and rest["next_cursor"] is None
    # With a name as well: both apply.
    found = api.get(f"/customers?company_id={company['id']}&q=contact 1").get_json()
    assert [c["id"] for c in found["items"]] == [contacts[1]["id"]]


def test_a_company_without_contacts_lists_none(api):
    company = _create(api, name="Empty SARL", kind="company")
    body = api.get(f"/customers?company_id={company['id']}").get_json()
    assert body == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("value", ["abc", "1.5", "", "99999999"])
def test_bad_company_id_names_the_field(api, value):
    r = api.get(f"/customers?company_id={value}")
    assert r.status_code == 422, r.get_json()
    assert "company_id" in r.get_json()["error"]["fields"]


def test_a_person_is_not_a_company(api):
    person = _create(api, name="Jeanne")
    r = api.get(f"/customers?company_id={person['id']}")
    assert r.status_code == 422
    assert "not a company" in r.get_json()["error"]["fields"]["company_id"]


def test_anonymous_callers_are_refused(client):
    assert client.get("/api/v1/customers?company_id=1").status_code == 401
