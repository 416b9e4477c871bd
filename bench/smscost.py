"""What one inbound text costs the application: CPU, SQL statements and Redis round trips.

`bench/sms.py` measures the webhook's latency across processes on the full data set, where the
machine's load blurs small changes. This one posts Twilio's signed `POST /twilio/sms` through
the test client in this process, on PostgreSQL, with Redis as the scaled-out deployment has it
(Celery broker, Socket.IO queue, flood counters), and counts for each request the thread's CPU
time, the statements sent to PostgreSQL and the round trips to Redis (a command, or a whole
pipeline, is one), as `bench/callcost.py` does for a call. Three kinds of request:

- `new`: a customer's first text, which opens an SMS conversation and queues its acknowledgement;
- `reply`: the same customer's second text, a comment on that open conversation;
- `retry`: the reply's webhook delivered again (the same `MessageSid`), which must change nothing.

Statement and round-trip counts do not depend on the machine's speed: two versions of the code
compare on them fairly when run one after the other (`PYTHONPATH` at an exported tree).
Its own database (`BENCH_SMSCOST_DB`) and Redis database (`BENCH_REDIS_URL`), emptied after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import func, select
from tqdm import tqdm
from twilio.request_validator import RequestValidator

from bench import machine, pg
from bench.callcost import Counters, Meter, Tally
from bench.foundation import RESULTS
from bench.inprocess import application
from bench.report import Figure, Run, save
from bench.screenpop import redis_url

DB = os.environ.get("BENCH_SMSCOST_DB", "helpdesk_bench_smscost")
TOKEN = "bench-sms-webhook-token"
SECRET = "bench-only-secret-key"
OUR_NUMBER = "+33189700000"
BASE = "http://localhost"
KINDS = ("new", "reply", "retry")


@dataclass(frozen=True)
class Options:
    """How much to measure; `python -m bench --help` describes each."""

    texts: int = 200
    warmup: int = 20
    keep: bool = False


def number(i: int) -> str:
    return f"+336{10_000_000 + i:08d}"


def run(opts: Options) -> Run:
    from helpdesk.migrate import upgrade

    server = pg.server_url()
    rurl = redis_url()
    redis.Redis.from_url(rurl).flushdb()
    current = Run(options=opts, machine=machine.describe(server))
    pg.drop_database(server, DB)
    pg.create_database(server, DB)
    url = pg.sqlalchemy_url(server, DB)
    upgrade(url)
    extra = {
        "REDIS_URL": rurl,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_PHONE_NUMBER": OUR_NUMBER,
        "PUBLIC_BASE_URL": BASE,
        "SECRET_KEY": SECRET,
    }
    try:
        with application(url, extra) as app:
            _seed(app, opts.warmup + opts.texts)
            tallies = _texts(app, opts)
            outcome = _outcome(app)
        current.details["outcome"] = outcome
        _figures(current, tallies, opts, outcome)
    finally:
        redis.Redis.from_url(rurl).flushdb()
        if not opts.keep:
            pg.drop_database(server, DB)
    save(current, "smscost", RESULTS)
    return current


def _seed(app: Any, count: int) -> None:
    """`count` customers, each with a mobile number and no conversation yet."""
    from helpdesk.customers import service as customers
    from helpdesk.extensions import db

    with app.app_context():
        for i in range(count):
            customers.create(db.session, name=f"Texter {i}", phones=[number(i)], commit=False)
        db.session.commit()
        db.session.remove()


def _form(
    validator: RequestValidator, i: int, sid: str, body: str
) -> tuple[dict[str, str], dict[str, str]]:
    form = {
        "ToCountry": "FR",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": OUR_NUMBER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": number(i),
        "ApiVersion": "2010-04-01",
    }
    return form, {"X-Twilio-Signature": validator.compute_signature(BASE + "/twilio/sms", form)}


def _texts(app: Any, opts: Options) -> dict[str, Tally]:
    from helpdesk.extensions import db

    client = app.test_client()
    validator = RequestValidator(TOKEN)
    with app.app_context():
        engine = db.engine
    counters = Counters()
    remove = counters.install(engine)
    meter = Meter(counters)
    bodies = {"new": "Bonjour, ma box ne marche plus", "reply": "Toujours en panne ce soir"}
    try:
        for i in tqdm(range(opts.warmup + opts.texts), desc="texts", leave=False):
            counted = i >= opts.warmup
            for kind in KINDS:
                sid = f"SM{i:08d}{'new' if kind == 'new' else 'reply'}".ljust(34, "0")
                form, headers = _form(validator, i, sid, bodies.get(kind, bodies["reply"]))
                r = meter(kind, counted, client.post, "/twilio/sms", data=form, headers=headers)
                if r.status_code != 200:
                    raise RuntimeError(f"{kind} {i}: {r.status_code} {r.get_data(as_text=True)}")
    finally:
        remove()
    return meter.tallies


def _outcome(app: Any) -> dict[str, int]:
    """What the texts left: one inbound row per MessageSid, one ticket and ack per customer."""
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket
    from telephony.models import SmsMessage

    with app.app_context():
        s = db.session
        counts = {
            "inbound": s.scalar(select(func.count()).where(SmsMessage.direction == "inbound")),
            "acks": s.scalar(select(func.count()).where(SmsMessage.kind == "ack")),
            "tickets": s.scalar(select(func.count(Ticket.id))),
            "threaded": s.scalar(
                select(func.count()).where(
                    SmsMessage.direction == "inbound", SmsMessage.ticket_id.is_not(None)
                )
            ),
        }
        db.session.remove()
    return {k: int(v or 0) for k, v in counts.items()}


def _figures(run: Run, tallies: dict[str, Tally], opts: Options, outcome: dict[str, int]) -> None:
    for kind in KINDS:
        t = tallies[kind]
        n = t.runs or 1
        run.add(
            Figure(
                f"`POST /twilio/sms`, {kind}: CPU / SQL statements / Redis round trips, per text",
                "reported",
                f"{t.cpu_s / n * 1000:.2f} ms / {t.statements / n:.1f} / {t.round_trips / n:.1f}",
                None,
                group=1,
            )
        )
    run.details["steps"] = {k: vars(tallies[k]) for k in KINDS}
    total = opts.warmup + opts.texts
    expected = {"inbound": 2 * total, "acks": total, "tickets": total, "threaded": 2 * total}
    run.add(
        Figure(
            f"what {total} customers' texts left (inbound rows / acks / tickets / threaded)",
            " / ".join(str(expected[k]) for k in expected),
            " / ".join(str(outcome[k]) for k in expected),
            outcome == expected,
            group=2,
        )
    )
