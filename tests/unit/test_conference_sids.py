"""The conference SID: learnt from a participant's creation or looked up once, then kept."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from telephony.conference_sids import MemoryConferenceSids, is_conference_sid
from telephony.gateway import ConferenceNotFound, TwilioGateway

CALL = "CA" + "1" * 32
ROOM = "CF" + "a" * 32


class FakeConferences:
    """Twilio's conference list as the gateway uses it: `list` to look up, a call to address."""

    def __init__(self, in_progress: dict[str, str]) -> None:
        self.in_progress = in_progress
        self.lookups: list[dict[str, Any]] = []
        self.addressed: list[str] = []

    def list(self, **query: Any) -> list[SimpleNamespace]:
        self.lookups.append(query)
        sid = self.in_progress.get(query["friendly_name"])
        return [SimpleNamespace(sid=sid)] if sid else []

    def __call__(self, sid: str) -> Any:
        self.addressed.append(sid)
        return SimpleNamespace(participants=_Participants())


class _Participants:
    """A room's participants: each answers an update or a removal; a creation answers the new
    leg and the conference's SID, as Twilio does."""

    def __call__(self, _call_sid: str) -> Any:
        return SimpleNamespace(update=lambda **_: None, delete=lambda: None)

    def create(self, **_: Any) -> Any:
        return SimpleNamespace(call_sid="CA" + "2" * 32, conference_sid=ROOM)


def _gateway(in_progress: dict[str, str]) -> tuple[TwilioGateway, FakeConferences]:
    conferences = FakeConferences(in_progress)
    calls = lambda _sid: SimpleNamespace(update=lambda **_: None)  # noqa: E731
    return TwilioGateway(SimpleNamespace(conferences=conferences, calls=calls)), conferences


def test_the_sid_is_looked_up_once_by_name_among_the_conferences_in_progress():
    gw, conferences = _gateway({f"call-{CALL}": ROOM})
    gw.hold(CALL, True, "https://example.com/hold")
    gw.hold(CALL, False, "https://example.com/hold")
    gw.remove_party(CALL, "CA" + "3" * 32, "+33612345678")
    assert conferences.lookups == [
        {"friendly_name": f"call-{CALL}", "status": "in-progress", "limit": 1}
    ]
    assert conferences.addressed == [ROOM] * 3


def test_the_sid_a_participant_creation_answers_is_kept_without_a_lookup():
    gw, conferences = _gateway({})
    gw.add_party(CALL, "+33612345678", _leg())
    gw.agent_leaves(CALL, "CA" + "4" * 32)
    assert conferences.lookups == []
    assert conferences.addressed == [f"call-{CALL}", ROOM]


def test_no_conference_in_progress_is_an_error_and_is_not_kept():
    gw, conferences = _gateway({})
    for _ in range(2):
        with pytest.raises(ConferenceNotFound):
            gw.hold(CALL, True, "https://example.com/hold")
    assert len(conferences.lookups) == 2 and conferences.addressed == []


def test_the_memory_keeps_the_recent_calls_only():
    sids = MemoryConferenceSids(size=2)
    for n in range(3):
        sids.put(f"CA{n}", f"CF{n}")
    assert [sids.get(f"CA{n}") for n in range(3)] == [None, "CF1", "CF2"]


def test_only_a_twilio_conference_sid_counts():
    assert is_conference_sid(ROOM)
    assert not is_conference_sid(f"call-{CALL}")
    assert not is_conference_sid(None)
    assert not is_conference_sid("CF123")


def _leg() -> Any:
    from telephony.conference import AgentLeg

    return AgentLeg(
        from_number="+15005550006", status_callback="https://e/x", wait_url="https://e/w"
    )


def test_a_supervisor_joining_keeps_the_sid_for_the_gateway():
    """Listen, whisper and barge add a participant by the room's name, through the gateway:
    the SID Twilio answers with serves the controls that follow."""
    from telephony.monitoring import from_gateway

    gw, conferences = _gateway({})
    monitor = from_gateway(gw, "+15005550006")
    monitor.join(
        call_sid=CALL, supervisor_endpoint="client:agent-3", mode="whisper", agent_call_sid="CA2"
    )
    gw.hold(CALL, True, "https://example.com/hold")
    assert conferences.lookups == [] and conferences.addressed == [f"call-{CALL}", ROOM]
