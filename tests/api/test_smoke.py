from __future__ import annotations


def test_openapi_and_health(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    body = client.get("/healthz").get_json()
    assert body["database"]["ok"] is True


def test_ticket_roundtrip(api, customer_factory):
    customer = customer_factory()
    r = api.post("/tickets", json={"subject": "Box down", "requester_id": customer.id})
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    assert ticket["reference"] == f"T-{10000 + ticket['id']}"
    assert api.get("/tickets").get_json()["items"][0]["id"] == ticket["id"]
