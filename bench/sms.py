"""SMS benchmark: Twilio's inbound webhook on the production web process, and the outbox.

Figures, each against the target the SMS issue set:

1. `POST /twilio/sms` (a text comes in) answered by the Procfile's web process at 100 messages
   per second, paced (open loop) for 30 seconds, on PostgreSQL holding the foundation data
   (100,000 customers, 1,000,000 tickets at scale 1): every text has a fresh MessageSid, a valid
   `X-Twilio-Signature` and comes from an existing customer's number; half of them are a
   customer's first text (a new SMS conversation, acknowledged by a text of ours), the other half
   a reply from a number that texted a couple of seconds earlier (a comment on its open
   conversation). No text is a keyword, and no number sends more than two, far below the flood
   limit. Twice: without REDIS_URL, the acknowledgement's sending task runs in the request's
   process after commit (the embedded deployment); with REDIS_URL, it goes to the broker (Redis
   database 14, which nothing consumes during the run and which is emptied at the end).
2. Outbound throughput of the outbox against the simulator gateway: `telephony.sms.send()` over
   5,000 queued rows, one after the other in one process (the work of one worker without its
   broker); then the same rows' task, `telephony.tasks.send_sms`, through a real Celery worker
   (`helpdesk worker --pool solo --concurrency 1`) on Redis, timed until every row is accepted.

The web process runs in simulator mode (no Twilio account), with a webhook token of the
benchmark's own, which the benchmark signs with; PUBLIC_BASE_URL is its loopback address, so the
signed URL is the URL called.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import redis
from tqdm import tqdm
from twilio.request_validator import RequestValidator

from bench import machine, pg
from bench.foundation import RESULTS, prepare
from bench.paced import PacedResult, RequestFor, paced_post, paced_with_cpu
from bench.report import Figure, Run, save
from bench.server import ROOT, CpuSample, WebServer, free_port
from bench.stats import summarise

SMS_DB = "helpdesk_bench_sms"
WEBHOOK_TARGET_P95_MS = 25.0
SEND_TARGET_PER_S = 200.0
OUR_NUMBER = "+33189700000"
ACCOUNT_SID = "AC" + "0" * 32
REDIS_DB_URL = "redis://127.0.0.1:6379/14"  # the benchmark's own Redis database, emptied after
WARM = 200  # untimed first texts before each timed run, which the first replies answer
REPLY_LAG = 201  # a reply comes from the number of the text sent this many messages earlier
BODIES = (
    "Bonjour, ma box ne marche plus depuis ce matin",
    "Hello, my last invoice looks wrong, can you check?",
    "Je n'ai plus de réseau mobile à la maison",
    "The technician did not come today",
    "Merci de me rappeler demain après 18h",
    "Internet is very slow since yesterday evening",
)
REPLY_BODIES = (
    "Oui c'est toujours le cas",
    "Thanks, any news?",
    "Je suis disponible cet après-midi",
    "Still not working",
)


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    scale: float = 1.0
    rate: float = 100.0
    seconds: float = 30.0
    threads: int = 8
    outbox: int = 5_000
    worker: bool = True
    keep: bool = False
    reuse: bool = False


def texter_numbers(url: str, count: int) -> list[str]:
    """One number per customer, of customers with no unresolved SMS conversation, spread over
    the table: a first text from one of them opens a new conversation."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT e164 FROM ("
            " SELECT DISTINCT ON (cp.customer_id) cp.customer_id, cp.e164 FROM customer_phones cp"
            " WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.requester_id = cp.customer_id"
            "  AND t.channel = 'sms' AND t.status IN ('new', 'open', 'pending', 'on_hold'))"
            " AND NOT EXISTS (SELECT 1 FROM customer_phones o"
            "  WHERE o.e164 = cp.e164 AND o.customer_id <> cp.customer_id)"
            " ORDER BY cp.customer_id, cp.id) p"
            " ORDER BY customer_id %% 997, customer_id LIMIT %s",
            (count,),
        ).fetchall()
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} customers to text from, {count} needed")
    return [r[0] for r in rows]


class Texts:
    """Signed `POST /twilio/sms` requests, as Twilio sends them, for one text after another.

    Even-numbered text i is the first from number `fresh[i // 2]`; odd-numbered text i is a reply
    from the number of text i - REPLY_LAG (before that, from one of the `opened` numbers, which
    texted during the warm-up).
    """

    def __init__(
        self, base_url: str, token: str, fresh: list[str], opened: list[str], prefix: str
    ) -> None:
        self.url = base_url + "/twilio/sms"
        self.validator = RequestValidator(token)
        self.fresh = fresh
        self.opened = opened
        self.prefix = prefix

    def sender(self, i: int) -> tuple[str, bool]:
        """The number text i comes from, and whether it is a reply."""
        if i % 2 == 0:
            return self.fresh[(i // 2) % len(self.fresh)], False
        if i >= REPLY_LAG:
            return self.sender(i - REPLY_LAG)[0], True
        return self.opened[(i // 2) % len(self.opened)], True

    def first_only(self, i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        """Text i as a first text from `fresh[i]` (the warm-up)."""
        return self._signed(i, self.fresh[i % len(self.fresh)], BODIES[i % len(BODIES)])

    def text(self, i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        number, reply = self.sender(i)
        body = (REPLY_BODIES if reply else BODIES)[i % 4]
        return self._signed(i, number, body)

    def _signed(self, i: int, number: str, body: str) -> tuple[str, dict[str, str], dict[str, str]]:
        sid = f"SM{self.prefix}{i:024x}"
        form = {
            "ToCountry": "FR",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "FromCountry": "FR",
            "To": OUR_NUMBER,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": number,
            "ApiVersion": "2010-04-01",
        }
        signature = self.validator.compute_signature(self.url, form)
        return "/twilio/sms", form, {"X-Twilio-Signature": signature}


def paced(
    run: Run, web: WebServer, label: str, request_for: RequestFor, opts: Options
) -> tuple[PacedResult, dict[str, float]]:
    return paced_with_cpu(
        run,
        web,
        label,
        request_for,
        rate=opts.rate,
        seconds=opts.seconds,
        threads=opts.threads,
        database=SMS_DB,
        unit="message",
    )


def run_outcome(url: str, prefix: str) -> dict[str, Any]:
    """What the timed texts of one run left in the database."""
    like = f"SM{prefix}%"
    with psycopg.connect(url) as conn:
        inbound = conn.execute(
            "SELECT count(*), count(DISTINCT ticket_id), count(*) FILTER (WHERE flooded)"
            " FROM sms_messages WHERE direction = 'inbound' AND message_sid LIKE %s",
            (like,),
        ).fetchone()
        # Conversations the timed texts opened: no earlier inbound text on the same ticket.
        opened = conn.execute(
            "SELECT s.ticket_id FROM sms_messages s WHERE s.direction = 'inbound'"
            " AND s.message_sid LIKE %s AND NOT EXISTS (SELECT 1 FROM sms_messages e"
            "  WHERE e.direction = 'inbound' AND e.ticket_id = s.ticket_id AND e.id < s.id)",
            (like,),
        ).fetchall()
        acks = conn.execute(
            "SELECT status, count(*) FROM sms_messages WHERE kind = 'ack'"
            " AND ticket_id = ANY(%s) GROUP BY status",
            ([r[0] for r in opened],),
        ).fetchall()
    assert inbound is not None
    return {
        "inbound_rows": inbound[0],
        "conversations": inbound[1],
        "new_conversations": len(opened),
        "flooded": inbound[2],
        "acks_by_status": {status: n for status, n in acks},
    }


def measure_webhook(
    run: Run, opts: Options, server: str, numbers: list[str], redis_url: str | None, group: int
) -> None:
    url = pg.libpq_url(server, SMS_DB)
    label = "with REDIS_URL" if redis_url else "without REDIS_URL"
    token = secrets.token_urlsafe(24)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env: dict[str, str | None] = {
        "TWILIO_AUTH_TOKEN": token,
        "TWILIO_ACCOUNT_SID": None,
        "TWILIO_PHONE_NUMBER": OUR_NUMBER,
        "PUBLIC_BASE_URL": base,
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    tag = "redis" if redis_url else "embedded"
    web = WebServer(
        pg.sqlalchemy_url(server, SMS_DB),
        RESULTS / f"sms-{run.started:%Y%m%dT%H%M%SZ}-web-{tag}.log",
        port=port,
        extra_env=env,
    )
    warm_numbers, fresh = numbers[:WARM], numbers[WARM:]
    warm = Texts(base, token, warm_numbers, [], secrets.token_hex(4))
    prefix = secrets.token_hex(4)
    timed = Texts(base, token, fresh, warm_numbers, prefix)
    try:
        web.start()
        tqdm.write(f"\n[1] POST /twilio/sms {label}, {opts.threads} client threads, paced")
        paced_post(base, warm.first_only, rate=50.0, seconds=WARM / 50.0, threads=4)
        result, cpu = paced(run, web, f"inbound {tag}", timed.text, opts)
    finally:
        web.stop()
    outcome = run_outcome(url, prefix)
    run.details[f"inbound {tag}"]["outcome"] = outcome
    tqdm.write(f"  left: {outcome}")
    lat = result.latency
    name = f"`POST /twilio/sms` {label}"
    run.add(
        Figure(
            f"{name}, {opts.rate:.0f}/s for {opts.seconds:.0f} s: latency p50 / p95 / p99",
            f"p95 <= {WEBHOOK_TARGET_P95_MS:.0f} ms",
            f"{lat.p50_ms:.1f} / {lat.p95_ms:.1f} / {lat.p99_ms:.1f} ms",
            lat.p95_ms <= WEBHOOK_TARGET_P95_MS,
            group=group,
        )
    )
    held = result.per_second >= 0.97 * opts.rate
    run.add(
        Figure(
            f"{name}: rate achieved; errors",
            f"{opts.rate:.0f}/s; no errors",
            f"{result.per_second:.1f}/s; {result.errors} errors of {result.sent}"
            + (f" ({result.unsent} not sent within the time limit)" if result.unsent else ""),
            held and result.errors == 0 and not result.unsent,
            group=group,
        )
    )
    run.add(
        Figure(
            f"{name}: CPU per message (web process / its PostgreSQL backends)",
            "-",
            f"{cpu['web process']:.1f} / {cpu['PostgreSQL (its backends)']:.1f} ms"
            f" ({outcome['inbound_rows']} texts: {outcome['new_conversations']} new"
            f" conversations, acks {outcome['acks_by_status']})",
            None,
            group=group,
        )
    )


# -- the outbox --------------------------------------------------------------------------------


def queue_rows(url: str, numbers: list[str], count: int, tag: str) -> list[int]:
    """`count` queued outbound rows, as `queue_sms()` writes them, to existing customers."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "INSERT INTO sms_messages (message_sid, idempotency_key, direction, kind, from_number,"
            " to_number, customer_id, ticket_id, author_user_id, body, media_urls, segments,"
            " encoding, status, error_code, error, attempts, next_attempt_at, flooded,"
            " created_at, sent_at)"
            " SELECT NULL, %s || '-' || g, 'outbound', 'message', %s, n.e164, NULL, NULL, NULL,"
            "  'Votre technicien passera demain entre 8h et 12h.', '[]', 1, 'GSM-7', 'queued',"
            "  NULL, '', 0, NULL, false, now(), NULL"
            " FROM generate_series(1, %s) g"
            " JOIN unnest(%s::text[]) WITH ORDINALITY n(e164, k) ON n.k = 1 + g %% %s"
            " RETURNING id",
            (tag, OUR_NUMBER, count, numbers, len(numbers)),
        ).fetchall()
    return sorted(r[0] for r in rows)


def status_counts(url: str, ids: list[int]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM sms_messages WHERE id = ANY(%s) GROUP BY status", (ids,)
        ).fetchall()
    return {status: n for status, n in rows}


def measure_send_inprocess(run: Run, opts: Options, server: str, numbers: list[str]) -> None:
    from helpdesk.app import create_app
    from helpdesk.extensions import db
    from telephony import sms

    url = pg.libpq_url(server, SMS_DB)
    tqdm.write(f"\n[2] telephony.sms.send() over {opts.outbox} queued rows, in one process")
    warm_ids = queue_rows(url, numbers, 200, "warm-" + secrets.token_hex(4))
    ids = queue_rows(url, numbers, opts.outbox, secrets.token_hex(8))
    instance = tempfile.mkdtemp(prefix="helpdesk-bench-")
    app = create_app(
        {
            "DATABASE_URL": pg.sqlalchemy_url(server, SMS_DB),
            "TESTING": True,
            "HELPDESK_INSTANCE_PATH": instance,
        }
    )
    base = "http://127.0.0.1:5000"
    try:
        with app.app_context():
            gateway = app.extensions["telephony_gateway"]
            for message_id in warm_ids:
                sms.send(db.session, message_id, gateway, public_base_url=base)
            timings = []
            statuses: dict[str, int] = {}
            started = time.perf_counter()
            for message_id in ids:
                t0 = time.perf_counter()
                status = sms.send(db.session, message_id, gateway, public_base_url=base)
                timings.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
            elapsed = time.perf_counter() - started
            simulated = len(gateway.simulator.sms) if gateway.simulator is not None else None
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    per_s = len(ids) / elapsed
    lat = summarise(timings)
    tqdm.write(
        f"  {len(ids)} sent in {elapsed:.2f} s = {per_s:.0f}/s; {lat.brief()}; "
        f"statuses {statuses}; simulator inbox {simulated}"
    )
    run.details["send_inprocess"] = {
        "messages": len(ids),
        "seconds": elapsed,
        "per_second": per_s,
        "latency": lat.as_dict(),
        "statuses": statuses,
        "simulator_inbox": simulated,
    }
    run.add(
        Figure(
            f"outbox `sms.send()` in one process, {len(ids)} queued rows: messages/s"
            f" (per message p50 / p95)",
            f">= {SEND_TARGET_PER_S:.0f}/s",
            f"{per_s:.0f}/s ({lat.p50_ms:.2f} / {lat.p95_ms:.2f} ms);"
            f" {statuses.get('accepted', 0)} accepted",
            per_s >= SEND_TARGET_PER_S and statuses.get("accepted", 0) == len(ids),
            group=3,
        )
    )


def measure_send_worker(run: Run, opts: Options, server: str, numbers: list[str]) -> None:
    """The same task through Redis and one solo Celery worker process."""
    from helpdesk.app import create_app

    url = pg.libpq_url(server, SMS_DB)
    broker = redis.Redis.from_url(REDIS_DB_URL)
    broker.flushdb()
    tqdm.write(f"\n[2b] telephony.tasks.send_sms for {opts.outbox} rows through a Celery worker")
    warm_ids = queue_rows(url, numbers, 200, "warm-" + secrets.token_hex(4))
    ids = queue_rows(url, numbers, opts.outbox, secrets.token_hex(8))
    instance = tempfile.mkdtemp(prefix="helpdesk-bench-worker-")
    log_path = RESULTS / f"sms-{run.started:%Y%m%dT%H%M%SZ}-worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": pg.sqlalchemy_url(server, SMS_DB),
        "REDIS_URL": REDIS_DB_URL,
        "SECRET_KEY": "bench-only-secret-key",
        "HELPDESK_INSTANCE_PATH": instance,
        "HELPDESK_SCHEDULER": "0",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    }
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(key, None)
    app = create_app(
        {
            "DATABASE_URL": pg.sqlalchemy_url(server, SMS_DB),
            "REDIS_URL": REDIS_DB_URL,
            "TESTING": True,
            "HELPDESK_INSTANCE_PATH": instance,
        }
    )
    celery = app.extensions["celery"]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "helpdesk.cli",
                "worker",
                "--concurrency",
                "1",
                "--pool",
                "solo",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def drain(batch: list[int], limit_s: float) -> float:
                started = time.perf_counter()
                for message_id in batch:
                    celery.send_task("telephony.tasks.send_sms", args=[message_id])
                enqueued = time.perf_counter() - started
                deadline = started + limit_s
                while time.perf_counter() < deadline:
                    if worker.poll() is not None:
                        raise RuntimeError(f"the worker exited; see {log_path}")
                    if status_counts(url, batch).get("accepted", 0) == len(batch):
                        tqdm.write(f"  enqueued {len(batch)} in {enqueued:.2f} s")
                        return time.perf_counter() - started
                    time.sleep(0.1)
                raise RuntimeError(
                    f"not all sent within {limit_s:.0f} s: {status_counts(url, batch)}"
                )

            drain(warm_ids, 60.0)  # also waits for the worker to start
            cpu_before = CpuSample.take([worker.pid], SMS_DB)
            elapsed = drain(ids, 120.0)
            cpu = CpuSample.take([worker.pid], SMS_DB).used_since(cpu_before)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
            broker.flushdb()
            shutil.rmtree(instance, ignore_errors=True)
    per_s = len(ids) / elapsed
    worker_ms = cpu["server_s"] / len(ids) * 1000
    pg_ms = cpu["postgres_s"] / len(ids) * 1000
    tqdm.write(
        f"  {len(ids)} accepted {elapsed:.2f} s after the first enqueue = {per_s:.0f}/s; "
        f"CPU ms per message: worker {worker_ms:.2f}, PostgreSQL {pg_ms:.2f}"
    )
    run.details["send_worker"] = {
        "messages": len(ids),
        "seconds": elapsed,
        "per_second": per_s,
        "cpu_ms_per_message": {"worker": worker_ms, "postgres": pg_ms},
    }
    run.add(
        Figure(
            f"outbox through Redis and one Celery worker (`--pool solo`), {len(ids)} tasks:"
            " messages/s (CPU per message: worker / PostgreSQL)",
            f">= {SEND_TARGET_PER_S:.0f}/s",
            f"{per_s:.0f}/s ({worker_ms:.2f} / {pg_ms:.2f} ms)",
            per_s >= SEND_TARGET_PER_S,
            group=3,
        )
    )


def run(opts: Options) -> Run:
    server = pg.server_url()
    result = Run(options=opts, machine=machine.describe(server))
    tqdm.write("sms benchmark on " + machine.one_line(result.machine))
    started = time.perf_counter()
    password = secrets.token_urlsafe(16)
    RESULTS.mkdir(exist_ok=True)
    # Without a broker, each acknowledgement's task runs in-process and logs a line.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    try:
        layout = prepare(server, SMS_DB, opts.scale, password, opts.reuse)
        result.details["layout"] = layout.as_dict()
        url = pg.libpq_url(server, SMS_DB)
        per_run = WARM + int(opts.rate * opts.seconds) // 2 + 1
        numbers = texter_numbers(url, 2 * per_run)
        measure_webhook(result, opts, server, numbers[:per_run], None, 1)
        if redis.Redis.from_url(REDIS_DB_URL).dbsize():
            tqdm.write(f"emptying {REDIS_DB_URL} (the benchmark's own Redis database)")
        redis.Redis.from_url(REDIS_DB_URL).flushdb()
        try:
            measure_webhook(result, opts, server, numbers[per_run:], REDIS_DB_URL, 2)
        finally:
            queued = redis.Redis.from_url(REDIS_DB_URL).llen("celery")
            result.details["tasks_left_in_broker"] = queued
            tqdm.write(f"  {queued} send_sms tasks in the broker, not consumed; emptying it")
            redis.Redis.from_url(REDIS_DB_URL).flushdb()
        measure_send_inprocess(result, opts, server, numbers)
        if opts.worker:
            measure_send_worker(result, opts, server, numbers)
    finally:
        if not opts.keep:
            pg.drop_database(server, SMS_DB)
            tqdm.write(f"dropped {SMS_DB}")
    result.details["seconds"] = time.perf_counter() - started
    result.machine["load_average_at_end"] = machine.load_average()
    save(result, "sms", RESULTS)
    return result
