"""A call in a real browser, from the simulator page to the agent's wrap-up note on the
customer's timeline: the screen pop over the live connection, accepting with the keyboard, the
transcript of the simulated caller, and a caller's name that is markup shown as text.

Set HELPDESK_SCREENSHOTS to a folder to save the pictures used in docs/console.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser

CAMILLE = "+33612000001"  # Camille Martin, seeded in conftest
MARKUP = "+33612000009"  # the customer named <img src=x onerror=alert(1)>
SCREENSHOTS = os.environ.get("HELPDESK_SCREENSHOTS")
EVENT_TIMEOUT_MS = 10_000


def wait_live(console: Console) -> None:
    console.page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)


def set_presence(console: Console, state: str) -> None:
    page = console.page
    page.click(f"#presence-form button[value={state}]")
    page.wait_for_selector(f"#phone-state.presence-{state}", timeout=EVENT_TIMEOUT_MS)


def place_call(console: Console, live_server: LiveServer, number: str, digits: str) -> None:
    """On the simulator page: a known customer calls and presses `digits`."""
    page = console.page
    page.goto(live_server.base_url + "/simulator")
    page.select_option("#known", number)
    page.fill("#digits", digits)
    page.click("#sim-call-button")
    page.wait_for_selector("#sim-phone:not([hidden])", timeout=EVENT_TIMEOUT_MS)


def transcript(console: Console) -> str:
    return console.page.inner_text("#sim-transcript")


def shoot(console: Console, name: str, *, full_page: bool = False) -> None:
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    console.page.screenshot(path=str(folder / name), full_page=full_page)


@pytest.fixture
def agent_and_simulator(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> Iterator[tuple[Console, Console]]:
    """The agent on the ticket list, available; a supervisor playing the customer."""
    agent = sign_in("agent")
    wait_live(agent)
    set_presence(agent, "available")
    simulator = sign_in("supervisor")
    yield agent, simulator
    # Leave the agent unreachable for whatever runs next on this server.
    if agent.page.locator("#phone-wrapup:not([hidden])").count():
        agent.page.select_option("#wrapup-disposition", "other")
        agent.page.click("#wrapup-done")
    live_server.api("PUT", "/agents/me/presence", "agent", json={"state": "offline"})


def test_a_call_from_the_first_ring_to_the_wrap_up_note(
    agent_and_simulator: tuple[Console, Console], live_server: LiveServer
) -> None:
    agent, simulator = agent_and_simulator
    agent.page.evaluate("window.notReloaded = true")
    place_call(simulator, live_server, CAMILLE, "1")
    assert "[waiting in queue support]" in transcript(simulator)

    # The screen pop: the ringing panel, without a reload.
    ringing = agent.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    assert ringing is not None
    assert agent.page.inner_text("#phone-ringing [data-field=who]") == "Camille Martin"
    expect(agent.page.locator("#phone-ringing [data-field=number]")).to_have_text(
        "+33 6 12 00 00 01", timeout=EVENT_TIMEOUT_MS
    )
    assert agent.page.inner_text("#phone-ringing [data-field=queue]") == "Support"
    assert agent.page.inner_text("#phone-ringing [data-field=language]") == "French"
    assert agent.page.inner_text("#phone-ringing [data-field=ivr]") == "1 · Queue: Support"
    assert re.fullmatch(
        r"Answer within (\d+ min )?\d+ s",
        agent.page.inner_text("#phone-ringing [data-field=countdown]"),
    )
    assert agent.page.inner_text("#phone-state") == "Ringing"
    assert agent.page.title().startswith("☎ ")
    assert agent.page.evaluate("window.notReloaded") is True
    # The caller screen popped with the call: open tickets with their clocks, latest history.
    screen = agent.page.locator("#phone-screen")
    expect(screen).to_be_visible(timeout=EVENT_TIMEOUT_MS)
    expect(screen).to_contain_text("Countdown is running")
    expect(screen).to_contain_text("Waiting on the customer")
    expect(screen).to_contain_text("Ticket opened")
    # A status change is worded from its codes, not shown as its stored summary.
    expect(screen).to_contain_text("New → Pending")
    expect(screen).not_to_contain_text("new → pending")
    assert screen.locator(".sla-badge").count() >= 1
    shoot(agent, "phone-ringing.png")

    # Accepted with the keyboard.
    agent.page.keyboard.press("a")
    agent.page.wait_for_selector("#phone-oncall:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    assert agent.page.locator("#phone-ringing").is_hidden()

    # During the call: the caller screen page, where the call opens a ticket.
    agent.page.keyboard.press("o")
    agent.page.wait_for_url("**/calls/*", timeout=EVENT_TIMEOUT_MS)
    wait_live(agent)
    expect(agent.page.locator("#screen-title")).to_have_text("Camille Martin")
    expect(agent.page.locator("#timeline-entries")).to_contain_text("Countdown is running")
    agent.page.fill("#new-subject", "Line drops every evening")
    agent.page.select_option("#new-priority", "high")
    agent.page.click("#call-new-ticket button[type=submit]")
    expect(agent.page.locator(".flash-success")).to_contain_text("opened for this call")
    expect(agent.page.locator("#call-ticket")).to_contain_text("Line drops every evening")
    shoot(agent, "caller-screen.png", full_page=True)
    agent.page.evaluate("window.notReloaded = true")
    link = agent.page.locator("#phone-oncall a[data-field=customer-link]")
    assert link.inner_text() == "Camille Martin"
    assert link.get_attribute("href") == f"/customers/{live_server.ids['camille']}"
    assert agent.page.inner_text("#phone-state") == "On a call"
    agent_id = live_server.people["agent"]["id"]
    expect(simulator.page.locator("#sim-transcript")).to_contain_text(
        f"[connected to agent-{agent_id}]", timeout=EVENT_TIMEOUT_MS
    )
    expect(simulator.page.locator("#sim-phone [data-field=agent]")).to_have_text("with Alice Agent")
    expect(simulator.page.locator("#sim-calls tbody tr").first).to_contain_text(
        "Talking to an agent", timeout=EVENT_TIMEOUT_MS
    )
    shoot(simulator, "simulator.png", full_page=True)

    # The customer hangs up: the wrap-up form and its timer.
    simulator.page.click("#sim-hangup-button")
    expect(simulator.page.locator("#sim-transcript")).to_contain_text(
        "[call ended]", timeout=EVENT_TIMEOUT_MS
    )
    agent.page.wait_for_selector("#phone-wrapup:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    assert agent.page.inner_text("#phone-state") == "Wrap-up"
    assert re.search(r"\d+ min \d+ s left", agent.page.inner_text("#phone-wrapup"))
    assert "Camille Martin" in agent.page.inner_text("#phone-wrapup .wrapup-title")
    agent.page.select_option("#wrapup-disposition", "resolved")
    agent.page.locator("#main").focus()
    agent.page.keyboard.press("w")  # the shortcut to the notes
    agent.page.keyboard.type("Reset the box; the line is back.")
    assert agent.page.input_value("#wrapup-notes") == "Reset the box; the line is back."
    agent.page.keyboard.press("Control+Enter")  # saves the wrap-up from its notes
    agent.page.wait_for_selector("#phone-wrapup", state="hidden", timeout=EVENT_TIMEOUT_MS)
    agent.page.wait_for_selector("#phone-state.presence-available")
    assert agent.page.inner_text("#phone-message") == "Wrap-up saved."
    assert agent.page.evaluate("window.notReloaded") is True

    # The customer's timeline has the call and the note.
    agent.page.goto(f"{live_server.base_url}/customers/{live_server.ids['camille']}")
    timeline = agent.page.inner_text("#timeline-entries")
    assert re.search(r"Call\s+Incoming · Answered", timeline), timeline
    assert "Line drops every evening" in timeline  # the ticket the call opened
    assert "Call notes" in timeline
    assert "Wrap-up (Resolved): Reset the box; the line is back." in timeline
    assert agent.errors == [] and simulator.errors == []


def test_a_callers_name_is_only_text_and_a_hang_up_clears_the_ring(
    agent_and_simulator: tuple[Console, Console], live_server: LiveServer
) -> None:
    agent, simulator = agent_and_simulator
    agent.page.evaluate("window.injected = false")
    place_call(simulator, live_server, MARKUP, "1")
    agent.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    who = agent.page.locator("#phone-ringing [data-field=who]")
    assert who.inner_text() == "<img src=x onerror=alert(1)>"
    assert agent.page.locator("#phone-ringing img").count() == 0
    assert agent.page.locator("#phone img").count() == 0
    # The caller screen shows their text and their ticket's subject as text too.
    screen = agent.page.locator("#phone-screen")
    expect(screen).to_contain_text("<img src=x onerror=alert(2)> my box is down")
    expect(screen).to_contain_text("<script>window.injected = true</script> Box down")
    assert screen.locator("img, script").count() == 0
    assert agent.page.evaluate("window.injected") is False
    screen_url = agent.page.get_attribute("#phone-ringing [data-field=screen-link]", "href")
    # The caller gives up: the ringing panel goes, and says why.
    simulator.page.click("#sim-hangup-button")
    agent.page.wait_for_selector("#phone-ringing", state="hidden", timeout=EVENT_TIMEOUT_MS)
    message = agent.page.inner_text("#phone-message")
    assert (
        message == "The call from <img src=x onerror=alert(1)> stopped ringing: the caller hung up."
    )
    assert agent.page.locator("#phone-message img").count() == 0
    agent.page.wait_for_selector("#phone-state.presence-available", timeout=EVENT_TIMEOUT_MS)
    assert agent.page.title() == "Tickets · Helpdesk"
    # The caller screen page of that call: the same text, inert.
    agent.page.goto(live_server.base_url + str(screen_url))
    agent.page.evaluate("window.injected = false")
    expect(agent.page.locator("#screen-title")).to_have_text("<img src=x onerror=alert(1)>")
    expect(agent.page.locator("#timeline-entries")).to_contain_text("onerror=alert(2)")
    assert agent.page.locator("#main img, #main script").count() == 0
    assert agent.page.evaluate("window.injected") is False
    assert agent.errors == [] and simulator.errors == []


def test_an_answered_call_costs_the_agents_browser_two_requests(
    agent_and_simulator: tuple[Console, Console], live_server: LiveServer
) -> None:
    """From the ring to the wrap-up, the agent's console asks the server only for its two
    actions (accept, wrap-up): the offer, the caller screen, the call connected, its end and
    the agent's states come as events, which the panel applies without fetching its snapshot."""
    agent, simulator = agent_and_simulator
    sent: list[str] = []
    agent.page.on(
        "request",
        lambda r: (
            sent.append(f"{r.method} {r.url.removeprefix(live_server.base_url)}")
            if "/phone/" in r.url
            else None
        ),
    )
    place_call(simulator, live_server, CAMILLE, "1")
    agent.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    expect(agent.page.locator("#phone-screen")).to_contain_text(
        "Countdown is running", timeout=EVENT_TIMEOUT_MS
    )
    agent.page.click("#phone-accept")
    agent.page.wait_for_selector("#phone-oncall:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    expect(agent.page.locator("#phone-oncall [data-field=who]")).to_have_text("Camille Martin")
    expect(agent.page.locator("#phone-state")).to_have_text("On a call")
    simulator.page.click("#sim-hangup-button")
    agent.page.wait_for_selector("#phone-wrapup:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    expect(agent.page.locator("#phone-state")).to_have_text("Wrap-up", timeout=EVENT_TIMEOUT_MS)
    assert "Camille Martin" in agent.page.inner_text("#phone-wrapup .wrapup-title")
    agent.page.select_option("#wrapup-disposition", "resolved")
    agent.page.click("#wrapup-done")
    agent.page.wait_for_selector("#phone-wrapup", state="hidden", timeout=EVENT_TIMEOUT_MS)
    agent.page.wait_for_selector("#phone-state.presence-available")
    agent.page.wait_for_timeout(1000)  # anything the last events would still ask for
    actions = [s.split("?")[0] for s in sent]
    assert [a.split(" ")[0] for a in actions] == ["POST", "POST"], sent
    assert actions[0].endswith("/accept") and actions[1].endswith("/wrap-up"), sent
    assert agent.errors == [] and simulator.errors == []


def test_a_new_caller_reads_as_their_number_once(
    agent_and_simulator: tuple[Console, Console], live_server: LiveServer
) -> None:
    """A number no customer has becomes a contact named after it: the panel shows it once,
    formatted, not the raw number with the formatted one under it."""
    agent, simulator = agent_and_simulator
    page = simulator.page
    page.goto(live_server.base_url + "/simulator")
    page.fill("#number", "+33611223344")
    page.fill("#digits", "11")  # French, then support
    page.click("#sim-call-button")
    agent.page.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    expect(agent.page.locator("#phone-ringing [data-field=who]")).to_have_text("+33 6 11 22 33 44")
    expect(agent.page.locator("#phone-ringing [data-field=number]")).to_have_text("")
    simulator.page.click("#sim-hangup-button")
    agent.page.wait_for_selector("#phone-ringing", state="hidden", timeout=EVENT_TIMEOUT_MS)
    assert agent.errors == [] and simulator.errors == []
