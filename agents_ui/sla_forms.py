"""The administrators' forms for business calendars and service-level policies.

Each form turns what was typed (times, hours and minutes, check boxes) into the JSON body the
SLA API accepts (`CalendarIn`, `PolicyIn`), so the console and the API share one validation and
one way of saving. Problems the form can see itself (a range with no end, 75 minutes) are put
next to the field before anything is saved.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from agents_ui import labels
from agents_ui.forms import ConsoleForm, timezone_choices
from helpdesk.sla.models import CalendarModel, SlaPolicy
from helpdesk.sla.rules import PRIORITIES
from helpdesk.tickets.workflow import Channel, Priority, Status

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
METRICS = ("first_response", "next_response", "resolution")
MIN_RANGE_SLOTS = 3
BLANK_EXCEPTIONS = 2
BLANK_RULES = 1
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
# The statuses a policy may pause its clocks in (PolicyIn.pause_statuses).
PAUSABLE = ("pending", "on_hold", "open", "new")
# The actions offered as check boxes; "reassign_group" is chosen with the group menu.
CHECKBOX_ACTIONS = ("notify_assignee", "notify_supervisors", "raise_priority", "sms_oncall")


def _parse_time(text: str) -> time | None:
    if not _TIME.match(text):
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Europe/Paris")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Paris")


def holiday_countries() -> list[SelectChoice]:
    """Countries whose public holidays are known, by name in the agent's language."""
    import holidays as holidays_lib

    names = Locale.parse(str(get_locale() or "en")).territories
    codes = [c for c in holidays_lib.list_supported_countries() if len(c) == 2]
    found = sorted(((str(names.get(c, c)), c) for c in codes), key=lambda pair: pair[0].lower())
    return [
        SelectChoice("", _l("None")),
        *(SelectChoice(code, f"{name} ({code})") for name, code in found),
    ]


# -- calendars -------------------------------------------------------------------------------


class RangeForm(Form):  # type: ignore[misc]  # wtforms ships no type hints
    """One opening range; a sub-form, so without a CSRF token of its own."""

    start = StringField(render_kw={"type": "time"})
    end = StringField(render_kw={"type": "time"})


class ExceptionForm(Form):  # type: ignore[misc]
    kind = SelectField(
        choices=[SelectChoice(k, v) for k, v in labels.CALENDAR_EXCEPTION.items()],
        default="closure",
    )
    starts_at = StringField(render_kw={"type": "datetime-local"})
    ends_at = StringField(render_kw={"type": "datetime-local"})
    label = StringField(validators=[Length(max=200)])
    remove = BooleanField()


class CalendarForm(ConsoleForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    timezone = SelectField(_l("Time zone"), default="Europe/Paris")
    always_open = BooleanField(_l("Open around the clock (the hours below are ignored)"))
    holiday_country = SelectField(_l("Closed on the public holidays of"), default="")
    holiday_subdivision = StringField(
        _l("Region or state (optional)"),
        validators=[Length(max=20)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    is_default = BooleanField(_l("Default calendar (the call center's opening hours)"))
    mon = FieldList(FormField(RangeForm))
    tue = FieldList(FormField(RangeForm))
    wed = FieldList(FormField(RangeForm))
    thu = FieldList(FormField(RangeForm))
    fri = FieldList(FormField(RangeForm))
    sat = FieldList(FormField(RangeForm))
    sun = FieldList(FormField(RangeForm))
    exceptions = FieldList(FormField(ExceptionForm))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()
        self.holiday_country.choices = holiday_countries()
        # The same number of range slots on every day, with at least one free slot each.
        slots = max(MIN_RANGE_SLOTS, *(len(self.day(d).entries) + 1 for d in WEEKDAYS))
        for day in WEEKDAYS:
            while len(self.day(day).entries) < slots:
                self.day(day).append_entry()
        blanks = sum(1 for e in self.exceptions if _blank_exception(e.form))
        for _i in range(max(0, BLANK_EXCEPTIONS - blanks)):
            self.exceptions.append_entry()
        self.body_index: list[int] = []
        # Errors of the opening hours as a whole, shown above the weekly table.
        self.hours_errors: list[str] = []

    def day(self, name: str) -> FieldList:
        return getattr(self, name)

    @classmethod
    def for_calendar(cls, calendar: CalendarModel) -> CalendarForm:
        zone = _zone(calendar.timezone)
        data = {
            "name": calendar.name,
            "timezone": calendar.timezone,
            "always_open": calendar.always_open,
            "holiday_country": calendar.holiday_country or "",
            "holiday_subdivision": calendar.holiday_subdivision or "",
            "is_default": calendar.is_default,
            **{
                day: [{"start": s, "end": e} for s, e in (calendar.weekly or {}).get(day, [])]
                for day in WEEKDAYS
            },
            "exceptions": [
                {
                    "kind": e.kind,
                    "starts_at": _local_input(e.starts_at, zone),
                    "ends_at": _local_input(e.ends_at, zone),
                    "label": e.label,
                }
                for e in calendar.exceptions
            ],
        }
        return cls(formdata=None, data=data)

    def validate(self, extra_validators: Any = None) -> bool:
        ok: bool = super().validate(extra_validators)
        for day in WEEKDAYS:
            for entry in self.day(day):
                ok = _check_range(entry.form) and ok
        if not self.always_open.data and not any(
            e.form.start.data or e.form.end.data for day in WEEKDAYS for e in self.day(day)
        ):
            # Never open: no deadline could be placed, so no ticket under a policy on it.
            self.hours_errors.append(
                _("Give at least one opening range, or tick “Open around the clock”.")
            )
            ok = False
        zone = _zone(self.timezone.data)
        for entry in self.exceptions:
            ok = _check_exception(entry.form, zone) and ok
        return ok

    def body(self) -> dict[str, Any]:
        """The `CalendarIn` body; `body_index[i]` is the form row of the body's exception i."""
        zone = _zone(self.timezone.data)
        weekly: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            ranges = [
                [_hhmm(e.form.start.data), _hhmm(e.form.end.data)]
                for e in self.day(day)
                if e.form.start.data and e.form.end.data
            ]
            if ranges:
                weekly[day] = ranges
        exceptions = []
        self.body_index = []
        for index, entry in enumerate(self.exceptions):
            sub = entry.form
            if sub.remove.data or _blank_exception(sub):
                continue
            exceptions.append(
                {
                    "kind": sub.kind.data,
                    "starts_at": _aware(sub.starts_at.data, zone),
                    "ends_at": _aware(sub.ends_at.data, zone),
                    "label": (sub.label.data or "").strip(),
                }
            )
            self.body_index.append(index)
        return {
            "name": (self.name.data or "").strip(),
            "timezone": self.timezone.data,
            "weekly": weekly,
            "always_open": bool(self.always_open.data),
            "holiday_country": self.holiday_country.data or None,
            "holiday_subdivision": (self.holiday_subdivision.data or "").strip().upper() or None,
            "is_default": bool(self.is_default.data),
            "exceptions": exceptions,
        }

    def add_service_errors(self, fields: dict[str, str]) -> list[str]:
        """Put the service's field errors next to the fields; return those that fit nowhere."""
        left: list[str] = []
        for name, _detail in fields.items():
            if name == "name":
                _errors(self.name).append(_("Another calendar already has this name."))
            elif name == "timezone":
                _errors(self.timezone).append(_("Not a known time zone."))
            elif name == "holiday_country":
                target = self.holiday_subdivision if self.holiday_subdivision.data else None
                _errors(target or self.holiday_country).append(
                    _("No public holidays are known for this country and region.")
                )
            elif name.startswith("exceptions."):
                parts = name.split(".")
                row = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
                if 0 <= row < len(self.body_index):
                    sub = self.exceptions[self.body_index[row]].form
                    _errors(sub.ends_at).append(_("Must end after it starts."))
                else:
                    left.append(_("Check the closures and openings."))
            elif name == "weekly":
                left.append(_("Check the opening hours."))
            else:
                left.append(_("Check the field “%(field)s”.", field=name))
        return left


def _local_input(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _hhmm(text: str) -> str:
    parsed = _parse_time(text or "")
    return parsed.strftime("%H:%M") if parsed else text


def _aware(text: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=zone).isoformat()


def _blank_exception(sub: ExceptionForm) -> bool:
    return not (sub.starts_at.data or sub.ends_at.data or (sub.label.data or "").strip())


def _errors(field: Any) -> list[str]:
    # Sub-form fields hold a tuple until validated; make sure errors can be appended.
    if not isinstance(field.errors, list):
        field.errors = list(field.errors)
    errors: list[str] = field.errors
    return errors


def _check_range(sub: RangeForm) -> bool:
    start, end = sub.start.data or "", sub.end.data or ""
    if not start and not end:
        return True
    ok = True
    for field, text in ((sub.start, start), (sub.end, end)):
        if not text:
            _errors(field).append(_("Give both the opening and the closing time."))
            ok = False
        elif _parse_time(text) is None:
            _errors(field).append(_("Use hours and minutes, e.g. 08:30."))
            ok = False
    return ok


def _check_exception(sub: ExceptionForm, zone: ZoneInfo) -> bool:
    if sub.remove.data or _blank_exception(sub):
        return True
    ok = True
    parsed: list[datetime] = []
    for field in (sub.starts_at, sub.ends_at):
        try:
            parsed.append(datetime.fromisoformat(field.data or ""))
        except ValueError:
            _errors(field).append(_("Give a date and time."))
            ok = False
    if ok and parsed[1].replace(tzinfo=zone) <= parsed[0].replace(tzinfo=zone):
        _errors(sub.ends_at).append(_("Must end after it starts."))
        ok = False
    return ok


# -- policies --------------------------------------------------------------------------------


def target_field(priority: str, metric: str, unit: str) -> str:
    return f"target_{priority}_{metric}_{unit}"


class EscalationForm(Form):  # type: ignore[misc]
    on = SelectField(
        choices=[
            SelectChoice("", _l("— (no rule: delete it)")),
            *(SelectChoice(k, v) for k, v in labels.SLA_TRIGGER.items()),
        ],
        default="",
    )
    metrics = SelectMultipleField(
        choices=[SelectChoice(k, v) for k, v in labels.SLA_METRIC.items()]
    )
    actions = SelectMultipleField(
        choices=[SelectChoice(k, labels.ESCALATION_ACTION[k]) for k in CHECKBOX_ACTIONS]
    )
    group = SelectField(default="")


class PolicyForm(ConsoleForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    position = IntegerField(
        _l("Position"),
        default=100,
        validators=[InputRequired(_l("Give a number.")), NumberRange(min=0, max=10_000)],
        render_kw={"inputmode": "numeric", "min": 0, "max": 10000},
    )
    active = BooleanField(_l("Active"), default=True)
    calendar = SelectField(_l("Business calendar"))
    channels = SelectMultipleField(
        _l("Channel"), choices=[SelectChoice(c.value, labels.CHANNEL[c]) for c in Channel]
    )
    priorities = SelectMultipleField(
        _l("Priority"), choices=[SelectChoice(p.value, labels.PRIORITY[p]) for p in Priority]
    )
    groups = SelectMultipleField(_l("Group"))
    customer_tags = StringField(
        _l("Customer tagged"),
        validators=[Length(max=500)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    pause_statuses = SelectMultipleField(
        _l("Clocks pause while the ticket is"),
        choices=[SelectChoice(s, labels.STATUS[Status(s)]) for s in PAUSABLE],
        default=["pending", "on_hold"],
    )
    at_risk_percent = IntegerField(
        _l("At risk once this share of the target is used (%)"),
        default=80,
        validators=[InputRequired(_l("Give a number.")), NumberRange(min=1, max=99)],
        render_kw={"inputmode": "numeric", "min": 1, "max": 99},
    )
    escalations = FieldList(FormField(EscalationForm))
    submit = SubmitField(_l("Save"))

    def __init__(
        self,
        *args: object,
        calendars: list[tuple[str, str]],
        groups: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.calendar.choices = [SelectChoice(v, n) for v, n in calendars]
        self.groups.choices = [SelectChoice(v, n) for v, n in groups]
        self._group_choices = [SelectChoice("", _l("(do not move)"))] + [
            SelectChoice(v, n) for v, n in groups
        ]
        blanks = sum(1 for e in self.escalations if not e.form.on.data)
        for _i in range(max(0, BLANK_RULES - blanks)):
            self.escalations.append_entry()
        for entry in self.escalations:
            entry.form.group.choices = self._group_choices

    def target(self, priority: str, metric: str, unit: str) -> IntegerField:
        return getattr(self, target_field(priority, metric, unit))

    @classmethod
    def for_policy(
        cls,
        policy: SlaPolicy,
        *,
        calendars: list[tuple[str, str]],
        groups: list[tuple[str, str]],
    ) -> PolicyForm:
        conditions = policy.conditions or {}
        data: dict[str, Any] = {
            "name": policy.name,
            "position": policy.position,
            "active": policy.active,
            "calendar": str(policy.calendar_id),
            "channels": list(conditions.get("channel") or []),
            "priorities": list(conditions.get("priority") or []),
            "groups": [str(g) for g in conditions.get("group_id") or []],
            "customer_tags": ", ".join(conditions.get("customer_tags") or []),
            "pause_statuses": list(policy.pause_statuses or []),
            "at_risk_percent": round(policy.at_risk_ratio * 100),
            "escalations": [_rule_data(r) for r in policy.escalations or []],
        }
        for priority, metrics in (policy.targets or {}).items():
            for metric, seconds in (metrics or {}).items():
                if priority in PRIORITIES and metric in METRICS:
                    hours, rest = divmod(int(seconds), 3600)
                    data[target_field(priority, metric, "h")] = hours
                    data[target_field(priority, metric, "m")] = rest // 60
        return cls(formdata=None, data=data, calendars=calendars, groups=groups)

    def validate(self, extra_validators: Any = None) -> bool:
        ok: bool = super().validate(extra_validators)
        seconds = self.targets()
        for priority in PRIORITIES:
            for metric in METRICS:
                hours = self.target(priority, metric, "h")
                minutes = self.target(priority, metric, "m")
                if hours.errors or minutes.errors:
                    continue
                if (hours.data is not None or minutes.data is not None) and not seconds.get(
                    priority, {}
                ).get(metric):
                    _errors(hours).append(_("A target must be longer than zero."))
                    ok = False
        if ok and not seconds:
            self.form_errors.append(_("Set at least one target."))
            ok = False
        for entry in self.escalations:
            sub = entry.form
            if sub.on.data and not sub.actions.data and not sub.group.data:
                _errors(sub.actions).append(_("Choose at least one action."))
                ok = False
        return ok

    def targets(self) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for priority in PRIORITIES:
            for metric in METRICS:
                hours = self.target(priority, metric, "h").data
                minutes = self.target(priority, metric, "m").data
                if not isinstance(hours, int) and not isinstance(minutes, int):
                    continue
                total = (hours or 0) * 3600 + (minutes or 0) * 60
                if total > 0:
                    found.setdefault(priority, {})[metric] = total
        return found

    def body(self) -> dict[str, Any]:
        """The `PolicyIn` body."""
        tags = sorted(
            {t.strip().lower() for t in (self.customer_tags.data or "").split(",") if t.strip()}
        )
        conditions = {
            "channel": list(self.channels.data or []),
            "priority": list(self.priorities.data or []),
            "group_id": [int(g) for g in self.groups.data or []],
            "customer_tags": tags,
        }
        rules = []
        for entry in self.escalations:
            sub = entry.form
            if not sub.on.data:
                continue
            actions: list[dict[str, Any]] = [{"type": a} for a in sub.actions.data or []]
            if sub.group.data:
                actions.append({"type": "reassign_group", "group_id": int(sub.group.data)})
            rule: dict[str, Any] = {"on": sub.on.data, "actions": actions}
            if sub.metrics.data:
                rule["metrics"] = list(sub.metrics.data)
            rules.append(rule)
        return {
            "name": (self.name.data or "").strip(),
            "position": self.position.data,
            "active": bool(self.active.data),
            "calendar_id": int(self.calendar.data) if (self.calendar.data or "").isdigit() else 0,
            "conditions": {k: v for k, v in conditions.items() if v},
            "targets": self.targets(),
            "pause_statuses": list(self.pause_statuses.data or []),
            "at_risk_ratio": (self.at_risk_percent.data or 80) / 100,
            "escalations": rules,
        }

    def add_service_errors(self, fields: dict[str, str]) -> list[str]:
        """Put the service's field errors next to the fields; return those that fit nowhere."""
        left: list[str] = []
        for name in fields:
            parts = name.split(".")
            if name == "name":
                _errors(self.name).append(_("Another policy already has this name."))
            elif name == "calendar_id":
                _errors(self.calendar).append(_("Choose an existing calendar."))
            elif parts[0] == "targets" and len(parts) == 3 and parts[2] in METRICS:
                _errors(self.target(parts[1], parts[2], "h")).append(_("Not a valid target."))
            elif parts[0] == "escalations" and len(parts) > 1 and parts[1].isdigit():
                rules = [e for e in self.escalations if e.form.on.data]
                index = int(parts[1])
                if index < len(rules):
                    _errors(rules[index].form.actions).append(_("Check this rule."))
                else:
                    left.append(_("Check the escalation rules."))
            else:
                left.append(_("Check the field “%(field)s”.", field=name))
        return left


def _rule_data(rule: dict[str, Any]) -> dict[str, Any]:
    actions = rule.get("actions") or []
    group = next(
        (a.get("group_id") for a in actions if a.get("type") == "reassign_group"),
        None,
    )
    return {
        "on": rule.get("on", ""),
        "metrics": list(rule.get("metrics") or []),
        "actions": [a.get("type") for a in actions if a.get("type") in CHECKBOX_ACTIONS],
        "group": str(group) if group is not None else "",
    }


for _priority in PRIORITIES:
    for _metric in METRICS:
        setattr(
            PolicyForm,
            target_field(_priority, _metric, "h"),
            IntegerField(
                validators=[Optional(), NumberRange(min=0, max=10_000)],
                render_kw={"inputmode": "numeric", "min": 0},
            ),
        )
        setattr(
            PolicyForm,
            target_field(_priority, _metric, "m"),
            IntegerField(
                validators=[Optional(), NumberRange(min=0, max=59)],
                render_kw={"inputmode": "numeric", "min": 0, "max": 59},
            ),
        )
