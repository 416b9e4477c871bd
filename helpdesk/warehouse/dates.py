"""The date dimension, computed: one row per day with its calendar attributes."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pyarrow as pa

from helpdesk.warehouse import schema


def date_table(first: date, last: date) -> pa.Table:
    """Every day from `first` to `last` included, French public holidays flagged."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    french = holidays.country_holidays("FR", years=range(first.year, last.year + 1))
    iso = [d.isocalendar() for d in days]
    columns = {
        "date_key": days,
        "year": [d.year for d in days],
        "quarter": [(d.month - 1) // 3 + 1 for d in days],
        "month": [d.month for d in days],
        "iso_week": [i.week for i in iso],
        "weekday": [i.weekday for i in iso],
        "is_weekend": [i.weekday >= 6 for i in iso],
        "is_holiday_fr": [d in french for d in days],
    }
    target = schema.DIMENSIONS["dim_date"]
    return pa.Table.from_arrays([pa.array(columns[f.name], f.type) for f in target], schema=target)
