"""URL converters that keep ids within what the database columns hold.

Werkzeug's `int` converter accepts any number of digits; an id past the 32-bit integer columns
reaches the database and fails there (SQLite: OverflowError; PostgreSQL: out of range), a server
error for what is only a URL that names nothing. Bounding the converter makes such a URL a 404
like any other unknown id, and the OpenAPI document declares the same bounds.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL `integer`, the type of every primary key


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
