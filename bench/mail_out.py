"""E-mail outbox benchmark: messages per second from the outbox to a local SMTP server.

`python -m bench.mail_out [--messages N]`. On a fresh PostgreSQL database (migrated), one agent
replies on N e-mail tickets (N comments, N outbox rows, written as the console writes them, with
the sending task held back); then `helpdesk.mail.outbox.send()` sends every row, one after the
other in this one process: the work of one worker without its broker (claim and commit, build the
MIME message, SMTP to the server, record `sent` on the row and on the reply, commit). The server
is aiosmtpd in a process of its own on a loopback port, accepting everything; one SMTP connection
is kept across messages, as a worker keeps it. Target: 100 messages per second per worker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from bench import machine, pg
from bench.server import ROOT, CpuSample, free_port

DB = "helpdesk_bench_mail"
TARGET_PER_S = 100.0


@dataclass(frozen=True)
class Options:
    messages: int = 2000
    warmup: int = 100


def serve(port: int) -> None:
    """The SMTP server's process: accept every message, count them, until killed."""
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            Sink.count += 1
            return "250 2.0.0 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def _start_server(port: int) -> subprocess.Popen[str]:
    code = f"from bench.mail_out import serve; serve({port})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the SMTP server did not start")
    return proc


def _replies(app: Any, count: int) -> list[int]:
    """`count` agent replies on e-mail tickets; their outbox rows, not yet sent."""
    from helpdesk.auth import service as auth_service
    from helpdesk.customers import service as customers
    from helpdesk.extensions import db
    from helpdesk.mail import outbox
    from helpdesk.mail.models import MailMessage
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Channel

    held = outbox.send_after_commit
    outbox.send_after_commit = lambda session, row_id: None  # type: ignore[assignment]
    try:
        agent = auth_service.create_user(
            session=db.session,
            role="agent",
            email=f"bench-{time.time_ns()}@example.com",
            password="Bench-only-Passw0rd-2026!",
            name="Amélie Agent",
        )
        ids = []
        for n in range(count):
            customer = customers.create(
                db.session, name=f"Client {n}", emails=[f"client{n}@example.com"], phones=[]
            )
            ticket = tickets.create(
                db.session,
                actor=None,
                subject=f"Ma box ne marche plus ({n})",
                requester_id=customer.id,
                channel=Channel.EMAIL,
            )
            comment = tickets.add_comment(
                db.session,
                ticket,
                body="Bonjour,\n\nLe technicien passe demain entre 9 h et 11 h.\n\nCordialement",
                actor=agent,
            )
            ids.append(
                db.session.query(MailMessage.id)
                .filter(MailMessage.comment_id == comment.id)
                .one()[0]
            )
        return ids
    finally:
        outbox.send_after_commit = held  # type: ignore[assignment]


def _send_all(app: Any, ids: list[int]) -> float:
    from helpdesk.extensions import db
    from helpdesk.mail import outbox

    transport = app.extensions["mail_transport"]
    started = time.perf_counter()
    for row_id in ids:
        if outbox.send(db.session, row_id, transport) != "sent":
            raise RuntimeError(f"row {row_id} was not sent")
    return time.perf_counter() - started


def _measure(app: Any, opts: Options, smtp_pid: int) -> tuple[float, float, dict[str, float]]:
    """(seconds to write the replies, seconds to send them, CPU used while sending)."""
    _send_all(app, _replies(app, opts.warmup))
    started = time.perf_counter()
    ids = _replies(app, opts.messages)
    queued_s = time.perf_counter() - started
    before = CpuSample.take([smtp_pid], DB)
    sent_s = _send_all(app, ids)
    cpu = CpuSample.take([smtp_pid], DB).used_since(before)
    app.extensions["mail_transport"].close()
    return queued_s, sent_s, cpu


def _result(
    opts: Options, info: dict[str, Any], queued_s: float, sent_s: float, cpu: dict[str, float]
) -> dict[str, Any]:
    per_s = opts.messages / sent_s
    worker_ms = cpu["client_s"] * 1000 / opts.messages
    pg_ms = cpu["postgres_s"] * 1000 / opts.messages
    smtp_ms = cpu["server_s"] * 1000 / opts.messages
    return {
        "cpu_ms_per_message": {"worker": worker_ms, "postgres": pg_ms, "smtp_server": smtp_ms},
        # What the machine's other work took from the run: its share of the cores it had.
        "machine_busy_share": cpu["machine_busy_s"] / max(cpu["machine_total_s"], 1e-9),
        "messages": opts.messages,
        "send_seconds": sent_s,
        "per_second": per_s,
        "ms_per_message": sent_s * 1000 / opts.messages,
        "replies_per_second_written": opts.messages / queued_s,
        "target_met": per_s >= TARGET_PER_S,
        "load_average_after": machine.load_average(),
        **info,
    }


def run(opts: Options) -> dict[str, Any]:
    from helpdesk.app import create_app
    from helpdesk.migrate import upgrade

    server = pg.server_url()
    info = machine.describe(server)
    print(f"E-mail outbox: {opts.messages} messages; load average {info['load_average']}")
    pg.create_database(server, DB)
    upgrade(pg.sqlalchemy_url(server, DB))
    port = free_port()
    smtp = _start_server(port)
    instance = tempfile.mkdtemp(prefix="helpdesk-bench-mail-")
    try:
        app = create_app(
            {
                "DATABASE_URL": pg.sqlalchemy_url(server, DB),
                "MAIL_SMTP_URL": f"smtp://127.0.0.1:{port}",
                "MAIL_FROM": "Support <support@helpdesk.test>",
                "TESTING": True,
                "HELPDESK_SCHEDULER": False,
                "HELPDESK_INSTANCE_PATH": instance,
            }
        )
        with app.app_context():
            measured = _measure(app, opts, smtp.pid)
    finally:
        smtp.kill()
        smtp.wait(timeout=10)
        pg.drop_database(server, DB)
        shutil.rmtree(instance, ignore_errors=True)
    result = _result(opts, info, *measured)
    cpu = result["cpu_ms_per_message"]
    print(
        f"  sent {opts.messages} in {result['send_seconds']:.2f} s = {result['per_second']:.0f}"
        f" messages/s per worker ({result['ms_per_message']:.2f} ms each; target"
        f" {TARGET_PER_S:.0f}/s: {'met' if result['target_met'] else 'NOT met'})"
    )
    print(
        f"  CPU ms per message: worker {cpu['worker']:.2f}, PostgreSQL {cpu['postgres']:.2f}, "
        f"SMTP server {cpu['smtp_server']:.2f}; the machine busy {result['machine_busy_share']:.0%}"
    )
    print(
        f"  (replies written with their outbox rows: {result['replies_per_second_written']:.0f}/s)"
    )
    print(f"  load average after: {result['load_average_after']}; {info}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=Options.messages)
    parser.add_argument("--warmup", type=int, default=Options.warmup)
    args = parser.parse_args(argv)
    os.environ.setdefault("HELPDESK_LOG_FORMAT", "text")
    run(Options(messages=args.messages, warmup=args.warmup))


if __name__ == "__main__":
    main()
