"""Reading an opposition list: numbers in their many written forms, CSV or one per line."""

from __future__ import annotations

from helpdesk.consent.lists import parse


def test_one_number_per_line() -> None:
    parsed = parse("06 12 34 56 78\n33612345679\n+33 6 12 34 56 78\n\n# comment\nabc\n")
    assert parsed.numbers == ["+33612345678", "+33612345679"]
    assert parsed.duplicates == 1
    assert [(r.line, r.text) for r in parsed.rejected] == [(6, "abc")]
    assert parsed.lines == 4


def test_csv_with_a_number_column_found_by_its_header() -> None:
    parsed = parse("\ufeffNom;Numéro;Date\nA;0612345678;2026-12-01\nB;;2026-12-01\nC;x;1\n")
    assert parsed.numbers == ["+33612345678"]
    assert [(r.line, r.text) for r in parsed.rejected] == [(4, "x")]


def test_csv_without_header_takes_the_first_column() -> None:
    assert parse("0612345678,foo\n0612345679,bar\n").numbers == ["+33612345678", "+33612345679"]


def test_numbers_without_prefix_are_read_in_the_default_region() -> None:
    assert parse("0692 12 34 56\n", default_region="RE").numbers == ["+262692123456"]
    assert parse("(212) 555-1234\n", default_region="US").numbers == ["+12125551234"]
