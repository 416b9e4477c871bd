"""Reading a campaign list (CSV, E.164, rejected lines) and keeping each person once."""

from __future__ import annotations

from helpdesk.campaigns.lists import Candidate, dedupe, parse_csv


def test_a_french_csv_is_read_with_numbers_in_e164_and_bad_lines_rejected_with_reasons():
    text = (
        "nom;téléphone;courriel;client\n"
        "Alice Martin;06 12 34 56 78;alice@example.com;\n"
        "Bob;+1 (415) 555-0100;;\n"
        "Chloé;12;;\n"
        "Dan;;not-an-address;\n"
        ";;;\n"
        "Eve;;;abc\n"
        "Fay;;;\n"
        "Gus;;;42\n"
    )
    found, rejected = parse_csv(text, region="FR")
    assert [(c.line, c.name, c.number, c.email, c.customer_id) for c in found] == [
        (2, "Alice Martin", "+33612345678", "alice@example.com", None),
        (3, "Bob", "+14155550100", None, None),
        (9, "Gus", None, None, 42),
    ]
    assert [(r.line, r.reason) for r in rejected] == [
        (4, "bad_number"),
        (5, "bad_email"),
        (7, "bad_customer_id"),
        (8, "no_contact"),
    ]


def test_national_numbers_are_read_in_the_region_given():
    found, _ = parse_csv("phone\n(415) 555-0100\n", region="US")
    assert [c.number for c in found] == ["+14155550100"]


def test_a_file_without_a_usable_header_is_refused_as_a_whole():
    found, rejected = parse_csv("Alice,0612345678\n")
    assert found == [] and [(r.line, r.reason) for r in rejected] == [(1, "no_header")]


def test_dedupe_keeps_the_first_of_each_number_or_customer_and_skips_those_already_listed():
    a = Candidate(2, "A", "+33612345678", None, None)
    b = Candidate(3, "B", "+33612345678", "b@example.com", None)  # same number
    c = Candidate(4, "C", None, None, 7)
    d = Candidate(5, "D", "+33699999999", None, 7)  # same customer
    e = Candidate(6, "E", "+33611111111", None, None)  # already on the list
    f = Candidate(7, "F", None, "f@example.com", None)
    g = Candidate(8, "G", None, "f@example.com", None)  # same address, nothing else
    kept, dupes = dedupe([a, b, c, d, e, f, g], taken=[("+33611111111", None)])
    assert [k.line for k in kept] == [2, 4, 7]
    assert [(r.line, r.reason) for r in dupes] == [
        (3, "duplicate"),
        (5, "duplicate"),
        (6, "duplicate"),
        (8, "duplicate"),
    ]
