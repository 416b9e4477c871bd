"""Dispatch benchmark: suggestions for one work order among 500 technicians, and a day route.

Figures, each against the target the dispatch issue set:

1. `ranking.rank` for one work order among 500 technicians around Paris, each with 0 to 4 jobs
   already planned that day (the pure ranking: filters, best insertion, order);
2. the same through the service, `planning.suggest(db.session, wo, ...)`, which also loads the
   500 technicians, their calendars and the day's jobs, on PostgreSQL (loopback) and on SQLite
   (the embedded default);
3. `routing.plan` for a 20-job day (nearest neighbour then 2-opt, windows of two to four hours),
   with how much 2-opt saves over nearest neighbour alone.

Each figure is a latency distribution over distinct random instances (seeded), after a warm-up.
"""

from __future__ import annotations

import gc
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench import machine, pg
from bench.foundation import RESULTS
from bench.report import Figure, Run, save
from bench.stats import summarise
from helpdesk.dispatch.geo import Point
from helpdesk.dispatch.ranking import Candidate, Job, rank
from helpdesk.dispatch.routing import Stop, nearest_neighbour, plan

SUGGEST_TARGET_MS = 50.0
ROUTE_TARGET_MS = 100.0
TECHNICIANS = 500
ROUTE_JOBS = 20
DISPATCH_DB = "helpdesk_bench_dispatch"
DAY = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 08:00 in Paris
SKILLS = ("fiber", "copper", "tv", "router", "electrical")


@dataclass(frozen=True)
class Options:
    samples: int = 200
    warmup: int = 20
    keep: bool = False


def _point(rng: random.Random) -> Point:
    return Point(48.86 + rng.uniform(-0.25, 0.25), 2.35 + rng.uniform(-0.4, 0.4))


def _jobs(rng: random.Random, count: int, base_id: int) -> tuple[Stop, ...]:
    out = []
    for i in range(count):
        start = DAY + timedelta(hours=rng.choice((1, 2, 3, 5, 6, 7)))
        out.append(
            Stop(
                base_id + i,
                _point(rng),
                rng.choice((30, 45, 60)) * 60.0,
                start,
                start + timedelta(hours=rng.choice((2, 3))),
            )
        )
    return tuple(sorted(out, key=lambda s: s.window_start or DAY))


def candidates(rng: random.Random) -> list[Candidate]:
    shift = ((DAY, DAY + timedelta(hours=10)),)
    return [
        Candidate(
            id=i,
            name=f"Technician {i}",
            skills=frozenset(rng.sample(SKILLS, rng.randint(1, 3))),
            start=_point(rng),
            start_time=DAY,
            shift=shift,
            max_jobs=6,
            jobs=_jobs(rng, rng.randint(0, 4), 10_000 + i * 10),
        )
        for i in range(TECHNICIANS)
    ]


def _job(rng: random.Random, i: int) -> Job:
    start = DAY + timedelta(hours=rng.choice((1, 2, 4, 6)))
    return Job(
        i, _point(rng), 3600.0, start, start + timedelta(hours=3), frozenset({rng.choice(SKILLS)})
    )


def measure_ranking(run: Run, opts: Options) -> None:
    tqdm.write(f"\n[1] ranking one work order among {TECHNICIANS} technicians (pure)")
    rng = random.Random(1)
    pool = candidates(rng)
    jobs = [_job(rng, i) for i in range(opts.samples + opts.warmup)]
    qualified = []
    timings = []
    for i, job in enumerate(jobs):
        began = time.perf_counter()
        found = rank(job, pool)
        elapsed = time.perf_counter() - began
        if i >= opts.warmup:
            timings.append(elapsed)
            qualified.append(len(found.suggestions))
    s = summarise(timings)
    run.details["ranking"] = {**s.as_dict(), "suggested_mean": sum(qualified) / len(qualified)}
    run.add(
        Figure(
            f"suggestions among {TECHNICIANS} technicians, pure ranking (p95)",
            f"<= {SUGGEST_TARGET_MS:.0f} ms",
            s.brief(),
            s.p95_ms <= SUGGEST_TARGET_MS,
            1,
        )
    )


def _seed_database(url: str, instance: Path) -> tuple[Any, list[int]]:
    from helpdesk.app import create_app
    from helpdesk.config import Settings
    from helpdesk.customers import service as customers
    from helpdesk.dispatch import service
    from helpdesk.dispatch.models import Technician, WorkOrder
    from helpdesk.dispatch.workflow import WorkOrderStatus
    from helpdesk.extensions import db
    from helpdesk.migrate import upgrade

    upgrade(url)
    app = create_app(
        Settings.from_env(
            env={},
            DATABASE_URL=url,
            HELPDESK_INSTANCE_PATH=str(instance),
            SECRET_KEY="bench",
            TESTING=True,
            HELPDESK_SCHEDULER=False,
        )
    )
    rng = random.Random(2)
    with app.app_context():
        customer = customers.create(db.session, name="Bench customer", phones=["+33612340000"])
        techs = [
            Technician(
                name=f"Technician {i}",
                phone=f"+3375{i:07d}",
                language="fr",
                skills=sorted(rng.sample(SKILLS, rng.randint(1, 3))),
                home_lat=48.86 + rng.uniform(-0.25, 0.25),
                home_lon=2.35 + rng.uniform(-0.4, 0.4),
                max_jobs_per_day=6,
                status="available",
            )
            for i in range(TECHNICIANS)
        ]
        db.session.add_all(techs)
        db.session.flush()
        day = service.local_day(DAY, "Europe/Paris")
        for t in techs:
            for position, stop in enumerate(_jobs(rng, rng.randint(0, 4), 0)):
                assert stop.window_start is not None and stop.window_end is not None
                db.session.add(
                    WorkOrder(
                        customer_id=customer.id,
                        summary="planned",
                        address="x",
                        lat=stop.point.lat,
                        lon=stop.point.lon,
                        duration_min=int(stop.duration_s // 60),
                        window_start=stop.window_start,
                        window_end=stop.window_end,
                        day=day,
                        status=WorkOrderStatus.SCHEDULED,
                        technician_id=t.id,
                        route_position=position,
                    )
                )
        orders = []
        for i in range(60):
            job = _job(rng, i)
            wo = WorkOrder(
                customer_id=customer.id,
                summary="to place",
                address="x",
                lat=job.point.lat,
                lon=job.point.lon,
                duration_min=60,
                window_start=job.window_start,
                window_end=job.window_end,
                day=day,
                required_skills=sorted(job.skills),
                status=WorkOrderStatus.UNSCHEDULED,
            )
            db.session.add(wo)
            db.session.flush()
            orders.append(wo.id)
        db.session.commit()
    return app, orders


def measure_service(run: Run, opts: Options, name: str, url: str, instance: Path) -> None:
    from helpdesk.dispatch import planning, service
    from helpdesk.dispatch.models import WorkOrder
    from helpdesk.extensions import db

    tqdm.write(f"\n[2] planning.suggest on {name}: {TECHNICIANS} technicians, their day's jobs")
    app, orders = _seed_database(url, instance)
    now = DAY - timedelta(days=1)  # the day before: every technician starts from home
    # As helpdesk/wsgi.py leaves the web process: start-up objects frozen out of the collector.
    gc.collect()
    gc.freeze()
    with app.app_context():
        settings = service.current_settings()
        timings = []
        cpu = []
        for i in range(opts.samples + opts.warmup):
            wo = db.session.get(WorkOrder, orders[i % len(orders)])
            assert wo is not None
            began, began_cpu = time.perf_counter(), time.thread_time()
            planning.suggest(db.session, wo, settings=settings, now=now)
            elapsed, elapsed_cpu = time.perf_counter() - began, time.thread_time() - began_cpu
            db.session.rollback()  # a fresh transaction, as each request has
            if i >= opts.warmup:
                timings.append(elapsed)
                cpu.append(elapsed_cpu)
        db.session.remove()
        db.engine.dispose()
    gc.unfreeze()
    s = summarise(timings)
    c = summarise(cpu)
    run.details[f"suggest_{name}"] = {"wall": s.as_dict(), "cpu": c.as_dict()}
    run.add(
        Figure(
            f"suggestions through the service on {name}, with the loading (p95)",
            f"<= {SUGGEST_TARGET_MS:.0f} ms",
            s.brief(),
            s.p95_ms <= SUGGEST_TARGET_MS,
            2,
        )
    )
    run.add(
        Figure(
            f"  the same, CPU time of the calling thread on {name} (p95)",
            "-",
            c.brief(),
            None,
            2,
        )
    )


def measure_route(run: Run, opts: Options) -> None:
    tqdm.write(f"\n[3] a {ROUTE_JOBS}-job day route: nearest neighbour + 2-opt with windows")
    rng = random.Random(3)
    timings = []
    savings = []
    late = nn_late = 0
    travel_saved = []
    for i in range(opts.samples + opts.warmup):
        stops = []
        for j in range(ROUTE_JOBS):
            start = DAY + timedelta(minutes=rng.randrange(0, 8 * 60, 30))
            stops.append(
                Stop(
                    j,
                    Point(48.86 + rng.uniform(-0.08, 0.08), 2.35 + rng.uniform(-0.12, 0.12)),
                    rng.choice((10, 15, 20)) * 60.0,
                    start,
                    start + timedelta(hours=rng.choice((2, 3, 4))),
                )
            )
        home = _point(rng)
        began = time.perf_counter()
        best = plan(home, DAY, stops)
        elapsed = time.perf_counter() - began
        if i >= opts.warmup:
            timings.append(elapsed)
            nn = nearest_neighbour(home, DAY, stops)
            savings.append(1 - best.cost / nn.cost if nn.cost else 0.0)
            late += best.late_s > 0
            nn_late += nn.late_s > 0
            if best.late_s == nn.late_s == 0:
                travel_saved.append(1 - best.travel_s / nn.travel_s)
    s = summarise(timings)
    never_worse = min(savings) >= 0
    run.details["route"] = {
        **s.as_dict(),
        "mean_cost_saving_vs_nn": sum(savings) / len(savings),
        "days_late_after_nn": nn_late,
        "days_late_after_2opt": late,
        "mean_travel_saving_when_both_on_time": (
            sum(travel_saved) / len(travel_saved) if travel_saved else None
        ),
    }
    run.add(
        Figure(
            f"day route for {ROUTE_JOBS} jobs (p95)",
            f"<= {ROUTE_TARGET_MS:.0f} ms",
            s.brief(),
            s.p95_ms <= ROUTE_TARGET_MS,
            3,
        )
    )
    travel = (
        f"{sum(travel_saved) / len(travel_saved):.1%} less driving on the {len(travel_saved)} "
        "days both keep every window"
        if travel_saved
        else "no day where both keep every window"
    )
    run.add(
        Figure(
            "2-opt against nearest neighbour",
            "never worse",
            f"days with a late job: {nn_late} -> {late} of {len(savings)}; {travel}",
            never_worse,
            3,
        )
    )


def run(opts: Options) -> None:
    server = pg.server_url()
    record = Run(options=opts, machine=machine.describe(server))
    began = time.perf_counter()
    measure_ranking(record, opts)
    measure_route(record, opts)
    with tempfile.TemporaryDirectory() as tmp:
        measure_service(record, opts, "SQLite", f"sqlite:///{tmp}/bench.sqlite3", Path(tmp))
        pg.create_database(server, DISPATCH_DB)
        try:
            measure_service(
                record, opts, "PostgreSQL", pg.sqlalchemy_url(server, DISPATCH_DB), Path(tmp)
            )
        finally:
            if not opts.keep:
                pg.drop_database(server, DISPATCH_DB)
    record.machine["load_average_at_end"] = machine.load_average()
    record.details["seconds"] = time.perf_counter() - began
    save(record, "dispatch", RESULTS)
