"""An open console page follows its user's account at once: a new role reconnects its live
connection into the new role's rooms, and an ended session shows that it has ended."""

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


def _new_person(live_server: LiveServer, key: str, role: str) -> int:
    """A user of this test's own, so that the shared people of the browser tier stay as they are."""
    email = f"{key}@example.com"
    created = live_server.api(
        "POST",
        "/users",
        "admin",
        json={"email": email, "password": PASSWORD, "role": role, "name": key.title()},
    )
    assert created.status_code == 201, created.text
    user_id = int(created.json()["id"])
    live_server.people[key] = {"id": user_id, "email": email, "name": key.title()}
    return user_id


def _count_connections(console: Console) -> None:
    console.page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)
    console.page.evaluate(
        "window.__reconnects = 0;"
        "HelpdeskLive.onConnect(function (again) { if (again) window.__reconnects += 1; });"
    )


def test_a_new_role_reconnects_the_open_page(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    user_id = _new_person(live_server, "demoted-sup", "supervisor")
    console = sign_in("demoted-sup")
    _count_connections(console)
    changed = live_server.api("PATCH", f"/users/{user_id}", "admin", json={"role": "agent"})
    assert changed.status_code == 200
    console.page.wait_for_function("() => window.__reconnects >= 1", timeout=EVENT_TIMEOUT_MS)
    expect(console.page.locator("html")).to_have_attribute("data-live", "on")
    expect(console.page.locator("#live-banner")).to_be_hidden(timeout=EVENT_TIMEOUT_MS)


def test_an_ended_session_says_so_on_the_open_page(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    user_id = _new_person(live_server, "ended-agent", "agent")
    console = sign_in("ended-agent")
    _count_connections(console)
    ended = live_server.api("DELETE", f"/users/{user_id}/sessions", "admin")
    assert ended.json() == {"ended": 1}
    banner = console.page.locator("#live-banner")
    expect(banner).to_be_visible(timeout=EVENT_TIMEOUT_MS)
    expect(banner).to_contain_text("Your session has ended", timeout=EVENT_TIMEOUT_MS)
    expect(console.page.locator("html")).to_have_attribute("data-live", "off")
    console.page.reload()
    assert "/login" in console.page.url
