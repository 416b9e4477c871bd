"""The export: every table of `schema.TABLES` from the operational database to Parquet.

Rows are streamed in batches with SQLAlchemy Core (never ORM objects) and written batch by batch,
so a million rows never sit in memory at once.

Incremental policy (docs/analytics.md, "Incremental export"). A fact's monthly partition is the
unit: it is always rewritten whole, from the database, so each row is in the warehouse exactly
once whatever the sequence of exports. An incremental export rewrites the months that hold:
- a row whose id is above the highest id exported last time (new rows);
- a row updated since the last export, for tables with `updated_at` (tickets, visits), with a
  few minutes of overlap for transactions that committed late;
- a row that can still change (`Source.still_open`: an open ticket, a call not ended, an unpaid
  invoice, an unanswered survey, a text or e-mail not yet final), now or at the last export (so a
  row that just closed is rewritten once more, closed);
- the days since the last export (less one, for rows committed out of id order).
Dimensions are small beside the facts and are rewritten whole every time. A `full` export
rebuilds every month and drops months that no longer have rows; the periodic job runs one a
week, which also catches what no rule sees (an invoice re-imported with another amount).
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pyarrow.parquet as pq
from sqlalchemy import Date, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from helpdesk.db import DbSession, utcnow
from helpdesk.value.segments import CostRates
from helpdesk.warehouse import dates, layout, schema
from helpdesk.warehouse.sources import SOURCES, Context, Source, to_batch

BATCH = 20_000
OVERLAP = timedelta(minutes=5)
RECENT = timedelta(days=1)
FULL_EVERY = timedelta(days=7)


class Progress(Protocol):
    def update(self, n: int) -> Any: ...
    def close(self) -> Any: ...


ProgressFactory = Callable[[str, int], Progress]


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class TableResult:
    table: str
    rows_written: int = 0  # rows written by this export
    months: list[str] = field(default_factory=list)  # partitions rewritten (facts)
    rows: int = 0  # rows in the warehouse after it
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0


@dataclass
class ExportResult:
    full: bool
    tables: list[TableResult]
    seconds: float

    @property
    def rows_written(self) -> int:
        return sum(t.rows_written for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "seconds": round(self.seconds, 3),
            "rows_written": self.rows_written,
            "tables": {
                t.table: {
                    "rows_written": t.rows_written,
                    "months": t.months,
                    "rows": t.rows,
                    "files": t.files,
                    "bytes": t.bytes,
                }
                for t in self.tables
            },
        }


def _month_start(month: str) -> date:
    year, mon = month.split("-")
    return date(int(year), int(mon), 1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def months_between(first: datetime, last: datetime) -> list[str]:
    """Every month from the one holding `first` to the one holding `last`."""
    found, day, end = [], date(first.year, first.month, 1), last.date()
    while day <= end:
        found.append(layout.month_name(day))
        day = _next_month(day)
    return found


def _is_date(column: ColumnElement[Any]) -> bool:
    return isinstance(column.type, Date)


def _month_of(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """`YYYY-MM` of a column, in UTC, in SQL."""
    if dialect == "postgresql":
        value = column if _is_date(column) else func.timezone("UTC", column)
        return func.to_char(value, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _bound(column: ColumnElement[Any], day: date) -> Any:
    return day if _is_date(column) else datetime(day.year, day.month, 1, tzinfo=UTC)


def _months(session: DbSession, source: Source, condition: ColumnElement[bool]) -> set[str]:
    assert source.at is not None
    dialect = session.get_bind().dialect.name
    month = _month_of(source.at, dialect)
    return {m for (m,) in session.execute(select(month).where(condition).distinct()) if m}


def _stream(session: DbSession, stmt: Any) -> Iterable[list[Any]]:
    result = session.execute(stmt, execution_options={"yield_per": BATCH})
    for part in result.mappings().partitions(BATCH):
        yield list(part)


def _count(session: DbSession, stmt: Any) -> int:
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int(session.scalar(counted) or 0)


def _stats(root: Path, result: TableResult) -> None:
    files = layout.table_files(root, result.table)
    result.files = len(files)
    result.bytes = sum(f.stat().st_size for f in files)
    result.rows = sum(pq.read_metadata(f).num_rows for f in files)


class _Run:
    def __init__(
        self,
        session: DbSession,
        root: Path,
        manifest: layout.Manifest,
        ctx: Context,
        now: datetime,
        progress: ProgressFactory,
    ) -> None:
        self.session, self.root, self.manifest = session, root, manifest
        self.ctx, self.now, self.progress = ctx, now, progress

    def _write_months(
        self, source: Source, stmt: Any, result: TableResult, bar: Progress
    ) -> set[str]:
        """Write the rows of `stmt` (ordered by `at`) into their monthly partitions."""
        written: set[str] = set()
        current: str | None = None
        writer: layout.AtomicParquet | None = None
        try:
            for rows in _stream(self.session, stmt):
                batch = to_batch(source, rows, self.ctx)
                months = [layout.month_name(d) for d in batch.column("date_key").to_pylist()]
                start = 0
                for i in range(len(months) + 1):
                    if i < len(months) and months[i] == current:
                        continue
                    if writer is not None and i > start:
                        writer.write(batch.slice(start, i - start))
                    if i == len(months):
                        break
                    if writer is not None:
                        writer.commit()
                    if months[i] in written:
                        # Reopening a month would overwrite the rows already written to it.
                        raise RuntimeError(f"{source.table}: rows not in the order of `at`")
                    current, start = months[i], i
                    writer = layout.AtomicParquet(
                        layout.partition_path(self.root, source.table, current),
                        schema.TABLES[source.table],
                    )
                    written.add(current)
                result.rows_written += batch.num_rows
                bar.update(batch.num_rows)
            if writer is not None:
                writer.commit()
                writer = None
        finally:
            if writer is not None:
                writer.abort()
        return written

    def fact(self, source: Source, full: bool) -> TableResult:
        assert source.at is not None and source.id is not None
        result = TableResult(source.table)
        state = self.manifest.tables.get(source.table)
        max_id = int(self.session.scalar(select(func.max(source.id))) or 0)
        open_now = self._months(source, source.still_open(self.now)) if source.still_open else set()
        base = source.query().order_by(None).order_by(source.at, source.id)
        if full or state is None or state.watermark is None:
            bar = self.progress(source.table, _count(self.session, base))
            written = self._write_months(source, base, result, bar)
            bar.close()
            for month in set(layout.partitions(self.root, source.table)) - written:
                layout.remove_partition(self.root, source.table, month)
            result.months = sorted(written)
        else:
            since = datetime.fromisoformat(state.watermark) - OVERLAP
            changed: list[ColumnElement[bool]] = [source.id > state.max_id]
            if source.updated is not None:
                changed.append(source.updated > since)
            months = self._months(source, or_(*changed)) | open_now | set(state.open_months)
            months |= set(months_between(since - RECENT, self.now))
            result.months = sorted(months)
            bar = self.progress(source.table, 0)
            for month in result.months:
                start = _month_start(month)
                stmt = base.where(
                    source.at >= _bound(source.at, start),
                    source.at < _bound(source.at, _next_month(start)),
                )
                if not self._write_months(source, stmt, result, bar):
                    layout.remove_partition(self.root, source.table, month)
            bar.close()
        self.manifest.tables[source.table] = layout.TableState(
            watermark=self.now.isoformat(),
            max_id=max_id,
            open_months=sorted(open_now),
            exported_at=utcnow().isoformat(),
        )
        return result

    def _months(self, source: Source, condition: ColumnElement[bool]) -> set[str]:
        return _months(self.session, source, condition)

    def dimension(self, source: Source) -> TableResult:
        result = TableResult(source.table)
        stmt = source.query()
        bar = self.progress(source.table, _count(self.session, stmt))
        writer = layout.AtomicParquet(
            layout.dimension_path(self.root, source.table), schema.TABLES[source.table]
        )
        try:
            for rows in _stream(self.session, stmt):
                batch = to_batch(source, rows, self.ctx)
                writer.write(batch)
                result.rows_written += batch.num_rows
                bar.update(batch.num_rows)
        except BaseException:
            writer.abort()
            raise
        writer.commit()
        bar.close()
        self.manifest.tables[source.table] = layout.TableState(exported_at=utcnow().isoformat())
        return result

    def date_dimension(self) -> TableResult:
        """Every day from the first month of any fact to the end of next year."""
        result = TableResult("dim_date")
        firsts = [
            _month_start(next(iter(found)))
            for table in schema.FACTS
            if (found := layout.partitions(self.root, table))
        ]
        first = min(firsts, default=date(self.now.year, 1, 1))
        table = dates.date_table(first, date(self.now.year + 1, 12, 31))
        layout.write_atomic(layout.dimension_path(self.root, "dim_date"), table)
        result.rows_written = table.num_rows
        self.manifest.tables["dim_date"] = layout.TableState(exported_at=utcnow().isoformat())
        return result


def export(
    session: DbSession,
    root: Path,
    *,
    full: bool = False,
    now: datetime | None = None,
    rates: CostRates | None = None,
    progress: ProgressFactory | None = None,
) -> ExportResult:
    """Export the warehouse under `root`; raises `layout.ExportBusy` when another export runs.
    Tables with no registered source (telephony's, in a process without the app) are skipped."""
    started = clock.monotonic()
    now = now or utcnow()
    with layout.export_lock(root):
        manifest = layout.Manifest.load(root)
        if manifest.schema_version != schema.VERSION or manifest.exported_at is None:
            manifest, full = layout.Manifest(), True
        run = _Run(
            session,
            root,
            manifest,
            Context(rates or CostRates(), now.date()),
            now,
            progress or (lambda table, total: _Silent()),
        )
        results = []
        for table in schema.FACTS:
            if table in SOURCES:
                results.append(run.fact(SOURCES[table], full))
        for table in schema.DIMENSIONS:
            if table == "dim_date":
                results.append(run.date_dimension())
            elif table in SOURCES:
                results.append(run.dimension(SOURCES[table]))
        for result in results:
            _stats(root, result)
            state = manifest.tables[result.table]
            state.rows, state.files, state.bytes = result.rows, result.files, result.bytes
        seconds = clock.monotonic() - started
        manifest.exported_at = utcnow().isoformat()
        manifest.duration_s = round(seconds, 3)
        if full:
            manifest.last_full_at = manifest.exported_at
        manifest.save(root)
    return ExportResult(full, results, seconds)


def full_due(root: Path, now: datetime | None = None) -> bool:
    """Whether the periodic job should rebuild everything (no full export this week)."""
    last = layout.Manifest.load(root).last_full_at
    return last is None or (now or utcnow()) - datetime.fromisoformat(last) >= FULL_EVERY
