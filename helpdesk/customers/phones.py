"""Phone numbers normalised to E.164, the one form we store, index and match callers on."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, default_region: str = "FR") -> str:
    """Normalise a number as a person would type it (`06 12 34 56 78`, `+1 (415) 555-0100`).

    Numbers without a country prefix are read in `default_region`. Anything that is not a possible
    number for its country is refused rather than stored in a form no caller ID will ever match.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"not a valid phone number: {raw!r}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def try_e164(raw: str, default_region: str = "FR") -> str | None:
    try:
        return to_e164(raw, default_region)
    except InvalidPhoneNumber:
        return None


def region_of(e164: str) -> str | None:
    """The ISO country of a stored number, used to guess a new caller's language."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return str(region) if region else None
