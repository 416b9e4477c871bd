"""An agent answers with a macro from the keyboard: the shortcut opens the search, part of a title
narrows it, the arrow keys and Enter insert the rendered text, the note says what else will
change, and sending posts the text and moves the ticket's status."""

from __future__ import annotations

from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser


def _macro(live: LiveServer, title: str, body: str, **extra: object) -> int:
    r = live.api("POST", "/macros", "agent", json={"title": title, "body": body, **extra})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_agent_inserts_a_macro_with_the_keyboard_and_sends_it(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    r = live_server.api(
        "POST",
        "/tickets",
        "agent",
        json={"subject": "Refund asked", "requester_id": live_server.ids["camille"]},
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    _macro(live_server, "Zq refund note", "Noted, {{customer.first_name}}.")
    _macro(
        live_server,
        "Zq refund partial",
        "Hello {{customer.first_name}}, part of {{ticket.reference}} is refunded. {{agent.name}}",
        set_status="solved",
        add_tags=["refund"],
    )
    expected = f"Hello Camille, part of {ticket['reference']} is refunded. Alice Agent"

    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/tickets/{ticket['id']}")
    page.keyboard.press("r")  # the console's shortcut to the reply box
    expect(page.locator("#reply-body")).to_be_focused()
    page.keyboard.press("Control+Shift+M")
    search = page.locator("#macro-search")
    expect(search).to_be_focused()
    page.keyboard.type("zq ref")
    options = page.locator("#macro-options [role=option]")
    expect(options).to_have_text(["Zq refund note (en)", "Zq refund partial (en)"])
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")

    expect(page.locator("#macro-search-box")).to_be_hidden()
    expect(page.locator("#reply-body")).to_have_value(expected)
    expect(page.locator("#reply-body")).to_be_focused()
    expect(page.locator("#macro-note")).to_have_text(
        "Macro “Zq refund partial” inserted. Will also set status Solved, add tag refund."
        " Do not apply"
    )
    page.locator("section.reply button[type=submit]").click()

    expect(page.locator(".flash-success").filter(has_text="Status is now")).to_have_text(
        "Status is now “Solved”."
    )
    expect(page.locator("article.comment").last).to_contain_text(expected)
    got = live_server.api("GET", f"/tickets/{ticket['id']}", "agent").json()
    assert got["status"] == "solved" and got["tags"] == ["refund"]
    assert agent.errors == []


def test_slash_in_an_empty_box_opens_the_search_and_escape_closes_it(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    r = live_server.api(
        "POST",
        "/tickets",
        "agent",
        json={"subject": "Slash", "requester_id": live_server.ids["camille"]},
    )
    ticket_id = r.json()["id"]
    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/tickets/{ticket_id}")
    page.locator("#reply-body").focus()
    page.keyboard.press("/")
    expect(page.locator("#macro-search")).to_be_focused()
    expect(page.locator("#reply-body")).to_have_value("")
    page.keyboard.press("Escape")
    expect(page.locator("#macro-search-box")).to_be_hidden()
    expect(page.locator("#reply-body")).to_be_focused()
    # In a box that already has text, "/" is just a character.
    page.keyboard.type("and/or")
    expect(page.locator("#reply-body")).to_have_value("and/or")
    expect(page.locator("#macro-search-box")).to_be_hidden()
    assert agent.errors == []
