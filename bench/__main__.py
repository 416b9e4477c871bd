"""`python -m bench [benchmark] [options]`: run benchmarks and print their figures.

With no benchmark named, every benchmark runs: `foundation` (tickets, customers and the REST API),
`sla` (business-time arithmetic and the breach scan), `voice` (Twilio webhooks and routing),
`sms` (the inbound SMS webhook and the outbox), `screenpop` (the caller screen across
processes through Redis, many agent sockets on one process, and screen pops with the API
saturated, one process against the Procfile's split), `callcost` (the CPU, SQL
statements and Redis round trips of one whole call, in process), `smscost` (the same for one
inbound text: a new conversation, a reply, a retried webhook), `supervision` (wallboard
delivery delay and call reports over the call log), `dispatch` (technician suggestions and
day routes), `kb` (knowledge-base indexing and search), `sqlite_deadline` (what the
SQLite statement deadline costs each statement), `mail_in` (the raw-MIME ingress and IMAP
arrival to the live event) and `controls` (a call control's latency, from the click to the
Twilio request and to the caller's state in the simulator), `bulk` (a status change of 1,000
tickets through the API, and its undo), `portal` (the customer portal's pages at a million
tickets), `warehouse` (the analytics export of a million tickets and calls, and its page) and
`models` (training the customer lifetime value and churn models at 100,000 customers) and
`ticketpath` (the CPU, SQL statements and Redis round trips of a ticket create, change and note
through the API, in process).
`callcenter` (the whole call center under load, `bench/load/`) and `peer` (ours side by side with
django-helpdesk and a one-INSERT floor; it installs the peer into a virtualenv of its own) and
`instructions` (instructions executed per ticket create, fetch and whole call, counted by
valgrind's callgrind, optionally beside another commit's tree) run only when named.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bench import (
    bulk,
    callcost,
    controls,
    dispatch,
    foundation,
    kb,
    mail_in,
    models,
    portal,
    screenpop,
    sla,
    sms,
    smscost,
    sqlite_deadline,
    supervision,
    ticketpath,
    voice,
    warehouse,
)


def _foundation(args: argparse.Namespace) -> None:
    foundation.run(
        foundation.Options(
            scale=args.scale,
            samples=args.samples,
            warmup=args.warmup,
            concurrency=args.concurrency,
            post_requests=args.post_requests,
            post_seconds=args.post_seconds,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


def _sla(args: argparse.Namespace) -> None:
    sla.run(
        sla.Options(
            scale=args.scale,
            calendar_samples=args.calendar_samples,
            repeats=args.scan_repeats,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


def _voice(args: argparse.Namespace) -> None:
    voice.run(
        voice.Options(
            scale=args.scale,
            rate=args.call_rate,
            seconds=args.call_seconds,
            threads=args.call_threads,
            decisions=args.decisions,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


def _mail_in(args: argparse.Namespace) -> None:
    mail_in.run(mail_in.Options(messages=args.mail_messages, arrivals=args.mail_arrivals))


def _sms(args: argparse.Namespace) -> None:
    sms.run(
        sms.Options(
            scale=args.scale,
            rate=args.sms_rate,
            seconds=args.sms_seconds,
            threads=args.call_threads,
            outbox=args.outbox,
            worker=not args.no_worker,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


def _screenpop(args: argparse.Namespace) -> None:
    screenpop.run(
        screenpop.Options(
            rate=args.pop_rate,
            seconds=args.pop_seconds,
            warmup=args.pop_warmup,
            agents=args.pop_agents,
            timeline=args.pop_timeline,
            sockets=args.sockets,
            keep=args.keep,
            pops=not args.no_pops,
            saturated_seconds=args.saturated_seconds,
            saturating_clients=args.saturating_clients,
        )
    )


def _smscost(args: argparse.Namespace) -> None:
    smscost.run(smscost.Options(texts=args.sms_texts, keep=args.keep))


def _instructions(args: argparse.Namespace) -> None:
    from bench import instructions

    instructions.run(
        instructions.Options(
            requests=args.instr_requests, calls=args.instr_calls, against=args.against
        )
    )


def _callcost(args: argparse.Namespace) -> None:
    callcost.run(
        callcost.Options(
            calls=args.cost_calls,
            agents=args.pop_agents,
            timeline=args.pop_timeline,
            reloads=tuple(m for m in args.cost_reloads.split(",") if m),
            keep=args.keep,
        )
    )


def _kb(args: argparse.Namespace) -> None:
    kb.run(
        kb.Options(
            articles=args.kb_articles,
            queries=args.kb_queries,
            keep=args.keep,
        )
    )


def _supervision(args: argparse.Namespace) -> None:
    supervision.run(
        supervision.Options(
            rate=args.events_rate,
            seconds=args.events_seconds,
            report_calls=args.report_calls,
            keep=args.keep,
        )
    )


def _dispatch(args: argparse.Namespace) -> None:
    dispatch.run(
        dispatch.Options(samples=args.dispatch_samples, warmup=args.dispatch_warmup, keep=args.keep)
    )


def _sqlite_deadline(args: argparse.Namespace) -> None:
    sqlite_deadline.run(sqlite_deadline.Options())


def _bulk(args: argparse.Namespace) -> None:
    bulk.run(
        bulk.Options(
            scale=args.bulk_scale,
            tickets=args.bulk_tickets,
            repeats=args.bulk_repeats,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


def _warehouse(args: argparse.Namespace) -> None:
    warehouse.run(
        warehouse.Options(
            scale=args.scale,
            samples=args.warehouse_samples,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


def _portal(args: argparse.Namespace) -> None:
    portal.run(
        portal.Options(
            scale=args.scale,
            requests=args.portal_requests,
            clients=args.portal_clients,
            warmup=args.warmup,
            typical=args.portal_typical,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


def _models(args: argparse.Namespace) -> None:
    models.run(models.Options(customers=args.models_customers))


def _controls(args: argparse.Namespace) -> None:
    controls.run(controls.Options())


def _ticketpath(args: argparse.Namespace) -> None:
    ticketpath.run(ticketpath.Options(requests=args.ticket_requests, keep=args.keep))


def _peer(args: argparse.Namespace) -> None:
    from bench.peer import run as peer

    if args.profile:
        from bench.peer import profiling

        profiling.run_profile(
            tickets=10_000, requests_n=args.profile_requests, clients=args.peer_clients
        )
        return
    changes = {"clients": args.peer_clients, "keep": args.keep, "peer_venv": args.peer_venv}
    if args.peer_rounds is not None:
        changes["rounds"] = args.peer_rounds
    opts = peer.Options.quick(**changes) if args.quick else peer.Options(**changes)
    peer.run(opts)


def _callcenter(args: argparse.Namespace) -> None:
    from bench.load import callcenter

    callcenter.main(
        [
            f"--agents={args.load_agents}",
            f"--rate={args.load_rate}",
            f"--seconds={args.load_seconds}",
            f"--web={args.load_web}",
        ]
    )


BENCHMARKS: dict[str, Callable[[argparse.Namespace], None]] = {
    "foundation": _foundation,
    "sla": _sla,
    "voice": _voice,
    "sms": _sms,
    "screenpop": _screenpop,
    "callcost": _callcost,
    "ticketpath": _ticketpath,
    "smscost": _smscost,
    "supervision": _supervision,
    "dispatch": _dispatch,
    "kb": _kb,
    "sqlite_deadline": _sqlite_deadline,
    "controls": _controls,
    "callcenter": _callcenter,
    "mail_in": _mail_in,
    "bulk": _bulk,
    "portal": _portal,
    "peer": _peer,
    "instructions": _instructions,
    "warehouse": _warehouse,
    "models": _models,
}

# Long and heavy: the whole deployment under load.
ONLY_WHEN_NAMED = {"callcenter", "peer", "instructions"}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "benchmarks",
        nargs="*",
        metavar="benchmark",
        help=f"which to run: {', '.join(BENCHMARKS)} (default: all)",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="data size relative to the recorded one (1,000,000 tickets); 0.01 for a quick run",
    )
    p.add_argument("--samples", type=int, default=400, help="timed requests per figure")
    p.add_argument("--warmup", type=int, default=40, help="untimed requests before each figure")
    p.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="client connections for the ticket-creation load",
    )
    p.add_argument(
        "--post-requests",
        type=int,
        default=6_000,
        help="tickets to create in the load test (it also stops at --post-seconds)",
    )
    p.add_argument("--post-seconds", type=float, default=30.0)
    p.add_argument(
        "--calendar-samples",
        type=int,
        default=50_000,
        help="sla: due dates computed per pass of the calendar figure",
    )
    p.add_argument(
        "--scan-repeats",
        type=int,
        default=7,
        help="sla: timed breach scans for each number of clocks due",
    )
    p.add_argument(
        "--call-rate", type=float, default=100.0, help="voice: webhook requests per second"
    )
    p.add_argument(
        "--call-seconds",
        type=float,
        default=30.0,
        help="voice: how long each webhook is driven at --call-rate",
    )
    p.add_argument(
        "--call-threads", type=int, default=8, help="voice: client threads sending webhooks"
    )
    p.add_argument(
        "--decisions",
        type=int,
        default=5_000,
        help="voice: routing decisions timed for each figure",
    )
    p.add_argument(
        "--mail-messages", type=int, default=2000, help="mail_in: messages posted to the ingress"
    )
    p.add_argument(
        "--mail-arrivals", type=int, default=60, help="mail_in: messages appended over IMAP"
    )
    p.add_argument("--sms-rate", type=float, default=100.0, help="sms: inbound texts per second")
    p.add_argument(
        "--sms-seconds",
        type=float,
        default=30.0,
        help="sms: how long the inbound webhook is driven at --sms-rate",
    )
    p.add_argument(
        "--outbox", type=int, default=5_000, help="sms: queued outbound messages sent per figure"
    )
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="sms: skip the outbox figure through Redis and a Celery worker",
    )
    p.add_argument("--pop-rate", type=float, default=20.0, help="screenpop: offers made per second")
    p.add_argument(
        "--pop-seconds", type=float, default=30.0, help="screenpop: how long offers are made"
    )
    p.add_argument(
        "--pop-warmup",
        type=float,
        default=2.0,
        help="screenpop: seconds of offers at the same pace before the timed ones",
    )
    p.add_argument("--pop-agents", type=int, default=40, help="screenpop: agents taking the calls")
    p.add_argument(
        "--pop-timeline",
        type=int,
        default=5_000,
        help="screenpop: timeline entries of the calling customer",
    )
    p.add_argument(
        "--ticket-requests",
        type=int,
        default=400,
        help="ticketpath: requests of each kind (create, change, note) measured in process",
    )
    p.add_argument(
        "--cost-calls", type=int, default=150, help="callcost: whole calls measured in process"
    )
    p.add_argument(
        "--instr-requests",
        type=int,
        default=200,
        help="instructions: ticket creates and fetches counted",
    )
    p.add_argument("--instr-calls", type=int, default=20, help="instructions: whole calls counted")
    p.add_argument(
        "--against",
        default="",
        help="instructions: a git revision whose tree is measured beside this one",
    )
    p.add_argument(
        "--sms-texts",
        type=int,
        default=200,
        help="smscost: customers whose first text, reply and retried reply are measured",
    )
    p.add_argument(
        "--cost-reloads",
        default="",
        help="callcost: when the agent's console also fetches its snapshot during a call, comma"
        " separated among offer,connected,ended,available (none today; all four before the"
        " console applied the call events itself)",
    )
    p.add_argument(
        "--sockets", type=int, default=1_000, help="screenpop: agent sockets on one sockets process"
    )
    p.add_argument(
        "--no-pops",
        action="store_true",
        help="screenpop: skip the screen pops through the worker (figure 1)",
    )
    p.add_argument(
        "--saturated-seconds",
        type=float,
        default=20.0,
        help="screenpop: seconds of screen pops with the API saturated, for each server model"
        " (one process, then the Procfile's split); 0 skips that figure",
    )
    p.add_argument(
        "--saturating-clients",
        type=int,
        default=24,
        help="screenpop: API clients saturating the web processes meanwhile",
    )
    p.add_argument(
        "--events-rate", type=float, default=100.0, help="supervision: call events per second"
    )
    p.add_argument(
        "--events-seconds", type=float, default=30.0, help="supervision: how long events are paced"
    )
    p.add_argument(
        "--report-calls",
        type=int,
        default=1_000_000,
        help="supervision: logged calls the historical report runs over",
    )
    p.add_argument(
        "--dispatch-samples", type=int, default=200, help="dispatch: timed calls per figure"
    )
    p.add_argument(
        "--dispatch-warmup", type=int, default=20, help="dispatch: untimed calls per figure"
    )
    p.add_argument(
        "--kb-articles", type=int, default=100_000, help="kb: generated articles indexed"
    )
    p.add_argument("--kb-queries", type=int, default=640, help="kb: timed queries per backend")
    p.add_argument(
        "--bulk-scale",
        type=float,
        default=0.1,
        help="bulk: data size of its own database (0.1: 100,000 tickets)",
    )
    p.add_argument("--bulk-tickets", type=int, default=1_000, help="bulk: tickets per change")
    p.add_argument(
        "--bulk-repeats", type=int, default=5, help="bulk: timed changes (each with its undo)"
    )
    p.add_argument(
        "--models-customers",
        type=int,
        default=100_000,
        help="models: synthetic customers to train the CLV and churn models on",
    )
    p.add_argument(
        "--portal-requests", type=int, default=500, help="portal: timed requests per page figure"
    )
    p.add_argument(
        "--portal-clients", type=int, default=4, help="portal: concurrent client connections"
    )
    p.add_argument(
        "--warehouse-samples",
        type=int,
        default=200,
        help="warehouse: timed GET /analytics after the first",
    )
    p.add_argument(
        "--portal-typical",
        type=int,
        default=20,
        help="portal: tickets of the typical customer (the other one has the most)",
    )
    p.add_argument("--load-agents", type=int, default=40, help="callcenter: agents on sockets")
    p.add_argument("--load-rate", type=float, default=5.0, help="callcenter: new calls per second")
    p.add_argument("--load-seconds", type=float, default=30.0, help="callcenter: load duration")
    p.add_argument("--load-web", type=int, default=2, help="callcenter: web processes")
    p.add_argument(
        "--peer-rounds",
        type=int,
        default=None,
        help="peer: alternated rounds of each figure (default 3, 1 with --quick)",
    )
    p.add_argument(
        "--peer-clients", type=int, default=4, help="peer: concurrent client connections"
    )
    p.add_argument(
        "--peer-venv",
        default=str(Path.home() / ".cache" / "helpdesk-bench" / "peer-venv"),
        help="peer: the virtualenv the peer is installed into (reused when it has the release)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="peer: instead of the comparison, profile our ticket create in the web worker",
    )
    p.add_argument(
        "--profile-requests", type=int, default=2_000, help="peer: tickets created when profiling"
    )
    p.add_argument(
        "--quick", action="store_true", help="peer: a smoke run (one short round, 1,000 tickets)"
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the benchmark databases instead of dropping them at the end",
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="use databases kept by an earlier --keep run at the same scale",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    cli = parser()
    args = cli.parse_args(argv)
    unknown = sorted(set(args.benchmarks) - set(BENCHMARKS))
    if unknown:
        cli.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in args.benchmarks or [n for n in BENCHMARKS if n not in ONLY_WHEN_NAMED]:
        BENCHMARKS[name](args)


if __name__ == "__main__":
    main()
