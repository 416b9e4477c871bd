"""`/api/v1/webhooks`: subscriptions managed by admins, the secret shown once, the delivery log,
each change audited, and bad input refused with the field named."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.webhooks import config
from tests.webhook_receiver import independent_signature_ok, receiver


@pytest.fixture
def admin(api_as):
    return api_as(Role.ADMIN)


def _create(admin, url, **body):
    r = admin.post("/webhooks", json={"url": url, "event_types": ["ticket.created"]} | body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_create_list_change_and_delete(admin, api, customer_factory):
    with receiver() as hook:
        made = _create(admin, hook.url, description="CRM")
        assert made["secret"].startswith("whsec_") and made["active"] is True
        # The secret is in the creation's answer only.
        one = admin.get(f"/webhooks/{made['id']}").get_json()
        assert "secret" not in one and one["description"] == "CRM"
        assert "secret" not in admin.get("/webhooks").get_json()["items"][0]

        r = admin.patch(
            f"/webhooks/{made['id']}",
            json={"event_types": ["ticket.created", "call.ended"], "active": False},
        )
        assert r.status_code == 200
        body = r.get_json()
        assert body["active"] is False and body["disabled_reason"]
        assert body["event_types"] == ["ticket.created", "call.ended"]
        assert admin.patch(f"/webhooks/{made['id']}", json={"active": True}).get_json()["active"]

        rotated = admin.post(f"/webhooks/{made['id']}/secret").get_json()
        assert rotated["secret"] != made["secret"]

        # A delivery signed with the new secret shows in the log.
        r = api.post("/tickets", json={"subject": "Hello", "requester_id": customer_factory().id})
        assert r.status_code == 201
        assert len(hook.requests) == 1
        got = hook.requests[0]
        assert independent_signature_ok(
            rotated["secret"], got.headers["X-Helpdesk-Signature"], got.body
        )
        log = admin.get(f"/webhooks/{made['id']}/deliveries").get_json()
        assert [(i["event_type"], i["status_code"], i["succeeded"]) for i in log["items"]] == [
            ("ticket.created", 200, True)
        ]
        assert log["items"][0]["event_id"] == got.headers["X-Helpdesk-Event-Id"]

    assert admin.delete(f"/webhooks/{made['id']}").status_code == 204
    assert admin.get(f"/webhooks/{made['id']}").status_code == 404
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "webhook.create",
        "webhook.update",
        "webhook.update",
        "webhook.secret_rotate",
        "webhook.delete",
    ]
    for entry in db.session.scalars(select(AuditEntry)):
        assert "whsec_" not in str(entry.details)


def test_other_roles_are_refused(api_as):
    for role in (Role.AGENT, Role.SUPERVISOR, Role.DISPATCHER):
        r = api_as(role).post("/webhooks", json={"url": "http://127.0.0.1/x", "event_types": []})
        assert r.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["ticket.created"]}, "url"),
        ({"url": "ftp://example.com/x", "event_types": ["ticket.created"]}, "url"),
        ({"url": "http://user:pw@example.com/x", "event_types": ["ticket.created"]}, "url"),
        ({"url": "not a url", "event_types": ["ticket.created"]}, "url"),
        ({"url": "http://127.0.0.1/x", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1/x", "event_types": ["survey.sent"]}, "event_types.0"),
        ({"url": "http://127.0.0.1/x"}, "event_types"),
        ({"url": "http://127.0.0.1/x", "event_types": ["call.ended"], "active": "maybe"}, "active"),
        ({"url": "http://127.0.0.1/x", "event_types": ["call.ended"], "secret": "x"}, "secret"),
        (
            {"url": "http://127.0.0.1/x", "event_types": ["call.ended"], "description": "x" * 201},
            "description",
        ),
    ],
)
def test_bad_creations_name_the_field(admin, body, field):
    r = admin.post("/webhooks", json=body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://10.1.2.3/x",
        "http://[::1]/x",
        "http://169.254.169.254/x",
        "https://192.168.1.10/x",
        "http://0.0.0.0/x",
    ],
)
def test_private_addresses_are_refused_unless_allowed(app, admin, url):
    app.extensions[config.EXTENSION].allow_private = False
    r = admin.post("/webhooks", json={"url": url, "event_types": ["ticket.created"]})
    assert r.status_code == 422
    assert "url" in r.get_json()["error"]["fields"]


def test_bad_changes_and_unknown_ids(admin):
    made = _create(admin, "http://127.0.0.1:9/x")
    path = f"/webhooks/{made['id']}"
    for body, field in [
        ({"url": "gopher://x"}, "url"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["nope"]}, "event_types.0"),
        ({"active": "maybe"}, "active"),
        ({"colour": "red"}, "colour"),
    ]:
        r = admin.patch(path, json=body)
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"], (
            body,
            r.get_json(),
        )
    assert admin.patch(path, data="x", content_type="text/plain").status_code == 415
    assert admin.post("/webhooks", data="{", content_type="application/json").status_code == 400
    r = admin.get(f"{path}/deliveries?limit=0")
    assert r.status_code == 422 and "limit" in r.get_json()["error"]["fields"]
    r = admin.get(f"{path}/deliveries?cursor=garbage")
    assert r.status_code == 422 and "cursor" in r.get_json()["error"]["fields"]
    r = admin.get(f"{path}/deliveries?colour=red")
    assert r.status_code == 422 and "colour" in r.get_json()["error"]["fields"]
    for method, missing in [
        ("get", "/webhooks/999"),
        ("patch", "/webhooks/999"),
        ("delete", "/webhooks/999"),
        ("post", "/webhooks/999/secret"),
        ("get", "/webhooks/999/deliveries"),
    ]:
        r = getattr(admin, method)(missing, **({"json": {}} if method == "patch" else {}))
        assert r.status_code == 404, (method, missing)
        assert r.get_json()["error"]["code"] == "not_found"
