"""The demo seeds one small call campaign, a draft with people on its list, ready to start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk import demo
from helpdesk.campaigns.models import Campaign, CampaignMember
from helpdesk.extensions import db


def test_the_demo_has_a_draft_call_campaign_with_a_list(app: Any, app_clock: Any) -> None:
    demo.seed(customers=40, tickets=200, seed=3)
    (campaign,) = db.session.scalars(select(Campaign))
    assert (campaign.status, campaign.channel, campaign.skill) == ("draft", "call", "support")
    assert campaign.script_en and campaign.script_fr
    members = list(
        db.session.scalars(select(CampaignMember).where(CampaignMember.campaign_id == campaign.id))
    )
    assert len(members) == 8
    assert all(m.number for m in members)
    assert sum(1 for m in members if m.status == "pending") >= 6
