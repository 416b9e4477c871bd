"""What outgoing webhooks (helpdesk.webhooks) say of a call and of an inbound text, built in
one place each.

Ids, times and outcomes only: numbers, notes and the words of a text stay behind the API, where
access and erasure rules apply.
"""

from __future__ import annotations

from typing import Any

from telephony.models import Call, SmsMessage


def call_ended(call: Call) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "call_sid": call.call_sid,
        "direction": call.direction,
        "outcome": call.outcome,
        "customer_id": call.customer_id,
        "agent_id": call.agent_id,
        "ticket_id": call.ticket_id,
        "queue_id": call.queue_id,
        "started_at": call.created_at.isoformat() if call.created_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "callback_requested": bool(call.callback_requested),
    }


def sms_received(row: SmsMessage) -> dict[str, Any]:
    return {
        "sms_id": row.id,
        "ticket_id": row.ticket_id,
        "customer_id": row.customer_id,
        "kind": row.kind,
        "flooded": bool(row.flooded),
    }
