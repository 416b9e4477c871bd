"""Outgoing webhooks end to end on a real receiver (a server thread on 127.0.0.1): signed
deliveries checked by an independent verifier, retries with back-off until each event gets
through once, nothing for a change rolled back, and a subscription disabled after repeated
failures with a notice to administrators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.audit.models import AuditEntry
from helpdesk.errors import ValidationFailed
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.webhooks import config, outbox, subscriptions
from helpdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.functional.test_voice import fixture, signed_post
from tests.webhook_receiver import independent_signature_ok, receiver


def _subscribe(url: str, *types: str) -> WebhookSubscription:
    return subscriptions.create(
        db.session, actor=None, url=url, event_types=types or ("ticket.created", "ticket.updated")
    )


def _retry_until_quiet(clock, rounds: int = 20) -> None:
    """Let time pass past each back-off and run the periodic recovery, as beat would."""
    policy = config.current().policy
    for _ in range(rounds):
        clock.advance(seconds=policy.cap_s + 1)
        if outbox.recover(db.session) == 0:
            return


def test_a_receiver_failing_five_times_gets_each_event_once(app_clock, ticket_factory):
    with receiver(statuses=[500, 503, 500, 502, 500]) as hook:
        sub = _subscribe(hook.url)
        ticket = ticket_factory(subject="Router down")
        tickets.update(db.session, ticket, actor=None, priority="high")
        _retry_until_quiet(app_clock)

        events = {}
        for got in hook.requests:
            assert independent_signature_ok(
                sub.secret, got.headers["X-Helpdesk-Signature"], got.body
            )
            assert got.headers["X-Helpdesk-Event-Id"] == got.event["id"]
            events.setdefault(got.event["id"], []).append(got)
        assert len(hook.requests) == 7  # five failures, then one success per event
        assert sorted(e[0].event["type"] for e in events.values()) == [
            "ticket.created",
            "ticket.updated",
        ]
        for copies in events.values():
            assert [c.answered for c in copies].count(200) == 1
            assert len({c.body for c in copies}) == 1  # every attempt carries the same bytes
        created = next(e for e in events.values() if e[0].event["type"] == "ticket.created")
        assert created[0].event["data"]["ticket_id"] == ticket.id

    db.session.expire_all()
    statuses = db.session.scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["delivered", "delivered"]
    log = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [a.status_code for a in log] == [500, 503, 500, 502, 500, 200, 200]
    assert db.session.get(WebhookSubscription, sub.id).consecutive_failures == 0


def test_back_off_waits_before_each_retry(app_clock, ticket_factory):
    with receiver(statuses=[500, 500]) as hook:
        _subscribe(hook.url)
        ticket_factory()
        assert len(hook.requests) == 1
        assert outbox.recover(db.session) == 0  # not due yet
        app_clock.advance(seconds=31)
        outbox.recover(db.session)
        assert len(hook.requests) == 2
        app_clock.advance(seconds=31)
        assert outbox.recover(db.session) == 0  # the second wait is twice as long
        app_clock.advance(seconds=30)
        outbox.recover(db.session)
        assert [r.answered for r in hook.requests] == [500, 500, 200]


def test_a_rolled_back_change_sends_nothing(ticket_factory, customer_factory):
    with receiver() as hook:
        _subscribe(hook.url)
        customer = customer_factory()
        tickets.create(
            db.session, actor=None, subject="Never", requester_id=customer.id, commit=False
        )
        db.session.rollback()
        ticket = ticket_factory()
        tickets.update(db.session, ticket, actor=None, status="open", commit=False)
        db.session.rollback()
        outbox.recover(db.session)
        types = [r.event["type"] for r in hook.requests]
    assert types == ["ticket.created"]  # the committed ticket only
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


def test_only_subscribed_types_and_active_subscriptions_receive(ticket_factory):
    with receiver() as one, receiver() as two:
        _subscribe(one.url, "ticket.updated")
        off = _subscribe(two.url, "ticket.created")
        subscriptions.update_subscription(db.session, off, active=False)
        ticket_factory()
        assert one.requests == [] and two.requests == []


def test_inbound_texts_and_ended_calls_are_sent(app, client):
    with receiver() as hook:
        _subscribe(hook.url, "sms.received", "call.ended")
        app.extensions["telephony_simulator"].text("+33612345678", "Ma box ne marche plus")
        signed_post(client, "/twilio/voice", fixture("incoming_call"))
        signed_post(client, "/twilio/voice/status", fixture("status_completed"))
        events = [r.event for r in hook.requests]
    assert [e["type"] for e in events] == ["sms.received", "call.ended"]
    sms, call = events[0]["data"], events[1]["data"]
    assert sms["ticket_id"] and sms["customer_id"] and "body" not in sms
    assert call["call_sid"] == fixture("incoming_call")["CallSid"]
    assert call["outcome"] in ("abandoned", "missed")


def test_repeated_failures_disable_the_subscription_and_tell_the_admins(
    app_clock, ticket_factory, recorded
):
    with receiver(statuses=[500] * 50) as hook:
        sub = _subscribe(hook.url)
        for _ in range(3):
            ticket_factory()
        _retry_until_quiet(app_clock)
        attempts = len(hook.requests)
    db.session.expire_all()
    sub = db.session.get(WebhookSubscription, sub.id)
    assert not sub.active and sub.failed_out
    assert "10 failed attempts in a row" in sub.disabled_reason
    assert attempts == 10
    pending = db.session.scalars(select(WebhookDelivery.status)).all()
    assert "retry" not in pending and "cancelled" in pending
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.disabled"))
    assert entry is not None and entry.target_id == str(sub.id) and entry.channel == "system"
    notices = recorded.named("webhook.disabled")
    assert notices and notices[0].rooms == ("role:admin",)
    assert notices[0].payload["subscription_id"] == sub.id


def test_a_private_address_is_refused_unless_allowed(app, ticket_factory):
    settings = app.extensions[config.EXTENSION]
    settings.allow_private = False
    with pytest.raises(ValidationFailed) as refused:
        _subscribe("http://127.0.0.1:9/hook")
    assert list(refused.value.fields) == ["url"]
    assert "loopback, private or reserved" in refused.value.fields["url"]
    # A subscription made while allowed is refused at delivery once it is not: nothing is sent.
    settings.allow_private = True
    with receiver() as hook:
        _subscribe(hook.url)
        settings.allow_private = False
        ticket_factory()
        assert hook.requests == []
    attempt = db.session.scalar(select(WebhookAttempt))
    assert attempt.status_code is None and attempt.error.startswith("refused:")


def test_a_receiver_that_never_answers_times_out(app, ticket_factory):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        app.extensions[config.EXTENSION].sender.timeout_s = 0.5
        _subscribe(f"http://127.0.0.1:{listener.getsockname()[1]}/slow")
        ticket_factory()
    finally:
        listener.close()
    attempt = db.session.scalar(select(WebhookAttempt))
    assert attempt.status_code is None and "timed out" in attempt.error.lower()
    assert attempt.duration_ms < 5000
    assert db.session.scalar(select(WebhookDelivery.status)) == "retry"


def test_a_duplicated_task_posts_once(ticket_factory, app_clock):
    with receiver() as hook:
        _subscribe(hook.url)
        ticket_factory()
        delivery = db.session.scalar(select(WebhookDelivery))
        assert outbox.deliver(db.session, delivery.id) == "delivered"
        app_clock.advance(seconds=timedelta(hours=2).total_seconds())
        outbox.recover(db.session)
        assert len(hook.requests) == 1
