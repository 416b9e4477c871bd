"""Which campaign placed a call, a text or an e-mail: the warehouse's `campaign_key`.

The attempts' audit keeps the call, text or e-mail each attempt made; the warehouse joins it as a
grouped subquery (one hash join per export batch, not a lookup per row), so a fact row carries
its campaign without a column on the core tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Subquery, func, select

from helpdesk.campaigns.models import CampaignAttempt


def campaign_of(kind: str) -> Subquery:
    """`(made_id, campaign_id)` for every call, text or e-mail (`kind`: call | sms | mail) that a
    campaign attempt made; one campaign per row should two attempts name it."""
    made: Any = {
        "call": CampaignAttempt.call_id,
        "sms": CampaignAttempt.sms_id,
        "mail": CampaignAttempt.mail_id,
    }[kind]
    return (
        select(made.label("made_id"), func.min(CampaignAttempt.campaign_id).label("campaign_id"))
        .where(made.is_not(None))
        .group_by(made)
        .subquery(f"campaign_{kind}")
    )
