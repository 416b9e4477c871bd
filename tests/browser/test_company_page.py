"""The company page in a real browser: its contacts lead to their pages, the tickets of its
contacts show who asked, and the parts with nothing to show say so."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser


def test_a_company_page_leads_to_its_contacts(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    suffix = secrets.token_hex(3)

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        made = live_server.api("POST", path, "supervisor", json=body)
        assert made.status_code == 201, made.text
        return dict(made.json())

    company = post("/customers", {"name": f"Atelier {suffix}", "kind": "company"})
    contact = post("/customers", {"name": f"Lucie <em>{suffix}</em>", "company_id": company["id"]})
    post("/tickets", {"subject": f"Oven broken {suffix}", "requester_id": contact["id"]})

    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/customers/{company['id']}")
    contacts = page.locator("section#contacts")
    expect(contacts.get_by_role("link", name=f"Lucie <em>{suffix}</em>")).to_be_visible()
    tickets = page.locator("section", has=page.locator("#customer-tickets-title"))
    expect(tickets).to_contain_text(f"Oven broken {suffix}")
    expect(tickets).to_contain_text(f"Lucie <em>{suffix}</em>")
    calls = page.locator("section", has=page.locator("#company-calls-title"))
    expect(calls).to_contain_text("No call from the company or its contacts yet.")

    # From the company to the contact, with the keyboard.
    contacts.get_by_role("link", name=f"Lucie <em>{suffix}</em>").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/customers/{contact['id']}")
    expect(page.locator("h1")).to_have_text(f"Lucie <em>{suffix}</em>")
    assert agent.errors == []
