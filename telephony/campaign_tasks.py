"""The progressive dialer's periodic round (thin: telephony.campaign_dialer does the work)."""

from __future__ import annotations

from celery import shared_task

from helpdesk.extensions import db
from telephony import adapters, campaign_dialer


@shared_task(name="telephony.campaign_tasks.dial", ignore_result=True)
def dial() -> int:
    return campaign_dialer.dial_free_agents(db.session, gateway=adapters.gateway())
