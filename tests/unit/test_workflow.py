from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.tickets.workflow import (
    TRANSITIONS,
    InvalidTransition,
    Status,
    can_transition,
    check_transition,
    id_from_reference,
    reference_for,
)


def test_closed_is_final():
    for status in Status:
        if status is not Status.CLOSED:
            assert not can_transition(Status.CLOSED, status)
    with pytest.raises(InvalidTransition, match="closed is final"):
        check_transition(Status.CLOSED, Status.OPEN)


def test_closing_goes_through_solved():
    unresolved = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]
    for status in unresolved:
        assert not can_transition(status, Status.CLOSED)
        assert can_transition(status, Status.SOLVED)
    assert can_transition(Status.SOLVED, Status.CLOSED)
    assert can_transition(Status.SOLVED, Status.OPEN)  # the customer wrote back


def test_nothing_returns_to_new():
    assert all(Status.NEW not in targets for targets in TRANSITIONS.values())


def test_error_names_allowed_targets():
    with pytest.raises(InvalidTransition) as info:
        check_transition(Status.NEW, Status.CLOSED)
    assert "new to closed" in str(info.value)
    assert "solved" in str(info.value)


@pytest.mark.parametrize("text", ["T-10234", "t-10234", "T10234", "#10234", "10234", " t 10234 "])
def test_reference_spellings(text):
    assert id_from_reference(text) == 234


@pytest.mark.parametrize("text", ["", "T-", "hello", "T-10000", "T-99x", "-5", "T--10234"])
def test_not_references(text):
    assert id_from_reference(text) is None


@given(st.integers(min_value=1, max_value=10**9))
def test_reference_roundtrip(ticket_id):
    ref = reference_for(ticket_id)
    assert ref.startswith("T-")
    assert id_from_reference(ref) == ticket_id
