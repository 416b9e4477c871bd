"""An administrator edits the IVR in the browser: a key pointing nowhere is refused under its
field, the fixed menu is published, the preview follows it and the next call does too. The
packaged configuration is restored at the end (a rollback to version 0): the other browser
tests call through the menu."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser

CAMILLE = "+33612000001"  # Camille Martin, seeded in conftest
QUEUE = "ivr_browser_desk"


def _ok(answer: Any) -> Any:
    assert answer.status_code < 300, answer.text
    return answer.json()


def test_an_admin_moves_a_key_to_another_queue(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    _ok(live_server.api("POST", "/queues", "admin", json={"name": QUEUE, "label_en": "Desk"}))
    admin = sign_in("admin")
    page = admin.page
    page.get_by_role("link", name="IVR", exact=True).click()
    expect(page.locator("h1")).to_contain_text("IVR")
    try:
        page.select_option("#ivr-menu-5-action", "queue")  # and no queue chosen: a dead end
        page.select_option("#ivr-menu-2-queue", QUEUE)
        page.fill("#ivr-note", "Billing calls go to the desk")
        page.get_by_role("button", name="Publish").click()
        error = page.locator("#ivr-menu-5-queue-error")
        expect(error).to_contain_text("this key leads nowhere")
        expect(page.locator("#ivr-menu-5-queue")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#ivr-menu-2-queue")).to_have_value(QUEUE)  # the form is kept

        page.select_option("#ivr-menu-5-action", "")
        page.get_by_role("button", name="Publish").click()
        expect(page.locator(".flash-success")).to_contain_text("published")
        expect(page.locator("#ivr-menu-2-queue")).to_have_value(QUEUE)

        page.fill("#ivr-path", "2")
        page.select_option("#ivr-caller", "en")
        page.get_by_role("button", name="Try this path").click()
        steps = page.locator("#ivr-preview-steps")
        expect(steps).to_contain_text("For billing, press 2.")
        expect(steps.locator(".ivr-step-queue")).to_contain_text(f"Waits in queue {QUEUE}")

        placed = _ok(
            live_server.api(
                "POST", "/simulator/calls", "admin", json={"from": CAMILLE, "digits": "2"}
            )
        )
        call = _wait_queued(live_server, placed["call_sid"])
        _ok(live_server.api("POST", f"/simulator/calls/{placed['call_sid']}/hangup", "admin"))
        assert call["queue"] == QUEUE, call["transcript"]

        page.get_by_role("link", name="Versions").click()
        expect(page.locator("#ivr-history")).to_contain_text("Billing calls go to the desk")
    finally:
        page.goto(live_server.base_url + "/admin/ivr/versions/0")
        page.get_by_role("button", name="Roll back to this version").click()
        expect(page.locator(".flash-success")).to_contain_text("published")
    assert [e for e in admin.errors if "status of 422" not in e] == []


def _wait_queued(live_server: LiveServer, call_sid: str) -> Any:
    deadline = time.monotonic() + 15
    while True:
        call = _ok(live_server.api("GET", f"/simulator/calls/{call_sid}", "admin"))
        if call["state"] != "ringing" and call["state"] != "in-progress":
            return call
        assert time.monotonic() < deadline, call
        time.sleep(0.2)
