"""The dispatch board in a real browser: a visit dragged onto a technician's day, another
assigned from its suggestions with the keyboard only, the rest auto-dispatched; the plot of jobs
and technicians is drawn locally."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser


# The live server runs on the wall clock, and routes are planned per local day: the visits are
# booked on tomorrow's board (a day named in the URL), in a morning window, so that they never
# straddle local midnight nor start in the past, whatever the time the test runs at.
ZONE = ZoneInfo("Europe/Paris")


def _board_day() -> date:
    return datetime.now(UTC).astimezone(ZONE).date() + timedelta(days=1)


def _setup(live: LiveServer, day: date) -> dict[str, int]:
    calendars = live.api("GET", "/sla/calendars", "supervisor").json()["items"]
    always = next(c["id"] for c in calendars if c["name"] == "24/7")
    techs = {}
    for name, phone, lat, lon in (
        ("Hugo Board", "+33698760001", 48.86, 2.34),
        ("Inès Board", "+33698760002", 48.90, 2.25),
    ):
        r = live.api(
            "POST",
            "/technicians",
            "supervisor",
            json={
                "name": name,
                "phone": phone,
                "home_lat": lat,
                "home_lon": lon,
                "skills": ["fiber"],
                "calendar_id": always,
                "max_jobs_per_day": 8,
            },
        )
        assert r.status_code == 201, r.text
        techs[name] = r.json()["id"]
    opens = datetime.combine(day, time(9), ZONE)
    orders = {}
    for label, lat in (("drag", 48.855), ("keys", 48.87), ("auto", 48.88)):
        r = live.api(
            "POST",
            "/work-orders",
            "supervisor",
            json={
                "customer_id": live.ids["camille"],
                "summary": f"Board visit {label}",
                "address": "1 place du Test",
                "lat": lat,
                "lon": 2.35,
                "required_skills": ["fiber"],
                "duration_min": 30,
                "window_start": opens.isoformat(),
                "window_end": (opens + timedelta(hours=4)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        orders[label] = r.json()["id"]
    return {**techs, **orders}


def test_board_assigns_by_drag_by_keyboard_and_automatically(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    day = _board_day()
    ids = _setup(live_server, day)
    console = sign_in("supervisor")
    page = console.page
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    board = f"{live_server.base_url}/dispatch?day={day.isoformat()}"
    page.goto(board)
    assert page.locator(".wo-card").count() == 3
    assert page.locator(".dispatch-plot svg circle").count() >= 3
    assert page.locator(".dispatch-plot svg rect.dot-tech").count() == 2

    # Drag the first visit onto Hugo's row.
    card = page.locator(f'.wo-card[data-work-order-id="{ids["drag"]}"]')
    row = page.locator(f'.tech-row[data-technician-id="{ids["Hugo Board"]}"]')
    with page.expect_navigation():
        card.drag_to(row)
    page.wait_for_selector(f'.wo-card[data-work-order-id="{ids["drag"]}"]', state="detached")
    hugo_row = page.locator(f'.tech-row[data-technician-id="{ids["Hugo Board"]}"]')
    assert hugo_row.locator("rect.job").count() == 1
    got = live_server.api("GET", f"/work-orders/{ids['drag']}", "supervisor").json()
    assert got["status"] == "scheduled" and got["technician_id"] == ids["Hugo Board"]

    # Keyboard only: focus the second visit's link, open it, assign the first suggestion.
    page.focus(f'.wo-card[data-work-order-id="{ids["keys"]}"] a.wo-ref')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Suggested technicians" in page.inner_text("#suggestions")
    page.focus("#suggestions button[data-suggestion]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "assigned to" in page.inner_text(".flashes")
    got = live_server.api("GET", f"/work-orders/{ids['keys']}", "supervisor").json()
    assert got["status"] == "scheduled"

    # A drop the server refuses (nobody has the skill) is said in the board's own message area,
    # a live region, not in a dialog; the visit stays in the queue.
    opens = datetime.combine(day, time(9), ZONE)
    r = live_server.api(
        "POST",
        "/work-orders",
        "supervisor",
        json={
            "customer_id": live_server.ids["camille"],
            "summary": "Board visit refused",
            "address": "1 place du Test",
            "lat": 48.86,
            "lon": 2.35,
            "required_skills": ["copper"],
            "duration_min": 30,
            "window_start": opens.isoformat(),
            "window_end": (opens + timedelta(hours=4)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    refused = r.json()["id"]
    try:
        page.goto(board)
        message = page.locator("#board-message")
        assert message.get_attribute("aria-live") == "assertive"
        assert message.inner_text() == ""
        card = page.locator(f'.wo-card[data-work-order-id="{refused}"]')
        card.drag_to(page.locator(f'.tech-row[data-technician-id="{ids["Hugo Board"]}"]'))
        page.wait_for_selector("#board-message .flash-error")
        assert "missing skills: copper" in message.inner_text()
        assert dialogs == []
        assert card.is_visible()
        assert page.locator(".tech-row.busy").count() == 0
        got = live_server.api("GET", f"/work-orders/{refused}", "supervisor").json()
        assert got["status"] == "unscheduled"
        # The browser logs the refusal's 422 answer itself: that one is expected.
        answered = [e for e in console.errors if "status of 422" in e]
        assert len(answered) == 1
        console.errors.remove(answered[0])
    finally:
        live_server.api(
            "POST", f"/work-orders/{refused}/status", "supervisor", json={"status": "cancelled"}
        )

    # Auto-dispatch the rest of the queue.
    page.goto(board)
    with page.expect_navigation():
        page.click("#auto-dispatch")
    assert "1 of 1 visit assigned" in page.inner_text(".flashes")
    assert page.locator(".wo-card").count() == 0
    assert "No visit waits to be scheduled" in page.inner_text(".dispatch-queue")
    assert console.errors == []


def test_ticket_page_offers_a_visit_and_the_mobile_page_fits_a_phone(
    sign_in: Callable[[str], Console], live_server: LiveServer, browser: object
) -> None:
    console = sign_in("supervisor")
    page = console.page
    page.goto(f"{live_server.base_url}/tickets/{live_server.ids['running']}")
    with page.expect_navigation():
        page.click("#create-visit")
    # Today's visit: "On my way" is offered on the visit's own day only.
    page.fill("#visit-day", datetime.now(UTC).astimezone(ZONE).date().isoformat())
    page.fill("#visit-address", "5 rue du Navigateur")
    page.fill("#visit-lat", "48.85")
    page.fill("#visit-lon", "2.36")
    page.fill("#visit-start", "00:00")
    page.fill("#visit-end", "23:59")
    with page.expect_navigation():
        page.click("form.panel button[type=submit]")
    assert "Visit W-" in page.inner_text(".flashes")
    assert console.errors == []

    # Assigned, the technician gets a link; it opens without login on a phone-sized screen.
    work_order_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    technician = live_server.api("GET", "/technicians", "supervisor").json()["items"][0]
    r = live_server.api(
        "POST",
        f"/work-orders/{work_order_id}/assign",
        "supervisor",
        json={"technician_id": technician["id"]},
    )
    assert r.status_code == 200, r.text
    texts = live_server.api(
        "GET", "/simulator/sms", "supervisor", params={"number": technician["phone"]}
    ).json()
    body = next(m for m in reversed(texts["replies"]) if "/m/jobs/" in m)
    link = next(w for w in body.split() if "/m/jobs/" in w)
    phone = browser.new_context(viewport={"width": 375, "height": 700}, locale="fr-FR")  # type: ignore[attr-defined]
    try:
        mobile = phone.new_page()
        errors: list[str] = []
        mobile.on("pageerror", lambda e: errors.append(str(e)))
        mobile.goto(link)
        assert mobile.evaluate("document.scrollingElement.scrollWidth") <= 375
        with mobile.expect_navigation():
            mobile.click("button:has-text('En route')")
        assert mobile.inner_text("#job-status") == "En route"
        assert errors == []
    finally:
        phone.close()
