"""Running the export from the app: where the files go, and what the periodic job and the
"Export now" button do when an export is already running or was run a moment ago."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from helpdesk.db import DbSession, utcnow
from helpdesk.warehouse import export as exporter
from helpdesk.warehouse import layout

log = logging.getLogger(__name__)


def directory(app: Flask | None = None) -> Path:
    """The warehouse the export writes (`WAREHOUSE_DIR`, default `warehouse` in the instance
    folder), which the analytics pages and the customer models both read."""
    return Path((app or current_app).config["HELPDESK_SETTINGS"].WAREHOUSE_DIR)


def export_now(
    session: DbSession, *, full: bool = False, progress: exporter.ProgressFactory | None = None
) -> dict[str, Any]:
    """Export at once; `{"ran": False, "reason": "busy"}` when another export holds the lock."""
    try:
        result = exporter.export(session, directory(), full=full, progress=progress)
    except layout.ExportBusy:
        return {"ran": False, "reason": "busy"}
    finally:
        session.rollback()  # the export only reads: end its transaction
    _precompute()
    return {"ran": True, **result.as_dict()}


def periodic(session: DbSession, *, now: datetime | None = None) -> dict[str, Any]:
    """The periodic job: an export once `WAREHOUSE_EXPORT_S` has passed since the last one,
    a full one when none ran this week. Runs often and does nothing most times, so the
    interval is a setting without touching the beat schedule."""
    now = now or utcnow()
    root = directory()
    manifest = layout.Manifest.load(root)
    every = float(current_app.config["HELPDESK_SETTINGS"].WAREHOUSE_EXPORT_S)
    if manifest.exported_at is not None:
        age = (now - datetime.fromisoformat(manifest.exported_at)).total_seconds()
        if age < every:
            return {"ran": False, "reason": "fresh"}
    outcome = export_now(session, full=exporter.full_due(root, now))
    if not outcome["ran"]:
        log.info("warehouse export skipped: another export is running")
    return outcome


def status() -> dict[str, Any]:
    """What the manifest says, and whether an export is running now."""
    root = directory()
    manifest = layout.Manifest.load(root)
    return {
        "directory": str(root),
        "exported_at": manifest.exported_at,
        "last_full_at": manifest.last_full_at,
        "duration_s": manifest.duration_s,
        "running": layout.export_running(root),
        "schema_version": manifest.schema_version,
        "tables": {
            name: {"rows": t.rows, "files": t.files, "bytes": t.bytes, "watermark": t.watermark}
            for name, t in manifest.tables.items()
        },
    }


# -- the analytics page's figures ------------------------------------------------------------------

_REPORTS: dict[tuple[str, str | None, date, str], dict[str, Any]] = {}
_REPORTS_KEPT = 8


BASES = ("invoices", "contacts")


def report(*, basis: str = "invoices", today: date | None = None) -> dict[str, Any]:
    """Every figure of the analytics page, computed once per export and day.

    The export computes them as it ends and keeps them beside the files
    (`_figures-<basis>.json`), so the first view in any web process reads them; a process then
    keeps them in memory until the next export changes the files."""
    from helpdesk.warehouse.query import Warehouse

    root = directory()
    today = today or utcnow().date()
    manifest = layout.Manifest.load(root)
    key = (str(root), manifest.exported_at, today, basis)
    if key in _REPORTS:
        return _REPORTS[key]
    path = root / f"_figures-{basis}.json"
    stamp = {"exported_at": manifest.exported_at, "today": today.isoformat()}
    found = None
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("stamp") == stamp:
            found = saved["figures"]
    if found is None:
        found = _compute(Warehouse(root), today, basis)
        layout.write_text_atomic(path, json.dumps({"stamp": stamp, "figures": found}))
    if len(_REPORTS) >= _REPORTS_KEPT:
        _REPORTS.clear()
    _REPORTS[key] = found
    return found


def _precompute() -> None:
    """The page's figures right after an export, so that no reader waits for them."""
    for basis in BASES:
        try:
            report(basis=basis)
        except Exception:
            log.exception("warehouse figures (%s) not computed after the export", basis)


def _compute(warehouse: Any, today: date, basis: str) -> dict[str, Any]:
    """The figures, tried twice: a full export removes the months left without rows, and a
    query that listed such a file just before gets it from the second try."""
    from helpdesk.warehouse import analytics
    from helpdesk.warehouse.query import fetch

    for attempt in (1, 2):
        try:
            with warehouse.connect() as conn:

                def run(sql: str, params: Any) -> list[dict[str, Any]]:
                    return fetch(conn, sql, params)

                return {
                    "counts": analytics.counts(run),
                    "rfm": analytics.rfm(run, today),
                    "cohorts": analytics.cohorts(run, today, basis),
                    "costs": analytics.cost_to_serve(run, today),
                    "quadrants": analytics.quadrants(run, today),
                }
        except Exception:
            if attempt == 2:
                raise
            log.warning("warehouse figures: a file changed under the query; trying again")
    raise AssertionError("unreachable")
