"""The customer portal in a real browser: a customer asks for a sign-in link, the link arrives in
the mail simulator, opens their requests; their reply reaches the agent who has the ticket open,
live."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest

from tests.browser.conftest import Console, LiveServer

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import Browser, expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

EVENT_TIMEOUT_MS = 10_000


def test_a_customer_signs_in_by_link_and_replies_to_an_agent_watching(
    sign_in: Callable[[str], Console], live_server: LiveServer, browser: Browser
) -> None:
    suffix = secrets.token_hex(3)
    email = f"portal-{suffix}@example.com"
    made = live_server.api(
        "POST",
        "/customers",
        "agent",
        json={"name": f"Paula {suffix}", "emails": [{"email": email}], "language": "en"},
    )
    assert made.status_code == 201, made.text
    ticket = live_server.api(
        "POST",
        "/tickets",
        "agent",
        json={"subject": f"Boiler <b>{suffix}</b>", "requester_id": made.json()["id"]},
    )
    assert ticket.status_code == 201, ticket.text
    ticket_id = ticket.json()["id"]

    agent = sign_in("agent")
    agent.page.goto(f"{live_server.base_url}/tickets/{ticket_id}")
    agent.page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)

    context = browser.new_context(locale="en-GB")
    try:
        customer = context.new_page()
        customer.goto(live_server.base_url + "/portal")
        customer.fill("#address", email.upper())
        customer.keyboard.press("Enter")
        expect(customer.locator("#portal-sent")).to_be_visible()

        sent = agent.page.request.get(
            live_server.base_url + "/simulator/mail", headers={"Accept": "application/json"}
        ).json()["sent"]
        [mail] = [m for m in sent if m["kind"] == "portal_link" and m["to"] == [email]]
        link = re.search(r"https?://\S+/portal/link/\S+", mail["text"])
        assert link, mail["text"]

        customer.goto(link.group(0))
        customer.click("#portal-open")
        customer.wait_for_url("**/portal/requests")
        row = customer.locator("#portal-requests a", has_text=f"Boiler <b>{suffix}</b>")
        expect(row).to_be_visible()
        row.click()
        customer.fill("#body", f"Still cold {suffix}")
        customer.click("#portal-reply")
        expect(customer.locator(f"[data-comment]:has-text('Still cold {suffix}')")).to_be_visible()

        notice = agent.page.locator("#ticket-changed")
        expect(notice).to_be_visible(timeout=EVENT_TIMEOUT_MS)
        expect(notice).to_contain_text("The customer wrote to this ticket.")

        customer.click("#portal-sign-out")
        expect(customer.locator("#address")).to_be_visible()
        customer.goto(live_server.base_url + "/portal/requests")
        expect(customer.locator("#address")).to_be_visible()  # back at the sign-in page
    finally:
        context.close()
    assert agent.errors == []
