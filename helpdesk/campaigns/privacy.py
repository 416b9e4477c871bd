"""Campaign lists copy a person's name, number and address, and the audit of attempts keeps the
number called and the agent's notes: an erasure blanks them on every list the person is on (by
customer, or by one of their numbers or addresses for lines imported without a match) and leaves
the member excluded as `erased`, so no campaign contacts them again. The counts of the reports
(attempts, dispositions, days) stay. A do-not-call entry is the consent module's and stays.

Not in the personal-data export yet: a person's campaign memberships and attempts are not part
of `CustomerExport` (docs/campaigns.md says so)."""

from __future__ import annotations

from sqlalchemy import or_, select

from helpdesk.campaigns.models import CampaignAttempt, CampaignMember
from helpdesk.db import DbSession
from helpdesk.privacy.registry import ERASED, Holder, Subject, exempt, register


def erase(session: DbSession, subject: Subject) -> int:
    clauses = [CampaignMember.customer_id.in_(subject.customer_ids)]
    if subject.phones:
        clauses.append(CampaignMember.number.in_(subject.phones))
    if subject.emails:
        clauses.append(CampaignMember.email.in_([e.lower() for e in subject.emails]))
    changed = 0
    members = list(session.scalars(select(CampaignMember).where(or_(*clauses))))
    for m in members:
        if m.number is None and m.email is None and m.display_name == ERASED:
            continue
        m.number, m.email, m.display_name = None, None, ERASED
        if m.status != "done":
            m.status, m.excluded_reason, m.next_attempt_at = "excluded", "erased", None
        changed += 1
    ids = [m.id for m in members]
    if ids:
        for a in session.scalars(select(CampaignAttempt).where(CampaignAttempt.member_id.in_(ids))):
            if a.number is not None or a.notes:
                a.number, a.notes = None, ""
                changed += 1
    return changed


register(
    Holder(
        name="campaigns",
        covers={
            "campaign_members": ("number", "email", "display_name", "excluded_reason"),
            "campaign_attempts": ("number", "notes"),
        },
        erase=erase,
    )
)
exempt("campaigns", "name", "the campaign's own name, written by staff, about no one")
exempt("campaigns", "subject_en", "an e-mail subject template written by staff for everyone")
exempt("campaigns", "subject_fr", "an e-mail subject template written by staff for everyone")
exempt(
    "campaign_attempts",
    "reason",
    "the compliance rules' code for the decision (ok, outside_hours, do_not_call…), no one's words",
)
