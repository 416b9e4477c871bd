from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from helpdesk.api.core import OPERATIONS


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the document does not depend on the database


def test_document_is_valid_openapi(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_operation_is_documented(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json":
            path = rule.rule
            for arg in rule.arguments:
                path = (
                    path.replace(f"<int:{arg}>", f"{{{arg}}}")
                    .replace(f"<string:{arg}>", f"{{{arg}}}")
                    .replace(f"<{arg}>", f"{{{arg}}}")
                )
            routed |= {(m.lower(), path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    assert len(OPERATIONS) == len(documented)


def test_contract_paths_present(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/customers",
        "/api/v1/tickets",
        "/api/v1/users",
        "/api/v1/customers/{customer_id}/timeline",
        "/api/v1/customers/lookup",
    ):
        assert path in paths
    token = paths["/api/v1/auth/token"]["post"]
    assert token["security"] == [] and "429" in token["responses"]
    listing = paths["/api/v1/tickets"]["get"]
    status = next(p for p in listing["parameters"] if p["name"] == "status")
    assert status["schema"]["items"]["enum"] == [
        "new",
        "open",
        "pending",
        "on_hold",
        "solved",
        "closed",
    ]
    assert "422" in listing["responses"] and "401" in listing["responses"]


def test_two_models_of_one_name_are_refused():
    """Components are keyed by model name: a second model of the same name would silently
    document every operation of the first with its schema (GET /kb/suggestions once was)."""
    from pydantic import BaseModel

    from helpdesk.api.openapi import SchemaNameCollision, _schema_ref

    def model(**fields):
        return type("SuggestionsOut", (BaseModel,), {"__annotations__": fields})

    components: dict = {}
    _schema_ref(model(results=list[int]), components)
    _schema_ref(model(results=list[int]), components)  # the same schema again: no harm
    with pytest.raises(SchemaNameCollision, match="SuggestionsOut"):
        _schema_ref(model(suggestions=list[int], excluded=list[int]), components)


def test_kb_suggestions_are_documented_with_their_own_schema(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    ok = doc["paths"]["/api/v1/kb/suggestions"]["get"]["responses"]["200"]
    name = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(doc["components"]["schemas"][name]["properties"]) == {"results"}


def test_the_response_check_refuses_what_the_document_does_not_say(app):
    from tests.api.contract import contract

    check = contract().errors
    fits = b'{"results": []}'
    assert check("GET", "/api/v1/kb/suggestions", 200, "application/json", fits) == []
    wrong = b'{"work_order_id": 1, "suggestions": [], "excluded": []}'
    assert check("GET", "/api/v1/kb/suggestions", 200, "application/json", wrong)
    assert check("GET", "/api/v1/kb/suggestions", 200, "text/html", fits)
    assert (
        "answered 418" in check("GET", "/api/v1/kb/suggestions", 418, "application/json", b"{}")[0]
    )
    error = b'{"error": {"code": "not_found", "message": "no"}}'
    assert check("GET", "/api/v1/nowhere", 404, "application/json", error) == []
    assert check("GET", "/api/v1/nowhere", 404, "application/json", b'{"detail": "no"}')
    assert check("GET", "/api/v1/nowhere", 200, "application/json", b"{}")
    token = check("POST", "/api/v1/auth/token", 201, "application/json", b'{"token": 1}')
    assert token and any("token" in e for e in token)
