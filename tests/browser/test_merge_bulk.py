"""Merging a ticket from its page, and a bulk status change of 500 tickets from the list, with
its confirmation and its undo, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser

BULK = 500
TAG = "bulk-browser-500"
# The bulk change and its undo each write 500 tickets' history on SQLite: generous.
BULK_TIMEOUT_MS = 60_000


def _ticket(live: LiveServer, customer_id: int, subject: str) -> dict[str, object]:
    r = live.api(
        "POST", "/tickets", "agent", json={"subject": subject, "requester_id": customer_id}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_merge_from_the_ticket_page(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    r = live_server.api("POST", "/customers", "agent", json={"name": "Mona Merge"})
    assert r.status_code == 201, r.text
    customer_id = r.json()["id"]
    dup = _ticket(live_server, customer_id, "Fibre cut (sent twice)")
    target = _ticket(live_server, customer_id, "Fibre cut")
    agent = sign_in("agent")
    page = agent.page

    page.goto(f"{live_server.base_url}/tickets/{dup['id']}")
    page.click("#merge-into")
    page.get_by_role("link", name=f"Choose {target['reference']}").click()
    expect(page.locator("#merge-notice")).to_contain_text("will not be told")
    page.click("#merge-confirm")

    page.wait_for_url(f"**/tickets/{target['id']}")
    expect(page.locator(".flash-success").first).to_contain_text(
        f"{dup['reference']} was merged into this ticket."
    )
    page.goto(f"{live_server.base_url}/tickets/{dup['id']}")
    expect(page.locator("#merged-banner")).to_contain_text(str(target["reference"]))
    expect(page.locator("#reply-body")).to_have_count(0)
    assert agent.errors == []


def _many_tickets(live: LiveServer, customer_name: str) -> None:
    """500 tickets of a customer of this test's own, written through the service in bulk on the
    server's database (the API would take one request each)."""
    from helpdesk.app import create_app
    from helpdesk.config import Settings
    from helpdesk.customers import service as customers
    from helpdesk.extensions import db
    from helpdesk.tickets import service as tickets

    home = live.log.parent
    settings = Settings.from_env(
        env={},
        DATABASE_URL=f"sqlite:///{home / 'helpdesk.sqlite3'}",
        HELPDESK_INSTANCE_PATH=str(home / "instance"),
        SECRET_KEY="browser-tier-secret",
        TESTING=True,
        HELPDESK_SCHEDULER=False,
    )
    app = create_app(settings)
    with app.app_context():
        customer = customers.create(db.session, name=customer_name)
        for n in range(BULK):
            tickets.create(
                db.session,
                actor=None,
                subject=f"Outage report {n}",
                requester_id=customer.id,
                tags=[TAG],
                commit=False,
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_bulk_status_on_500_tickets_with_confirmation_and_undo(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    _many_tickets(live_server, "Bulk Outage Customer")
    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/tickets?tag={TAG}")
    expect(page.locator("[data-bulk-select]")).to_have_count(25)

    page.check("[data-bulk-page]")
    expect(page.locator("[data-bulk-count]")).to_have_text("25 selected")
    page.click("[data-bulk-all-matching]")
    expect(page.locator("[data-bulk-count]")).to_contain_text(f"All {BULK} tickets")
    page.select_option("#bulk-action", "status")
    page.select_option("#bulk-status", "pending")
    page.click("#bulk-apply")

    expect(page.locator("h1")).to_have_text(f"Change {BULK} tickets?")
    expect(page.locator("#bulk-confirm-what")).to_contain_text("Status: Pending")
    page.click("#bulk-confirm", timeout=BULK_TIMEOUT_MS)

    expect(page.locator(".flashes")).to_contain_text(
        f"{BULK} tickets changed.", timeout=BULK_TIMEOUT_MS
    )
    expect(page.locator("tbody .badge", has_text=re.compile("Pending"))).to_have_count(25)
    page.click("#bulk-undo-button")

    expect(page.locator(".flashes")).to_contain_text(
        f"Undone: {BULK} tickets restored.", timeout=BULK_TIMEOUT_MS
    )
    expect(page.locator("tbody .badge", has_text=re.compile("^New$"))).to_have_count(25)
    expect(page.locator("#bulk-undo-button")).to_have_count(0)
    assert agent.errors == []


def test_x_ticks_the_current_row(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/tickets?all=1")
    first = page.locator("tbody tr").first.locator("[data-bulk-select]")
    expect(first).not_to_be_checked()
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(first).to_be_checked()
    expect(page.locator("[data-bulk-count]")).to_have_text("1 selected")
    page.keyboard.press("x")
    expect(first).not_to_be_checked()
    expect(page.locator("[data-bulk-count]")).to_have_text("No ticket selected")
    assert agent.errors == []
