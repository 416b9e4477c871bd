"""What the per-process caches save, and that a committed change is seen at once: an API request
with a known token reads no token row; a new ticket reads no SLA policy and opens no savepoint
when there is no policy; a policy or a revocation committed takes effect on the next request."""

from __future__ import annotations

from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from tests.conftest import Api
from tests.statements import statements


def test_a_known_token_costs_no_query_and_a_revocation_is_seen_at_once(app, client, make_user):
    user = make_user(Role.AGENT, email="cached@example.com")
    token = auth.issue_token(session=db.session, user=user)
    api = Api(client, token)
    assert api.get("/users/me").status_code == 200  # the first use records `last_used_at`
    assert api.get("/users/me").status_code == 200  # the next one reads the token, once
    with statements() as seen:
        assert api.get("/users/me").get_json()["email"] == "cached@example.com"
    assert not [s for s in seen if "FROM api_tokens" in s]
    auth.revoke_token(session=db.session, token=token)
    assert api.get("/users/me").status_code == 401


def test_a_role_change_is_seen_by_the_next_request(app, client, make_user):
    user = make_user(Role.SUPERVISOR, email="demoted@example.com")
    api = Api(client, auth.issue_token(session=db.session, user=user))
    api.get("/users/me")
    assert api.get("/users/me").get_json()["role"] == "supervisor"
    auth.update_user(session=db.session, user=user, role=Role.AGENT)
    assert api.get("/users/me").get_json()["role"] == "agent"


def test_a_ticket_without_policies_reads_none_and_a_new_policy_applies_at_once(
    app, client, make_user
):
    admin = make_user(Role.ADMIN, email="sla-admin@example.com")
    api = Api(client, auth.issue_token(session=db.session, user=admin))
    customer = api.post("/customers", json={"name": "Cache Test"}).get_json()["id"]
    api.post("/tickets", json={"subject": "warm", "requester_id": customer})
    with statements() as seen:
        first = api.post("/tickets", json={"subject": "no policy", "requester_id": customer})
    assert first.status_code == 201
    assert not [s for s in seen if "sla_policies" in s or s.startswith("SAVEPOINT")]
    assert api.get(f"/tickets/{first.get_json()['id']}/sla").get_json()["clocks"] == []
    calendar = api.post("/sla/calendars", json={"name": "Always", "always_open": True})
    policy = api.post(
        "/sla/policies",
        json={
            "name": "All",
            "calendar_id": calendar.get_json()["id"],
            "targets": {"normal": {"first_response": 3600}},
        },
    )
    assert policy.status_code == 201, policy.get_json()
    second = api.post("/tickets", json={"subject": "with policy", "requester_id": customer})
    clocks = api.get(f"/tickets/{second.get_json()['id']}/sla").get_json()["clocks"]
    assert [c["metric"] for c in clocks] == ["first_response"]
