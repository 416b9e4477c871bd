"""The `helpdesk` command: serve, worker, beat, check, demo, users, db."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from helpdesk.auth.models import Role


def _app(role: str = "cli") -> Flask:
    from helpdesk.app import create_app

    return create_app(role=role)


@click.group(help="Call-center helpdesk. Configuration comes from the environment (see README).")
def main() -> None:
    pass


def _mail_commands() -> None:
    from helpdesk.mail.commands import group

    main.add_command(group(_app), "mail")


_mail_commands()


def _consent_commands() -> None:
    from helpdesk.consent.commands import group

    main.add_command(group(_app), "consent")


_consent_commands()


# -- database ----------


@main.group(help="Database schema (Alembic).")
def db() -> None:
    pass


@db.command("upgrade", help="Migrate the database to the latest schema.")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from helpdesk import migrate
    from helpdesk.config import Settings

    settings = Settings.from_env()
    url = settings.DATABASE_URL
    migrate.upgrade(url, revision)
    click.echo(f"database at {revision}: {_redact(url)}")
    if revision == "head":
        _create_ivr_queues(url, settings.HELPDESK_INSTANCE_PATH)


def _create_ivr_queues(url: str, instance_path: str) -> None:
    """First-run step: the queues the IVR menu names exist, so that a fresh install (no demo)
    routes its callers; idempotent, it creates only what is missing."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from helpdesk.models import load_all
    from telephony import ivr, ivr_queues

    load_all()
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            # The menu callers hear: the newest published version, else the file's.
            version = ivr.active_version(session)
            config = ivr.load_file(instance_path)
            if version is not None:
                config = ivr.completed(version.config, config)
            created = ivr_queues.create_missing(session, config)
            dead = ivr_queues.dead_keys(session, config)
    finally:
        engine.dispose()
    keys = ivr_queues.menu_queues(config)
    for name in created:
        pressed = ", ".join(k for k, q in keys.items() if q == name)
        click.echo(f"created queue {name} (IVR key {pressed})")
    for key in dead:
        click.echo(f"warning: {key.message}", err=True)


@db.command("downgrade", help="Step the schema back to REVISION.")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from helpdesk import migrate
    from helpdesk.config import Settings

    migrate.downgrade(Settings.from_env().DATABASE_URL, revision)


@db.command("current", help="Show the schema revision.")
def db_current() -> None:
    from helpdesk import migrate
    from helpdesk.config import Settings

    migrate.current(Settings.from_env().DATABASE_URL)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# -- serving ----------


@main.command(help="Serve the console and API on gunicorn (one process, websockets on threads).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=lambda: int(os.environ.get("PORT", "5000")),
    type=int,
    show_default="5000 or $PORT",
)
@click.option("--threads", type=int, default=None, help="Worker threads [$WEB_THREADS or 256]")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="Periodic jobs log at info; warnings and errors are what an operator acts on.",
)
def serve(host: str, port: int, threads: int | None, log_level: str) -> None:
    from helpdesk.serving import EmbeddedServer, gunicorn_options

    # The port decides the default public address (webhook signatures, links sent out).
    os.environ["PORT"] = str(port)

    def build() -> Flask:
        from helpdesk.mail.imap_tasks import embedded_jobs
        from helpdesk.scheduler import InProcessScheduler
        from telephony import sms_spool

        app = _app("web")
        logging.getLogger().setLevel(log_level.upper())
        if not app.config.get("REDIS_URL") and app.config.get("HELPDESK_SCHEDULER"):
            InProcessScheduler(app.extensions["celery"]).start()
            # The mailbox on a thread of its own: a slow IMAP server never delays ring timeouts.
            mail_jobs = embedded_jobs(app.config["HELPDESK_SETTINGS"])
            if mail_jobs:
                InProcessScheduler(app.extensions["celery"], mail_jobs).start()
        sms_spool.resume(app)  # texts kept on disk while the database was away
        return app

    def ready(app: Flask) -> None:
        from helpdesk import demo as demo_data

        with app.app_context():
            demo_data.print_logins(click.echo, existing_only=True)
            _print_center_hours(app)
        click.echo(f"Helpdesk console on http://{host}:{port}  (Ctrl-C to stop)")

    options = gunicorn_options(host=host, port=port, threads=threads)
    EmbeddedServer(build, options, ready=ready).run()


def _print_center_hours(app: Flask) -> None:
    """Closed, every call goes to voicemail: say it before anyone places a call and wonders."""
    from helpdesk.extensions import db
    from helpdesk.sla.hours import center_hours

    hours = center_hours(db.session)
    db.session.remove()
    if hours.open:
        click.echo(f"The center is open now (calendar {hours.calendar_name!r}): calls reach agents")
        return
    when = hours.next_open.strftime("%Y-%m-%d %H:%M UTC") if hours.next_open else "never"
    click.echo(
        f"The center is closed now (calendar {hours.calendar_name!r}; opens {when}): calls go to "
        "voicemail. An admin can open it around the clock from the Simulator page."
    )


@main.command(
    context_settings={"ignore_unknown_options": True},
    help="Run a Celery worker (needs REDIS_URL). Extra options go to Celery.",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    import gc

    celery = _app("worker").extensions["celery"]
    if os.environ.get("HELPDESK_METRICS_PORT"):
        from helpdesk.metrics import serve_worker_metrics

        serve_worker_metrics(int(os.environ["HELPDESK_METRICS_PORT"]))
    gc.freeze()  # start-up objects live as long as the worker: keep collections short
    celery.worker_main(["worker", "--loglevel=INFO", *celery_args])


@main.command(
    context_settings={"ignore_unknown_options": True},
    help="Run Celery beat, the one scheduler of periodic jobs (needs REDIS_URL).",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    from helpdesk.config import DEFAULT_INSTANCE

    given = any(a in ("-s", "--schedule") or a.startswith("--schedule=") for a in celery_args)
    # Checked before the app is built, which itself writes its secrets under the same folder.
    instance = Path(os.environ.get("HELPDESK_INSTANCE_PATH") or DEFAULT_INSTANCE)
    schedule = [] if given else ["--schedule", str(_beat_schedule(instance))]
    app = _app("worker")
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "beat needs REDIS_URL (without a broker, the web process runs the periodic jobs)"
        )
    app.extensions["celery"].start(["beat", "--loglevel=INFO", *schedule, *celery_args])


def _beat_schedule(instance: Path) -> Path:
    """Where beat keeps its last run times: under the instance path (`HELPDESK_INSTANCE_PATH`),
    created if missing, whatever the working directory. A folder beat cannot write stops it here
    with the reason, before Celery starts and fails on the file later."""
    try:
        instance.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(
            f"beat cannot create {instance} for its schedule (HELPDESK_INSTANCE_PATH): "
            f"{exc.strerror or exc}"
        ) from exc
    if not os.access(instance, os.W_OK | os.X_OK):
        raise click.ClickException(
            f"beat cannot write its schedule in {instance} (HELPDESK_INSTANCE_PATH): "
            "permission denied"
        )
    return instance / "celerybeat-schedule"


# -- checks ----------


@main.command(
    help="Check the installation: database and schema, broker, that every IVR menu key "
    "leads to an active queue and that every SLA calendar opens. Exits non-zero on any problem."
)
def check() -> None:
    from helpdesk import migrate
    from helpdesk.extensions import db as database
    from helpdesk.health import report

    app = _app("worker")
    problems = 0

    def line(ok: bool, text: str) -> None:
        nonlocal problems
        problems += not ok
        click.echo(f"{'ok  ' if ok else 'FAIL'}  {text.strip()}", err=not ok)

    with app.app_context():
        body = report()
        db_ok = body["database"]["ok"]
        line(db_ok, f"database ({body['database']['backend']}) {body['database'].get('error', '')}")
        if db_ok:
            with database.engine.connect() as conn:
                current, head = migrate.revisions(conn)
            line(
                current == head,
                f"schema at {current}"
                if current == head
                else f"schema at {current}, code at {head}: run `helpdesk db upgrade`",
            )
        broker = body["broker"]
        line(broker["ok"], f"broker ({broker['backend']}) {broker.get('error', '')}")
        if not db_ok or current != head:
            # Without the tables the IVR and SLA checks only repeat the schema's problem as SQL.
            click.echo("skip  IVR and SLA calendars: they need the database at the current schema")
            raise click.ClickException(f"{problems} problem{'s' if problems > 1 else ''} found")
        ivr = body["ivr"]
        if "error" in ivr:
            line(False, f"IVR queues: {ivr['error']}")
        elif not ivr["dead_keys"]:
            line(True, "IVR: every queue key leads to an active queue")
        for dead in ivr.get("dead_keys", []):
            line(False, dead["message"])
        sla = body["sla"]
        if "error" in sla:
            line(False, f"SLA calendars: {sla['error']}")
        elif not sla["never_open_calendars"]:
            line(True, "SLA: every calendar opens")
        for cal in sla.get("never_open_calendars", []):
            line(
                False,
                f"calendar {cal['name']!r} (id {cal['id']}) never opens: tickets under a "
                "policy on it get no SLA clock",
            )
    if problems:
        raise click.ClickException(f"{problems} problem{'s' if problems > 1 else ''} found")


# -- demo data ----------


@main.command(help="Seed realistic demo data (customers, tickets, staff) into an empty database.")
@click.option("--customers", default=300, show_default=True, envvar="HELPDESK_DEMO_CUSTOMERS")
@click.option("--tickets", default=3000, show_default=True, envvar="HELPDESK_DEMO_TICKETS")
@click.option("--seed", default=42, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@click.option("--quiet", is_flag=True, help="No logins listed (`helpdesk serve` lists them).")
def demo(customers: int, tickets: int, seed: int, if_empty: bool, quiet: bool) -> None:
    from helpdesk import demo as demo_data
    from helpdesk.audit.commands import record_command
    from helpdesk.extensions import db as database

    app = _app()
    # The progress bars say what happens; the jobs' own INFO lines would bury them.
    logging.getLogger().setLevel(logging.WARNING)
    with app.app_context():
        if if_empty and demo_data.has_data():
            if not quiet:
                click.echo("Database already has data; demo seed skipped.")
                demo_data.print_logins(click.echo, existing_only=True)
            return
        demo_data.seed(customers=customers, tickets=tickets, seed=seed, progress=True)
        # The demo creates staff accounts with published passwords: who did it matters.
        record_command(
            session=database.session,
            action="demo.seed",
            details={"customers": customers, "tickets": tickets, "seed": seed},
        )
        if not quiet:
            demo_data.print_logins(click.echo)


# -- users ----------


@main.group(help="Staff accounts.")
def users() -> None:
    pass


@users.command("create", help="Create a staff account.")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None)
@click.option("--skills", default="", help="e.g. 'billing:3,support:2' (levels 1-5, default 1)")
@click.option("--languages", default="", help="e.g. 'fr,en'")
@click.option("--locale", default="en", type=click.Choice(["en", "fr"]))
def users_create(
    email: str, password: str, role: str, name: str | None, skills: str, languages: str, locale: str
) -> None:
    from helpdesk.audit.commands import record_command
    from helpdesk.auth import service
    from helpdesk.errors import APIError
    from helpdesk.extensions import db as database

    with _app().app_context():
        try:
            user = service.create_user(
                session=database.session,
                email=email,
                password=password,
                role=role,
                name=name,
                skills=service.parse_skills(skills),
                languages=languages.split(","),
                locale=locale,
            )
        except APIError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items())
            raise click.ClickException(
                f"{exc.message}{' (' + detail + ')' if detail else ''}"
            ) from exc
        record_command(
            session=database.session,
            action="user.create",
            target_type="user",
            target_id=user.id,
            details={"email": user.email, "role": user.role.value},
        )
        click.echo(f"created {user.role.value} {user.email} (id {user.id})")


@users.command("list", help="List staff accounts.")
def users_list() -> None:
    from sqlalchemy import select

    from helpdesk.auth.models import User
    from helpdesk.extensions import db as database

    with _app().app_context():
        for user in database.session.scalars(select(User).order_by(User.id)):
            skills = ",".join(f"{s.skill}:{s.level}" for s in user.skills)
            click.echo(
                f"{user.id:>4}  {user.role.value:<10} {user.email:<32} {user.name}"
                f"  {skills}  {','.join(user.languages or [])}"
            )


@users.command("token", help="Issue an API bearer token for a user (printed once).")
@click.option("--email", required=True)
@click.option("--name", default="cli")
def users_token(email: str, name: str) -> None:
    from sqlalchemy import select

    from helpdesk.audit.commands import record_command
    from helpdesk.auth import service
    from helpdesk.auth.models import User
    from helpdesk.extensions import db as database

    with _app().app_context():
        user = database.session.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            raise click.ClickException(f"no user {email}")
        token = service.issue_token(session=database.session, user=user, name=name)
        record_command(
            session=database.session,
            action="token.issue",
            target_type="user",
            target_id=user.id,
            details={"name": name},
        )
        click.echo(token)


@main.command(help="Agents needed for an interval (Erlang C).")
@click.option("--calls", type=float, required=True, help="Calls expected in the interval")
@click.option(
    "--interval",
    "interval_s",
    type=float,
    default=1800,
    show_default=True,
    help="Interval length in seconds",
)
@click.option("--aht", "aht_s", type=float, required=True, help="Average handle time, seconds")
@click.option("--answer-within", "answer_within_s", type=float, default=20, show_default=True)
@click.option("--service-level", type=float, default=0.8, show_default=True)
@click.option("--max-occupancy", type=float, default=1.0, show_default=True)
@click.option("--shrinkage", type=float, default=0.0, show_default=True)
def staffing(
    calls: float,
    interval_s: float,
    aht_s: float,
    answer_within_s: float,
    service_level: float,
    max_occupancy: float,
    shrinkage: float,
) -> None:
    from helpdesk.reporting.erlang import agents_needed

    try:
        s = agents_needed(
            calls=calls,
            interval_s=interval_s,
            aht_s=aht_s,
            answer_within_s=answer_within_s,
            service_level=service_level,
            max_occupancy=max_occupancy,
            shrinkage=shrinkage,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"Traffic:        {s.traffic_erlangs:.2f} erlangs")
    click.echo(f"Agents:         {s.agents}  (schedule {s.scheduled} with shrinkage)")
    click.echo(f"Service level:  {s.service_level:.1%} answered within {answer_within_s:g} s")
    click.echo(f"Avg speed of answer: {s.asa_s:.1f} s")
    click.echo(f"Occupancy:      {s.occupancy:.1%}")
    click.echo(f"P(wait):        {s.p_wait:.1%}")


@main.group(help="Invoices from the billing system (customer value).")
def invoices() -> None:
    pass


@invoices.command("import", help="Import invoices from a CSV file (created or updated by number).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def invoices_import(path: str) -> None:
    from helpdesk.audit.commands import record_command
    from helpdesk.extensions import db as database
    from helpdesk.value import service as value

    app = _app()
    with app.app_context():
        with open(path, encoding="utf-8-sig") as f:
            rows, errors = value.parse_csv(f.read())
        result = value.import_invoices(
            database.session,
            rows,
            region=app.config.get("HELPDESK_DEFAULT_REGION") or "FR",
            line_offset=2,
        )
        lines = len(rows) + len({e["line"] for e in errors})
        result.errors = errors + result.errors
        record_command(
            session=database.session,
            action="invoice.import",
            target_type="invoice",
            details=result.counts(lines),
        )
    for err in result.errors:
        click.echo(f"line {err['line']}: {err['field']}: {err['message']}", err=True)
    click.echo(f"{result.created} created, {result.updated} updated, {len(result.errors)} rejected")


@main.group(help="Customer value: segments and cost to serve.")
def value() -> None:
    pass


@value.command("recompute", help="Recompute every customer's value now (also runs hourly).")
def value_recompute() -> None:
    from helpdesk.audit.commands import record_command
    from helpdesk.extensions import db as database
    from helpdesk.value import service as value_service

    with _app().app_context():
        counts = value_service.recompute_all(database.session)
        record_command(
            session=database.session,
            action="value.recompute",
            target_type="customer_value",
            details=value_service.recompute_counts(counts),
        )
    for segment, n in sorted(counts.items()):
        click.echo(f"{segment:10} {n}")


@main.group(help="The analytics warehouse: Parquet files queried with DuckDB (docs/analytics.md).")
def warehouse() -> None:
    pass


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


@warehouse.command(
    "export",
    help="Export what changed since the last export (runs every WAREHOUSE_EXPORT_S too); "
    "--full rebuilds every file.",
)
@click.option("--full", is_flag=True, help="Rewrite every table and month from the database.")
@click.option("--quiet", is_flag=True, help="No progress bars, only the summary.")
def warehouse_export(full: bool, quiet: bool) -> None:
    from tqdm import tqdm

    from helpdesk.extensions import db as database
    from helpdesk.warehouse import service as warehouse_service

    def bar(table: str, total: int) -> Any:
        return tqdm(total=total or None, desc=f"{table:13}", unit=" rows", disable=quiet)

    with _app("worker").app_context():
        outcome = warehouse_service.export_now(database.session, full=full, progress=bar)
        folder = warehouse_service.directory()
    if not outcome["ran"]:
        raise click.ClickException("another warehouse export is running: nothing done")
    click.echo(f"{'table':14} {'written':>10} {'rows':>10} {'files':>6} {'size':>10}")
    for name, t in outcome["tables"].items():
        click.echo(
            f"{name:14} {t['rows_written']:>10} {t['rows']:>10} {t['files']:>6} "
            f"{_size(t['bytes']):>10}"
        )
    total = sum(t["bytes"] for t in outcome["tables"].values())
    files = sum(t["files"] for t in outcome["tables"].values())
    click.echo(
        f"{'full' if outcome['full'] else 'incremental'} export: {outcome['rows_written']} rows "
        f"written, {files} files, {_size(total)} in {folder}, {outcome['seconds']:.1f} s"
    )


@warehouse.command("status", help="When the warehouse was exported, and what it holds.")
def warehouse_status() -> None:
    from helpdesk.warehouse import service as warehouse_service

    with _app().app_context():
        found = warehouse_service.status()
    click.echo(f"directory   {found['directory']}")
    if found["exported_at"] is None:
        click.echo("never exported: run `helpdesk warehouse export`")
        return
    click.echo(f"exported at {found['exported_at']} ({found['duration_s']:.1f} s)")
    click.echo(f"last full   {found['last_full_at']}")
    click.echo(f"running     {'yes' if found['running'] else 'no'}")
    for name, t in found["tables"].items():
        click.echo(f"{name:14} {t['rows']:>10} rows {t['files']:>6} files {_size(t['bytes']):>10}")


@main.group(help="Customer models: lifetime value and churn risk (docs/customer-models.md).")
def analytics() -> None:
    pass


@analytics.command("train", help="Train the models on the warehouse and score every customer.")
@click.option("--warehouse", "warehouse", default="", help="Warehouse directory (default: config).")
@click.option("--cutoff", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def analytics_train(warehouse: str, cutoff: Any) -> None:
    from tqdm import tqdm

    from helpdesk.analytics import service as models
    from helpdesk.audit.commands import record_command
    from helpdesk.extensions import db as database
    from helpdesk.warehouse import service as warehouse_service

    app = _app()
    with app.app_context():
        where = warehouse or warehouse_service.directory(app)
        steps = ("clv hold-out", "clv", "churn features", "churn", "stored")
        with tqdm(total=len(steps), desc="training", unit="step") as bar:

            def step(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            result = models.train_and_score(
                session=database.session,
                warehouse_dir=where,
                monthly_discount=float(app.config.get("HELPDESK_CLV_MONTHLY_DISCOUNT") or 0.01),
                cutoff=cutoff.date() if cutoff else None,
                progress=step,
            )
        if result.ran:
            record_command(
                session=database.session,
                action="models.train",
                target_type="model_run",
                details=result.as_dict(),
            )
    click.echo(result.message)
    if not result.ran:
        raise SystemExit(1)


@analytics.command("demo-data", help="Write a synthetic warehouse (customers with known churn).")
@click.argument("directory")
@click.option("--customers", default=5000, show_default=True)
@click.option("--seed", default=7, show_default=True)
def analytics_demo_data(directory: str, customers: int, seed: int) -> None:
    from helpdesk.analytics import synthetic

    synthetic.generate(directory, customers=customers, seed=seed)
    click.echo(f"{customers} synthetic customers written to {directory}")


@main.group(help="Inbound texts.")
def sms() -> None:
    pass


@sms.command(
    "replay",
    help="Record the texts this instance kept on disk while its database was failing (the web "
    "process does it by itself every few seconds). Exits non-zero if some are still waiting.",
)
def sms_replay() -> None:
    from helpdesk.audit.commands import record_command
    from helpdesk.extensions import db as database
    from telephony import sms_spool

    app = _app()
    waiting = len(sms_spool.pending(app))
    recorded, left = sms_spool.replay(app)
    with app.app_context():
        record_command(
            session=database.session,
            action="sms.replay",
            target_type="sms",
            details={"spooled": waiting, "recorded": recorded, "left": left},
        )
    click.echo(f"{waiting} spooled, {recorded} recorded, {left} still waiting")
    if left:
        raise click.ClickException(f"{left} text{'s' if left > 1 else ''} still waiting")


# -- simulator ----------


@main.group(help="Try the call center offline: a simulated customer calls the running server.")
def simulate() -> None:
    pass


@simulate.command("call", help="A customer calls in; prints what they hear as it happens.")
@click.option("--from", "from_number", required=True, help="The caller's number, e.g. +33612345678")
@click.option("--digits", default="", help="Keys pressed at the menus, in order, e.g. '21'")
@click.option(
    "--url",
    default=lambda: os.environ.get(
        "HELPDESK_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    ),
    show_default="$HELPDESK_URL or http://127.0.0.1:$PORT",
)
@click.option("--token", envvar="HELPDESK_API_TOKEN", help="API token (or --email/--password)")
@click.option("--email", default=None)
@click.option("--password", default=None)
@click.option("--follow", default=120, show_default=True, help="Seconds to follow the call")
def simulate_call(
    from_number: str,
    digits: str,
    url: str,
    token: str | None,
    email: str | None,
    password: str | None,
    follow: int,
) -> None:
    import time

    import requests

    base = url.rstrip("/") + "/api/v1"
    if not token:
        if not (email and password):
            raise click.UsageError(
                "give --token (or HELPDESK_API_TOKEN), or --email and --password"
            )
        r = requests.post(
            f"{base}/auth/token", json={"email": email, "password": password}, timeout=10
        )
        if r.status_code != 201:
            raise click.ClickException(f"login refused: {r.json()['error']['message']}")
        token = r.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    r = requests.post(
        f"{base}/simulator/calls",
        json={"from": from_number, "digits": digits},
        headers=headers,
        timeout=60,
    )
    if r.status_code != 201:
        raise click.ClickException(r.json()["error"]["message"])
    sid, shown = r.json()["call_sid"], 0
    click.echo(f"Calling from {from_number} ({sid})")
    deadline = time.monotonic() + follow
    while True:
        call = requests.get(f"{base}/simulator/calls/{sid}", headers=headers, timeout=10).json()
        for line in call["transcript"][shown:]:
            click.echo(f"  {line}")
        shown = len(call["transcript"])
        if call["state"] in ("completed", "connected") or time.monotonic() > deadline:
            click.echo(f"State: {call['state']}")
            return
        time.sleep(1)


@simulate.command("sms", help="A customer texts in; prints the replies they get.")
@click.option("--from", "from_number", required=True, help="The sender's number")
@click.argument("body")
@click.option(
    "--url",
    default=lambda: os.environ.get(
        "HELPDESK_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    ),
    show_default="$HELPDESK_URL or http://127.0.0.1:$PORT",
)
@click.option(
    "--token", envvar="HELPDESK_API_TOKEN", required=True, help="API token (or HELPDESK_API_TOKEN)"
)
def simulate_sms(from_number: str, body: str, url: str, token: str) -> None:
    import requests

    r = requests.post(
        url.rstrip("/") + "/api/v1/simulator/sms",
        json={"from": from_number, "body": body},
        timeout=60,
        headers={"Authorization": f"Bearer {token}"},
    )
    if r.status_code != 201:
        raise click.ClickException(r.json()["error"]["message"])
    replies = r.json()["replies"]
    click.echo(f"Sent from {from_number}: {body}")
    for reply in replies:
        click.echo(f"  < {reply}")
    if not replies:
        click.echo("  (no reply)")


def _add_feature_commands() -> None:
    from kb.cli import kb

    main.add_command(kb)


_add_feature_commands()


def run(argv: list[str] | None = None) -> Any:
    return main.main(args=argv, prog_name="helpdesk", standalone_mode=False)


if __name__ == "__main__":
    sys.exit(main())
