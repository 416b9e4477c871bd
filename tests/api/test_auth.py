from __future__ import annotations

import re

import pytest

from helpdesk.api.core import ANY_STAFF, OPERATIONS
from helpdesk.auth.models import Role
from tests.conftest import PASSWORD, Api


def _concrete(path: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", "1", path).removeprefix("/api/v1")


PROTECTED = [op for op in OPERATIONS if op.roles is not None]


def test_every_operation_but_login_needs_a_token():
    public = [f"{op.method} {op.path}" for op in OPERATIONS if op.roles is None]
    assert public == ["post /api/v1/auth/token"]


@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: f"{op.method} {op.path}")
def test_anonymous_gets_401(client, op):
    r = client.open("/api/v1" + _concrete(op.path), method=op.method.upper(), json={})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "op",
    [op for op in PROTECTED if len(op.roles) < len(ANY_STAFF)],
    ids=lambda op: f"{op.method} {op.path}",
)
def test_roles_without_permission_get_403(client, api_as, op):
    denied = [r for r in Role if r not in op.roles and r is not Role.ADMIN]
    assert denied
    for role in denied:
        api = api_as(role)
        r = client.open(
            "/api/v1" + _concrete(op.path),
            method=op.method.upper(),
            json={},
            headers={"Authorization": f"Bearer {api.token}"},
        )
        assert r.status_code == 403, (role, r.get_json())
        assert r.get_json()["error"]["code"] == "forbidden"


def test_token_lifecycle(client, make_user):
    user = make_user(Role.AGENT, email="Ana@Example.com")
    r = client.post("/api/v1/auth/token", json={"email": "ana@example.com", "password": PASSWORD})
    assert r.status_code == 201
    body = r.get_json()
    assert body["user"]["id"] == user.id and body["token"].startswith("hdk_")
    api = Api(client, body["token"])
    assert api.get("/users/me").get_json()["email"] == "ana@example.com"
    assert api.delete("/auth/token").status_code == 204
    r = api.get("/users/me")
    assert r.status_code == 401
    assert "revoked" in r.get_json()["error"]["message"]


def test_tokens_are_stored_hashed(app, client, make_user):
    from sqlalchemy import select

    from helpdesk.auth.models import ApiToken
    from helpdesk.extensions import db

    make_user(Role.AGENT, email="b@example.com")
    token = client.post(
        "/api/v1/auth/token", json={"email": "b@example.com", "password": PASSWORD}
    ).get_json()["token"]
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_expired_token_refused(app, client, make_user, token_for):
    from datetime import timedelta

    from sqlalchemy import update

    from helpdesk.auth.models import ApiToken
    from helpdesk.db import utcnow
    from helpdesk.extensions import db

    api = Api(client, token_for(make_user()))
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert api.get("/users/me").status_code == 401


def test_deactivated_user_token_refused(app, client, make_user, token_for):
    from helpdesk.auth import service
    from helpdesk.extensions import db

    user = make_user()
    api = Api(client, token_for(user))
    assert api.get("/users/me").status_code == 200
    service.update_user(session=db.session, user=user, active=False)
    assert api.get("/users/me").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@example.com"}, "password"),
        ({"password": "x"}, "email"),
        ({"email": "x@example.com", "password": "x", "admin": True}, "admin"),
        ({"email": 5, "password": "x"}, "email"),
    ],
)
def test_token_request_validation(client, body, field):
    r = client.post("/api/v1/auth/token", json=body)
    assert r.status_code == 422
    assert field in r.get_json()["error"]["fields"]


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    make_user(Role.AGENT, email="c@example.com")
    a = client.post("/api/v1/auth/token", json={"email": "c@example.com", "password": "nope"})
    b = client.post("/api/v1/auth/token", json={"email": "nobody@example.com", "password": "n"})
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()


def test_failed_logins_are_throttled(app, client, make_user):
    app.config["HELPDESK_LOGIN_LIMIT"] = "3 per minute"
    make_user(Role.AGENT, email="d@example.com")
    for _ in range(3):
        r = client.post("/api/v1/auth/token", json={"email": "d@example.com", "password": "bad"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"email": "d@example.com", "password": PASSWORD})
    assert r.status_code == 429
    assert r.get_json()["error"]["code"] == "too_many_requests"


def test_successful_logins_are_not_throttled(app, client, make_user):
    app.config["HELPDESK_LOGIN_LIMIT"] = "2 per minute"
    make_user(Role.AGENT, email="e@example.com")
    for _ in range(5):
        r = client.post("/api/v1/auth/token", json={"email": "e@example.com", "password": PASSWORD})
        assert r.status_code == 201


def test_admin_manages_users(api_as):
    admin = api_as(Role.ADMIN)
    r = admin.post(
        "/users",
        json={
            "email": "new@example.com",
            "password": "longenough",
            "role": "agent",
            "skills": {"billing": 3},
            "languages": ["fr", "EN"],
            "groups": ["Support"],
        },
    )
    assert r.status_code == 201, r.get_json()
    user = r.get_json()
    assert user["skills"] == [{"skill": "billing", "level": 3}]
    assert user["languages"] == ["fr", "en"] and user["groups"] == ["Support"]
    r = admin.patch(f"/users/{user['id']}", json={"role": "supervisor", "locale": "fr"})
    assert r.get_json()["role"] == "supervisor" and r.get_json()["locale"] == "fr"
    listed = admin.get("/users?role=supervisor").get_json()["items"]
    assert [u["email"] for u in listed] == ["new@example.com"]
    assert admin.get("/users?skill=billing").get_json()["items"][0]["id"] == user["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "longenough", "role": "agent"}, "email"),
        ({"email": "a@example.com", "password": "short", "role": "agent"}, "password"),
        ({"email": "a@example.com", "password": "longenough", "role": "king"}, "role"),
        (
            {
                "email": "a@example.com",
                "password": "longenough",
                "role": "agent",
                "skills": {"x": 9},
            },
            "skills",
        ),
    ],
)
def test_user_create_validation(api_as, body, field):
    r = api_as(Role.ADMIN).post("/users", json=body)
    assert r.status_code == 422
    assert any(k.startswith(field) for k in r.get_json()["error"]["fields"]), r.get_json()


def test_duplicate_email_conflicts(api_as):
    admin = api_as(Role.ADMIN)
    body = {"email": "dup@example.com", "password": "longenough", "role": "agent"}
    assert admin.post("/users", json=body).status_code == 201
    r = admin.post("/users", json=body | {"email": "DUP@example.com"})
    assert r.status_code == 409 and "email" in r.get_json()["error"]["fields"]


def test_unknown_user_404(api):
    r = api.get("/users/999999")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
