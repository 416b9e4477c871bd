"""What each warehouse table is made of: a query over the operational database, named in the
schema's terms, and what the incremental export needs to find the rows that changed.

Core features register their tables here; telephony registers calls, texts and queues from
its own wiring (core may not import it), so `SOURCES` is complete once the app is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Select
from sqlalchemy.sql.elements import ColumnElement

from helpdesk.value.segments import CostRates
from helpdesk.warehouse import schema

Row = Mapping[str, Any]
Derived = Callable[[Row, "Context"], Any]


@dataclass(frozen=True)
class Context:
    """What a derived column may depend on besides its row."""

    rates: CostRates
    today: date


@dataclass(frozen=True)
class Source:
    """One table of `schema.TABLES`.

    `query` selects the columns it gives straight from the database, labelled with the schema's
    names, ordered by the table's key; `derived` computes the others from the row (`date_key`
    from `at` is always derived). For a fact, `at`, `id` and the optional `updated` and
    `still_open` find the months an incremental export must rewrite (docs/analytics.md)."""

    table: str
    query: Callable[[], Select[*tuple[Any, ...]]]
    derived: Mapping[str, Derived] = field(default_factory=dict)
    # Columns of the operational table (mapped attributes or Core columns).
    at: Any = None
    id: Any = None
    updated: Any = None
    still_open: Callable[[datetime], ColumnElement[bool]] | None = None

    @property
    def is_fact(self) -> bool:
        return self.table in schema.FACTS


SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    if source.table not in schema.TABLES:
        raise ValueError(f"{source.table} is not a warehouse table")
    SOURCES[source.table] = source


def _to_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


def _convert(kind: pa.DataType) -> Callable[[Any], Any]:
    """How a database value becomes the column's Python value (SQLite gives 0/1 for booleans,
    enums come as their str subclass)."""
    if pa.types.is_boolean(kind):
        return lambda v: None if v is None else bool(v)
    if pa.types.is_string(kind):
        return lambda v: None if v is None else str(v)
    if pa.types.is_integer(kind):
        return lambda v: None if v is None else int(v)
    if pa.types.is_floating(kind):
        return lambda v: None if v is None else float(v)
    if pa.types.is_date(kind):
        return _to_date
    return lambda v: v


def to_batch(source: Source, rows: Sequence[Row], ctx: Context) -> pa.RecordBatch:
    """A batch of database rows as an Arrow batch of exactly the table's schema."""
    table_schema = schema.TABLES[source.table]
    columns: dict[str, list[Any]] = {}
    for f in table_schema:
        convert = _convert(f.type)
        getter = source.derived.get(f.name)
        if getter is not None:
            columns[f.name] = [convert(getter(r, ctx)) for r in rows]
        elif f.name == "date_key":
            columns[f.name] = [_to_date(at) for at in columns["at"]]
        else:
            columns[f.name] = [convert(r[f.name]) for r in rows]
    arrays = [pa.array(columns[f.name], type=f.type) for f in table_schema]
    return pa.RecordBatch.from_arrays(arrays, schema=table_schema)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)
