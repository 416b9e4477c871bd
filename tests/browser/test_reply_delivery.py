"""A public reply's delivery state on the ticket page follows the provider's status callbacks
live, without a reload."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
import requests

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser

EVENT_TIMEOUT_MS = 10_000


def _signed_status_callback(live: LiveServer, ticket_id: int, status: str) -> None:
    """What Twilio posts when the text of this ticket's latest reply moves on."""
    from twilio.request_validator import RequestValidator

    home = live.log.parent  # the server's database and instance folder sit next to its log
    with sqlite3.connect(home / "helpdesk.sqlite3") as conn:
        sid, key = conn.execute(
            "SELECT message_sid, idempotency_key FROM sms_messages"
            " WHERE ticket_id = ? AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
            (ticket_id,),
        ).fetchone()
    token = (home / "instance" / "simulator_auth_token").read_text().strip()
    url = f"{live.base_url}/twilio/sms/status?key={key}"
    form = {"MessageSid": sid, "MessageStatus": status}
    signature = RequestValidator(token).compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert answer.status_code == 204, answer.text


def test_reply_box_names_the_channel_and_the_state_follows_callbacks(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    r = live_server.api(
        "POST",
        "/tickets",
        "agent",
        json={"subject": "Router lost", "requester_id": live_server.ids["camille"]},
    )
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]
    agent = sign_in("agent")
    agent.page.goto(f"{live_server.base_url}/tickets/{ticket_id}")
    expect(agent.page.locator("#reply-route")).to_contain_text(
        "A public reply will be sent by SMS to +33 6 12 00 00 01."
    )
    agent.page.fill("#reply-body", "Your new router ships today.")
    agent.page.click("section.reply button[type=submit]")
    # No Twilio account on this server: the text goes to the simulator, and is not called sent.
    expect(agent.page.locator(".flash-warning").first).to_contain_text(
        "Reply saved, not sent: SMS to +33 6 12 00 00 01."
    )
    badge = agent.page.locator(".delivery [data-delivery-status]")
    expect(badge).to_have_text("Simulated")
    agent.page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)
    agent.page.evaluate("window.notReloaded = true")
    # A second viewer's arrival reaches the agent through the ticket's room: the page is in it.
    boss = sign_in("supervisor")
    boss.page.goto(f"{live_server.base_url}/tickets/{ticket_id}")
    expect(agent.page.locator("#ticket-viewers")).to_have_text(
        "Also viewing: Sam Supervisor", timeout=EVENT_TIMEOUT_MS
    )
    _signed_status_callback(live_server, ticket_id, "delivered")
    # The state follows live; its words stay the simulator's.
    expect(badge).to_have_class("badge delivery-delivered", timeout=EVENT_TIMEOUT_MS)
    expect(badge).to_have_text("Simulated")
    assert agent.page.evaluate("window.notReloaded") is True
    assert agent.errors == [] and boss.errors == []
