"""Live service levels in a real browser: countdowns that count business time, badges updated
from `sla.updated` without a reload, and `sla.alert` notifications from the server's own breach
scan."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser

# The scheduler in `helpdesk serve` first scans 30 s after start-up, then every 30 s.
SCAN_PERIOD_S = 30


def badge_text(console: Console, ticket_id: int) -> str:
    return console.page.inner_text(f'.sla[data-sla-ticket="{ticket_id}"]').strip()


def seconds_left(text: str) -> int:
    found = re.fullmatch(r"First reply in (\d+) min (\d+) s", text)
    assert found, f"not a running countdown: {text!r}"
    return int(found.group(1)) * 60 + int(found.group(2))


def wait_live(console: Console) -> None:
    """Until the page's Socket.IO connection is up (static/live.js marks <html data-live>) and
    the server has let it follow its badges' tickets (static/sla.js marks data-sla-live)."""
    console.page.wait_for_selector("html[data-live=on][data-sla-live=on]", timeout=10_000)


def test_countdown_runs_only_in_business_time(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    console = sign_in("agent")
    ids = live_server.ids
    started = time.monotonic()
    first = {name: badge_text(console, ids[name]) for name in ("running", "waiting", "closed")}
    assert first["waiting"] == "Paused"
    console.page.wait_for_timeout(2200)
    later = {name: badge_text(console, ids[name]) for name in ("running", "waiting", "closed")}
    elapsed = time.monotonic() - started  # however slow the machine, the clock follows it
    # A running clock on an open calendar loses the seconds that passed (to the second shown)...
    lost = seconds_left(first["running"]) - seconds_left(later["running"])
    assert 1 <= lost <= elapsed + 2, (lost, elapsed)
    # ...a paused one does not move, nor does a running one while its calendar is closed.
    assert later["waiting"] == "Paused"
    assert later["closed"] == first["closed"] == "First reply in 45 min 0 s"
    assert console.errors == []


def test_ticket_page_counts_down_every_clock(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    console = sign_in("agent")
    console.page.goto(f"{live_server.base_url}/tickets/{live_server.ids['running']}")
    cell = '[data-sla-clock="first_response:1"] .sla-remaining'
    before = console.page.inner_text(cell)
    console.page.wait_for_timeout(2200)
    after = console.page.inner_text(cell)
    assert before != after and re.fullmatch(r"\d+ min \d+ s", after)
    assert console.page.inner_text('[data-sla-clock="resolution:1"] td:nth-child(3)') == "Running"
    assert console.errors == []


def test_badges_follow_sla_updated_without_a_reload(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    console = sign_in("agent")
    wait_live(console)
    console.page.evaluate("window.notReloaded = true")
    ticket_id = live_server.ids["running"]
    answer = live_server.api("PATCH", f"/tickets/{ticket_id}", "agent", json={"status": "pending"})
    assert answer.status_code == 200, answer.text
    # Polled by Playwright itself: a polling script would be refused by the page's CSP.
    expect(console.page.locator(f'.sla[data-sla-ticket="{ticket_id}"]').first).to_have_text(
        "Paused", timeout=10_000
    )
    assert console.page.evaluate("window.notReloaded") is True
    badge = console.page.locator(f'.sla[data-sla-ticket="{ticket_id}"] .sla-badge')
    assert badge.get_attribute("class") == "badge sla-badge sla-paused"
    answer = live_server.api("PATCH", f"/tickets/{ticket_id}", "agent", json={"status": "open"})
    assert answer.status_code == 200, answer.text
    expect(console.page.locator(f'.sla[data-sla-ticket="{ticket_id}"]').first).to_have_text(
        re.compile(r"^First reply in "), timeout=10_000
    )
    assert console.errors == []


@pytest.mark.slow
def test_breach_scan_alerts_reach_the_pages(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    """The server's own scheduler runs the breach scan; nothing is triggered from outside.

    A ticket for a customer tagged `alert` gets a 20-second first-reply target. Within one scan
    period after that, the scan records it at risk or breached and its escalation notifies the
    assignee (user room) and the supervisors (role room).
    """
    agent = sign_in("agent")
    supervisor = sign_in("supervisor")
    supervisor.page.goto(live_server.base_url + "/sla/at-risk")
    refreshes: list[str] = []
    supervisor.page.on(
        "request", lambda r: refreshes.append(r.url) if "fragment=list" in r.url else None
    )
    wait_live(agent)
    wait_live(supervisor)
    created = live_server.api(
        "POST",
        "/tickets",
        "agent",
        json={
            "subject": "Customer is <b>furious</b>",
            "requester_id": live_server.ids["alert_customer"],
            "assignee_id": live_server.people["agent"]["id"],
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    # The assignee is on the new ticket's page: alerts reach any console page.
    agent.page.goto(f"{live_server.base_url}/tickets/{ticket['id']}")
    wait_live(agent)
    timeout_ms = (20 + SCAN_PERIOD_S + 15) * 1000
    for console in (agent, supervisor):
        alert = console.page.wait_for_selector("#live-alerts .live-alert", timeout=timeout_ms)
        assert alert is not None
        text = alert.inner_text()
        assert re.search(rf"{ticket['reference']}: First reply (at risk|breached)", text), text
        assert "Customer is <b>furious</b>" in text  # shown as text, never as markup
        assert alert.query_selector("b") is None
        link = alert.query_selector("a")
        assert link is not None and link.get_attribute("href") == f"/tickets/{ticket['id']}"
        region = console.page.locator("#live-alerts")
        assert region.get_attribute("aria-live") == "assertive"
    # The supervisor's at-risk list reloaded itself and now lists the ticket.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not refreshes:
        supervisor.page.wait_for_timeout(200)
    assert refreshes
    supervisor.page.wait_for_selector(f'#at-risk-list a[href="/tickets/{ticket["id"]}"]')
    agent.page.click("#live-alerts .live-alert button")
    assert agent.page.locator("#live-alerts .live-alert").count() == 0
    assert agent.errors == [] and supervisor.errors == []


def test_report_chart_draws_under_the_content_security_policy(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    console = sign_in("supervisor")
    console.page.goto(live_server.base_url + "/sla/report?period=7&by=metric")
    console.page.wait_for_function(
        "window.Chart && Chart.getChart(document.getElementById('compliance-chart'))"
    )
    assert "First reply" in console.page.inner_text(".report-table")
    console.page.select_option("#period", "custom")
    assert console.page.locator("#start").is_visible()
    console.page.select_option("#period", "30")
    assert not console.page.locator("#start").is_visible()
    assert console.errors == []
