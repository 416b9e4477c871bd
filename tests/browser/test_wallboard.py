"""The wallboard in a real browser: a simulated call waits, is answered, and moves the
service level, all over the live connection without a reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer
from tests.browser.test_call_flow import (
    CAMILLE,
    EVENT_TIMEOUT_MS,
    place_call,
    wait_live,
)

pytestmark = pytest.mark.browser


def figure(console: Console, queue: str, name: str) -> str:
    return console.page.inner_text(f'[data-queue="{queue}"] [data-field="{name}"]')


def test_the_wallboard_follows_a_call_live(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    board = sign_in("supervisor")
    board.page.goto(live_server.base_url + "/wallboard")
    wait_live(board)
    board.page.evaluate("window.notReloaded = true")
    answered_before = int(figure(board, "support", "answered"))
    assert figure(board, "support", "waiting") == "0"

    # Nobody is available: the simulated caller waits, and the wallboard shows it.
    simulator = sign_in("supervisor")
    place_call(simulator, live_server, CAMILLE, "1")
    expect(board.page.locator('[data-queue="support"] [data-field="waiting"]')).to_have_text(
        "1", timeout=EVENT_TIMEOUT_MS
    )
    expect(board.page.locator("#waiting-rows tr[data-call]")).to_have_count(
        1, timeout=EVENT_TIMEOUT_MS
    )
    expect(board.page.locator("#waiting-rows")).to_contain_text("+33 6 12 00 00 01")

    # An agent becomes available and answers: waiting back to 0, one more answered, and the
    # service level is no longer blank.
    agent = sign_in("agent")
    wait_live(agent)
    # A caller is waiting, so going available rings at once: the status may never show
    # "Available" before "Ringing", and the ring is what to wait for.
    agent.page.click("#presence-form button[value=available]")
    agent.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    agent.page.keyboard.press("a")
    agent.page.wait_for_selector("#phone-oncall:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    expect(board.page.locator('[data-queue="support"] [data-field="answered"]')).to_have_text(
        str(answered_before + 1), timeout=EVENT_TIMEOUT_MS
    )
    expect(board.page.locator('[data-queue="support"] [data-field="waiting"]')).to_have_text("0")
    assert figure(board, "support", "service_level").endswith("%")
    agent_row = board.page.locator(
        f'#agent-rows tr[data-agent="{live_server.people["agent"]["id"]}"] .wb-badge'
    )
    expect(agent_row).to_have_text("On a call", timeout=EVENT_TIMEOUT_MS)
    # The agent tiles count the table's rows, from the same event (not at the next snapshot).
    tiles, rows = board.page.evaluate(
        """() => {
            const tiles = {}, rows = {};
            document.querySelectorAll("[data-state-count]").forEach((el) => {
                tiles[el.getAttribute("data-state-count")] = Number(el.textContent);
                rows[el.getAttribute("data-state-count")] = document.querySelectorAll(
                    "#agent-rows .wb-badge.wb-state-" + el.getAttribute("data-state-count")
                ).length;
            });
            return [tiles, rows];
        }"""
    )
    assert tiles == rows and tiles["on_call"] >= 1, (tiles, rows)
    assert board.page.evaluate("window.notReloaded") is True

    # Large-screen mode hides the navigation.
    board.page.click("[data-tv]")
    assert board.page.locator(".topbar").is_hidden()

    simulator.page.click("#sim-hangup-button")
    agent.page.wait_for_selector("#phone-wrapup:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    agent.page.select_option("#wrapup-disposition", "resolved")
    agent.page.click("#wrapup-done")
    agent.page.wait_for_selector("#phone-state.presence-available", timeout=EVENT_TIMEOUT_MS)
    live_server.api("PUT", "/agents/me/presence", "agent", json={"state": "offline"})
    assert board.errors == [], board.errors
