"""How service-level clocks read in the console.

The clocks come from `helpdesk.sla.service.views_for` as dicts (`remaining_seconds` counts
business time). This module turns them into the badge a ticket shows (its most urgent target),
the rows of the ticket page's clock table, and the strings the live countdown in
`static/sla.js` needs to say the same things in the agent's language. The choice of the most
urgent clock and the wording are mirrored in `sla.js`; keep both in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from agents_ui import labels
from helpdesk.sla import service as sla_service

Clock = dict[str, Any]

# `sla.js` shows seconds below this many business seconds left, so an urgent countdown visibly
# moves; above it, minutes are enough.
PRECISE_BELOW = 3600


@dataclass(frozen=True)
class Badge:
    """The one thing a ticket row says about its service level."""

    state: str  # running | at_risk | paused | breached | met: the badge's colour
    text: str


@dataclass(frozen=True)
class ClockRow:
    """One clock on the ticket page."""

    key: str
    metric: str
    state: str
    target: str
    due_at: datetime | None
    remaining: str
    running: bool


def now() -> datetime:
    """The SLA engine's own "now" (`helpdesk.sla.service.utcnow`), which its clock views use:
    pages that pick targets by time agree with the clocks they show."""
    found: datetime = sla_service.utcnow()  # type: ignore[attr-defined]
    return found


def duration(seconds: float, *, precise: bool = False) -> str:
    """`4320` as `1 h 12 min`; with `precise`, `725` as `12 min 5 s` (for urgent countdowns)."""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        text = str(_("%(n)s h", n=hours))
        return f"{text} {_('%(n)s min', n=minutes)}" if minutes else text
    if precise:
        if minutes:
            return f"{_('%(n)s min', n=minutes)} {_('%(n)s s', n=secs)}"
        return str(_("%(n)s s", n=secs))
    if minutes:
        return str(_("%(n)s min", n=minutes))
    return str(_("less than a minute"))


def metric_name(clock: Clock) -> str:
    name = labels.label(labels.SLA_METRIC, clock.get("metric"))
    if clock.get("metric") == "next_response" and int(clock.get("cycle") or 1) > 1:
        return f"{name} ({clock['cycle']})"
    return name


def _is_open(clock: Clock) -> bool:
    return clock.get("stopped_at") is None and clock.get("state") != "cancelled"


def most_urgent(clocks: list[Clock]) -> Clock | None:
    """The running target with the least time left; else a paused one; else the last missed
    target; else the last met one. None when the ticket has no clock worth showing."""

    def left(c: Clock) -> float:
        return float(c.get("remaining_seconds") or 0.0)

    running = [c for c in clocks if c.get("running")]
    if running:
        return min(running, key=left)
    waiting = [c for c in clocks if _is_open(c)]
    if waiting:
        return min(waiting, key=left)
    missed = [c for c in clocks if c.get("state") == "breached"]
    if missed:
        return missed[-1]
    met = [c for c in clocks if c.get("state") == "met"]
    return met[-1] if met else None


def _late(clock: Clock) -> bool:
    return clock.get("state") == "breached" or float(clock.get("remaining_seconds") or 0) <= 0


def badge(clocks: list[Clock]) -> Badge | None:
    clock = most_urgent(clocks)
    if clock is None:
        return None
    metric = metric_name(clock)
    left = float(clock.get("remaining_seconds") or 0.0)
    if clock.get("running"):
        if _late(clock):
            return Badge("breached", _overdue(metric, left))
        state = "at_risk" if clock.get("state") == "at_risk" else "running"
        text = _(
            "%(metric)s in %(time)s",
            metric=metric,
            time=duration(left, precise=left < PRECISE_BELOW),
        )
        return Badge(state, text)
    if _is_open(clock):
        if _late(clock):
            return Badge(
                "breached",
                _("%(metric)s overdue %(time)s (paused)", metric=metric, time=duration(left)),
            )
        return Badge("paused", _("Paused"))
    if clock.get("state") == "breached":
        return Badge("breached", _("%(metric)s missed", metric=metric))
    return Badge("met", _("Met"))


def _overdue(metric: str, left: float) -> str:
    return str(_("%(metric)s overdue %(time)s", metric=metric, time=duration(left)))


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def clock_rows(clocks: list[Clock]) -> list[ClockRow]:
    """Every clock of a ticket, in the order they started."""
    return [_row(c) for c in clocks]


def _row(c: Clock) -> ClockRow:
    left = float(c.get("remaining_seconds") or 0.0)
    state = str(c.get("state") or "")
    running = bool(c.get("running"))
    if running and _late(c):
        state = "breached"
    if running:
        remaining = (
            _("overdue %(time)s", time=duration(left))
            if _late(c)
            else duration(left, precise=left < PRECISE_BELOW)
        )
    elif _is_open(c):
        remaining = (
            _("overdue %(time)s", time=duration(left))
            if left <= 0
            else _("%(time)s left", time=duration(left))
        )
    elif state == "met":
        remaining = _("met after %(time)s", time=duration(float(c.get("elapsed_seconds") or 0)))
    elif state == "breached":
        remaining = _("overdue %(time)s", time=duration(left))
    else:
        remaining = "—"
    return ClockRow(
        key=f"{c.get('metric')}:{c.get('cycle')}",
        metric=metric_name(c),
        state=state,
        target=duration(float(c.get("target_seconds") or 0)),
        # A late clock that was paused and resumed is due "now": say when it became late.
        due_at=_when(c.get("breached_at") or c.get("due_at")) if running else None,
        remaining=remaining,
        running=running,
    )


def js_strings() -> dict[str, Any]:
    """The wording `sla.js` needs, with `{metric}`, `{time}` and `{n}` where values go."""
    return {
        "metric": {k: str(v) for k, v in labels.SLA_METRIC.items()},
        "state": {k: str(v) for k, v in labels.SLA_STATE.items()},
        "trigger": {k: str(v) for k, v in labels.SLA_TRIGGER.items()},
        "in": _("%(metric)s in %(time)s", metric="{metric}", time="{time}"),
        "overdue": _("%(metric)s overdue %(time)s", metric="{metric}", time="{time}"),
        "overdue_paused": _(
            "%(metric)s overdue %(time)s (paused)", metric="{metric}", time="{time}"
        ),
        "missed": _("%(metric)s missed", metric="{metric}"),
        "paused": _("Paused"),
        "met": _("Met"),
        "row_overdue": _("overdue %(time)s", time="{time}"),
        "row_left": _("%(time)s left", time="{time}"),
        "row_met": _("met after %(time)s", time="{time}"),
        "h": _("%(n)s h", n="{n}"),
        "min": _("%(n)s min", n="{n}"),
        "s": _("%(n)s s", n="{n}"),
        "under_a_minute": _("less than a minute"),
        "alert": _(
            "%(reference)s: %(metric)s %(trigger)s",
            reference="{reference}",
            metric="{metric}",
            trigger="{trigger}",
        ),
        "alert_at_risk": _("at risk"),
        "alert_breached": _("breached"),
        "open_ticket": _("Open the ticket"),
        "dismiss": _("Dismiss"),
    }
