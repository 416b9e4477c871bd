from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.pagination import BadCursor, decode_cursor, encode_cursor


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=0, max_value=2**53))
def test_roundtrip(at, ident):
    assert decode_cursor(encode_cursor(at, ident), (datetime, int)) == (at, ident)


@pytest.mark.parametrize("cursor", ["", "!!!", "e30", "WzFd", "WyJ4Il0", "WzEsMl0", "WyIyMDIwIl0"])
def test_garbage_is_refused(cursor):
    with pytest.raises(BadCursor):
        decode_cursor(cursor, (datetime, int))


def test_naive_datetime_refused():
    cursor = encode_cursor(datetime(2026, 1, 1), 3)
    with pytest.raises(BadCursor):
        decode_cursor(cursor, (datetime, int))


def test_bool_is_not_an_id():
    with pytest.raises(BadCursor):
        decode_cursor(encode_cursor(True), (int,))
