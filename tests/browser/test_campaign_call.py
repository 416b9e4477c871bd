"""A campaign call from the agent's side, in a real browser: the agent joins the campaign and
sets themself available; the dialer's screen pop shows the person and the script, the simulated
call is placed with the agent on it; the agent hangs up, records the disposition with a key,
and the next person is offered. The server's clock is fixed on a Wednesday at 11:00 in Paris,
inside the hours the rules permit (tests/browser/fixed_clock.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, require_browser, serving
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

CLOCK = "2026-12-02T10:00:00+00:00"  # Wednesday, 11:00 in Paris
FIRST, SECOND = "+33612000101", "+33612000102"
EVENT_TIMEOUT_MS = 20_000  # the dialer's round comes every 5 seconds
# The server's scheduler starts its periodic jobs 30 seconds after start-up (helpdesk.scheduler).
FIRST_ROUND_MS = 60_000


def _seed_campaign(env: dict[str, str], supervisor_id: int) -> int:
    from helpdesk.app import create_app
    from helpdesk.auth.models import User
    from helpdesk.campaigns import service
    from helpdesk.campaigns.lists import Candidate
    from helpdesk.config import Settings
    from helpdesk.extensions import db

    settings = Settings.from_env(
        env={},
        DATABASE_URL=env["DATABASE_URL"],
        HELPDESK_INSTANCE_PATH=env["HELPDESK_INSTANCE_PATH"],
        SECRET_KEY=env["SECRET_KEY"],
        TESTING=True,
        HELPDESK_SCHEDULER=False,
    )
    app = create_app(settings)
    with app.app_context():
        boss = db.session.get(User, supervisor_id)
        campaign = service.create(
            db.session,
            actor=boss,
            name="Winter check-up",
            kind="service",
            legal_basis="none",
            channel="call",
            skill="support",
            script_en="Hello, this is the helpdesk: a winter check-up for your boiler?",
            script_fr="Bonjour, ici l'assistance : une visite d'hiver pour votre chaudière ?",
        )
        service.add_members(
            db.session,
            campaign,
            [
                Candidate(2, "Anne <b>Dupont</b>", FIRST, None, None, "en"),
                Candidate(3, "Bruno Petit", SECOND, None, None, "en"),
            ],
            actor=boss,
        )
        service.set_status(db.session, campaign, status="active", actor=boss)
        return int(campaign.id)


@pytest.fixture(scope="module")
def clocked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The browser tier's server with its clock fixed inside the permitted calling hours."""
    require_browser()
    with serving(
        tmp_path_factory.mktemp("campaign-browser"),
        module="tests.browser.fixed_clock",
        env={"HELPDESK_TEST_CLOCK": CLOCK},
        seed_more=lambda env, people: {"campaign": _seed_campaign(env, people["supervisor"]["id"])},
    ) as live:
        yield live


def test_an_agent_joins_takes_a_campaign_call_and_gets_the_next_person(
    chromium: Any, clocked_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    live = clocked_server
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live.base_url + "/login")
        page.fill("#email", live.people["agent"]["email"])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/tickets")

        page.goto(live.base_url + "/campaigns")
        page.click(f'[data-campaign-join="{live.ids["campaign"]}"]')
        expect(page.locator(f'[data-campaign-join="{live.ids["campaign"]}"]')).to_have_text(
            "Leave campaign"
        )
        page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)
        page.click("#presence-form button[value=available]")

        # The screen pop: the person (a name that is markup shows as text) and the script.
        panel = page.locator("#campaign-dialer")
        expect(panel).to_be_visible(timeout=FIRST_ROUND_MS)
        expect(panel.locator('[data-field="member-name"]')).to_have_text("Anne <b>Dupont</b>")
        expect(panel.locator('[data-field="script"]')).to_contain_text("winter check-up")
        expect(page.locator("#phone-state")).to_have_class("badge presence presence-on_call")

        # The call placed, the agent on it: hang it up (as the person would), then the
        # disposition with its number key.
        current = live.api("GET", "/campaigns/dialer/current", "agent").json()["offer"]
        assert current["member"]["number"] == FIRST
        hung = live.api("POST", f"/calls/{current['call_id']}/hangup", "agent")
        assert hung.status_code == 200, hung.text
        page.keyboard.press("2")  # "Reached, not interested now"

        # The next person comes by themself once the agent is free again.
        expect(panel.locator('[data-field="member-name"]')).to_have_text(
            "Bruno Petit", timeout=EVENT_TIMEOUT_MS
        )
        attempts = live.api("GET", f"/campaigns/{live.ids['campaign']}/attempts", "supervisor")
        first = [a for a in attempts.json()["items"] if a["number"] == FIRST]
        assert [a["disposition"] for a in first] == ["reached"]
        assert errors == []
    finally:
        context.close()
