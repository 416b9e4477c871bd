"""The service-level compliance report (supervisors): a period, a grouping, a table, a chart and
the same table as CSV. Figures come from `helpdesk.sla.reports.compliance`; this module only
chooses the period in the agent's time zone and names the rows in their language."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from flask import g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from agents_ui import formatting, labels, sla_display
from agents_ui.blueprint import bp, role_required
from helpdesk.auth import permissions
from helpdesk.extensions import db
from helpdesk.sla import reports
from helpdesk.tickets.workflow import Channel, Priority

PERIODS: dict[str, Any] = {
    "7": _l("Last 7 days"),
    "30": _l("Last 30 days"),
    "90": _l("Last 90 days"),
    "custom": _l("Chosen dates"),
}
GROUPINGS: dict[str, Any] = {
    "day": _l("Day"),
    "week": _l("Week"),
    "month": _l("Month"),
    "group": _l("Group"),
    "priority": _l("Priority"),
    "channel": _l("Channel"),
    "metric": _l("Target"),
}
MAX_DAYS = 400  # the longest period helpdesk.sla.api accepts as well
# Rows of these groupings follow the workflow's order rather than the alphabet.
ORDERS: dict[str, list[str]] = {
    "priority": [p.value for p in Priority],
    "channel": [c.value for c in Channel],
    "metric": list(labels.SLA_METRIC),
}
# Spreadsheets run cells starting with these as formulas; group names are typed by people.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ReportQuery:
    """The report's choices as given in the query string, and what is wrong with them."""

    period: str = "30"
    start: str = ""
    end: str = ""
    by: str = "day"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ReportQuery:
        query = cls(
            period=args.get("period", "30"),
            start=args.get("start", "").strip()[:10],
            end=args.get("end", "").strip()[:10],
            by=args.get("by", "day"),
        )
        if query.period not in PERIODS:
            query.period = "30"
        if query.by not in GROUPINGS:
            query.by = "day"
        return query

    def bounds(self, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """[start, end) of the period, or None with `errors` filled in."""
        if self.period != "custom":
            return now - timedelta(days=int(self.period)), now
        first = _parse_day(self.start)
        last = _parse_day(self.end)
        if first is None:
            self.errors["start"] = _("Give a start date.") if not self.start else _("Not a date.")
        if last is None:
            self.errors["end"] = _("Give an end date.") if not self.end else _("Not a date.")
        if first is None or last is None:
            return None
        if last < first:
            self.errors["end"] = _("The end date must not be before the start date.")
            return None
        if (last - first).days >= MAX_DAYS:
            self.errors["end"] = _("Choose at most %(days)s days.", days=MAX_DAYS)
            return None
        start = datetime.combine(first, time(0), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        return start, end

    def args(self) -> dict[str, Any]:
        values: dict[str, Any] = {"period": self.period, "by": self.by}
        if self.period == "custom":
            values.update(start=self.start, end=self.end)
        return values


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def row_label(by: str, key: str) -> str:
    """A row's key from the report (`2026-06-08`, `week of 2026-06-08`, `urgent`) as read."""
    try:
        if by == "day":
            return str(format_date(date.fromisoformat(key), "medium"))
        if by == "week":
            monday = date.fromisoformat(key.removeprefix("week of "))
            return str(_("Week of %(date)s", date=format_date(monday, "medium")))
        if by == "month":
            year, month = key.split("-")
            return str(format_date(date(int(year), int(month), 1), "LLLL y"))
    except ValueError:
        return key
    if by == "group":
        return str(_("No group")) if key == "no group" else key
    if by == "priority":
        return labels.label(labels.PRIORITY, key)
    if by == "channel":
        return labels.label(labels.CHANNEL, key)
    if by == "metric":
        return labels.label(labels.SLA_METRIC, key)
    return key


def percent(value: float | None) -> str:
    """`0.3333` as `33.3%` (`33,3 %` in French), rounded down: `100%` means no target missed."""
    if value is None:
        return "—"
    rounded = math.floor(value * 1000) / 1000
    return str(format_percent(rounded, locale=get_locale(), decimal_quantization=False))


def _ordered(by: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = ORDERS.get(by)
    if not order:
        return rows
    return sorted(rows, key=lambda r: order.index(r["key"]) if r["key"] in order else len(order))


def _zone() -> ZoneInfo:
    """The agent's time zone: periods start at their midnight, days and weeks are theirs."""
    return ZoneInfo(str(g.get("timezone") or "Europe/Paris"))


def _compute(query: ReportQuery) -> tuple[dict[str, Any] | None, tuple[datetime, datetime] | None]:
    zone = _zone()
    span = query.bounds(sla_display.now(), zone)
    if span is None:
        return None, None
    found = reports.compliance(
        db.session, start=span[0], end=span[1], by=query.by, timezone=zone.key
    )
    found["rows"] = _ordered(query.by, found["rows"])
    for row in found["rows"]:
        row["label"] = row_label(query.by, row["key"])
    return found, span


def _chart(report: dict[str, Any]) -> dict[str, Any]:
    rows = report["rows"]
    return {
        "labels": [r["label"] for r in rows],
        "met": [r["met"] for r in rows],
        "breached": [r["breached"] for r in rows],
        "compliance": [
            None if r["compliance"] is None else round(r["compliance"] * 100, 1) for r in rows
        ],
        "names": {
            "met": _("Met"),
            "breached": _("Breached"),
            "compliance": _("Compliance (%)"),
            "targets": _("Targets"),
        },
    }


def _period_text(query: ReportQuery, span: tuple[datetime, datetime]) -> str:
    """Whole days for chosen dates (the end is the midnight after the last one); instants for
    the rolling periods, which end now."""
    if query.period == "custom":
        start, end = formatting.day(span[0]), formatting.day(span[1] - timedelta(microseconds=1))
    else:
        start, end = formatting.when(span[0]), formatting.when(span[1])
    return str(_("From %(start)s to %(end)s", start=start, end=end))


@bp.get("/sla/report")
@role_required(*permissions.SUPERVISE)
def sla_report() -> ResponseReturnValue:
    query = ReportQuery.from_args(request.args)
    report, span = _compute(query)
    return render_template(
        "sla/report.html",
        query=query,
        report=report,
        span=span,
        chart=_chart(report) if report else None,
        period_text=_period_text(query, span) if span else "",
        periods=PERIODS,
        groupings=GROUPINGS,
        percent=percent,
        csv_url=url_for("console.sla_report_csv", **query.args()),
    ), 400 if query.errors else 200


@bp.get("/sla/report.csv")
@role_required(*permissions.SUPERVISE)
def sla_report_csv() -> ResponseReturnValue:
    query = ReportQuery.from_args(request.args)
    report, span = _compute(query)
    if report is None or span is None:
        message = " ".join(query.errors.values())
        return Response(message + "\n", status=400, mimetype="text/plain")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["key", "label", "met", "breached", "total", "compliance_percent"])
    for row in [*report["rows"], {**report["overall"], "label": _("All")}]:
        compliance = row["compliance"]
        writer.writerow(
            [
                _cell(row["key"]),
                _cell(row["label"]),
                row["met"],
                row["breached"],
                row["total"],
                "" if compliance is None else f"{compliance * 100:.1f}",
            ]
        )
    first = span[0].astimezone(_zone()).date()
    last = (span[1] - timedelta(microseconds=1)).astimezone(_zone()).date()
    name = f"sla-compliance-by-{query.by}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value
