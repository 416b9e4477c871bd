"""`GET /metrics` in the Prometheus text format: webhook latencies, queue sizes, task failures,
socket connections.

Counters and histograms are per process. The sockets process is one gunicorn worker on its own
port; a web process runs one worker per core behind one port, so a scrape reaches one of them:
with `PROMETHEUS_MULTIPROC_DIR` set for the web line (see docs/operations.md) the scrape
aggregates the files its workers write there. A Celery worker serves its own figures on
`HELPDESK_METRICS_PORT` when set.

Queue sizes are read from the database and the broker at scrape time, so every process reports
the same shared figure (take `max`, not `sum`, across processes).

Scrapes are allowed from loopback and private addresses, or from anywhere with
`Authorization: Bearer <HELPDESK_METRICS_TOKEN>` when that is set. A proxy in front of the web
processes must not forward `/metrics` (the nginx example denies it).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

bp = Blueprint("metrics", __name__)

WEBHOOK_SECONDS = Histogram(
    "helpdesk_webhook_duration_seconds",
    "Time to answer a Twilio webhook, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0),
)
WEBHOOK_RESPONSES = Counter(
    "helpdesk_webhook_responses_total",
    "Twilio webhook answers, by endpoint and status code",
    ["endpoint", "status"],
)
API_SECONDS = Histogram(
    "helpdesk_api_request_duration_seconds",
    "Time to answer an /api/v1 request, by method",
    ["method"],
)
TASK_FAILURES = Counter(
    "helpdesk_task_failures_total", "Celery tasks that raised, by task name", ["task"]
)
TASK_RETRIES = Counter("helpdesk_task_retries_total", "Celery task retries, by task name", ["task"])
SOCKET_CONNECTIONS = Gauge(
    "helpdesk_socket_connections", "Socket.IO connections open on this process (/agents)"
)
EVENTS_EMITTED = Counter(
    "helpdesk_events_emitted_total", "Live events emitted (screen_pop ...), by name", ["event"]
)


Gauges = Callable[[], Iterator[GaugeMetricFamily]]
_GAUGES: dict[str, Gauges] = {}


def register_gauges(name: str, gauges: Gauges) -> None:
    """Features above the core (telephony's calls waiting and SMS outbox) hand their scrape-time
    gauges to the app when it is created; they are read with an app context, in registration
    order, before the broker's backlog."""
    _GAUGES[name] = gauges


class QueueCollector(Collector):
    """Calls waiting per queue, SMS waiting to leave, and the broker's backlog, read at scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from flask import has_app_context

        if not has_app_context():
            return
        for gauges in _GAUGES.values():
            yield from gauges()
        yield from _broker_backlog()


def _broker_backlog() -> Iterator[GaugeMetricFamily]:
    url = current_app.config.get("REDIS_URL") or ""
    if not url:
        return
    import redis

    family = GaugeMetricFamily("helpdesk_task_queue_length", "Tasks waiting in the broker")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        family.add_metric([], float(client.llen("celery")))
    except redis.RedisError:
        return
    yield family


_collector_registered = False


def _register_collector() -> None:
    global _collector_registered
    if not _collector_registered:
        REGISTRY.register(QueueCollector())
        _collector_registered = True


def _allowed() -> bool:
    token = current_app.config.get("HELPDESK_METRICS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return address.is_loopback or address.is_private


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        abort(403)
    registry: CollectorRegistry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(QueueCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _timed(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is None:
            return response
        elapsed = time.perf_counter() - started
        endpoint = request.endpoint or "unknown"
        if request.path.startswith("/twilio/"):
            WEBHOOK_SECONDS.labels(endpoint).observe(elapsed)
            WEBHOOK_RESPONSES.labels(endpoint, str(response.status_code)).inc()
        elif request.path.startswith("/api/"):
            API_SECONDS.labels(request.method).observe(elapsed)
        return response


def _count_tasks() -> None:
    from celery.signals import task_failure, task_retry

    def failed(sender: Any = None, **_kw: Any) -> None:
        TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()

    def retried(sender: Any = None, **_kw: Any) -> None:
        TASK_RETRIES.labels(getattr(sender, "name", "unknown")).inc()

    task_failure.connect(failed, weak=False, dispatch_uid="helpdesk-metrics-failure")
    task_retry.connect(retried, weak=False, dispatch_uid="helpdesk-metrics-retry")


def init_metrics(app: Flask) -> None:
    _register_collector()
    _count_tasks()
    _timed(app)
    app.register_blueprint(bp)


def serve_worker_metrics(port: int) -> None:
    """A Celery worker's figures (task failures) on their own port, loopback only."""
    from prometheus_client import start_http_server

    start_http_server(port, addr="127.0.0.1")
