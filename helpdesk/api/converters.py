"""URL converters that keep ids within what the database columns hold.

Werkzeug's `int` converter accepts any number of digits; an id past the 32-bit integer columns
reaches the database and fails there (SQLite: OverflowError; PostgreSQL: out of range), a server
error for what is only a URL that names nothing. Bounding the converter makes such a URL a 404
like any other unknown id, and the OpenAPI document declares the same bounds.

The bound is in the converter's pattern, not only in its conversion: werkzeug picks the rule by
pattern and converts afterwards, and a conversion refused there reports the methods of the other
rules on the same path, so `DELETE /customers/99999999999` answered 405 where `GET` answered 404.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL `integer`, the type of every primary key


def at_most(limit: int) -> str:
    """A pattern for the decimal numbers from 0 to `limit` (leading zeros allowed, as werkzeug's
    own converter allows them, as long as the number of digits stays within the limit's)."""
    digits = str(limit)
    width = len(digits)
    branches = [rf"\d{{1,{width - 1}}}"] if width > 1 else []
    for i, digit in enumerate(digits):
        rest = width - i - 1
        if int(digit) > 0:
            tail = rf"\d{{{rest}}}" if rest else ""
            branches.append(f"{digits[:i]}[0-{int(digit) - 1}]{tail}")
    branches.append(digits)
    return "(?:" + "|".join(branches) + ")"


class BoundedIntegerConverter(IntegerConverter):
    regex = at_most(MAX_ID)

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
