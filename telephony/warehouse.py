"""The warehouse tables that telephony owns: calls, texts and queues, registered with
`helpdesk.warehouse` when the app is created (core may not import telephony)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.sql.elements import ColumnElement

from helpdesk.campaigns.warehouse import campaign_of
from helpdesk.warehouse.sources import Context, Row, Source, register
from telephony.models import Call, CallQueue, SmsMessage

# A text whose delivery report may still come (a final status never changes again).
SMS_PENDING = ("queued", "sending", "sent", "accepted", "scheduled")


def _calls() -> Select[*tuple[Any, ...]]:
    campaign = campaign_of("call")
    return (
        select(
            Call.customer_id.label("customer_key"),
            Call.created_at.label("at"),
            Call.id.label("call_key"),
            Call.queue_id.label("queue_key"),
            Call.agent_id.label("agent_key"),
            Call.direction.label("direction"),
            Call.outcome.label("outcome"),
            Call.wait_seconds.label("wait_s"),
            Call.talk_seconds.label("talk_s"),
            campaign.c.campaign_id.label("campaign_key"),
        )
        .select_from(Call)
        .outerjoin(campaign, campaign.c.made_id == Call.id)
        .order_by(Call.id)
    )


def _call_cost(row: Row, ctx: Context) -> int:
    """Talk minutes at the value module's rate, as its cost to serve counts them."""
    return round((row["talk_s"] or 0.0) / 60 * ctx.rates.talk_minute)


def _call_open(now: datetime) -> ColumnElement[bool]:
    return Call.ended_at.is_(None)


def _texts() -> Select[*tuple[Any, ...]]:
    campaign = campaign_of("sms")
    return (
        select(
            SmsMessage.customer_id.label("customer_key"),
            SmsMessage.created_at.label("at"),
            SmsMessage.id.label("sms_key"),
            SmsMessage.direction.label("direction"),
            SmsMessage.kind.label("kind"),
            SmsMessage.status.label("status"),
            SmsMessage.segments.label("segments"),
            campaign.c.campaign_id.label("campaign_key"),
        )
        .select_from(SmsMessage)
        .outerjoin(campaign, campaign.c.made_id == SmsMessage.id)
        .order_by(SmsMessage.id)
    )


def _queues() -> Select[*tuple[Any, ...]]:
    return select(
        CallQueue.id.label("queue_key"),
        CallQueue.name.label("name"),
        CallQueue.language.label("language"),
        CallQueue.active.label("active"),
    ).order_by(CallQueue.id)


def register_sources() -> None:
    register(
        Source(
            "fact_call",
            _calls,
            derived={"cost_cents": _call_cost},
            at=Call.created_at,
            id=Call.id,
            still_open=_call_open,
        )
    )
    register(
        Source(
            "fact_sms",
            _texts,
            # Each text, either way, at the value module's per-text rate.
            derived={"cost_cents": lambda r, c: c.rates.sms},
            at=SmsMessage.created_at,
            id=SmsMessage.id,
            still_open=lambda now: SmsMessage.status.in_(SMS_PENDING),
        )
    )
    register(Source("dim_queue", _queues))
