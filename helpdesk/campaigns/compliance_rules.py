"""The rules for outbound contacts as data: one table per region, channel and kind of campaign.

Kept apart from the checking logic so that a change in the law (or a new country) is a change of
data reviewed against the cited text, not a new branch in the code. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

MONDAY_TO_FRIDAY = frozenset({0, 1, 2, 3, 4})
MONDAY_TO_SATURDAY = frozenset({0, 1, 2, 3, 4, 5})
EVERY_DAY = frozenset(range(7))

# The rules cited, one stable code each (with its parameters as a query string), as stored in
# the audit of every attempt; `compliance_labels.rule_label` words them in the reader's language
# (the legal texts keep their official French titles).
FR_L223_1 = "fr.L.223-1"
FR_D223_9 = "fr.D.223-9"
FR_L3133_1 = "fr.L.3133-1"
FR_BLOCTEL = "fr.L.223-1.bloctel"
FR_L34_5 = "fr.L.34-5"
FR_CNIL_SMS = "fr.cnil.sms"
US_TCPA_HOURS = "us.47-CFR-64.1200(c)(1)?start=08:00&end=21:00"
POLICY_DNC = "policy.do-not-call"
POLICY_OPT_OUT = "policy.opt-out"
POLICY_BASIS = "policy.basis"
POLICY_REFUSAL = "policy.refusal?days=60"
POLICY_WINDOW = "policy.window?start=09:00&end=20:00&days=weekdays"
CAMPAIGN_WINDOW = "campaign.window"
CAMPAIGN_ATTEMPTS = "campaign.attempts"


@dataclass(frozen=True)
class ChannelRules:
    """What applies to one channel and kind of campaign in one region.

    `windows` are half-open local intervals [start, end). When `binding` is true they come from
    the law and a campaign's own window can only narrow them; otherwise they are a default that a
    campaign's own window replaces. `windows=None` means no time rule at all (e-mail).
    """

    windows: tuple[tuple[time, time], ...] | None
    days: frozenset[int] = EVERY_DAY
    no_holidays: bool = False
    binding: bool = False
    needs_basis: bool = False  # marketing: legal_basis "consent" (with consent) or "contract"
    max_attempts: int | None = None
    attempts_days: int = 30  # calendar days, today included
    refusal_days: int | None = None  # calendar days after the refusal's day
    citations: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegionRules:
    """A region's calendar (holidays, zone) and its rules by (kind, channel)."""

    code: str
    holiday_country: str | None
    holiday_subdiv: str | None
    timezone: str | None  # when a number maps to several zones, or to none
    channels: dict[tuple[str, str], ChannelRules]


_FR_CALL_MARKETING = ChannelRules(
    windows=((time(10), time(13)), (time(14), time(20))),
    days=MONDAY_TO_FRIDAY,
    no_holidays=True,
    binding=True,
    needs_basis=True,
    max_attempts=4,
    attempts_days=30,
    refusal_days=60,
    citations=(FR_L223_1, FR_D223_9, FR_L3133_1, FR_BLOCTEL),
)
_FR_SMS_MARKETING = ChannelRules(
    windows=((time(8), time(20)),),
    days=MONDAY_TO_SATURDAY,
    no_holidays=True,
    binding=True,
    needs_basis=True,
    refusal_days=60,
    citations=(FR_L34_5, FR_CNIL_SMS, POLICY_REFUSAL),
)
_FR_EMAIL_MARKETING = ChannelRules(
    windows=None, needs_basis=True, refusal_days=60, citations=(FR_L34_5, POLICY_REFUSAL)
)
_DEFAULT_WINDOW = ChannelRules(
    windows=((time(9), time(20)),),
    days=MONDAY_TO_FRIDAY,
    no_holidays=True,
    citations=(POLICY_WINDOW,),
)
_DEFAULT_MARKETING = ChannelRules(
    windows=((time(9), time(20)),),
    days=MONDAY_TO_FRIDAY,
    no_holidays=True,
    needs_basis=True,
    refusal_days=60,
    citations=(POLICY_WINDOW, POLICY_BASIS, POLICY_REFUSAL),
)
_EMAIL_ANY_TIME = ChannelRules(windows=None)
_DEFAULT_EMAIL_MARKETING = ChannelRules(
    windows=None, needs_basis=True, refusal_days=60, citations=(POLICY_BASIS, POLICY_REFUSAL)
)

_DEFAULT_CHANNELS: dict[tuple[str, str], ChannelRules] = {
    ("marketing", "call"): _DEFAULT_MARKETING,
    ("marketing", "sms"): _DEFAULT_MARKETING,
    ("marketing", "email"): _DEFAULT_EMAIL_MARKETING,
    ("service", "call"): _DEFAULT_WINDOW,
    ("service", "sms"): _DEFAULT_WINDOW,
    ("service", "email"): _EMAIL_ANY_TIME,
}
_FR_CHANNELS: dict[tuple[str, str], ChannelRules] = {
    **_DEFAULT_CHANNELS,
    ("marketing", "call"): _FR_CALL_MARKETING,
    ("marketing", "sms"): _FR_SMS_MARKETING,
    ("marketing", "email"): _FR_EMAIL_MARKETING,
}
_US_CALL_MARKETING = ChannelRules(
    windows=((time(8), time(21)),),
    days=EVERY_DAY,
    binding=True,
    needs_basis=True,
    refusal_days=60,
    citations=(US_TCPA_HOURS, POLICY_BASIS, POLICY_REFUSAL),
)
_US_CHANNELS: dict[tuple[str, str], ChannelRules] = {
    **_DEFAULT_CHANNELS,
    ("marketing", "call"): _US_CALL_MARKETING,
    ("marketing", "sms"): _US_CALL_MARKETING,
}


def _fr(code: str, subdiv: str | None, zone: str | None) -> RegionRules:
    return RegionRules(code, "FR", subdiv, zone, _FR_CHANNELS)


# Metropolitan France and the overseas departments and collectivities where the Code de la
# consommation applies; each with the holidays of its own calendar (abolition of slavery days…).
# New Caledonia, French Polynesia and Wallis-and-Futuna have their own consumer law: default rules.
REGIONS: dict[str, RegionRules] = {
    "FR": _fr("FR", None, "Europe/Paris"),
    "GP": _fr("GP", "971", "America/Guadeloupe"),
    "MQ": _fr("MQ", "972", "America/Martinique"),
    "GF": _fr("GF", "973", "America/Cayenne"),
    "RE": _fr("RE", "974", "Indian/Reunion"),
    "YT": _fr("YT", "976", "Indian/Mayotte"),
    "BL": _fr("BL", "BL", "America/St_Barthelemy"),
    "MF": _fr("MF", "MF", "America/Marigot"),
    "PM": _fr("PM", "PM", "America/Miquelon"),
    "US": RegionRules("US", "US", None, None, _US_CHANNELS),
}
DEFAULT = RegionRules("DEFAULT", None, None, None, _DEFAULT_CHANNELS)

FRENCH_REGIONS = frozenset(
    code for code, rules in REGIONS.items() if rules.channels is _FR_CHANNELS
)


def rules_for(region: str | None) -> RegionRules:
    """The region's table, or the default one (holidays from the region's own calendar if known)."""
    if region is None:
        return DEFAULT
    found = REGIONS.get(region.upper())
    if found is not None:
        return found
    return RegionRules(region.upper(), region.upper(), None, None, _DEFAULT_CHANNELS)
