"""Live collaboration in a real browser: two staff on one ticket see each other and the
changes the other makes; an SMS conversation shows a new text the moment it arrives, as text."""

from __future__ import annotations

from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser

EVENT_TIMEOUT_MS = 10_000


def wait_live(console: Console) -> None:
    console.page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)


def test_two_agents_on_one_ticket(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    url = f"{live_server.base_url}/tickets/{live_server.ids['running']}"
    agent = sign_in("agent")
    agent.page.goto(url)
    wait_live(agent)
    boss = sign_in("supervisor")
    boss.page.goto(url)
    wait_live(boss)
    expect(agent.page.locator("#ticket-viewers")).to_have_text(
        "Also viewing: Sam Supervisor", timeout=EVENT_TIMEOUT_MS
    )
    expect(boss.page.locator("#ticket-viewers")).to_have_text(
        "Also viewing: Alice Agent", timeout=EVENT_TIMEOUT_MS
    )
    agent.page.fill("#reply-body", "Half-typed reply")
    # The supervisor raises the priority: the agent is told, and keeps what they typed.
    boss.page.select_option("#props-priority", "urgent")
    boss.page.click(".props-form button[type=submit]")
    expect(agent.page.locator("#ticket-changed")).to_contain_text(
        "Sam Supervisor changed this ticket.", timeout=EVENT_TIMEOUT_MS
    )
    assert agent.page.input_value("#reply-body") == "Half-typed reply"
    assert boss.page.locator("#ticket-changed").is_hidden()  # not for one's own change
    # The supervisor leaves: the agent is alone again.
    boss.page.goto(live_server.base_url + "/customers")
    expect(agent.page.locator("#ticket-viewers")).to_be_hidden(timeout=EVENT_TIMEOUT_MS)
    assert agent.errors == [] and boss.errors == []


def test_sms_conversation_updates_live_and_shows_markup_as_text(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    r = live_server.api(
        "POST", "/simulator/sms", "agent", json={"from": "+33612000003", "body": "First text"}
    )
    assert r.status_code == 201, r.text
    agent = sign_in("agent")
    agent.page.goto(live_server.base_url + "/sms")
    agent.page.click("#sms-threads a.row-link >> text=Alex Alert")
    wait_live(agent)
    agent.page.evaluate("window.injected = false; window.notReloaded = true")
    expect(agent.page.locator("#sms-messages")).to_contain_text("First text")
    body = '<img src=x onerror="window.injected = true"> second text'
    r = live_server.api(
        "POST", "/simulator/sms", "agent", json={"from": "+33612000003", "body": body}
    )
    assert r.status_code == 201, r.text
    expect(agent.page.locator("#sms-messages")).to_contain_text(body, timeout=EVENT_TIMEOUT_MS)
    assert agent.page.locator("#sms-messages img").count() == 0
    assert agent.page.evaluate("window.injected") is False
    assert agent.page.evaluate("window.notReloaded") is True
    # The reply box counts segments as the agent types.
    agent.page.fill("#reply-body", "ê" * 71)  # outside GSM-7: 70 per SMS
    expect(agent.page.locator("[data-sms-count]")).to_contain_text("2 SMS")
    agent.page.fill("#reply-body", "On our way.")
    agent.page.click("#sms-reply-form button[type=submit]")
    expect(agent.page.locator(".flash-success")).to_contain_text("Text queued")
    expect(agent.page.locator("#sms-messages")).to_contain_text("On our way.")
    assert agent.errors == []
