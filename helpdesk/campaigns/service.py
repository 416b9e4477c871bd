"""Campaigns and their lists: every change of a campaign's settings, status and members.

Keyword-only after the session, explicit session, commits. A list is a snapshot: members are
copied from a value segment, a saved view (the requesters of its tickets) or a CSV at the time of
the import, each matched to a customer by number or e-mail when one exists. Members that could
never be contacted (erased, no number for a call, on a do-not-call list...) are kept, marked
`excluded` with the reason, so that the supervisor sees who was left out and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select

from helpdesk.auth.models import User
from helpdesk.campaigns import contacts, dispositions, lists, messages, results
from helpdesk.campaigns.lists import Candidate, Rejected
from helpdesk.campaigns.models import (
    CHANNELS,
    KINDS,
    LEGAL_BASES,
    Campaign,
    CampaignAgent,
    CampaignMember,
)
from helpdesk.customers.models import Customer, CustomerEmail, CustomerPhone
from helpdesk.db import DbSession, utcnow
from helpdesk.errors import Conflict, NotFound, ValidationFailed
from helpdesk.events import publish

# Which status may follow which: a finished campaign stays finished (its audit is what it was).
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "finished"}),
    "active": frozenset({"paused", "finished"}),
    "paused": frozenset({"active", "finished"}),
    "finished": frozenset(),
}
# What a form gives as text as it is typed; the rest of EDITABLE is parsed first.
TEXT_FIELDS = (
    "name",
    "kind",
    "legal_basis",
    "channel",
    "skill",
    "script_en",
    "script_fr",
    "subject_en",
    "subject_fr",
    "message_en",
    "message_fr",
)
EDITABLE = (
    *TEXT_FIELDS,
    "dispositions",
    "window_start",
    "window_end",
    "max_attempts",
    "retry_delay_minutes",
    "starts_at",
    "ends_at",
)


def get(session: DbSession, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def all_campaigns(session: DbSession, *, statuses: Sequence[str] | None = None) -> list[Campaign]:
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if statuses:
        stmt = stmt.where(Campaign.status.in_(statuses))
    return list(session.scalars(stmt))


def check_fields(values: Mapping[str, Any]) -> dict[str, str]:
    """Every problem with a campaign's settings, by field (pure)."""
    errors: dict[str, str] = {}
    name = str(values.get("name") or "").strip()
    if not name or len(name) > 120:
        errors["name"] = "a name of 1 to 120 characters"
    if values.get("kind") not in KINDS:
        errors["kind"] = f"one of {', '.join(KINDS)}"
    if values.get("legal_basis") not in LEGAL_BASES:
        errors["legal_basis"] = f"one of {', '.join(LEGAL_BASES)}"
    channel = values.get("channel")
    if channel not in CHANNELS:
        errors["channel"] = f"one of {', '.join(CHANNELS)}"
    if values.get("kind") == "marketing" and values.get("legal_basis") == "none":
        errors["legal_basis"] = "a marketing campaign needs consent or a current contract"
    if channel == "call" and not str(values.get("script_en") or values.get("script_fr") or ""):
        errors["script_en"] = "a call campaign needs a script for the agents"
    for lang in ("en", "fr"):
        script = str(values.get(f"script_{lang}") or "")
        if bad := messages.unknown(script, messages.SCRIPT_PLACEHOLDERS):
            errors.setdefault(f"script_{lang}", "unknown placeholder: " + ", ".join(bad))
    if channel in ("sms", "email"):
        for lang in ("en", "fr"):
            text = str(values.get(f"message_{lang}") or "")
            if not text.strip():
                errors[f"message_{lang}"] = "the message is needed in both languages"
            elif bad := messages.unknown(text):
                errors[f"message_{lang}"] = "unknown placeholder: " + ", ".join(bad)
    if channel == "email":
        for lang in ("en", "fr"):
            subject = str(values.get(f"subject_{lang}") or "")
            if not subject.strip() or "\n" in subject or len(subject) > 200:
                errors[f"subject_{lang}"] = "a one-line subject of 1 to 200 characters"
    _, problems = dispositions.check(values.get("dispositions") or [])
    errors.update(problems)
    start, end = values.get("window_start"), values.get("window_end")
    if (start is None) != (end is None):
        errors["window_end" if end is None else "window_start"] = "give both ends of the window"
    elif isinstance(start, time) and isinstance(end, time) and not start < end:
        errors["window_end"] = "the window must end after it starts"
    attempts = values.get("max_attempts")
    if not isinstance(attempts, int) or not 1 <= attempts <= 10:
        errors["max_attempts"] = "between 1 and 10"
    delay = values.get("retry_delay_minutes")
    if not isinstance(delay, int) or not 5 <= delay <= 60 * 24 * 30:
        errors["retry_delay_minutes"] = "between 5 minutes and 30 days"
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if isinstance(starts, datetime) and isinstance(ends, datetime) and not starts < ends:
        errors["ends_at"] = "the end must come after the start"
    return errors


def defaults() -> dict[str, Any]:
    return {
        "kind": "service",
        "legal_basis": "none",
        "channel": "call",
        "skill": None,
        "script_en": "",
        "script_fr": "",
        "subject_en": "",
        "subject_fr": "",
        "message_en": "",
        "message_fr": "",
        "dispositions": [dict(d) for d in dispositions.DEFAULTS],
        "window_start": None,
        "window_end": None,
        "max_attempts": 3,
        "retry_delay_minutes": 240,
        "starts_at": None,
        "ends_at": None,
    }


def create(session: DbSession, *, actor: User, **values: Any) -> Campaign:
    merged = defaults() | {k: v for k, v in values.items() if k in EDITABLE}
    merged["skill"] = (merged.get("skill") or "").strip() or None
    if errors := check_fields(merged):
        raise ValidationFailed("the campaign is not valid", fields=errors)
    now = utcnow()
    campaign = Campaign(
        **merged, status="draft", created_by_id=actor.id, created_at=now, updated_at=now
    )
    session.add(campaign)
    session.commit()
    return campaign


def update(session: DbSession, campaign: Campaign, *, actor: User, **values: Any) -> Campaign:
    """Change a campaign's settings. A finished campaign is not changed; the channel of one that
    has started is kept (its members were checked for that channel)."""
    if campaign.status == "finished":
        raise Conflict("a finished campaign cannot be changed", code="finished")
    current = {k: getattr(campaign, k) for k in EDITABLE}
    merged = current | {k: v for k, v in values.items() if k in EDITABLE}
    merged["skill"] = (merged.get("skill") or "").strip() or None
    if campaign.status != "draft" and merged["channel"] != campaign.channel:
        raise ValidationFailed(
            "the channel of a started campaign cannot change",
            fields={"channel": "the channel of a started campaign cannot change"},
        )
    if errors := check_fields(merged):
        raise ValidationFailed("the campaign is not valid", fields=errors)
    for key, value in merged.items():
        setattr(campaign, key, value)
    campaign.updated_at = utcnow()
    session.commit()
    return campaign


def set_status(session: DbSession, campaign: Campaign, *, status: str, actor: User) -> Campaign:
    """Start, pause, resume or finish. A call campaign starts only with a script; any campaign
    only with at least one member to contact."""
    if status not in TRANSITIONS.get(campaign.status, frozenset()):
        raise Conflict(
            f"a {campaign.status} campaign cannot become {status}", code="bad_transition"
        )
    if status == "active" and campaign.status == "draft":
        pending = session.scalar(
            select(func.count())
            .select_from(CampaignMember)
            .where(CampaignMember.campaign_id == campaign.id, CampaignMember.status == "pending")
        )
        if not pending:
            raise Conflict("the list has nobody to contact yet", code="empty_list")
    campaign.status = status
    campaign.updated_at = utcnow()
    if status == "finished":
        session.execute(
            CampaignMember.__table__.update()
            .where(
                CampaignMember.campaign_id == campaign.id,
                CampaignMember.status == "in_progress",
            )
            .values(status="pending", agent_id=None)
        )
    publish(session, "campaign.status", ["staff"], {"id": campaign.id, "status": status})
    results.announce(session, campaign)  # the wallboard's panel adds or drops it
    session.commit()
    return campaign


# -- members ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    added: int = 0
    excluded: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def candidates_from_segment(session: DbSession, segment: str) -> list[Candidate]:
    """The customers of a value segment (helpdesk.value), each with their first number/e-mail."""
    from helpdesk.value.models import CustomerValue

    ids = list(
        session.scalars(
            select(CustomerValue.customer_id)
            .where(CustomerValue.segment == segment)
            .order_by(CustomerValue.customer_id)
        )
    )
    return _customer_candidates(session, ids)


def candidates_from_view(session: DbSession, *, user: User, view_id: int) -> list[Candidate]:
    """The requesters of the tickets a saved view shows (as `user` sees it)."""
    from helpdesk.saved_views import filters as view_filters
    from helpdesk.saved_views import service as views
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.models import Ticket

    view = views.get_visible(session, user=user, view_id=view_id)
    flt = view_filters.ticket_filter(view.filters, me_id=user.id)
    ids = list(
        session.scalars(
            select(Ticket.requester_id)
            .where(*tickets.filter_clauses(flt), Ticket.requester_id.is_not(None))
            .distinct()
            .order_by(Ticket.requester_id)
        )
    )
    return _customer_candidates(session, [i for i in ids if i is not None])


def candidates_from_ids(session: DbSession, ids: Sequence[int]) -> list[Candidate]:
    """Customers by id, each with their first number and e-mail."""
    return _customer_candidates(session, list(dict.fromkeys(ids)))


def _customer_candidates(session: DbSession, ids: Sequence[int]) -> list[Candidate]:
    if not ids:
        return []
    phones: dict[int, str] = {}
    for cid, e164 in session.execute(
        select(CustomerPhone.customer_id, CustomerPhone.e164)
        .where(CustomerPhone.customer_id.in_(ids))
        .order_by(CustomerPhone.id)
    ):
        phones.setdefault(cid, e164)
    emails: dict[int, str] = {}
    for cid, email in session.execute(
        select(CustomerEmail.customer_id, CustomerEmail.email)
        .where(CustomerEmail.customer_id.in_(ids))
        .order_by(CustomerEmail.id)
    ):
        emails.setdefault(cid, email.lower())
    return [Candidate(0, "", phones.get(cid), emails.get(cid), cid, None) for cid in ids]


def _match_customers(
    session: DbSession, candidates: Sequence[Candidate]
) -> dict[tuple[str, str], int]:
    """Existing customers by ("n", number) and ("e", e-mail), in two queries."""
    numbers = {c.number for c in candidates if c.number}
    emails = {c.email for c in candidates if c.email}
    found: dict[tuple[str, str], int] = {}
    if numbers:
        for cid, e164 in session.execute(
            select(CustomerPhone.customer_id, CustomerPhone.e164).where(
                CustomerPhone.e164.in_(numbers)
            )
        ):
            found.setdefault(("n", e164), cid)
    if emails:
        for cid, email in session.execute(
            select(CustomerEmail.customer_id, CustomerEmail.email).where(
                func.lower(CustomerEmail.email).in_(emails)
            )
        ):
            found.setdefault(("e", email.lower()), cid)
    return found


def add_members(
    session: DbSession, campaign: Campaign, candidates: Iterable[Candidate], *, actor: User
) -> ImportResult:
    """Add people to the list, each once; those who can never be contacted on the campaign's
    channel are added as excluded, with the reason."""
    if campaign.status == "finished":
        raise Conflict("a finished campaign's list cannot change", code="finished")
    given = list(candidates)
    matched = _match_customers(session, given)
    resolved = [
        Candidate(
            c.line,
            c.name,
            c.number,
            c.email,
            c.customer_id
            if c.customer_id is not None
            else matched.get(("n", c.number or ""), matched.get(("e", c.email or ""))),
            c.language,
        )
        for c in given
    ]
    taken = session.execute(
        select(CampaignMember.number, CampaignMember.customer_id).where(
            CampaignMember.campaign_id == campaign.id
        )
    ).all()
    kept, duplicates = lists.dedupe(resolved, taken=[(n, c) for n, c in taken])
    result = ImportResult(rejected=list(duplicates))
    customer_ids = {c.customer_id for c in kept if c.customer_id is not None}
    people = (
        {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}
        if customer_ids
        else {}
    )
    now = utcnow()
    rows: list[CampaignMember] = []
    for c in kept:
        if c.customer_id is not None and c.customer_id not in people:
            result.rejected.append(Rejected(c.line, "unknown_customer", str(c.customer_id)))
            continue
        person = people.get(c.customer_id) if c.customer_id is not None else None
        rows.append(
            CampaignMember(
                campaign_id=campaign.id,
                customer_id=c.customer_id,
                number=c.number,
                email=c.email,
                display_name=(c.name or (person.name if person else ""))[:200],
                language=(c.language or (person.language if person else "fr"))[:2],
                status="pending",
                attempts=0,
                created_at=now,
            )
        )
        if person is not None and (person.erased_at is not None or person.merged_into_id):
            rows[-1].status = "excluded"
            rows[-1].excluded_reason = "erased" if person.erased_at else "merged"
    session.add_all(rows)
    session.flush()
    for member, reason in contacts.never_reachable(session, campaign, rows, now=now).items():
        member.status = "excluded"
        member.excluded_reason = reason
    result.added = sum(1 for r in rows if r.status == "pending")
    result.excluded = sum(1 for r in rows if r.status == "excluded")
    session.commit()
    return result


def import_csv(
    session: DbSession, campaign: Campaign, *, text: str, region: str, actor: User
) -> ImportResult:
    candidates, rejected = lists.parse_csv(text, region=region)
    result = add_members(session, campaign, candidates, actor=actor)
    result.rejected = sorted(rejected + result.rejected, key=lambda r: r.line)
    return result


def exclusions(session: DbSession, campaign: Campaign) -> list[tuple[str, int]]:
    """The excluded members counted by reason, most frequent first."""
    rows = session.execute(
        select(CampaignMember.excluded_reason, func.count())
        .where(CampaignMember.campaign_id == campaign.id, CampaignMember.status == "excluded")
        .group_by(CampaignMember.excluded_reason)
    )
    return sorted(((r or "", int(n)) for r, n in rows), key=lambda rn: (-rn[1], rn[0]))


def members(
    session: DbSession, campaign: Campaign, *, status: str | None = None, limit: int = 500
) -> list[CampaignMember]:
    stmt = select(CampaignMember).where(CampaignMember.campaign_id == campaign.id)
    if status:
        stmt = stmt.where(CampaignMember.status == status)
    return list(session.scalars(stmt.order_by(CampaignMember.id).limit(limit)))


# -- agents ----------------------------------------------------------------------------------


def may_join(campaign: Campaign, user: User) -> bool:
    """A call campaign that is running, and the agent has its skill (when it names one)."""
    if campaign.channel != "call" or campaign.status != "active":
        return False
    return campaign.skill is None or any(s.skill == campaign.skill for s in user.skills)


def joined_ids(session: DbSession, *, user_id: int) -> set[int]:
    return set(
        session.scalars(select(CampaignAgent.campaign_id).where(CampaignAgent.user_id == user_id))
    )


def join(session: DbSession, campaign: Campaign, *, user: User) -> None:
    if not may_join(campaign, user):
        raise Conflict(
            "this campaign cannot be joined (not a running call campaign, or its skill is missing)",
            code="cannot_join",
        )
    if session.get(CampaignAgent, (campaign.id, user.id)) is None:
        session.add(CampaignAgent(campaign_id=campaign.id, user_id=user.id, joined_at=utcnow()))
    session.commit()


def leave(session: DbSession, campaign: Campaign, *, user: User) -> None:
    row = session.get(CampaignAgent, (campaign.id, user.id))
    if row is not None:
        session.delete(row)
    session.commit()
