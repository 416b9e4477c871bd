"""Voice benchmark: Twilio's webhooks on the production web process, and the routing decision.

Figures, each against the target the voice issue set:

1. `POST /twilio/voice` (a call comes in) answered by the Procfile's web process at 100 calls per
   second, paced (open loop) for 30 seconds, on PostgreSQL holding the foundation data (100,000
   customers, 1,000,000 tickets): callers are existing customers' numbers, and one in ten an
   unknown number (a new contact is recorded); every request carries a fresh CallSid and a valid
   `X-Twilio-Signature`;
2. the IVR step `POST /twilio/voice/menu` with `Digits=1` (the caller asks for support and is
   queued) for the calls just created, at the same pace;
3. the routing decision with 1,000 agents online and 500 calls waiting (`bench.routing_decision`).

The web process runs in simulator mode (no Twilio account), with a webhook token of the
benchmark's own, which the benchmark signs with; PUBLIC_BASE_URL is its loopback address, so the
signed URL is the URL called. Without REDIS_URL, the dispatch that follows each enqueue runs in
the request's process after commit, as in the embedded deployment. No agent is available during
the run, so every queued caller stays in line and the queue grows through the run.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from tqdm import tqdm
from twilio.request_validator import RequestValidator

from bench import datagen, machine, pg, routing_decision
from bench.foundation import RESULTS, prepare
from bench.inprocess import QueryLog, application, engine_of
from bench.paced import PacedResult, RequestFor, paced_post, paced_with_cpu
from bench.report import Figure, Run, save
from bench.server import WebServer, free_port
from bench.stats import summarise

VOICE_DB = "helpdesk_bench_voice"
WEBHOOK_TARGET_P95_MS = 25.0
OUR_NUMBER = "+33189700000"
ACCOUNT_SID = "AC" + "0" * 32
UNKNOWN_EVERY = 10  # one caller in ten is not in the database
UNKNOWN_BASE = 60_000_000  # mobile_number() indexes no customer uses
QUEUES = (
    # name, labels, skills, steps: the two queues the packaged IVR menu sends callers to.
    (
        "support",
        "Support",
        "Assistance",
        {"technical": 2},
        [{"after_s": 60, "level_drop": 1}, {"after_s": 180, "overflow_queue": "billing"}],
    ),
    ("billing", "Billing", "Facturation", {"billing": 2}, [{"after_s": 90, "level_drop": 1}]),
)


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    scale: float = 1.0
    rate: float = 100.0
    seconds: float = 30.0
    threads: int = 8
    decisions: int = 5_000
    keep: bool = False
    reuse: bool = False


def add_queues(url: str) -> None:
    with psycopg.connect(url) as conn:
        for name, en, fr, skills, steps in QUEUES:
            conn.execute(
                "INSERT INTO call_queues (name, label_en, label_fr, skills, language, strategy,"
                " steps, ring_timeout_s, wrap_up_s, callback_after_s, active)"
                " VALUES (%s, %s, %s, %s, NULL, 'longest_idle', %s, 20, 30, 60, true)"
                " ON CONFLICT (name) DO NOTHING",
                (name, en, fr, json.dumps(skills), json.dumps(steps)),
            )


def caller_numbers(url: str, count: int) -> list[str]:
    """Numbers of existing customers, spread over the table."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT e164 FROM customer_phones ORDER BY id %% 997, id LIMIT %s", (count,)
        ).fetchall()
    return [r[0] for r in rows]


class Calls:
    """Signed webhook requests, as Twilio sends them for one inbound call after another.

    Call i comes from an existing customer's number, except every `unknown_every`-th (none when
    0, all when 1), which comes from a number no customer has.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        numbers: list[str],
        prefix: str,
        unknown_every: int = UNKNOWN_EVERY,
    ) -> None:
        self.base_url = base_url
        self.validator = RequestValidator(token)
        self.numbers = numbers
        self.prefix = prefix
        self.unknown_every = unknown_every

    def sid(self, i: int) -> str:
        return f"CA{self.prefix}{i:024x}"

    def caller(self, i: int) -> str:
        if self.unknown_every and i % self.unknown_every == self.unknown_every - 1:
            # Distinct per prefix and index, and never a customer's (their indexes are lower).
            return datagen.mobile_number(UNKNOWN_BASE + int(self.prefix, 16) % 1_000 * 10_000 + i)
        return self.numbers[(i * 7919) % len(self.numbers)]

    def _signed(
        self, path: str, form: dict[str, str]
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        signature = self.validator.compute_signature(self.base_url + path, form)
        return path, form, {"X-Twilio-Signature": signature}

    def _common(self, i: int, status: str) -> dict[str, str]:
        caller = self.caller(i)
        return {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid(i),
            "CallStatus": status,
            "Called": OUR_NUMBER,
            "CalledCountry": "FR",
            "Caller": caller,
            "CallerCountry": "FR",
            "Direction": "inbound",
            "From": caller,
            "FromCountry": "FR",
            "To": OUR_NUMBER,
            "ToCountry": "FR",
        }

    def incoming(self, i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        return self._signed("/twilio/voice", self._common(i, "ringing"))

    def menu(self, i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        form = self._common(i, "in-progress") | {
            "Digits": "1",
            "FinishedOnKey": "",
            "msg": "Gather End",
        }
        return self._signed("/twilio/voice/menu", form)


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
        database=VOICE_DB,
        unit="request",
    )


def webhook_figures(run: Run, name: str, result: PacedResult, opts: Options, group: int) -> None:
    lat = result.latency
    run.add(
        Figure(
            f"{name} at {opts.rate:.0f}/s for {opts.seconds:.0f} s: latency p50 / p95 / p99",
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


def end_state(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:

        def one(query: str) -> Any:
            row = conn.execute(query).fetchone()
            return row[0] if row else None

        return {
            "calls": one("SELECT count(*) FROM calls"),
            "calls_waiting": one("SELECT count(*) FROM calls WHERE routing_state = 'waiting'"),
            "new_contacts": one("SELECT count(*) FROM customer_tags WHERE tag = 'new-caller'"),
            "customers": one("SELECT count(*) FROM customers"),
        }


def measure_webhooks(run: Run, opts: Options, server: str) -> None:
    url = pg.libpq_url(server, VOICE_DB)
    add_queues(url)
    numbers = caller_numbers(url, 5_000)
    token = secrets.token_urlsafe(24)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    RESULTS.mkdir(exist_ok=True)
    web = WebServer(
        pg.sqlalchemy_url(server, VOICE_DB),
        RESULTS / f"voice-{run.started:%Y%m%dT%H%M%SZ}-web.log",
        port=port,
        extra_env={
            "TWILIO_AUTH_TOKEN": token,
            "TWILIO_ACCOUNT_SID": None,
            "PUBLIC_BASE_URL": base,
        },
    )
    warm = Calls(base, token, numbers, "f" * 8)
    timed = Calls(base, token, numbers, secrets.token_hex(4))
    try:
        web.start()
        tqdm.write(f"\n[1] POST /twilio/voice, {opts.threads} client threads, paced")
        for step in (warm.incoming, warm.menu):  # 200 of each, untimed
            paced_post(base, step, rate=50.0, seconds=4.0, threads=4)
        incoming, _ = paced(run, web, "incoming", timed.incoming, opts)
        webhook_figures(run, "`POST /twilio/voice` (incoming call)", incoming, opts, 1)
        tqdm.write("\n[2] POST /twilio/voice/menu with Digits=1 (enqueue in 'support'), paced")
        menu, _ = paced(run, web, "menu", _only(timed.menu, incoming.sent), opts)
        webhook_figures(run, "`POST /twilio/voice/menu`, `Digits=1` (enqueue)", menu, opts, 2)
    finally:
        web.stop()
    run.details["end_state"] = end_state(url)
    tqdm.write(f"after the run: {run.details['end_state']}")
    measure_inprocess(run, server, numbers, 200)


def measure_inprocess(run: Run, server: str, numbers: list[str], samples: int) -> None:
    """Each webhook through Flask's test client, one at a time: its SQL statements, the time
    spent in them and the rest, to show where a request's time goes (no HTTP, no concurrency)."""
    tqdm.write(f"\n[1b, 2b] the webhooks in-process, one at a time ({samples} each)")
    token = secrets.token_urlsafe(24)
    base = "http://localhost"  # what the test client calls
    prefix = secrets.token_hex(4)
    known = Calls(base, token, numbers, prefix[:7] + "1", unknown_every=0)
    unknown = Calls(base, token, numbers, prefix[:7] + "2", unknown_every=1)
    settings = {"TWILIO_AUTH_TOKEN": token, "TWILIO_ACCOUNT_SID": "", "PUBLIC_BASE_URL": base}
    warmup = 20
    results: dict[str, Any] = {}
    # Without a broker, each enqueue's dispatch task runs here and logs a line; keep the output
    # to the figures.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    with application(pg.sqlalchemy_url(server, VOICE_DB), settings) as app:
        client = app.test_client()
        log = QueryLog(engine_of(app))

        def post(request: tuple[str, dict[str, str], dict[str, str]]) -> None:
            path, form, headers = request
            response = client.post(path, data=form, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"POST {path}: {response.status_code}")

        shapes = {
            "POST /twilio/voice, known caller": known.incoming,
            "POST /twilio/voice, unknown caller": unknown.incoming,
            "POST /twilio/voice/menu, Digits=1": known.menu,  # the calls just made
        }
        for name, request_for in shapes.items():
            for i in range(warmup):
                post(request_for(samples + i))
            with log.attached():
                timings = []
                for i in range(samples):
                    started = time.perf_counter()
                    post(request_for(i))
                    timings.append(time.perf_counter() - started)
                summary = summarise(timings)
                results[name] = {
                    "latency": summary.as_dict(),
                    "statements": log.count / samples,
                    "sql_ms": log.sql_seconds / samples * 1000,
                }
            tqdm.write(
                f"{name:<36} {summary.brief()} | SQL {results[name]['sql_ms']:.2f} ms over "
                f"{results[name]['statements']:.1f} statements"
            )
            run.add(
                Figure(
                    f"{name}, in-process, one at a time "
                    f"({results[name]['statements']:.0f} statements, "
                    f"{results[name]['sql_ms']:.1f} ms in SQL)",
                    "-",
                    f"p50 {summary.p50_ms:.1f} ms, p95 {summary.p95_ms:.1f} ms",
                    None,
                    group=2 if "menu" in name else 1,
                )
            )
    run.details["inprocess"] = results


def _only(request_for: RequestFor, count: int) -> RequestFor:
    """The first `count` requests, then the same ones again (never a call that was not made)."""

    def pick(i: int) -> tuple[str, dict[str, str], dict[str, str]]:
        return request_for(i % max(count, 1))

    return pick


def run(opts: Options) -> Run:
    server = pg.server_url()
    result = Run(options=opts, machine=machine.describe(server))
    tqdm.write("voice benchmark on " + machine.one_line(result.machine))
    started = time.perf_counter()
    routing_decision.measure(result, opts.decisions)
    password = secrets.token_urlsafe(16)
    try:
        layout = prepare(server, VOICE_DB, opts.scale, password, opts.reuse)
        result.details["layout"] = layout.as_dict()
        measure_webhooks(result, opts, server)
    finally:
        if not opts.keep:
            pg.drop_database(server, VOICE_DB)
            tqdm.write(f"dropped {VOICE_DB}")
    result.details["seconds"] = time.perf_counter() - started
    result.machine["load_average_at_end"] = machine.load_average()
    save(result, "voice", RESULTS)
    return result
