"""The texts a visit sends, in French and English: pure templates and time formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TEMPLATES: dict[str, dict[str, str]] = {
    "fr": {
        "tech_assigned": "Nouvelle intervention {reference} le {day}, arrivée entre {start} et "
        "{end} : {summary}. {address}. Client : {customer} {phone}. Fiche : {link} "
        "Répondez EN ROUTE, ARRIVE ou TERMINE.",
        "tech_unassigned": "L'intervention {reference} du {day} vous est retirée.",
        "tech_ack": "{reference} : {status}.",
        "tech_help": "Répondez EN ROUTE, ARRIVE ou TERMINE, suivi si besoin de la référence "
        "(ex. TERMINE W-1012).",
        "tech_no_job": "Aucune intervention à mettre à jour pour votre numéro.",
        "tech_refused": "{reference} : impossible ({status} déjà enregistré).",
        "tech_not_today": "{reference} : prévue le {day}. Envoyez EN ROUTE ce jour-là.",
        "customer_confirmed": "Votre intervention {reference} est prévue le {day}, arrivée du "
        "technicien entre {start} et {end}. Nous vous préviendrons par SMS de son départ.",
        "customer_on_way": "Votre technicien {name} est en route, arrivée prévue vers {eta}.",
        "customer_done": "L'intervention {reference} est terminée. Êtes-vous satisfait ? "
        "Répondez par un chiffre de 1 (pas du tout) à 5 (très satisfait).",
        "customer_cancelled": "Votre intervention {reference} du {day} est annulée. "
        "Nous vous recontactons pour un nouveau rendez-vous.",
        "survey_thanks": "Merci pour votre réponse ({score}/5).",
    },
    "en": {
        "tech_assigned": "New job {reference} on {day}, arrive between {start} and {end}: "
        "{summary}. {address}. Customer: {customer} {phone}. Job sheet: {link} "
        "Reply OMW, ARRIVED or DONE.",
        "tech_unassigned": "Job {reference} on {day} is no longer yours.",
        "tech_ack": "{reference}: {status}.",
        "tech_help": "Reply OMW, ARRIVED or DONE, followed if needed by the job reference "
        "(e.g. DONE W-1012).",
        "tech_no_job": "No job to update for your number.",
        "tech_refused": "{reference}: not possible ({status} already recorded).",
        "tech_not_today": "{reference}: booked for {day}. Text OMW on that day.",
        "customer_confirmed": "Your visit {reference} is booked for {day}; the technician will "
        "arrive between {start} and {end}. We will text you when they set off.",
        "customer_on_way": "Your technician {name} is on the way, arriving around {eta}.",
        "customer_done": "Visit {reference} is complete. How satisfied are you? Reply with a "
        "number from 1 (not at all) to 5 (very satisfied).",
        "customer_cancelled": "Your visit {reference} on {day} is cancelled. We will contact "
        "you to book a new appointment.",
        "survey_thanks": "Thank you for your answer ({score}/5).",
    },
}

STATUS_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "unscheduled": "à planifier",
        "scheduled": "planifiée",
        "en_route": "en route",
        "on_site": "sur place",
        "completed": "terminée",
        "cancelled": "annulée",
    },
    "en": {
        "unscheduled": "unscheduled",
        "scheduled": "scheduled",
        "en_route": "on the way",
        "on_site": "on site",
        "completed": "completed",
        "cancelled": "cancelled",
    },
}

_MONTHS_FR = [
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
]
_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def text(language: str, key: str, **values: object) -> str:
    return TEMPLATES.get(language, TEMPLATES["en"])[key].format(**values)


def status_word(language: str, status: str) -> str:
    return STATUS_WORDS.get(language, STATUS_WORDS["en"]).get(status, status)


def clock(at: datetime, timezone: str) -> str:
    """14:30 in the call center's time zone."""
    return at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def day(at: datetime, timezone: str, language: str) -> str:
    local = at.astimezone(ZoneInfo(timezone))
    if language == "fr":
        return f"{local.day} {_MONTHS_FR[local.month - 1]}"
    return f"{_MONTHS_EN[local.month - 1]} {local.day}"


def eta(at: datetime, timezone: str, language: str, *, now: datetime) -> str:
    """An arrival time as a customer reads it: 14:30 today, with the date on any other day
    (a route running past midnight), so that a time never stands for the wrong day."""
    zone = ZoneInfo(timezone)
    if at.astimezone(zone).date() == now.astimezone(zone).date():
        return clock(at, timezone)
    return f"{day(at, timezone, language)} {clock(at, timezone)}"
