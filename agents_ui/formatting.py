"""Formatting helpers the templates call: phone numbers, dates, language names."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from babel import Locale, UnknownLocaleError
from flask_babel import format_date, format_datetime, format_decimal, get_locale


def phone(e164: str) -> str:
    """`+33612345678` as `+33 6 12 34 56 78`: the stored E.164 form is right for machines, the
    international form is what an agent reads out or dials by hand. Unparseable values are shown
    as stored, so a bad row never breaks a page."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def number(value: float | None, digits: int = 1) -> str:
    """`7.8` as `7.8` in English and `7,8` in French, with exactly `digits` decimals (a figure
    that jumps between `7,8` and `8` as it changes is harder to read)."""
    if value is None:
        return "—"
    pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return str(format_decimal(value, format=pattern))


def when(value: datetime | None, fmt: str = "short") -> str:
    """A timestamp in the agent's language and time zone (empty for none)."""
    if value is None:
        return ""
    return str(format_datetime(value, fmt))


def day(value: datetime | None) -> str:
    """The date alone (in the agent's time zone), for facts where the hour is noise."""
    if value is None:
        return ""
    return str(format_date(value, "medium"))


def language_name(code: str | None) -> str:
    """`fr` as `French` for an English agent and `français` for a French one."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(get_locale() or "en")
    except (ValueError, UnknownLocaleError):
        return code
    return name or code
