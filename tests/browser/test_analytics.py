"""The analytics page in a real browser: "Export now" runs the export, then the charts draw
over the warehouse (a canvas holding a Chart) beside their tables."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, timedelta

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser


def test_export_now_then_the_charts_draw(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    suffix = secrets.token_hex(3)
    made = live_server.api("POST", "/customers", "supervisor", json={"name": f"Client {suffix}"})
    assert made.status_code == 201, made.text
    today = date.today()
    invoices = [
        {
            "number": f"W-{suffix}-{n}",
            "customer": str(made.json()["id"]),
            "amount": 1200 + n,
            "issued_on": (today - timedelta(days=40 * n)).isoformat(),
            "due_on": (today - timedelta(days=40 * n - 30)).isoformat(),
        }
        for n in range(1, 4)
    ]
    imported = live_server.api("POST", "/invoices", "supervisor", json={"invoices": invoices})
    assert imported.status_code in (200, 201), imported.text

    supervisor = sign_in("supervisor")
    page = supervisor.page
    page.goto(f"{live_server.base_url}/analytics")
    page.get_by_role("button", name="Export now").click()
    expect(page.get_by_text("Export done:")).to_be_visible()
    expect(page.locator("#freshness")).to_contain_text("Figures from the warehouse exported")
    for label in (
        "Customers and revenue per RFM segment",
        "Cost to serve per month and channel",
        "Customers by revenue and cost to serve",
    ):
        canvas = page.get_by_role("img", name=label)
        expect(canvas).to_be_visible()
        page.wait_for_function(
            "c => window.Chart && window.Chart.getChart(c) !== undefined",
            arg=canvas.element_handle(),
        )
        assert canvas.bounding_box()["height"] > 100  # type: ignore[index]
    expect(page.locator("#rfm-table")).to_contain_text("Champions")
    expect(page.locator("#cohort-table")).to_be_visible()
    assert supervisor.errors == []
