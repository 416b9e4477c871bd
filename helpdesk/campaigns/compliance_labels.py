"""The rules a compliance decision cites, worded for people in their language.

`Decision.rules` (and the campaign audit that stores it) holds stable codes with their
parameters as a query string ("policy.window?start=09:00&end=20:00&days=weekdays"); pages and
exports word them here, through gettext, so that a French page does not show English sentences.
The legal texts keep their official French titles in every language. A string that is not a
known code (an attempt audited before the codes) is shown as it was stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import time
from urllib.parse import parse_qsl

from flask_babel import format_time
from flask_babel import gettext as _

CODE_CONSO = "Code de la consommation"
LAW_2025 = "loi n° 2025-594 du 30 juin 2025"
DECREE_2022 = "décret n° 2022-1313 du 13 octobre 2022"


def _when(value: str | None) -> str:
    """ "09:00" in the reader's way of writing times (9:00 AM, 09:00)."""
    try:
        hours, minutes = (int(part) for part in (value or "").split(":"))
        return str(format_time(time(hours, minutes), "short"))
    except ValueError:
        return value or ""


def _days(value: str | None) -> str:
    names = {"weekdays": _("on weekdays"), "every-day": _("every day")}
    return str(names.get(value or "", ""))


_LABELS: dict[str, Callable[[Mapping[str, str]], str]] = {
    "fr.L.223-1": lambda p: _(
        "%(law)s: prior consent", law=f"{CODE_CONSO}, art. L.223-1 ({LAW_2025})"
    ),
    "fr.D.223-9": lambda p: _(
        "%(law)s: days, hours and frequency of marketing calls",
        law=f"{CODE_CONSO}, art. D.223-9 ({DECREE_2022})",
    ),
    "fr.L.3133-1": lambda p: _("%(law)s: public holidays", law="Code du travail, art. L.3133-1"),
    "fr.L.223-1.bloctel": lambda p: _(
        "%(law)s: opposition list (Bloctel)", law=f"{CODE_CONSO}, art. L.223-1 et suivants"
    ),
    "fr.L.34-5": lambda p: _(
        "%(law)s: marketing by SMS and e-mail",
        law="Code des postes et des communications électroniques, art. L.34-5",
    ),
    "fr.cnil.sms": lambda p: _(
        "CNIL guidance: no commercial SMS at night, on Sundays or public holidays"
    ),
    "us.47-CFR-64.1200(c)(1)": lambda p: _(
        "US 47 CFR 64.1200(c)(1): calls between %(start)s and %(end)s local time",
        start=_when(p.get("start")),
        end=_when(p.get("end")),
    ),
    "policy.do-not-call": lambda p: _(
        "Company policy: a do-not-call entry is honoured on every channel it names"
    ),
    "policy.opt-out": lambda p: _(
        "Company policy: SMS STOP and e-mail unsubscribes or bounces always block"
    ),
    "policy.basis": lambda p: _("Company policy: marketing needs a consent or a current contract"),
    "policy.refusal": lambda p: _(
        "Company policy: no marketing for %(days)s days after a refusal", days=p.get("days", "")
    ),
    "policy.window": lambda p: _(
        "Company policy: default window from %(start)s to %(end)s %(days)s",
        start=_when(p.get("start")),
        end=_when(p.get("end")),
        days=_days(p.get("days")),
    ).strip(),
    "campaign.window": lambda p: _("Campaign's own daily window"),
    "campaign.attempts": lambda p: _("Campaign's own attempt limit"),
}


def rule_label(rule: str) -> str:
    """The rule `Decision.rules` cites, in the current language; unknown strings unchanged."""
    code, _sep, query = rule.partition("?")
    label = _LABELS.get(code)
    if label is None:
        return rule
    return str(label(dict(parse_qsl(query))))
