"""Webhooks from the console: a subscription made by the API's rules (refusals shown under the
field), its secret shown on the next page only, changes and deletion audited without the secret,
and the delivery log on the subscription's page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.webhooks import config
from helpdesk.webhooks.models import WebhookSubscription
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)
from tests.webhook_receiver import receiver


@pytest.fixture
def console(browser: Callable[[], FlaskClient], make_user: Callable[..., User]) -> FlaskClient:  # noqa: F811
    return _sign_in(browser(), make_user(Role.ADMIN, name="Ada Admin"))


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _form(url: str, *types: str, **extra: str) -> dict[str, Any]:
    return {"url": url, "description": "CRM", "event_types": list(types), "active": "on", **extra}


def test_create_shows_the_secret_once_then_the_log(console, ticket_factory):
    with receiver() as hook:
        r = console.post("/admin/webhooks", data=_form(hook.url, "ticket.created"))
        assert r.status_code == 302
        sub = db.session.scalar(select(WebhookSubscription))
        page = html(console.get(r.headers["Location"]))
        assert f'<code id="webhook-secret">{sub.secret}</code>' in page
        assert sub.secret not in html(console.get(r.headers["Location"]))  # once only
        ticket_factory()
        page = html(console.get(f"/admin/webhooks/{sub.id}"))
    log = page.split('id="delivery-log"')[1]
    assert "ticket.created" in log and re.search(r"200\s*✓", log)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.create"))
    assert entry.channel == "console" and entry.target_id == str(sub.id)
    assert entry.details["url"] == hook.url and "whsec_" not in str(entry.details)


def test_refusals_are_shown_under_their_fields(app: Flask, console):
    r = console.post("/admin/webhooks", data=_form("ftp://example.com/x"))
    assert r.status_code == 422
    page = html(r)
    assert 'id="new-webhook-url-error"' in page and 'id="new-webhook-events-error"' in page
    app.extensions[config.EXTENSION].allow_private = False
    r = console.post("/admin/webhooks", data=_form("http://10.0.0.8/x", "call.ended"))
    assert r.status_code == 422 and "private" in html(r)
    assert db.session.scalar(select(WebhookSubscription)) is None
    assert db.session.scalar(select(AuditEntry)) is None


def test_change_disable_rotate_and_delete(console):
    console.post("/admin/webhooks", data=_form("http://127.0.0.1:9/a", "ticket.created"))
    sub = db.session.scalar(select(WebhookSubscription))
    first_secret = sub.secret
    r = console.post(
        f"/admin/webhooks/{sub.id}/edit",
        data={"url": "http://127.0.0.1:9/b", "description": "", "event_types": ["call.ended"]},
    )
    assert r.status_code == 302
    db.session.expire_all()
    sub = db.session.get(WebhookSubscription, sub.id)
    assert sub.url.endswith("/b") and sub.event_types == ["call.ended"] and not sub.active
    assert "disabled" in html(console.get(f"/admin/webhooks/{sub.id}"))
    r = console.post(f"/admin/webhooks/{sub.id}/edit", data=_form("http://127.0.0.1:9/b"))
    assert r.status_code == 422 and 'id="webhook-events-error"' in html(r)
    console.post(f"/admin/webhooks/{sub.id}/secret")
    db.session.expire_all()
    assert db.session.get(WebhookSubscription, sub.id).secret != first_secret
    sub_id = sub.id
    assert console.post(f"/admin/webhooks/{sub_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookSubscription, sub_id) is None
    assert console.get(f"/admin/webhooks/{sub_id}").status_code == 404
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "webhook.create",
        "webhook.update",
        "webhook.secret_rotate",
        "webhook.delete",
    ]
    for entry in db.session.scalars(select(AuditEntry)):
        assert "whsec_" not in str(entry.details)


def test_a_subscription_disabled_by_failures_is_shown_to_admins_until_saved(console, app_clock):
    from helpdesk.webhooks import outbox

    console.post("/admin/webhooks", data=_form("http://127.0.0.1:9/down", "ticket.created"))
    sub = db.session.scalar(select(WebhookSubscription))
    assert 'id="webhooks-failed-out"' not in html(console.get("/admin/webhooks"))
    outbox.disable_for_failures(db.session, sub, app_clock.now())
    db.session.commit()
    banner = html(console.get("/tickets"))
    assert 'id="webhooks-failed-out"' in banner
    assert "1 webhook subscription was disabled after repeated failures." in banner
    page = html(console.get(f"/admin/webhooks/{sub.id}"))
    assert 'id="webhook-disabled"' in page and "failed attempts in a row" in page
    # Saved, even left disabled: an administrator has seen it.
    r = console.post(
        f"/admin/webhooks/{sub.id}/edit",
        data={"url": sub.url, "description": "", "event_types": ["ticket.created"]},
    )
    assert r.status_code == 302
    assert 'id="webhooks-failed-out"' not in html(console.get("/tickets"))
