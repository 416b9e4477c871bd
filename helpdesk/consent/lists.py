"""Reading an opposition list (Bloctel's, or any list of numbers not to call). Pure: no I/O.

A list arrives as one number per line or as a CSV file with a number column; numbers are written
in many national forms (`06 12 34 56 78`, `33612345678`, `+33 6…`). Each is normalised to E.164
(read in the default region when it has no prefix) or rejected with its line and a reason, so an
operator can see what was not imported rather than lose it silently.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from helpdesk.customers.phones import InvalidPhoneNumber, to_e164

# Header names taken for the number column of a CSV file (compared without accents or case).
NUMBER_HEADERS = ("number", "numero", "phone", "telephone", "tel", "e164", "msisdn")


@dataclass(frozen=True)
class Rejected:
    line: int
    text: str
    reason: str


@dataclass
class ParsedList:
    numbers: list[str] = field(default_factory=list)  # E.164, each once, in file order
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    lines: int = 0


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def normalise(raw: str, default_region: str = "FR") -> str:
    """E.164 for one number as written in a list; InvalidPhoneNumber with the reason if not."""
    text = raw.strip().strip('"').strip()
    try:
        return to_e164(text, default_region)
    except InvalidPhoneNumber:
        digits = "".join(c for c in text if c.isdigit())
        if digits and digits == text.replace(" ", "") and not digits.startswith("0"):
            return to_e164("+" + digits, default_region)  # an international number without +
        raise


def _rows(text: str) -> list[tuple[int, str]]:
    """(line number, raw number) for each data line."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return []
    head = lines[first]
    delimiter = next((d for d in (";", ",", "\t") if d in head), None)
    if delimiter is None:
        return [(i + 1, line) for i, line in enumerate(lines)]
    headers = [_plain(h) for h in next(csv.reader([head], delimiter=delimiter))]
    column = next((i for i, h in enumerate(headers) if h in NUMBER_HEADERS), None)
    start = first + 1
    if column is None:  # no header: the first column of every line
        column, start = 0, first
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=delimiter)
    rows = []
    for offset, cells in enumerate(reader):
        rows.append((start + offset + 1, cells[column] if column < len(cells) else ""))
    return rows


def parse(text: str, default_region: str = "FR") -> ParsedList:
    """Every number of the list, normalised and deduplicated, and every line refused, with why."""
    out = ParsedList()
    seen: set[str] = set()
    rows = _rows(text.lstrip("\ufeff"))
    for line, raw in rows:
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        out.lines += 1
        try:
            number = normalise(raw, default_region)
        except InvalidPhoneNumber as exc:
            out.rejected.append(Rejected(line, raw.strip()[:40], str(exc)))
            continue
        if number in seen:
            out.duplicates += 1
            continue
        seen.add(number)
        out.numbers.append(number)
    return out
