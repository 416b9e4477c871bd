"""An administrator sets up queues in the browser: a queue with a routing step that overflows to
another, an overflow back that would make a loop shown under the step's field and fixed, then a
queue deactivated, its row marked in the list. Queues of its own (`bq-…`), left inactive or
unused by the other tests' calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser


def test_an_admin_makes_queues_is_refused_a_loop_and_deactivates_one(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    admin = sign_in("admin")
    page = admin.page
    page.get_by_role("link", name="Queues").click()
    expect(page.locator("h1")).to_contain_text("Queues")

    page.get_by_role("link", name="New queue").click()
    page.fill("#queue-name", "bq-first")
    page.fill("#queue-label-en", "Browser first")
    page.fill("#queue-skill-0", "support")
    page.fill("#queue-ring-timeout", "25")
    page.locator("#queue-ring-timeout").press("Enter")  # the keyboard submits the form
    expect(page.locator(".flash-success")).to_contain_text("Queue bq-first created.")

    page.goto(live_server.base_url + "/admin/queues/new")
    page.fill("#queue-name", "bq-second")
    page.fill("#queue-skill-0", "support")
    page.select_option("#queue-skill-0-level", "2")
    page.fill("#queue-step-0-after_s", "30")
    page.select_option("#queue-step-0-level_drop", "1")
    page.fill("#queue-step-1-after_s", "90")
    page.select_option("#queue-step-1-overflow_queue", "bq-first")
    page.get_by_role("button", name="Create queue").click()
    expect(page.locator(".flash-success")).to_contain_text("Queue bq-second created.")
    expect(page.locator("#queue-step-1-overflow_queue")).to_have_value("bq-first")

    page.get_by_role("link", name="Queues").first.click()
    page.locator("tr[data-queue='bq-first'] a").click()
    page.fill("#queue-step-0-after_s", "60")
    page.select_option("#queue-step-0-overflow_queue", "bq-second")
    page.get_by_role("button", name="Save changes").click()
    error = page.locator("#queue-step-0-overflow_queue-error")
    expect(error).to_contain_text("bq-first → bq-second → bq-first")
    expect(page.locator("#queue-step-0-overflow_queue")).to_have_attribute("aria-invalid", "true")

    page.select_option("#queue-step-0-overflow_queue", "")
    page.select_option("#queue-step-0-level_drop", "1")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash-success")).to_contain_text("Changes saved.")
    expect(page.locator("#queue-step-0-level_drop")).to_have_value("1")
    expect(page.locator("#queue-ring-timeout")).to_have_value("25")

    # Deactivating asks first; declined, nothing happens.
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator("#deactivate-queue")).to_be_visible()
    assert asked and "Deactivate the queue bq-first?" in asked[0]
    page.on("dialog", lambda d: d.accept())
    # bq-second sends its callers to bq-first: bq-first says so and stays active.
    expect(page.locator("#queue-referrers")).to_contain_text("bq-second")
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash-error")).to_contain_text("was not deactivated")

    page.get_by_role("link", name="Queues").first.click()
    page.locator("tr[data-queue='bq-second'] a").click()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash-success")).to_contain_text("Queue bq-second deactivated")
    expect(page.locator("tr[data-queue='bq-second']")).to_contain_text("inactive")
    page.locator("tr[data-queue='bq-first'] a").click()
    expect(page.locator("#queue-referrers")).to_have_count(0)
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator("tr[data-queue='bq-first']")).to_contain_text("inactive")
    assert [e for e in admin.errors if "status of 422" not in e] == []
