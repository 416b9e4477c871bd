"""The recording policy as pure logic: what each mode does, expiry, and who may hear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telephony.recording_policy import Listener, Policy, may_hear

START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mode", "records", "announces"),
    [("off", False, False), ("on", True, False), ("announce", True, True)],
)
def test_modes(mode: str, records: bool, announces: bool) -> None:
    policy = Policy(mode=mode)
    assert (policy.records, policy.announces) == (records, announces)


def test_expiry_follows_the_retention_days() -> None:
    assert Policy(mode="on").expires_at(START) is None
    assert Policy(mode="on", retention_days=30).expires_at(START) == START + timedelta(days=30)


AGENT_OF_SUPPORT = Listener(user_id=7, supervises=False, queues=frozenset({1}))
AGENT_OF_BILLING = Listener(user_id=8, supervises=False, queues=frozenset({2}))
SUPERVISOR = Listener(user_id=9, supervises=True, queues=frozenset())


def test_a_restricted_queue_is_heard_by_its_own_people_only() -> None:
    def hears(who: Listener, agent_id: int | None = None) -> bool:
        return may_hear(who, queue_id=1, restricted=True, agent_id=agent_id)

    assert hears(AGENT_OF_SUPPORT) and hears(SUPERVISOR)
    assert not hears(AGENT_OF_BILLING)
    assert hears(AGENT_OF_BILLING, agent_id=8)  # the agent who took the call


def test_an_open_queue_and_a_call_without_a_queue_are_heard_by_all_staff() -> None:
    assert may_hear(AGENT_OF_BILLING, queue_id=1, restricted=False, agent_id=None)
    assert may_hear(AGENT_OF_BILLING, queue_id=None, restricted=False, agent_id=None)
    assert not may_hear(AGENT_OF_BILLING, queue_id=None, restricted=True, agent_id=None)
