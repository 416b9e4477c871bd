"""`/api/v1/campaigns/dialer`: the progressive dialer from the agent's side: ask for the next
campaign call now, or see the one in progress (telephony.campaign_dialer)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.extensions import db
from telephony import adapters, campaign_dialer

bp = Blueprint("campaign_dialer_api", __name__, url_prefix="/api/v1")


class CampaignDialerOut(BaseModel):
    placed: bool
    reason: str = Field(
        description="ok, not_free (not available, or in wrap-up), inbound_waiting (a caller "
        "you could take waits: inbound first), disposition_due (record the last call's "
        "disposition first), nobody_due, call_failed"
    )
    offer: dict[str, Any] | None = Field(
        description="The campaign's screen pop (same as the `campaign.offer` event)."
    )
    waiting: dict[str, Any] | None = Field(
        default=None,
        description="With nobody_due: the people waiting in the campaigns you joined, as "
        "`total`, `reasons` (count per reason: outside_hours, weekend, holiday, retry_delay…), "
        "`next_at` (UTC) and `next_local` (the same instant in the callee's time).",
    )


@operation(
    bp,
    "/campaigns/dialer/next",
    "POST",
    summary="Place my next campaign call now, if I may take one",
    response=CampaignDialerOut,
    tag="campaigns",
)
def dialer_next() -> CampaignDialerOut:
    outcome = campaign_dialer.offer_next(
        db.session, agent_id=current_api_user().id, gateway=adapters.gateway()
    )
    return CampaignDialerOut(
        placed=outcome.offer is not None,
        reason=outcome.reason,
        offer=outcome.offer,
        waiting=outcome.held.to_json() if outcome.held else None,
    )


@operation(
    bp,
    "/campaigns/dialer/current",
    "GET",
    summary="My campaign call in progress or waiting for its disposition",
    response=CampaignDialerOut,
    tag="campaigns",
)
def dialer_current() -> CampaignDialerOut:
    offer = campaign_dialer.current_offer(db.session, agent_id=current_api_user().id)
    return CampaignDialerOut(
        placed=offer is not None, reason="ok" if offer else "none", offer=offer
    )
