"""Operability: /metrics in the Prometheus format, and a request id that follows a call from the
webhook to the task it queues and to the socket events they emit."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from helpdesk.celery_app import _add_request_id
from helpdesk.events import RecordingBackend
from helpdesk.extensions import db, socketio
from helpdesk.logs import JsonFormatter, current_request_id, request_id_context
from helpdesk.realtime import issue_socket_token

VOICE = "http://localhost/twilio/voice"


def _signed_post(client: FlaskClient, path: str, form: dict[str, str], **headers: str) -> Any:
    signature = RequestValidator("test-auth-token").compute_signature(
        "http://localhost" + path, form
    )
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature, **headers})


def _samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_webhooks_calls_waiting_sockets_and_task_failures(
    app: Flask, client: FlaskClient, make_user: Any
) -> None:
    before = _samples(client)
    form = {"CallSid": "CA" + "7" * 32, "From": "+33612345678", "To": "+15005550006"}
    assert _signed_post(client, "/twilio/voice", form).status_code == 200
    unsigned = client.post("/twilio/voice", data=form)
    assert unsigned.status_code == 403
    agent = make_user("agent")
    db.session.commit()
    sock = socketio.test_client(app, namespace="/agents", auth={"token": issue_socket_token(agent)})
    assert sock.is_connected("/agents")

    celery = app.extensions["celery"]

    @celery.task(name="tests.operability.boom")
    def boom() -> None:
        raise RuntimeError("the carrier is down")

    assert boom.apply(throw=False).state == "FAILURE"
    after = _samples(client)
    endpoint = {"endpoint": "twilio_voice.incoming"}
    assert _value(after, "helpdesk_webhook_duration_seconds_count", **endpoint) == (
        _value(before, "helpdesk_webhook_duration_seconds_count", **endpoint) + 2
    )
    assert (
        _value(after, "helpdesk_webhook_responses_total", status="403", **endpoint)
        == _value(before, "helpdesk_webhook_responses_total", status="403", **endpoint) + 1
    )
    assert _value(after, "helpdesk_socket_connections") == (
        _value(before, "helpdesk_socket_connections") + 1
    )
    assert _value(after, "helpdesk_task_failures_total", task="tests.operability.boom") == (
        _value(before, "helpdesk_task_failures_total", task="tests.operability.boom") + 1
    )
    from telephony.models import Call, CallQueue

    queue = CallQueue(name="support-metrics")
    db.session.add(queue)
    db.session.flush()
    for n, state in enumerate(("waiting", "waiting", "offered", "connected")):
        db.session.add(
            Call(
                call_sid=f"CA{n:032d}",
                from_number="+33612345678",
                to_number="+15005550006",
                queue_id=queue.id,
                routing_state=state,
            )
        )
    db.session.commit()
    waiting = _value(_samples(client), "helpdesk_calls_waiting", queue="support-metrics")
    assert waiting == 3  # waiting or being offered; the connected call is no longer queued
    sock.disconnect(namespace="/agents")
    assert _value(_samples(client), "helpdesk_socket_connections") == _value(
        before, "helpdesk_socket_connections"
    )


def test_metrics_are_not_served_to_the_outside_without_the_token(
    app: Flask, client: FlaskClient
) -> None:
    outside = {"REMOTE_ADDR": "8.8.8.8"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app.config["HELPDESK_METRICS_TOKEN"] = "scrape-secret"
    wrong = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get(
        "/metrics", environ_base=outside, headers={"Authorization": "Bearer scrape-secret"}
    )
    assert right.status_code == 200


def test_a_request_id_follows_the_call_from_webhook_to_task_to_socket_event(
    app: Flask, client: FlaskClient, recorded: RecordingBackend
) -> None:
    rid = "edge-4f1c2a9b7d"
    form = {"CallSid": "CA" + "8" * 32, "From": "+33612345679", "To": "+15005550006"}
    response = _signed_post(client, "/twilio/voice", form, **{"X-Request-Id": rid})
    assert response.headers["X-Request-Id"] == rid
    assert recorded.events, "the incoming call published events"
    assert {e.request_id for e in recorded.events} == {rid}
    # Without a usable id from the edge, one is made up and echoed.
    made = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert made.headers["X-Request-Id"] != "bad id with spaces"
    assert len(made.headers["X-Request-Id"]) == 32


def test_task_messages_carry_the_request_id_and_workers_restore_it(app: Flask) -> None:
    headers: dict[str, Any] = {}
    with request_id_context("webhook-123456"):
        _add_request_id(headers=headers)
    assert headers == {"request_id": "webhook-123456"}
    celery = app.extensions["celery"]
    seen: list[str | None] = []

    @celery.task(name="tests.operability.which_id")
    def which_id() -> None:
        seen.append(current_request_id())

    # As a worker runs a message: the id comes from the message, not from the caller, and the
    # caller's own id (whatever an earlier test left in this thread) is back afterwards.
    before = current_request_id()
    which_id.apply(headers={"request_id": "from-the-message-1"})
    assert seen == ["from-the-message-1"]
    assert current_request_id() == before


def test_json_log_lines_carry_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    import json

    record = logging.LogRecord("telephony", logging.INFO, __file__, 1, "call %s", ("CA1",), None)
    record.request_id = "abc12345"
    record.call_sid = "CA1"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "call CA1" and line["request_id"] == "abc12345"
    assert line["call_sid"] == "CA1" and line["level"] == "INFO"


@pytest.mark.parametrize("fallback", ["", "https://handler.example.com/take-a-message"])
def test_voice_webhooks_answer_a_graceful_twiml_when_the_database_fails(
    tmp_path: Any, fallback: str
) -> None:
    from helpdesk.app import create_app
    from helpdesk.config import Settings

    # A database without its tables: every query fails as a lost database would.
    settings = Settings.from_env(
        env={},
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        HELPDESK_INSTANCE_PATH=str(tmp_path / "instance"),
        SECRET_KEY="k",
        TWILIO_AUTH_TOKEN="test-auth-token",
        PUBLIC_BASE_URL="http://localhost",
        TESTING=True,
        HELPDESK_SCHEDULER=False,
        HELPDESK_VOICE_FALLBACK_URL=fallback,
    )
    broken = create_app(settings)
    client = broken.test_client()
    form = {"CallSid": "CA" + "9" * 32, "From": "+33612345670", "To": "+15005550006"}
    response = _signed_post(client, "/twilio/voice", form)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "problème technique" in body and "technical problem" in body
    if fallback:
        assert f'<Redirect method="POST">{fallback}</Redirect>' in body
    else:
        assert "<Hangup />" in body
    with broken.app_context():
        db.session.remove()
        db.engine.dispose()
