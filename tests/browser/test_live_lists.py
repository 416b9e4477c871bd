"""The ticket and SMS lists in a real browser: tickets created, changed and resolved through the
API appear, move and leave without a reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer
from tests.browser.test_call_flow import EVENT_TIMEOUT_MS, wait_live

pytestmark = pytest.mark.browser


def _following(console: Console) -> None:
    """The page follows its feeds (its `watch` was answered)."""
    wait_live(console)
    console.page.wait_for_selector(
        "table[data-live-following]", state="attached", timeout=EVENT_TIMEOUT_MS
    )


def _rows(console: Console) -> list[str]:
    return list(console.page.locator("table[data-live-list] tbody .row-link").all_inner_texts())


def test_the_ticket_list_follows_tickets_live(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    agent = sign_in("agent")  # lands on /tickets: their own unresolved tickets
    _following(agent)
    agent.page.evaluate("window.notReloaded = true")
    before = _rows(agent)
    agent_id = live_server.people["agent"]["id"]

    created = live_server.api(
        "POST",
        "/tickets",
        "supervisor",
        json={
            "subject": "Arrived <i>live</i>",
            "requester_id": live_server.ids["camille"],
            "assignee_id": agent_id,
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    first_row = agent.page.locator("table[data-live-list] tbody tr").first
    expect(first_row).to_have_attribute(
        "data-ticket-id", str(ticket["id"]), timeout=EVENT_TIMEOUT_MS
    )
    expect(first_row.locator(".row-link")).to_have_text("Arrived <i>live</i>")
    assert _rows(agent) == ["Arrived <i>live</i>", *before]
    expect(agent.page.locator("[data-live-said]")).to_have_text(
        "New in this list: Arrived <i>live</i>"
    )

    # Someone else's ticket does not belong in this view.
    other = live_server.api(
        "POST",
        "/tickets",
        "supervisor",
        json={"subject": "Not for Alice", "requester_id": live_server.ids["camille"]},
    )
    assert other.status_code == 201
    # Resolved, the ticket leaves the unresolved view.
    solved = live_server.api(
        "PATCH", f"/tickets/{ticket['id']}", "supervisor", json={"status": "solved"}
    )
    assert solved.status_code == 200, solved.text
    expect(agent.page.locator(f'tr[data-ticket-id="{ticket["id"]}"]')).to_have_count(
        0, timeout=EVENT_TIMEOUT_MS
    )
    assert "Not for Alice" not in _rows(agent)
    assert agent.page.evaluate("window.notReloaded") is True
    assert not agent.errors


def test_the_sms_list_follows_conversations_live(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    agent = sign_in("agent")
    agent.page.goto(live_server.base_url + "/sms")
    _following(agent)
    agent.page.evaluate("window.notReloaded = true")
    created = live_server.api(
        "POST",
        "/tickets",
        "supervisor",
        json={
            "subject": "SMS from Camille",
            "requester_id": live_server.ids["camille"],
            "channel": "sms",
        },
    )
    assert created.status_code == 201, created.text
    row = agent.page.locator(f'#sms-threads tr[data-ticket-id="{created.json()["id"]}"]')
    expect(row).to_have_count(1, timeout=EVENT_TIMEOUT_MS)
    expect(row).to_contain_text("Camille Martin")
    assert agent.page.evaluate("window.notReloaded") is True
    assert not agent.errors
