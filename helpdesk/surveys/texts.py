"""What a survey says to the customer, in French and English, and how a texted answer reads.

Pure: no database, no Flask. The public answer page is the console's and speaks through gettext;
these are the words that leave by SMS and e-mail, chosen by the customer's language. What is sent
reads them through `helpdesk.texts.service.render`, which prefers an administrator's wording."""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpdesk.texts import catalog

LANGUAGES = ("fr", "en")

TEMPLATES: dict[str, dict[str, str]] = {
    "fr": {
        "sms_ticket": "Votre demande {reference} est résolue. Êtes-vous satisfait ? Répondez par "
        "un chiffre de 1 (pas du tout) à 5 (très satisfait), suivi si vous le souhaitez d'un "
        "commentaire.",
        "sms_call": "Merci pour votre appel. Êtes-vous satisfait ? Répondez par un chiffre de 1 "
        "(pas du tout) à 5 (très satisfait), suivi si vous le souhaitez d'un commentaire.",
        "sms_thanks": "Merci pour votre réponse ({score}/5).",
        "mail_subject": "Votre avis sur notre réponse",
        "mail_ticket": "Bonjour,\n\nVotre demande {reference} est résolue. Êtes-vous satisfait "
        "de notre réponse ? Donnez une note de 1 à 5, et un commentaire si vous le souhaitez :\n\n"
        "{link}\n\nCe lien est valable {days} jours.",
        "mail_call": "Bonjour,\n\nMerci pour votre appel. Êtes-vous satisfait de notre réponse ? "
        "Donnez une note de 1 à 5, et un commentaire si vous le souhaitez :\n\n{link}\n\n"
        "Ce lien est valable {days} jours.",
    },
    "en": {
        "sms_ticket": "Your request {reference} is solved. Are you satisfied? Reply with a digit "
        "from 1 (not at all) to 5 (very satisfied), followed by a comment if you wish.",
        "sms_call": "Thank you for your call. Are you satisfied? Reply with a digit from 1 (not "
        "at all) to 5 (very satisfied), followed by a comment if you wish.",
        "sms_thanks": "Thank you for your answer ({score}/5).",
        "mail_subject": "How did we do?",
        "mail_ticket": "Hello,\n\nYour request {reference} is solved. Are you satisfied with our "
        "answer? Give us a score from 1 to 5, and a comment if you wish:\n\n{link}\n\n"
        "This link works for {days} days.",
        "mail_call": "Hello,\n\nThank you for your call. Are you satisfied with our answer? Give "
        "us a score from 1 to 5, and a comment if you wish:\n\n{link}\n\n"
        "This link works for {days} days.",
    },
}

COMMENT_MAX = 2000
# A digit 1-5 alone, or "4/5", then optionally a comment after a space or punctuation: "5",
# "4 merci", "2. trop long". "10", "3.5" or "1er" are not answers.
_ANSWER = re.compile(
    r"\s*([1-5])(?:\s*/\s*5)?(?=$|[\s,;:!)\-]|\.(?!\d))[\s.,;:!)\-]*(.*)", re.DOTALL
)


# Administrators may reword them from the console (/admin/texts, keys `surveys.<key>`); these
# stay the defaults.
for _key in TEMPLATES["en"]:
    catalog.register(
        f"surveys.{_key}",
        "surveys",
        {lang: TEMPLATES[lang][_key] for lang in LANGUAGES},
        sms=_key.startswith("sms_"),
        one_line=_key == "mail_subject",
    )


def language(wanted: str | None) -> str:
    """The customer's language if we write it, else English."""
    return wanted if wanted in LANGUAGES else "en"


def text(lang: str, key: str, **values: object) -> str:
    return TEMPLATES[language(lang)][key].format(**values)


@dataclass(frozen=True)
class Answer:
    score: int
    comment: str


def parse_sms(body: str) -> Answer | None:
    """A texted answer: the score and what follows it as the comment; None for anything else."""
    found = _ANSWER.fullmatch(body or "")
    if found is None:
        return None
    return Answer(int(found.group(1)), found.group(2).strip()[:COMMENT_MAX])


def valid_score(value: object) -> int | None:
    """A score from a form or a query: 1 to 5, else None."""
    try:
        score = int(str(value))
    except ValueError:
        return None
    return score if 1 <= score <= 5 else None
