"""The recording controls in a real browser: on a recorded queue the agent pauses and resumes the
call's recording from the keyboard (p), the button saying which it will do; the next time the
customer calls, the screen pop's timeline has the recording with a player whose audio comes
through the helpdesk, as a voicemail's does."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from agents_ui import phone_state
from tests.browser.conftest import Console, LiveServer
from tests.browser.test_call_flow import (
    CAMILLE,
    EVENT_TIMEOUT_MS,
    place_call,
    set_presence,
    wait_live,
)

pytestmark = pytest.mark.browser

SCREEN_SCRIPT = Path(__file__).parents[2] / "agents_ui" / "static" / "caller_screen.js"

FETCH_AUDIO = """async (selector) => {
  const audio = document.querySelector(selector);
  const answer = await fetch(audio.src, {credentials: "same-origin"});
  return [answer.status, audio.src];
}"""


def _ok(answer: Any) -> Any:
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None


def _status(live_server: LiveServer, call_id: int) -> str | None:
    items = _ok(live_server.api("GET", f"/calls/{call_id}/recordings", "supervisor"))["items"]
    return items[0]["status"] if items else None


def _wait(what: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def recorded_support(live_server: LiveServer) -> Iterator[int]:
    """The "support" queue records its calls."""
    queues = _ok(live_server.api("GET", "/queues", "admin"))
    support = next(q["id"] for q in queues["items"] if q["name"] == "support")
    _ok(live_server.api("PUT", f"/queues/{support}/recording", "admin", json={"mode": "on"}))
    yield support
    _ok(live_server.api("PUT", f"/queues/{support}/recording", "admin", json={"mode": "off"}))


def _current_call(live_server: LiveServer) -> dict[str, Any]:
    """The agent's call as the REST API shows it (its view and caller screen)."""
    state = _ok(live_server.api("GET", "/agents/me/state", "agent"))
    return dict(state["current_call"])


def test_pause_and_resume_from_the_keyboard_then_the_recording_on_the_screen_pop(
    sign_in: Callable[[str], Console], live_server: LiveServer, recorded_support: int
) -> None:
    alice = sign_in("agent")
    wait_live(alice)
    set_presence(alice, "available")
    customer = sign_in("supervisor")
    try:
        place_call(customer, live_server, CAMILLE, "1")
        alice.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        alice.page.keyboard.press("a")
        alice.page.wait_for_selector("#phone-oncall:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        button = alice.page.locator("#call-recording")
        expect(button).to_be_visible(timeout=EVENT_TIMEOUT_MS)
        expect(button).to_contain_text("Pause recording")
        current = _current_call(live_server)
        call_id = int(current["call_id"])
        assert current["recording"] == "recording"

        alice.page.locator("#main").focus()
        alice.page.keyboard.press("p")
        expect(button).to_have_attribute("aria-pressed", "true", timeout=EVENT_TIMEOUT_MS)
        expect(button).to_contain_text("Resume recording")
        assert _status(live_server, call_id) == "paused"
        assert _current_call(live_server)["recording"] == "paused"
        alice.page.keyboard.press("p")
        expect(button).to_have_attribute("aria-pressed", "false", timeout=EVENT_TIMEOUT_MS)
        expect(button).to_contain_text("Pause recording")
        assert _status(live_server, call_id) == "in-progress"

        # Camille hangs up: the recording completes (the simulator's callback); Alice wraps up.
        customer.page.click("#sim-hangup-button")
        alice.page.wait_for_selector("#phone-wrapup:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        alice.page.select_option("#wrapup-disposition", "other")
        alice.page.click("#wrapup-done")
        alice.page.wait_for_selector("#phone-state.presence-available", timeout=EVENT_TIMEOUT_MS)
        recording = _wait(lambda: _status(live_server, call_id) == "completed")
        assert recording
        items = _ok(live_server.api("GET", f"/calls/{call_id}/recordings", "supervisor"))["items"]
        recording_id = items[0]["id"]

        # She calls again: the screen pop's timeline plays that recording through the helpdesk.
        place_call(customer, live_server, CAMILLE, "1")
        alice.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
        player = f'#phone-screen audio.recording-player[src$="/recordings/{recording_id}/audio"]'
        alice.page.wait_for_selector(player, state="attached", timeout=EVENT_TIMEOUT_MS)
        status, src = alice.page.evaluate(FETCH_AUDIO, player)
        assert status == 200 and src.startswith(live_server.base_url)
        customer.page.click("#sim-hangup-button")
        alice.page.wait_for_selector("#phone-ringing", state="hidden", timeout=EVENT_TIMEOUT_MS)
        assert alice.errors == [] and customer.errors == []
    finally:
        live_server.api("PUT", "/agents/me/presence", "agent", json={"state": "offline"})


def test_the_screen_pop_plays_voicemails_and_recordings_in_french(app: Flask, browser: Any) -> None:
    """Drawn by static/caller_screen.js alone: each recording and voicemail entry gets a player
    on the helpdesk's address; other entries none."""
    with app.test_request_context(), force_locale("fr"):
        strings = phone_state.js_strings({})["screen"]
    entry = {"occurred_at": "2026-12-02T09:00:00+00:00", "ticket_id": None}
    screen = {
        "call_id": 1,
        "customer": {"id": 7, "name": "Hugo Martin", "flags": [], "phones": []},
        "open_tickets": [],
        "history": {"tickets": 1, "calls": 2},
        "timeline": [
            {
                **entry,
                "kind": "voicemail",
                "summary": "Voicemail (9 s)",
                "data": {"duration_s": 9, "recording_id": 12},
            },
            {
                **entry,
                "kind": "recording",
                "summary": "Call recording (42 s)",
                "data": {"duration_s": 42, "recording_id": 11},
            },
            {**entry, "kind": "call", "summary": "Inbound call", "data": {}},
        ],
    }
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="fr"><head><meta name="helpdesk-timezone" content="Europe/Paris">'
            '</head><body><div id="screen"></div></body></html>'
        )
        page.add_script_tag(path=str(SCREEN_SCRIPT))
        page.evaluate(
            "([screen, strings]) => window.HelpdeskCallerScreen.render("
            "document.getElementById('screen'), screen, strings)",
            [screen, strings],
        )
        players = page.locator("audio.recording-player")
        sources = [players.nth(i).get_attribute("src") for i in range(players.count())]
        label = players.first.get_attribute("aria-label")
    finally:
        page.close()
    assert sources == ["/recordings/12/audio", "/recordings/11/audio"]
    assert label == "Écouter l'enregistrement"
