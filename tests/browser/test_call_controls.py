"""The call controls in a real browser: call, accept, hold and resume, a warm transfer to a
second agent found with the transfer search, complete, and the wrap-up on both sides; the
keyboard shortcuts drive it (a, h, t, c)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import PASSWORD, Console, LiveServer
from tests.browser.test_call_flow import (
    EVENT_TIMEOUT_MS,
    place_call,
    set_presence,
    wait_live,
)

pytestmark = pytest.mark.browser

CHLOE = "+33612000011"  # Chloé Contrôle, seeded in conftest for these tests alone


@pytest.fixture
def second_agent(live_server: LiveServer) -> Iterator[str]:
    """Béa, a second agent of the support queue, made once on this server (offline)."""
    if "agent2" not in live_server.people:
        answer = live_server.api(
            "POST",
            "/users",
            "admin",
            json={
                "email": "bea.second@helpdesk-demo.org",
                "password": PASSWORD,
                "name": "Béa Second",
                "role": "agent",
                "skills": {"support": 1},
                "languages": ["fr", "en"],
            },
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        live_server.people["agent2"] = {
            "id": body["id"],
            "email": "bea.second@helpdesk-demo.org",
            "name": "Béa Second",
        }
    yield "agent2"
    live_server.api("PUT", "/agents/me/presence", "agent2", json={"state": "offline"})


def test_hold_resume_warm_transfer_complete_and_wrap_up_on_both_sides(
    sign_in: Callable[[str], Console], live_server: LiveServer, second_agent: str
) -> None:
    alice = sign_in("agent")
    wait_live(alice)
    set_presence(alice, "available")
    customer = sign_in("supervisor")
    try:
        place_call(customer, live_server, CHLOE, "1")
        alice.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        alice.page.keyboard.press("a")
        alice.page.wait_for_selector("#phone-oncall:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        transcript = customer.page.locator("#sim-transcript")

        # Hold and resume with the keyboard: the caller hears the hold prompt, then Alice.
        alice.page.locator("#main").focus()
        alice.page.keyboard.press("h")
        expect(alice.page.locator("#call-hold")).to_have_attribute(
            "aria-pressed", "true", timeout=EVENT_TIMEOUT_MS
        )
        expect(transcript).to_contain_text("[on hold]", timeout=EVENT_TIMEOUT_MS)
        alice.page.keyboard.press("h")
        expect(alice.page.locator("#call-hold")).to_have_attribute(
            "aria-pressed", "false", timeout=EVENT_TIMEOUT_MS
        )
        expect(transcript).to_contain_text("[back with agent-", timeout=EVENT_TIMEOUT_MS)

        # Béa comes online; Alice finds her with the transfer search (free) and transfers warm.
        bea = sign_in(second_agent)
        wait_live(bea)
        set_presence(bea, "available")
        alice.page.keyboard.press("t")
        expect(alice.page.locator("#transfer-search")).to_be_focused()
        alice.page.fill("#transfer-notes", "Line drops every evening")
        alice.page.fill("#transfer-search", "Béa")
        target = alice.page.locator("#transfer-results button:not([disabled])", has_text="Béa")
        expect(target).to_contain_text("free", timeout=EVENT_TIMEOUT_MS)
        target.click()
        expect(alice.page.locator("#call-consult")).to_be_visible(timeout=EVENT_TIMEOUT_MS)

        # Béa's console rings: a transfer, from Alice, with her notes; she accepts.
        bea.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        expect(bea.page.locator("#phone-ring-transfer")).to_have_text(
            "Transferred by Alice Agent — Their notes: Line drops every evening"
        )
        bea.page.keyboard.press("a")
        bea.page.wait_for_selector("#phone-oncall:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        expect(alice.page.locator("#call-transfer-complete")).to_be_visible(
            timeout=EVENT_TIMEOUT_MS
        )
        expect(transcript).to_contain_text("consults agent-", timeout=EVENT_TIMEOUT_MS)

        # Alice completes: she wraps up while Béa keeps the caller.
        alice.page.keyboard.press("c")
        alice.page.wait_for_selector("#phone-wrapup:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        expect(transcript).to_contain_text("hands over to agent-", timeout=EVENT_TIMEOUT_MS)
        alice.page.select_option("#wrapup-disposition", "other")
        alice.page.fill("#wrapup-notes", "Handed to billing-savvy Béa")
        alice.page.click("#wrapup-done")
        alice.page.wait_for_selector("#phone-state.presence-available", timeout=EVENT_TIMEOUT_MS)
        assert bea.page.inner_text("#phone-state") == "On a call"

        # The caller hangs up: Béa wraps up.
        customer.page.click("#sim-hangup-button")
        bea.page.wait_for_selector("#phone-wrapup:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        bea.page.select_option("#wrapup-disposition", "resolved")
        bea.page.click("#wrapup-done")
        bea.page.wait_for_selector("#phone-state.presence-available", timeout=EVENT_TIMEOUT_MS)
        assert alice.errors == [] and bea.errors == [] and customer.errors == []
    finally:
        live_server.api("PUT", "/agents/me/presence", "agent", json={"state": "offline"})
