"""Telephony's gauges on `/metrics`, read from the database at scrape time: calls waiting per
queue and texts waiting to leave. Registered with `helpdesk.metrics` when the app is created."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from helpdesk.extensions import db
from telephony.models import Call, CallQueue, SmsMessage


def gauges() -> Iterator[GaugeMetricFamily]:
    yield from calls_waiting()
    yield from sms_outbox()


def calls_waiting() -> Iterator[GaugeMetricFamily]:
    family = GaugeMetricFamily(
        "helpdesk_calls_waiting", "Calls waiting or being offered, by queue", labels=["queue"]
    )
    rows = db.session.execute(
        select(CallQueue.name, func.count(Call.id))
        .join(Call, Call.queue_id == CallQueue.id)
        .where(Call.routing_state.in_(("waiting", "offered")))
        .group_by(CallQueue.name)
    )
    for name, count in rows:
        family.add_metric([name], count)
    yield family


def sms_outbox() -> Iterator[GaugeMetricFamily]:
    family = GaugeMetricFamily(
        "helpdesk_sms_outbox",
        "Outgoing SMS not yet handed to the carrier, by status",
        labels=["status"],
    )
    rows = db.session.execute(
        select(SmsMessage.status, func.count(SmsMessage.id))
        .where(SmsMessage.direction == "outbound")
        .where(SmsMessage.status.in_(("queued", "retry", "sending")))
        .group_by(SmsMessage.status)
    )
    for status, count in rows:
        family.add_metric([status], count)
    yield family
