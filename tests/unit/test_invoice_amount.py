"""Amounts of imported invoices: what the billing system writes, and what it must never pass."""

from __future__ import annotations

import pytest

from helpdesk.value.service import parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [("1234.50", 123450), ("1234,50", 123450), ("1 234,50", 123450), ("0", 0), ("10", 1000)],
)
def test_amounts_as_billing_systems_write_them(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    "text", ["NaN", "nan", "sNaN", "-NaN", "Infinity", "-inf", "1e999", "-1", "ten", "", "1,2,3"]
)
def test_what_is_not_an_amount_is_a_value_error(text: str) -> None:
    """A ValueError becomes the row's error in the import report; anything else was a 500."""
    with pytest.raises(ValueError):
        parse_amount(text)
