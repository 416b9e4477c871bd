"""The call event log feeds the live figures; recomputing them from the log after a scripted day
gives the same figures, and so does the historical report (an independent SQL aggregate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helpdesk.auth.models import Role, User
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.supervision import calllog, live
from helpdesk.supervision import service as supervision
from helpdesk.supervision.calllog import entry_of
from helpdesk.supervision.livestats import Aggregator, MemoryStore
from helpdesk.supervision.models import CallEvent
from helpdesk.supervision.reports import ReportSpec, call_report
from telephony import agent_presence, bridging, calls, offers
from telephony.models import AgentPresence, Call, CallQueue

COMPARED = (
    "entered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "abandoned_in_sl",
    "completed",
    "callbacks",
    "service_level",
    "service_level_abandons",
    "asa_s",
    "aht_s",
    "abandon_rate",
)


@pytest.fixture
def queues(app):
    db.session.add_all(
        [
            CallQueue(name="support", label_en="Support", label_fr="Assistance", skills={}),
            CallQueue(name="billing", label_en="Billing", label_fr="Facturation", skills={}),
        ]
    )
    db.session.commit()
    return {q.name: q for q in db.session.scalars(select(CallQueue))}


def _agent(make_user, state="available"):
    user = make_user(Role.AGENT, languages=["fr", "en"])
    agent_presence.set_presence(db.session, user=user, state=state)
    return user


def _call(n: int, queue: CallQueue) -> Call:
    call, _ = calls.upsert_inbound(
        db.session,
        inbound=calls.InboundCall(
            call_sid=f"CA{n:032d}", from_number=f"+3361234{n:04d}", to_number="+33100000000"
        ),
        region="FR",
    )
    calls.enqueue(db.session, call=call, queue=queue)
    db.session.expire_all()
    return db.session.get(Call, call.id)


def _history(today_8am: datetime) -> None:
    """Calls logged earlier in the day with known waits and talk times (some over 20 s)."""
    for i in range(24):
        at = today_8am + timedelta(minutes=7 * i)
        queue = "support" if i % 3 else "billing"
        call_id = 10_000 + i
        calllog.record(db.session, "entered", call_id=call_id, queue=queue, at=at)
        db.session.commit()
        wait = float(3 * i % 47)
        if i % 5 == 4:
            calllog.record(
                db.session,
                "abandoned",
                call_id=call_id,
                queue=queue,
                wait_s=wait,
                at=at + timedelta(seconds=wait),
            )
        else:
            calllog.record(
                db.session,
                "connected",
                call_id=call_id,
                queue=queue,
                agent_id=900 + i % 2,
                wait_s=wait,
                at=at + timedelta(seconds=wait),
            )
            db.session.commit()
            calllog.record(
                db.session,
                "completed",
                call_id=call_id,
                queue=queue,
                agent_id=900 + i % 2,
                talk_s=60.0 + 11 * i,
                at=at + timedelta(seconds=wait + 60 + 11 * i),
            )
        db.session.commit()


def _support_figures() -> dict:
    stats = live.current()
    assert stats is not None
    return stats.aggregator.queue_figures("support", live.local_today(), utcnow())


def _bridged_through_a_conference(call_id: int, leg_sid: str) -> None:
    """What the Twilio gateway's bridge records (the simulator has no agent leg)."""
    db.session.get(Call, call_id).agent_call_sid = leg_sid
    db.session.commit()


def test_recomputed_from_the_log_equals_the_incremental_figures(app, queues, make_user, recorded):
    gateway = app.extensions["telephony_gateway"]
    now = utcnow()
    local = now.astimezone(calllog.zone())
    _history(local.replace(hour=8, minute=0, second=0, microsecond=0).astimezone(UTC))

    x = _agent(make_user)
    # 1. Answered, completed, wrapped up.
    c1 = _call(1, queues["support"])
    assert c1.routing_state == "offered" and c1.agent_id == x.id
    offers.accept(db.session, user=x, call_id=c1.id, gateway=gateway)
    calls.apply_status(db.session, call_sid=c1.call_sid, status="completed")
    calls.wrap_up(db.session, user=x, call_id=c1.id, disposition=None, notes="", done=True)
    # 1b. Accepted, but the agent's conference leg rings out: the call waits again (its
    # acceptance taken back), then the caller hangs up: abandoned.
    support_before = _support_figures()
    c5 = _call(5, queues["support"])
    offers.accept(db.session, user=x, call_id=c5.id, gateway=gateway)
    _bridged_through_a_conference(c5.id, "CA" + "5" * 32)
    assert bridging.agent_leg_ended(
        db.session, call_id=c5.id, leg_sid="CA" + "5" * 32, status="no-answer"
    )
    requeued = _support_figures()
    assert requeued["waiting"] == 1 and requeued["answered"] == support_before["answered"]
    assert requeued["answered_in_sl"] == support_before["answered_in_sl"]
    calls.apply_status(db.session, call_sid=c5.call_sid, status="completed")
    agent_presence.set_presence(db.session, user=x, state="available")
    # 2. Rejected by the only agent, then the caller hangs up: abandoned.
    c2 = _call(2, queues["support"])
    offers.reject(db.session, user=x, call_id=c2.id)
    calls.apply_status(db.session, call_sid=c2.call_sid, status="completed")
    # 3. Nobody free: one caller asks for a callback, one is moved to billing, one times out.
    agent_presence.set_presence(db.session, user=x, state="break", reason="lunch")
    c3 = _call(3, queues["support"])
    offers.request_callback(db.session, call=db.session.get(Call, c3.id))
    c4 = _call(4, queues["support"])
    supervisor = make_user(Role.SUPERVISOR)
    supervision.move_call(db.session, supervisor=supervisor, call_id=c4.id, queue_name="billing")
    y = _agent(make_user)  # takes the callback (higher priority) first
    db.session.expire_all()
    offered = db.session.get(Call, c3.id)
    assert offered.routing_state == "offered" and offered.agent_id == y.id
    offers.expire(db.session, now=utcnow() + timedelta(seconds=60))  # the ring times out
    assert db.session.get(AgentPresence, y.id).state == "break"
    # The supervisor brings x back from lunch: the callback goes to x (y declined it).
    supervision.set_agent_state(db.session, supervisor=supervisor, agent_id=x.id, state="available")
    db.session.expire_all()
    again = db.session.get(Call, c3.id)
    assert again.agent_id == x.id
    offers.accept(db.session, user=x, call_id=c3.id, gateway=gateway)  # dials the customer back

    stats = live.current()
    assert stats is not None
    day = live.local_today()
    incremental = {q: stats.aggregator.queue_figures(q, day, now) for q in ("support", "billing")}
    assert incremental["support"]["callbacks"] == 1
    assert incremental["billing"]["waiting"] == 1  # the moved call
    assert incremental["support"]["waiting"] == 0
    assert incremental["support"]["callbacks_pending"] == 0  # taken

    # Recomputed from the log by the same aggregator on a fresh store...
    fresh = Aggregator(MemoryStore(), threshold_s=stats.aggregator.threshold_s)
    rows = db.session.scalars(select(CallEvent).order_by(CallEvent.id)).all()
    fresh.rebuild(entry_of(r) for r in rows)
    for q in ("support", "billing"):
        assert fresh.queue_figures(q, day, now) == incremental[q]
    assert fresh.agents(day, now) == stats.aggregator.agents(day, now)
    assert fresh.agent_states() == stats.aggregator.agent_states()
    assert fresh.intervals("support", day) == stats.aggregator.intervals("support", day)

    # ...and by the historical report's SQL, which shares no code with the aggregator.
    report = call_report(db.session, ReportSpec(start_day=day, end_day=day, by="queue"))
    by_queue = {r["key"]: r for r in report["rows"]}
    for q in ("support", "billing"):
        for name in COMPARED:
            assert by_queue[q][name] == incremental[q][name], (q, name)
    agents = call_report(db.session, ReportSpec(start_day=day, end_day=day, by="agent"))
    live_agents = {str(a["id"]): a for a in stats.aggregator.agents(day, now)}
    for row in agents["rows"]:
        assert row["completed"] == live_agents[row["key"]]["handled"]
        assert row["aht_s"] == live_agents[row["key"]]["aht_s"]
    intervals = call_report(db.session, ReportSpec(start_day=day, end_day=day, by="interval"))
    assert sum(r["entered"] for r in intervals["rows"]) == sum(
        f["entered"] for f in incremental.values()
    )

    # The figures were pushed to the supervisors' room as they changed.
    pushed = recorded.named("wallboard.queue")
    assert pushed and all(e.rooms == ("supervisors",) for e in pushed)
    assert pushed[-1].payload["queue"] in ("support", "billing")
    assert recorded.named("wallboard.agent")


def test_a_restart_rebuilds_the_same_figures_from_the_log(app, queues, make_user):
    x = _agent(make_user)
    c1 = _call(1, queues["support"])
    offers.accept(db.session, user=x, call_id=c1.id, gateway=app.extensions["telephony_gateway"])
    calls.apply_status(db.session, call_sid=c1.call_sid, status="completed")
    _call(2, queues["support"])  # waiting: x is in wrap-up
    stats = live.current()
    day, now = live.local_today(), utcnow()
    before = stats.aggregator.queue_figures("support", day, now)
    agents_before = stats.aggregator.agents(day, now)
    assert before["answered"] == 1 and before["waiting"] == 1
    app.extensions["live_stats"] = live.build(app.config)  # a new process
    rebuilt = supervision.wallboard(db.session)
    support = next(q for q in rebuilt["queues"] if q["queue"] == "support")
    assert {k: support[k] for k in before} == before
    assert [{k: a[k] for k in agents_before[0]} for a in rebuilt["agents"]] == agents_before


def test_rolled_back_work_leaves_no_event_and_no_figure(app, queues):
    stats = live.current()
    calllog.record(db.session, "entered", call_id=77, queue="support")
    db.session.rollback()
    assert db.session.scalar(select(CallEvent.id)) is None
    assert stats.aggregator.queue_figures("support", live.local_today(), utcnow())["entered"] == 0


def test_alerts_are_raised_and_cleared(app_clock, app, queues, recorded):
    stats = live.current()
    stats.ensure_loaded(db.session)
    # Half an hour ago, on today's figures: the app's clock is at local noon, not past midnight.
    start = app_clock.now() - timedelta(minutes=30)
    for i in range(6):
        calllog.record(db.session, "entered", call_id=500 + i, queue="support", at=start)
        calllog.record(
            db.session, "connected", call_id=500 + i, queue="support", wait_s=90.0, at=start
        )
        db.session.commit()
    calllog.record(db.session, "entered", call_id=600, queue="support", at=start)
    db.session.commit()
    alerts = recorded.named("wallboard.alert")
    assert alerts[-1].payload["alerts"] == ["service_level", "longest_wait"]
    assert supervision.wallboard(db.session)["alerts"]["support"] == [
        "service_level",
        "longest_wait",
    ]
    calllog.record(db.session, "abandoned", call_id=600, queue="support", wait_s=1800.0)
    db.session.commit()
    assert recorded.named("wallboard.alert")[-1].payload["alerts"] == ["service_level"]


def test_supervisor_rooms(app, make_user):
    from helpdesk.realtime import rooms_for

    assert "supervisors" in rooms_for(make_user(Role.SUPERVISOR))
    assert "supervisors" in rooms_for(make_user(Role.ADMIN))
    assert "supervisors" not in rooms_for(make_user(Role.AGENT))
    assert isinstance(db.session.scalar(select(User.id)), int)


def test_demo_data_fills_the_value_report_and_todays_log(app):
    from helpdesk import demo
    from helpdesk.value import service as value_service

    demo.seed(customers=80, tickets=200, seed=3)
    report = value_service.report(db.session)
    segments = {s["segment"] for s in report["segments"]}
    assert {"best", "costly"} <= segments, segments
    assert report["best"] and report["best"][0]["signals"][0]["decisive"]
    wall = supervision.wallboard(db.session)
    assert sum(q["entered"] for q in wall["queues"]) > 0


def test_cli_imports_invoices_and_recomputes(app, tmp_path, customer_factory):
    from click.testing import CliRunner

    from helpdesk.cli import main
    from helpdesk.value.models import Invoice

    customer = customer_factory(name="Client CSV", emails=["csv@example.com"])
    path = tmp_path / "invoices.csv"
    path.write_text(
        "number,customer,amount,issued_on,due_on,paid_on\n"
        "C-1,csv@example.com,120.00,2026-01-05,2026-02-04,2026-03-20\n"
        "C-2,csv@example.com,,2026-01-05,2026-02-04,\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": ""}
    r = runner.invoke(main, ["invoices", "import", str(path)], env=env)
    assert r.exit_code == 0, r.output
    assert "1 created, 0 updated, 1 rejected" in r.output
    db.session.expire_all()
    assert db.session.scalar(select(Invoice.customer_id)) == customer.id
    db.session.rollback()  # let go of SQLite's lock for the command's own connection
    r = runner.invoke(main, ["value", "recompute"], env=env)
    assert r.exit_code == 0 and "best" in r.output


def test_the_caller_screen_carries_the_segment(app, queues, customer_factory):
    from helpdesk.value.models import CustomerValue
    from telephony.screen import screen

    customer = customer_factory(name="Valued", phones=["+33612340099"])
    db.session.add(
        CustomerValue(
            customer_id=customer.id,
            segment="best",
            late_payer=True,
            signals=[{"code": "top_revenue", "value": 900000, "decisive": True}],
        )
    )
    db.session.commit()
    call = _call(99, queues["support"])
    assert call.customer_id == customer.id
    pop = screen(db.session, call)
    assert pop["value"]["segment"] == "best" and pop["customer"]["segment"] == "best"
    assert "late-payer" in pop["customer"]["flags"]
    assert pop["value"]["signals"][0]["code"] == "top_revenue"


def test_a_transactions_entries_counted_together_as_one_by_one():
    from helpdesk.supervision.livestats import LogEntry

    at = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)

    def e(id_, event, **kw):
        return LogEntry(
            id=id_, at=at + timedelta(seconds=id_), day="2026-03-04", slot=44, event=event, **kw
        )

    history = [e(1, "agent_state", agent_id=7, data={"to": "available"})]
    # An accept, as one transaction: the agent moves twice, the call is answered.
    batch = [
        e(2, "agent_state", agent_id=7, data={"to": "reserved"}),
        e(3, "connected", call_id=50, queue="support", agent_id=7, wait_s=4.0),
        e(4, "agent_state", agent_id=7, data={"to": "on_call"}),
        e(5, "agent_state", agent_id=8, data={"to": "available"}),
    ]
    one, together = Aggregator(MemoryStore()), Aggregator(MemoryStore())
    for agg in (one, together):
        agg.rebuild(history)  # watermark 1
    assert [one.apply(x) for x in [history[0], *batch]] == [False, True, True, True, True]
    assert together.apply_many([history[0], *batch]) == batch  # the counted one is skipped
    now = at + timedelta(minutes=1)
    assert together.agent_states() == one.agent_states()
    assert together.agent_states()["on_call"] == 1 and together.agent_states()["reserved"] == 0
    assert together.agents("2026-03-04", now) == one.agents("2026-03-04", now)
    assert together.queue_figures("support", "2026-03-04", now) == one.queue_figures(
        "support", "2026-03-04", now
    )
