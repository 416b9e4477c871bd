"""Where the warehouse's files live, and the rules that keep a reader from ever seeing half of one.

- a fact is a folder of monthly Hive partitions, `fact_call/month=2026-12/data.parquet`; a
  dimension is one file, `dim_customer.parquet`;
- every file is written beside its final name and moved over it (`os.replace`), so a reader
  sees the old file or the new one, whole;
- one export at a time: `_export.lock` is held (an `flock`) for the whole run, and a second
  export is refused rather than queued behind it;
- `_manifest.json` says what was exported when (see `Manifest`).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from helpdesk.warehouse import schema

MANIFEST = "_manifest.json"
LOCK = "_export.lock"
PARTITION_FILE = "data.parquet"


class ExportBusy(RuntimeError):
    """Another export holds the lock: this one did not run."""


def month_name(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def partition_path(root: Path, table: str, month: str) -> Path:
    return root / table / f"month={month}" / PARTITION_FILE


def dimension_path(root: Path, table: str) -> Path:
    return root / f"{table}.parquet"


def partitions(root: Path, table: str) -> dict[str, Path]:
    """The months written for a fact, oldest first."""
    found = {}
    for path in sorted((root / table).glob(f"month=*/{PARTITION_FILE}")):
        found[path.parent.name.removeprefix("month=")] = path
    return found


def table_files(root: Path, table: str) -> list[Path]:
    if table in schema.FACTS:
        return list(partitions(root, table).values())
    path = dimension_path(root, table)
    return [path] if path.exists() else []


class AtomicParquet:
    """A Parquet file written under a temporary name and moved over the real one on `commit`,
    so that a reader never opens half of it."""

    def __init__(self, path: Path, table_schema: pa.Schema) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self.writer = pq.ParquetWriter(self.tmp, table_schema, compression="zstd")
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self.writer.write_batch(batch)
            self.rows += batch.num_rows

    def commit(self) -> None:
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


def write_atomic(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def remove_partition(root: Path, table: str, month: str) -> None:
    """A month that no longer has rows (only a full export finds those)."""
    path = partition_path(root, table, month)
    path.unlink(missing_ok=True)
    with suppress(OSError):
        path.parent.rmdir()


@contextmanager
def export_lock(root: Path) -> Iterator[None]:
    """Held for a whole export; a second one raises `ExportBusy` at once instead of waiting
    (the periodic job and the button may fire together: the later one has nothing to add)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ExportBusy("another warehouse export is running") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export_running(root: Path) -> bool:
    """Whether an export holds the lock right now (for the status and the page)."""
    path = root / LOCK
    if not path.exists():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@dataclass
class TableState:
    """Per table: where the last export stopped, and what it wrote."""

    watermark: str | None = None  # ISO time the last export started: later changes are new
    max_id: int = 0  # the highest operational id exported: higher ids are new rows
    open_months: list[str] = field(default_factory=list)  # months holding rows that can change
    rows: int = 0
    files: int = 0
    bytes: int = 0
    exported_at: str | None = None


@dataclass
class Manifest:
    schema_version: int = schema.VERSION
    exported_at: str | None = None  # the end of the last export, ISO UTC
    last_full_at: str | None = None
    duration_s: float = 0.0
    tables: dict[str, TableState] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Manifest:
        path = root / MANIFEST
        if not path.exists():
            return cls()
        raw: dict[str, Any] = json.loads(path.read_text())
        tables = {name: TableState(**state) for name, state in raw.pop("tables", {}).items()}
        return cls(**raw, tables=tables)

    def save(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        path = root / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        os.replace(tmp, path)
