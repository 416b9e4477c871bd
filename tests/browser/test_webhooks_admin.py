"""An administrator subscribes a receiver to ticket events in the browser: a refused URL shown
under its field, then the subscription with its secret shown once; a new ticket then shows in the
delivery log, and the receiver (a server thread on 127.0.0.1) checks the signature itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer
from tests.webhook_receiver import independent_signature_ok, receiver

pytestmark = pytest.mark.browser


def test_an_admin_subscribes_and_sees_a_delivery(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    admin = sign_in("admin")
    page = admin.page
    page.get_by_role("link", name="Webhooks").click()
    expect(page.locator("h1")).to_contain_text("Webhooks")
    with receiver() as hook:
        page.fill("#new-webhook-url", "ftp://example.com/hook")
        page.get_by_role("button", name="Create subscription").click()
        expect(page.locator("#new-webhook-url-error")).to_contain_text("http:// or https://")
        expect(page.locator("#new-webhook-url")).to_have_attribute("aria-invalid", "true")
        page.fill("#new-webhook-url", hook.url)
        page.fill("#new-webhook-description", "Browser CRM")
        page.uncheck("input[name=event_types][value='call.ended']")
        page.get_by_role("button", name="Create subscription").click()
        secret = page.locator("#webhook-secret")
        expect(secret).to_contain_text("whsec_")
        shown = secret.inner_text().strip()
        expect(page.locator("#delivery-log")).to_contain_text("Nothing sent yet.")

        answer = live_server.api(
            "POST",
            "/tickets",
            "agent",
            json={"subject": "Webhook please", "requester_id": live_server.ids["camille"]},
        )
        assert answer.status_code == 201, answer.text
        page.reload()
        row = page.locator("#delivery-log tbody tr").first
        expect(row).to_contain_text("ticket.created")
        expect(row.locator(".webhook-status")).to_contain_text("200")
        expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once only

        assert len(hook.requests) == 1
        got = hook.requests[0]
        assert got.event["data"]["ticket_id"] == answer.json()["id"]
        assert independent_signature_ok(shown, got.headers["X-Helpdesk-Signature"], got.body)
    assert [e for e in admin.errors if "status of 422" not in e] == []
