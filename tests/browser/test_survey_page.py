"""A customer answers a satisfaction survey in a real browser: the e-mail's link opens the page
in their language without signing in, the comment is typed and a score chosen from the
keyboard, the answer is recorded once, and the agent's ticket page shows it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest

from tests.browser.conftest import Console, LiveServer

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import Browser, expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

_serial = itertools.count(1)


def _survey_link(live: LiveServer, address: str) -> str:
    mails = live.api("GET", "/simulator/mail", "agent").json()["items"]
    found = [m for m in mails if m["recipients"] == [address]]
    assert len(found) == 1, mails
    link = re.search(r"(http://127\.0\.0\.1:\d+/survey/[A-Za-z0-9_\-]+)", found[0]["text"])
    assert link, found[0]["text"]
    return link.group(1)


def test_a_customer_answers_on_the_survey_page(
    browser: Browser, live_server: LiveServer, sign_in: Callable[[str], Console]
) -> None:
    address = f"sondage{next(_serial)}@example.com"
    customer = live_server.api(
        "POST",
        "/customers",
        "agent",
        json={"name": "Inès Sondage", "emails": [{"email": address}], "language": "fr"},
    ).json()
    ticket = live_server.api(
        "POST",
        "/tickets",
        "agent",
        json={"subject": "Facture en double", "requester_id": customer["id"], "channel": "email"},
    ).json()
    solved = live_server.api(
        "PATCH", f"/tickets/{ticket['id']}", "agent", json={"status": "solved"}
    )
    assert solved.status_code == 200, solved.text
    link = _survey_link(live_server, address)

    # The customer: a fresh browser, nobody signed in.
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("legend")).to_contain_text("Êtes-vous satisfait")
        page.locator("#survey-comment").fill("Réponse rapide <b>merci</b>")
        page.locator("#survey-comment").press("Tab")  # to the first score, then on to 4
        for _ in range(3):
            page.keyboard.press("Tab")
        expect(page.locator("button.survey-score[value='4']")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#survey-outcome")).to_have_text(
            "Merci : votre réponse (4/5) est enregistrée."
        )
        page.goto(link)
        expect(page.locator("#survey-outcome")).to_contain_text("déjà répondu")
        expect(page.locator("button.survey-score")).to_have_count(0)
    finally:
        context.close()

    listed = live_server.api("GET", f"/surveys?ticket_id={ticket['id']}", "agent").json()["items"]
    assert [(s["score"], s["comment"], s["answered_by"]) for s in listed] == [
        (4, "Réponse rapide <b>merci</b>", "link")
    ]
    agent = sign_in("agent")
    agent.page.goto(f"{live_server.base_url}/tickets/{ticket['id']}")
    panel = agent.page.locator("#surveys")
    expect(panel.locator(".survey-score-value")).to_have_text("4/5")
    expect(panel.locator(".survey-comment")).to_have_text("Réponse rapide <b>merci</b>")
    assert agent.errors == []
