"""Customer models benchmark: training time at 100,000 customers.

A synthetic warehouse of `--models-customers` customers (helpdesk.analytics.synthetic: about three
years of invoices, calls, tickets, texts, e-mails and surveys each) is written to a temporary
folder, then `helpdesk.analytics.service.train_and_score` runs as the daily job does: features at
three cutoffs over DuckDB (T - 180 d, T - 90 d, T), the BG/NBD and Gamma-Gamma fit with its
hold-out check, the churn model's two periods, scoring everyone, and the bulk write of every
score to the database (SQLite here, with the customers inserted first). The figures are the time
of each part and of the whole, with the quality figures the run measured (AUC, CLV hold-out
error) beside them.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert
from tqdm import tqdm

from bench import machine
from bench.inprocess import application
from bench.report import Figure, Run, save

RESULTS = Path(__file__).resolve().parent / "results"
END = date(2026, 12, 1)
TARGET_S = 300.0  # the whole training at 100,000 customers, daily: five minutes at most


@dataclass
class Options:
    customers: int = 100_000
    seed: int = 7


def run(opts: Options) -> Run:
    from helpdesk.analytics import service, synthetic
    from helpdesk.analytics.models import ModelRun
    from helpdesk.customers.models import Customer
    from helpdesk.extensions import db

    result = Run(
        options=opts,
        machine={
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "code": machine.code_version(),
            "load_average": machine.load_average(),
            "cpus": os.cpu_count(),
            "memory": machine._memory(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "postgresql": "not used (SQLite)",
        },
    )
    tqdm.write(
        f"models benchmark, {opts.customers} customers, load {result.machine['load_average']}"
    )
    work = Path(tempfile.mkdtemp(prefix="helpdesk-bench-models-"))
    try:
        started = time.perf_counter()
        synthetic.generate(work / "warehouse", customers=opts.customers, end=END, seed=opts.seed)
        generated = time.perf_counter() - started
        size = sum(f.stat().st_size for f in (work / "warehouse").rglob("*.parquet"))
        result.details.update(generate_s=generated, warehouse_bytes=size)
        with application(f"sqlite:///{work / 'bench.db'}") as app, app.app_context():
            db.create_all()
            rows = [
                {"id": i, "name": f"C{i}", "name_key": ""} for i in range(1, opts.customers + 1)
            ]
            for start in range(0, len(rows), 10_000):
                db.session.execute(insert(Customer), rows[start : start + 10_000])
            db.session.commit()
            bar = tqdm(total=5, desc="training", unit="step")
            trained = service.train_and_score(
                session=db.session,
                warehouse_dir=work / "warehouse",
                cutoff=END,
                progress=lambda _name: bar.update(1),
            )
            bar.close()
            runs = service.latest_runs(db.session)
            clv_run: ModelRun = runs["clv"]
            churn_run: ModelRun = runs["churn"]
            holdout = clv_run.metrics.get("holdout", {})
            result.details.update(
                total_s=trained.duration_s,
                clv_s=clv_run.duration_s,
                churn_s=churn_run.duration_s,
                scored=trained.scored,
                clv_method=clv_run.method,
                churn_method=churn_run.method,
                auc=churn_run.metrics.get("auc"),
                clv_total_error=holdout.get("total_error"),
                warehouse_rows_invoices=None,
            )
        result.add(
            Figure(
                f"training and scoring, {opts.customers:,} customers",
                f"< {TARGET_S:.0f} s",
                f"{trained.duration_s:.1f} s",
                trained.duration_s < TARGET_S,
                1,
            )
        )
        result.add(
            Figure(
                "of which CLV (features, hold-out, fit)", "", f"{clv_run.duration_s:.1f} s", None, 1
            )
        )
        result.add(
            Figure(
                "of which churn (3 feature sets, 2 fits)",
                "",
                f"{churn_run.duration_s:.1f} s",
                None,
                1,
            )
        )
        store = trained.duration_s - clv_run.duration_s - churn_run.duration_s
        result.add(Figure("of which storing the scores (SQLite)", "", f"{store:.1f} s", None, 1))
        result.add(
            Figure(
                "churn ROC AUC on the hold-out",
                "",
                f"{churn_run.metrics.get('auc', 0):.3f}",
                None,
                2,
            )
        )
        result.add(
            Figure(
                "CLV hold-out error on total purchases",
                "",
                f"{100 * (holdout.get('total_error') or 0):+.1f} %",
                None,
                2,
            )
        )
        result.add(
            Figure(
                "synthetic warehouse written",
                "",
                f"{generated:.1f} s, {size / 1e6:.0f} MB",
                None,
                3,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.machine["load_average_at_end"] = machine.load_average()
    save(result, "models", RESULTS)
    return result
