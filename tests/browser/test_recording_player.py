"""A call recording played in the console: a supervisor hears it on the customer's timeline, an
agent of another queue is refused, since the queue restricts its recordings to its own people.

The call goes through the simulator (which completes the recording when the call ends, as
Twilio's status callback does); the audio comes through the helpdesk, never from the provider.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.conftest import Console, LiveServer
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

CAMILLE = "+33612000001"  # Camille Martin, seeded in conftest
PLAYER = "audio.recording-player"
# What the page's own script would do with the player's address: fetch it as the signed-in user.
FETCH_AUDIO = """async (selector) => {
  const audio = document.querySelector(selector);
  const answer = await fetch(audio.src, {credentials: "same-origin"});
  return [answer.status, answer.headers.get("content-type"), audio.src];
}"""
PLAY = """(selector) => new Promise((resolve, reject) => {
  const audio = document.querySelector(selector);
  audio.addEventListener("loadedmetadata", () => resolve(audio.duration), {once: true});
  const failed = () => reject(new Error("the player could not load"));
  audio.addEventListener("error", failed, {once: true});
  audio.preload = "auto";
  audio.load();
})"""


def _ok(answer: Any) -> Any:
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None


def _wait(what: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def restricted_support(live_server: LiveServer) -> Iterator[int]:
    """The "support" queue records its calls, for its own agents and supervisors only."""
    queues = _ok(live_server.api("GET", "/queues", "admin"))
    support = next(q["id"] for q in queues["items"] if q["name"] == "support")
    policy = {"mode": "on", "restricted": True, "retention_days": 30}
    _ok(live_server.api("PUT", f"/queues/{support}/recording", "admin", json=policy))
    yield support
    _ok(live_server.api("PUT", f"/queues/{support}/recording", "admin", json={"mode": "off"}))


@pytest.fixture
def billing_agent(live_server: LiveServer) -> str:
    """An agent of the billing queue only."""
    who = "billing_agent"
    if who not in live_server.people:
        body = {
            "email": "billing.agent@example.com",
            "password": PASSWORD,
            "name": "Bill Billing",
            "role": "agent",
            "skills": {"billing": 3},
            "languages": ["fr", "en"],
        }
        made = _ok(live_server.api("POST", "/users", "admin", json=body))
        live_server.people[who] = {"id": made["id"], "email": body["email"], "name": body["name"]}
    return who


def _recorded_call(live_server: LiveServer) -> int:
    """Camille calls support, the agent answers, she hangs up: the call's recording id."""
    _ok(live_server.api("PUT", "/agents/me/presence", "agent", json={"state": "available"}))
    placed = _ok(
        live_server.api(
            "POST", "/simulator/calls", "supervisor", json={"from": CAMILLE, "digits": "1"}
        )
    )

    def ringing() -> Any:
        state = _ok(live_server.api("GET", "/agents/me/state", "agent"))
        return (state.get("ringing") or {}).get("call_id")

    call_id = _wait(ringing)
    _ok(live_server.api("POST", f"/calls/{call_id}/accept", "agent"))
    _ok(live_server.api("POST", f"/simulator/calls/{placed['call_sid']}/hangup", "supervisor"))

    def completed() -> Any:
        items = _ok(live_server.api("GET", f"/calls/{call_id}/recordings", "supervisor"))["items"]
        return next((r["id"] for r in items if r["status"] == "completed"), None)

    recording_id = _wait(completed)
    wrap_up = {"disposition": "other", "notes": "", "done": True}
    _ok(live_server.api("POST", f"/calls/{call_id}/wrap-up", "agent", json=wrap_up))
    _ok(live_server.api("PUT", "/agents/me/presence", "agent", json={"state": "offline"}))
    return int(recording_id)


def _timeline_player(console: Console, live_server: LiveServer, recording_id: int) -> str:
    page = console.page
    page.goto(f"{live_server.base_url}/customers/{live_server.ids['camille']}")
    selector = f'{PLAYER}[src$="/recordings/{recording_id}/audio"]'
    page.wait_for_selector(selector, state="attached", timeout=10_000)
    return selector


def test_a_supervisor_plays_a_recording_and_an_agent_of_another_queue_is_refused(
    sign_in: Callable[[str], Console],
    live_server: LiveServer,
    restricted_support: int,
    billing_agent: str,
) -> None:
    recording_id = _recorded_call(live_server)

    supervisor = sign_in("supervisor")
    selector = _timeline_player(supervisor, live_server, recording_id)
    status, content_type, src = supervisor.page.evaluate(FETCH_AUDIO, selector)
    assert status == 200 and content_type == "audio/wav"
    assert src.startswith(live_server.base_url)  # the helpdesk's address, not the provider's
    assert supervisor.page.evaluate(PLAY, selector) > 0  # the player reads the audio
    assert supervisor.errors == []

    outsider = sign_in(billing_agent)
    selector = _timeline_player(outsider, live_server, recording_id)
    status, _, _ = outsider.page.evaluate(FETCH_AUDIO, selector)
    assert status == 403
    api = live_server.api("GET", f"/recordings/{recording_id}/media", billing_agent)
    assert api.status_code == 403
