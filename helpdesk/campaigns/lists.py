"""Reading a campaign list: a CSV import into candidate members, and the dedupe (pure).

A CSV has a header line naming its columns, in French or English, in any order: `name`/`nom`,
`phone`/`téléphone`/`number`/`numéro`, `email`/`e-mail`/`courriel`, `customer_id`/`client`,
`language`/`langue`. Numbers are normalised to E.164 (national numbers read in the region given,
France by default); a line with no usable way to reach the person, a number that is not one, or
an address without an `@` is rejected with its line number and the reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from helpdesk.customers.phones import try_e164

MAX_LINES = 50_000
_HEADERS: dict[str, str] = {
    "name": "name",
    "nom": "name",
    "display_name": "name",
    "phone": "number",
    "number": "number",
    "telephone": "number",
    "téléphone": "number",
    "numero": "number",
    "numéro": "number",
    "mobile": "number",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "courriel": "email",
    "customer_id": "customer_id",
    "customer": "customer_id",
    "client": "customer_id",
    "language": "language",
    "langue": "language",
}


@dataclass(frozen=True)
class Candidate:
    """Someone who may join the list, before the database is asked about them."""

    line: int  # 0 for candidates that come from a segment or a saved view
    name: str = ""
    number: str | None = None
    email: str | None = None
    customer_id: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class Rejected:
    line: int
    # no_header, too_many_lines, bad_number, bad_email, bad_customer_id, no_contact, duplicate
    reason: str
    value: str = ""


def _header(row: list[str]) -> dict[int, str] | None:
    found = {i: _HEADERS.get(h.strip().lower().lstrip("\ufeff")) for i, h in enumerate(row)}
    columns = {i: name for i, name in found.items() if name is not None}
    return columns if set(columns.values()) & {"number", "email", "customer_id"} else None


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def parse_csv(text: str, *, region: str = "FR") -> tuple[list[Candidate], list[Rejected]]:
    """The candidates a CSV names, and the lines refused with why."""
    reader = csv.reader(io.StringIO(text), _dialect(text))
    rows = list(reader)
    if not rows or (columns := _header(rows[0])) is None:
        return [], [Rejected(1, "no_header")]
    if len(rows) - 1 > MAX_LINES:
        return [], [Rejected(MAX_LINES + 2, "too_many_lines")]
    out: list[Candidate] = []
    rejected: list[Rejected] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for i, name in columns.items()}
        candidate, problem = _candidate(line, values, region)
        if problem is not None:
            rejected.append(problem)
        elif candidate is not None:
            out.append(candidate)
    return out, rejected


def _candidate(
    line: int, values: dict[str, str], region: str
) -> tuple[Candidate | None, Rejected | None]:
    number = email = None
    customer_id = None
    if raw := values.get("number"):
        number = try_e164(raw, region)
        if number is None:
            return None, Rejected(line, "bad_number", raw)
    if raw := values.get("email"):
        email = raw.lower()
        local, at, domain = email.partition("@")
        if not (local and at and "." in domain) or any(c.isspace() for c in email):
            return None, Rejected(line, "bad_email", raw)
    if raw := values.get("customer_id"):
        if not raw.isdigit() or not 0 < int(raw) < 2**31:
            return None, Rejected(line, "bad_customer_id", raw)
        customer_id = int(raw)
    if number is None and email is None and customer_id is None:
        return None, Rejected(line, "no_contact")
    language = (values.get("language") or "").lower()[:2] or None
    name = values.get("name", "")[:200]
    return Candidate(line, name, number, email, customer_id, language), None


def dedupe(
    candidates: Iterable[Candidate], *, taken: Iterable[tuple[str | None, int | None]] = ()
) -> tuple[list[Candidate], list[Rejected]]:
    """Each person once: a candidate whose number or customer is already on the list (`taken`,
    or an earlier candidate) is a duplicate. The first one wins (a CSV's order is the caller's)."""
    numbers: set[str] = set()
    customers: set[int] = set()
    emails: set[str] = set()
    for number, customer_id in taken:
        if number:
            numbers.add(number)
        if customer_id is not None:
            customers.add(customer_id)
    kept: list[Candidate] = []
    duplicates: list[Rejected] = []
    for c in candidates:
        if (
            (c.number and c.number in numbers)
            or (c.customer_id is not None and c.customer_id in customers)
            or (c.number is None and c.customer_id is None and c.email in emails)
        ):
            duplicates.append(
                Rejected(c.line, "duplicate", c.number or c.email or str(c.customer_id))
            )
            continue
        if c.number:
            numbers.add(c.number)
        if c.customer_id is not None:
            customers.add(c.customer_id)
        if c.email:
            emails.add(c.email)
        kept.append(c)
    return kept, duplicates
