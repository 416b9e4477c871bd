"""Which ticket may be merged into which, and what the customer is told: pure rules.

A merge folds a duplicate into the ticket where the request continues (as in Zendesk and
Zammad). It stays within one customer: the same requester, or two people of the same company
(or a company and one of its people), so a merge never shows one customer's words to another.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
    """What the rules need of one ticket and its requester."""

    id: int
    requester_id: int
    company_id: int | None  # the requester's company, if any
    merged_into_id: int | None
    closed: bool


@dataclass(frozen=True)
class Refusal:
    """Why a merge is refused: the HTTP status (409 for the tickets' state, 422 for the
    request), the field it names, and the reason."""

    status: int
    field: str
    reason: str


def same_customer(a: Side, b: Side) -> bool:
    """The same requester, people of one company, or a company and one of its people."""
    if a.requester_id == b.requester_id:
        return True
    if a.company_id is not None and a.company_id in (b.company_id, b.requester_id):
        return True
    return b.company_id is not None and b.company_id == a.requester_id


def refusal(source: Side, target: Side) -> Refusal | None:
    """None when `source` may be merged into `target`, else why not."""
    if source.id == target.id:
        return Refusal(422, "into", "a ticket cannot be merged into itself")
    if source.merged_into_id is not None:
        return Refusal(409, "ticket_id", "this ticket was already merged into another")
    if target.merged_into_id is not None:
        return Refusal(
            409, "into", "the target was itself merged: merge into the ticket it points to"
        )
    if source.closed:
        return Refusal(409, "ticket_id", "a closed ticket cannot be merged")
    if target.closed:
        return Refusal(409, "into", "a closed ticket cannot take a merge")
    if not same_customer(source, target):
        return Refusal(
            422, "into", "the tickets belong to different customers (requester or company)"
        )
    return None


_NOTICE = {
    "fr": (
        "Votre demande {source} a été regroupée avec la demande {target}, qui porte sur le "
        "même sujet. La suite de l'échange se fait sur {target} ; merci de rappeler "
        "cette référence."
    ),
    "en": (
        "Your request {source} has been merged with request {target}, which is about the same "
        "matter. We will continue on {target}; please quote that reference."
    ),
}


def notice(language: str, *, source: str, target: str) -> str:
    """What the customer reads on the duplicate's channel: where their request continues."""
    template = _NOTICE.get(language[:2].lower(), _NOTICE["en"])
    return template.format(source=source, target=target)
