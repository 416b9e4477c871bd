from __future__ import annotations

import pytest

from helpdesk.customers.phones import InvalidPhoneNumber, region_of, to_e164, try_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "US", "+33612345678"),
        ("0033612345678", "US", "+33612345678"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 514-555-0199", "FR", "+15145550199"),
        ("0470 12 34 56", "BE", "+32470123456"),
        ("07911 123456", "GB", "+447911123456"),
    ],
)
def test_normalises_to_e164(raw, region, expected):
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "   ", "hello", "123", "+33 1", "06 12 34"])
def test_rejects_impossible_numbers(raw):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw, "FR")
    assert try_e164(raw) is None


def test_region_of():
    assert region_of("+33612345678") == "FR"
    assert region_of("+14155552671") == "US"
    assert region_of("garbage") is None
