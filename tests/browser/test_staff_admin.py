"""An administrator manages a staff account in the browser, from the keyboard: a new user (a
refused password shown under its field, what was typed kept), a skill's level, a new password
the user then signs in with, and a deactivation that ends the user's open page."""

from __future__ import annotations

from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import PASSWORD, Console, LiveServer

pytestmark = pytest.mark.browser

EVENT_TIMEOUT_MS = 10_000
EMAIL = "nina.staff@example.com"


def test_an_admin_creates_changes_and_deactivates_a_user(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    admin = sign_in("admin")
    page = admin.page
    page.get_by_role("link", name="Staff").click()
    page.get_by_role("link", name="New user").click()
    expect(page.locator("#new-user-email")).to_be_focused()
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    expect(page.locator("#new-user-password")).to_be_focused()
    page.keyboard.type("12345678")
    page.fill("#new-user-name", "Nina Staff")
    page.fill("#new-user-skill-0", "billing")
    page.select_option("#new-user-skill-0-level", "3")
    page.keyboard.press("Enter")
    error = page.locator("#new-user-password-error")
    expect(error).to_have_text("Too easy to guess: one of the most common passwords.")
    expect(page.locator("#new-user-password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-user-email")).to_have_value(EMAIL)
    expect(page.locator("#new-user-skill-0")).to_have_value("billing")
    page.fill("#new-user-password", "plum-harbour-violin-42")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator(".flash")).to_contain_text("Nina Staff can now sign in.")
    expect(page.locator("h1")).to_contain_text("Nina Staff")
    user_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    page.select_option("#user-skill-0-level", "5")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash")).to_contain_text("Changes saved.")
    expect(page.locator("#user-skill-0-level")).to_have_value("5")

    page.fill("#user-password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("New password saved")
    live_server.people["nina"] = {"id": user_id, "email": EMAIL, "name": "Nina Staff"}
    nina = sign_in("nina")
    nina.page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)

    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash")).to_contain_text("deactivated and was signed out everywhere")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    expect(nina.page.locator("#live-banner")).to_be_visible(timeout=EVENT_TIMEOUT_MS)
    nina.page.reload()
    assert "/login" in nina.page.url
    # The refused form answers 422, which Chromium logs; nothing else may fail on the page.
    assert [e for e in admin.errors if "status of 422" not in e] == []
