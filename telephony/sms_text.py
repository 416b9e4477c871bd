"""SMS text rules, as pure functions: keywords, segment counting, templates, and which numbers
can take texts at all."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

from helpdesk.texts import catalog

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "ARRET"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "AIDE", "INFO"})
STATUS_WORDS = frozenset({"STATUS", "STATUT"})

# The GSM 03.38 basic character set and its extension table (each extension character costs 2).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Keyword:
    kind: str  # stop | start | help | status
    argument: str = ""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def keyword(body: str) -> Keyword | None:
    """The keyword a message is, if it is one: case and accent insensitive (ARRÊT = ARRET)."""
    words = re.findall(r"[A-Z0-9-]+", _fold(body.strip()))
    if not words:
        return None
    first = words[0]
    if len(words) == 1 and first in STOP_WORDS:
        return Keyword("stop")
    if len(words) == 1 and first in START_WORDS:
        return Keyword("start")
    if len(words) == 1 and first in HELP_WORDS:
        return Keyword("help")
    if first in STATUS_WORDS:
        return Keyword("status", " ".join(words[1:2]))
    return None


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 | UCS-2
    count: int
    characters: int


def segments(body: str) -> Segments:
    """How many SMS segments a text costs: 160/153 GSM-7 characters, or 70/67 UCS-2 units."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in body)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        # UCS-2 counts UTF-16 code units: an emoji outside the BMP takes two.
        units = len(body.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    count = 1 if units <= single else -(-units // multi)
    return Segments(encoding=encoding, count=max(count, 1), characters=units)


TEMPLATES = {
    "fr": {
        "ack": "Nous avons bien reçu votre message (réf. {reference}). Un conseiller vous répond "
        "au plus vite.",
        "ack_kb": " Peut-être utile : {link}",
        "stopped": "Vous ne recevrez plus de SMS de notre part. Envoyez START pour les réactiver.",
        "started": "Les SMS sont réactivés. Envoyez STOP pour ne plus en recevoir.",
        "help": "Service client : répondez à ce SMS pour nous écrire. STATUT suivi de la "
        "référence (ex. STATUT T-10234) donne l'état d'un ticket. STOP pour ne plus "
        "recevoir de SMS.",
        "status": "Le ticket {reference} est {status}.",
        "status_unknown": "Nous ne trouvons pas ce ticket pour votre numéro.",
    },
    "en": {
        "ack": "We received your message (ref. {reference}). An agent will reply shortly.",
        "ack_kb": " This may help: {link}",
        "stopped": "You will not receive any more texts from us. Send START to resume.",
        "started": "Texts are back on. Send STOP to stop them.",
        "help": "Customer service: reply to this text to write to us. STATUS and a reference "
        "(e.g. STATUS T-10234) gives a ticket's status. STOP to stop texts.",
        "status": "Ticket {reference} is {status}.",
        "status_unknown": "We cannot find that ticket for your number.",
    },
}
STATUS_WORDS_BY_LANG = {
    "fr": {
        "new": "nouveau",
        "open": "en cours",
        "pending": "en attente de votre réponse",
        "on_hold": "en attente",
        "solved": "résolu",
        "closed": "fermé",
    },
    "en": {
        "new": "new",
        "open": "being worked on",
        "pending": "waiting for your reply",
        "on_hold": "on hold",
        "solved": "solved",
        "closed": "closed",
    },
}


def text(language: str, key: str, **values: str) -> str:
    """The code's own wording; what is sent reads through `helpdesk.texts.service.render`, which
    prefers an administrator's (key `sms.<key>`)."""
    return TEMPLATES.get(language, TEMPLATES["en"])[key].format(**values)


# The answers administrators may reword from the console (/admin/texts).
EDITABLE = ("ack", "stopped", "started", "help", "status", "status_unknown")
for _key in EDITABLE:
    catalog.register(
        f"sms.{_key}", "sms", {lang: TEMPLATES[lang][_key] for lang in catalog.LANGUAGES}, sms=True
    )


_FIXED_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
    }
)


def textable(e164: str, label: str) -> bool:
    """Whether a customer's number can take texts: one the numbering plan calls mobile, or one
    labelled mobile that the plan does not know to be a fixed line (a landline labelled
    `mobile` by default would take nothing)."""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
    if kind is phonenumbers.PhoneNumberType.MOBILE:
        return True
    return label == "mobile" and kind not in _FIXED_TYPES
