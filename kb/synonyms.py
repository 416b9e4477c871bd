"""Words agents and customers use for the same thing, per locale (folded, unstemmed; an entry
may be several words, searched as a phrase on PostgreSQL and as alternatives on Whoosh).

Both backends add a query word's synonyms as weaker alternatives, so `box` finds the article that
says `routeur` and `bill` the one that says `invoice`. Groups are symmetric: every word of a group
expands to the others.
"""

from __future__ import annotations

from kb.text import fold

_GROUPS: dict[str, list[tuple[str, ...]]] = {
    "fr": [
        ("box", "routeur", "modem", "livebox"),
        ("wifi", "sans fil", "reseau"),
        ("facture", "facturation", "prelevement"),
        ("remboursement", "rembourser", "avoir"),
        ("mdp", "mot de passe", "identifiant"),
        ("portable", "mobile", "smartphone", "telephone"),
        ("technicien", "intervention", "depannage"),
        ("resilier", "resiliation", "desabonner", "annuler"),
        ("lent", "lenteur", "ralenti", "debit"),
        ("coupure", "panne", "interruption"),
        ("ecran", "affichage", "moniteur"),
        ("colis", "livraison", "expedition"),
        ("courriel", "mail", "email", "messagerie"),
        ("demenagement", "demenager", "transfert"),
        ("imprimante", "impression"),
        ("tele", "television", "decodeur"),
    ],
    "en": [
        ("router", "modem", "box", "hub"),
        ("wifi", "wireless", "network"),
        ("bill", "invoice", "billing", "charge"),
        ("refund", "reimbursement", "credit"),
        ("password", "login", "credentials", "pwd"),
        ("phone", "mobile", "cellphone", "smartphone"),
        ("technician", "engineer", "appointment", "visit"),
        ("cancel", "cancellation", "terminate", "unsubscribe"),
        ("slow", "speed", "lag", "sluggish"),
        ("outage", "down", "interruption", "blackout"),
        ("screen", "display", "monitor"),
        ("parcel", "package", "delivery", "shipping"),
        ("email", "mail", "inbox"),
        ("move", "moving", "relocation", "relocate"),
        ("printer", "printing"),
        ("tv", "television", "decoder"),
    ],
}

_INDEX: dict[str, dict[str, tuple[str, ...]]] = {}
for _locale, _groups in _GROUPS.items():
    table: dict[str, tuple[str, ...]] = {}
    for group in _groups:
        folded = tuple(fold(w) for w in group)
        for word in folded:
            table[word] = tuple(
                dict.fromkeys(table.get(word, ()) + tuple(w for w in folded if w != word))
            )
    _INDEX[_locale] = table


def expand(word: str, locale: str) -> tuple[str, ...]:
    """The other words of `word`'s synonym groups in `locale` (empty if it has none)."""
    return _INDEX.get(locale, {}).get(fold(word), ())
