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


def test_a_lone_carriage_return_is_not_a_crash() -> None:
    """Found by the fuzzing: a "\\r" in an unquoted field raised csv.Error for the whole file."""
    from helpdesk.value.service import parse_csv

    head = "number;customer;amount;issued_on;due_on\r"
    rows, errors = parse_csv(
        head + "F-1;1;10;2026-01-01;2026-02-01\rF-2;1;x\ry;2026-01-01;2026-02-01"
    )
    assert [r.number for r in rows] == ["F-1"]
    assert errors and all(isinstance(e["line"], int) for e in errors)
    rows, errors = parse_csv('number;customer;amount;issued_on;due_on\n"F-1;1;1')
    assert rows == [] and errors
