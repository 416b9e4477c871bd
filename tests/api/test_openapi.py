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
