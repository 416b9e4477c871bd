"""Spaces alone are not a name, a subject or a message: 422 naming the field, nothing saved.

Before, `min_length=1` let "   " through and the services stored it stripped, so a customer or
ticket without a name showed as an empty line in every list."""

from __future__ import annotations

import pytest

from helpdesk.auth.models import Role

BLANKS = ["   ", "\t\n", "\u00a0"]


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_customer_name_is_refused_and_nothing_saved(api, blank):
    before = api.get("/customers").get_json()
    r = api.post("/customers", json={"name": blank})
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["fields"]["name"] == "must not be blank"
    assert api.get("/customers").get_json() == before


def test_blank_subjects_messages_and_titles_are_refused(api_as, customer_factory, ticket_factory):
    admin = api_as(Role.ADMIN)
    customer = customer_factory()
    ticket = ticket_factory(requester_id=customer.id)
    cases = [
        ("patch", f"/customers/{customer.id}", {"name": " "}, "name"),
        ("post", "/tickets", {"subject": "  ", "requester_id": customer.id}, "subject"),
        ("patch", f"/tickets/{ticket.id}", {"subject": " "}, "subject"),
        ("post", f"/tickets/{ticket.id}/comments", {"body": " \n "}, "body"),
        ("post", "/kb/articles", {"title": " ", "body": "x"}, "title"),
        (
            "post",
            "/technicians",
            {"name": " ", "phone": "+33612345678", "home_lat": 48.8, "home_lon": 2.3},
            "name",
        ),
    ]
    for method, path, body, field in cases:
        r = getattr(admin, method)(path, json=body)
        assert r.status_code == 422, (path, r.get_json())
        assert field in r.get_json()["error"]["fields"], (path, r.get_json())
    assert admin.get(f"/tickets/{ticket.id}").get_json()["subject"].strip()
    assert admin.get(f"/customers/{customer.id}").get_json()["name"] == customer.name


def test_text_around_words_is_still_accepted(api):
    r = api.post("/customers", json={"name": "  Élodie Moreau "})
    assert r.status_code == 201 and r.get_json()["name"] == "Élodie Moreau"
