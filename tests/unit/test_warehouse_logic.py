"""The warehouse's pure parts: RFM segments and scores, the date dimension, the month
arithmetic of the incremental export, and the typed empty views of a fresh install."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.warehouse import schema
from helpdesk.warehouse.dates import date_table
from helpdesk.warehouse.export import months_between
from helpdesk.warehouse.query import Warehouse
from helpdesk.warehouse.rfm import RFM_SEGMENTS, rfm_segment, score


@pytest.mark.parametrize(
    ("r", "f", "segment"),
    [
        (5, 5, "champions"),
        (4, 4, "champions"),
        (3, 5, "loyal"),
        (5, 3, "loyal"),
        (5, 1, "new"),
        (4, 2, "potential"),
        (3, 1, "potential"),
        (2, 5, "at_risk"),
        (1, 3, "at_risk"),
        (2, 2, "hibernating"),
        (1, 1, "lost"),
        (1, 2, "lost"),
    ],
)
def test_rfm_segments_follow_the_documented_table(r: int, f: int, segment: str) -> None:
    assert rfm_segment(r, f) == segment


@given(st.integers(1, 5), st.integers(1, 5))
def test_every_score_pair_has_a_segment(r: int, f: int) -> None:
    assert rfm_segment(r, f) in RFM_SEGMENTS


def test_a_recent_invoice_is_never_lost_or_hibernating_whatever_the_rank() -> None:
    # Everyone bought within days: the lowest fifth by recency is still recent.
    assert rfm_segment(1, 1, recent=True, newcomer=False, gone=False) == "potential"
    assert rfm_segment(1, 4, recent=True, newcomer=False, gone=False) == "loyal"
    assert rfm_segment(2, 5, recent=True, newcomer=False, gone=False) == "loyal"


def test_new_needs_a_recent_first_invoice_and_few_invoices() -> None:
    # A regular buyer for two years ranked in the lowest fifth by frequency is not a newcomer.
    assert rfm_segment(5, 1, recent=True, newcomer=False, gone=False) == "potential"
    assert rfm_segment(5, 1, recent=True, newcomer=True, gone=False) == "new"


def test_lost_needs_a_year_without_an_invoice() -> None:
    assert rfm_segment(1, 1, recent=False, newcomer=False, gone=False) == "hibernating"
    assert rfm_segment(1, 1, recent=False, newcomer=False, gone=True) == "lost"


def test_scores_are_fifths_of_the_percent_rank() -> None:
    assert [score(p) for p in (0.0, 0.19, 0.2, 0.5, 0.99, 1.0)] == [1, 1, 2, 3, 5, 5]


def test_the_date_dimension_flags_weekends_and_french_holidays() -> None:
    table = date_table(date(2026, 12, 24), date(2027, 1, 1))
    assert table.schema.equals(schema.DIMENSIONS["dim_date"])
    rows = {r["date_key"]: r for r in table.to_pylist()}
    christmas, new_year, sunday = (
        rows[date(2026, 12, 25)],
        rows[date(2027, 1, 1)],
        rows[date(2026, 12, 27)],
    )
    assert christmas["is_holiday_fr"] and not christmas["is_weekend"]
    assert christmas["weekday"] == 5 and christmas["quarter"] == 4
    assert new_year["is_holiday_fr"] and new_year["iso_week"] == 53
    assert sunday["is_weekend"] and sunday["weekday"] == 7 and not sunday["is_holiday_fr"]
    assert not rows[date(2026, 12, 24)]["is_holiday_fr"]
    assert table.num_rows == 9


def test_months_between_spans_the_year_end() -> None:
    assert months_between(
        datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)
    ) == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_a_fresh_install_has_empty_typed_tables(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "nothing-yet")
    with warehouse.connect() as conn:
        for table, columns in schema.TABLES.items():
            described = conn.execute(f'DESCRIBE "{table}"').fetchall()
            assert [d[0] for d in described] == columns.names
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (0,)
        kinds = {d[0]: d[1] for d in conn.execute('DESCRIBE "fact_call"').fetchall()}
    assert kinds["at"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["talk_s"] == "DOUBLE" and kinds["call_key"] == "BIGINT"


def test_only_the_adapter_imports_duckdb() -> None:
    """DuckDB stays behind `helpdesk.warehouse.query`, as Redis, mail and search stay behind
    theirs: the rest of the application asks the adapter."""
    import re

    root = Path(__file__).resolve().parents[2]
    importing = sorted(
        str(path.relative_to(root))
        for package in ("helpdesk", "agents_ui", "telephony", "kb")
        for path in (root / package).rglob("*.py")
        if re.search(r"^\s*(import duckdb|from duckdb\b)", path.read_text(), re.MULTILINE)
    )
    assert importing == ["helpdesk/warehouse/query.py"]
