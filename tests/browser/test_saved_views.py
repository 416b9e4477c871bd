"""Saved views in a real browser: saved from a filtered ticket list, listed in the menu with
their count, and the count kept current when a matching ticket is created elsewhere."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer
from tests.browser.test_call_flow import EVENT_TIMEOUT_MS, wait_live

pytestmark = pytest.mark.browser


def test_a_saved_view_counts_new_tickets_live(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    tag = "views-" + secrets.token_hex(4)  # only this test's tickets carry it
    name = f"Tagged {tag}"

    def create_ticket(subject: str) -> None:
        made = live_server.api(
            "POST",
            "/tickets",
            "supervisor",
            json={"subject": subject, "requester_id": live_server.ids["camille"], "tags": [tag]},
        )
        assert made.status_code == 201, made.text

    create_ticket("Router blinking")
    agent = sign_in("agent")
    page = agent.page
    # From every ticket, filter on the tag with the list's form, then save the filters.
    page.click("nav ul.views a:has-text('All tickets')")
    page.wait_for_url("**/tickets?all=1")
    page.fill("#filter-tag", tag)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**/tickets?*tag={tag}*")
    save = page.locator("details.save-view")
    if not save.evaluate("d => d.open"):  # open by itself while the agent has no view yet
        page.click("details.save-view summary")
    page.fill("#view-name", name)
    page.click("details.save-view button[type=submit]")
    page.wait_for_url(f"**/tickets?*tag={tag}*")
    expect(page.locator(".flash-success")).to_contain_text(name)

    link = page.locator(".saved-views a", has_text=name)
    expect(link).to_have_attribute("aria-current", "true")
    count = link.locator("[data-view-count]")
    expect(count).to_have_text("1")

    wait_live(agent)
    page.wait_for_selector(
        ".saved-views[data-live-following]", state="attached", timeout=EVENT_TIMEOUT_MS
    )
    page.evaluate("window.notReloaded = true")
    create_ticket("Router dead")  # by someone else, through the API
    expect(count).to_have_text("2", timeout=EVENT_TIMEOUT_MS)
    create_ticket("Router smoking")
    expect(count).to_have_text("3", timeout=EVENT_TIMEOUT_MS)
    assert page.evaluate("window.notReloaded") is True
    assert agent.errors == []
