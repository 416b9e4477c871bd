"""The warehouse export on SQLite and PostgreSQL: the files carry exactly the schema, their
totals are the operational database's, and incremental exports keep each row once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from flask import Flask
from sqlalchemy import func, select

from helpdesk.customers import erasure
from helpdesk.customers.models import Customer
from helpdesk.db import utcnow
from helpdesk.dispatch.models import WorkOrder
from helpdesk.dispatch.workflow import WorkOrderStatus
from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage
from helpdesk.surveys.models import Survey
from helpdesk.tickets.models import Ticket
from helpdesk.value.models import Invoice
from helpdesk.warehouse import export as exporter
from helpdesk.warehouse import layout, schema
from helpdesk.warehouse.query import Warehouse
from telephony.models import Call, SmsMessage


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"


def _call(customer_id: int, at: datetime, talk: float | None, ended: bool = True) -> Call:
    return Call(
        call_sid=f"CA{at.timestamp():.0f}{customer_id}{talk}",
        customer_id=customer_id,
        created_at=at,
        ended_at=at + timedelta(minutes=5) if ended else None,
        status="completed" if ended else "in-progress",
        outcome="answered" if ended else None,
        wait_seconds=12.0,
        talk_seconds=talk,
    )


@pytest.fixture
def operational(app: Flask, customer_factory: Any, ticket_factory: Any) -> dict[str, Any]:
    """Three customers over three months: tickets, calls, texts, invoices and a survey."""
    ada, bob, cy = (customer_factory(name=n) for n in ("Ada Lovelace", "Bob Marley", "Cy Twombly"))
    tickets = [ticket_factory(requester_id=c.id) for c in (ada, ada, bob)]
    tickets[2].created_at = datetime(2026, 10, 3, 9, tzinfo=UTC)
    db.session.add_all(
        [
            _call(ada.id, datetime(2026, 10, 1, 9, tzinfo=UTC), 120.0),
            _call(ada.id, datetime(2026, 11, 14, 9, tzinfo=UTC), 300.0),
            _call(bob.id, datetime(2026, 12, 1, 9, tzinfo=UTC), 30.0),
            _call(cy.id, datetime(2026, 12, 2, 9, tzinfo=UTC), None, ended=False),
            SmsMessage(
                direction="inbound",
                from_number="+33612000001",
                to_number="+33100000000",
                customer_id=ada.id,
                body="Bonjour",
                status="received",
                created_at=datetime(2026, 11, 2, tzinfo=UTC),
            ),
            Invoice(
                number="F-1",
                customer_id=ada.id,
                amount_cents=120_000,
                issued_on=date(2026, 10, 1),
                due_on=date(2026, 10, 31),
                paid_on=date(2026, 10, 20),
            ),
            Invoice(
                number="F-2",
                customer_id=bob.id,
                amount_cents=45_050,
                issued_on=date(2026, 11, 5),
                due_on=date(2026, 11, 20),
            ),
            MailMessage(
                message_id="m1@example.com",
                direction="inbound",
                from_address="ada@example.com",
                customer_id=ada.id,
                status="received",
                created_at=datetime(2026, 11, 3, tzinfo=UTC),
            ),
            WorkOrder(
                customer_id=bob.id,
                summary="Router replacement",
                address="1 rue de Rivoli, Paris",
                lat=48.86,
                lon=2.35,
                window_start=datetime(2026, 11, 10, 8, tzinfo=UTC),
                window_end=datetime(2026, 11, 10, 10, tzinfo=UTC),
                day="2026-11-10",
                status=WorkOrderStatus.COMPLETED,
                completed_at=datetime(2026, 11, 10, 9, tzinfo=UTC),
            ),
            Survey(
                customer_id=ada.id,
                trigger="call",
                channel="sms",
                sent_to="+33612000001",
                sent_at=datetime(2026, 11, 15, tzinfo=UTC),
                expires_at=datetime(2026, 11, 29, tzinfo=UTC),
                score=5,
                answered_at=datetime(2026, 11, 15, 1, tzinfo=UTC),
            ),
        ]
    )
    db.session.commit()
    return {"ada": ada, "bob": bob, "cy": cy, "tickets": tickets}


def _export(root: Path, **kw: Any) -> exporter.ExportResult:
    return exporter.export(db.session, root, **kw)


def _read(root: Path, table: str) -> Any:
    return Warehouse(root).rows(f"SELECT * FROM {table}")


def test_every_file_carries_exactly_the_documented_schema(
    operational: dict[str, Any], root: Path
) -> None:
    _export(root)
    assert sorted(layout.partitions(root, "fact_call")) == ["2026-10", "2026-11", "2026-12"]
    for table, expected in schema.TABLES.items():
        files = layout.table_files(root, table)
        assert files, table
        for path in files:
            assert pq.read_schema(path).remove_metadata().equals(expected), (table, path)
    # DuckDB reads the Hive layout on its own, months as a column, the schema's types.
    described = duckdb.sql(
        f"DESCRIBE SELECT * FROM read_parquet('{root}/fact_invoice/*/*.parquet', "
        "hive_partitioning = true)"
    ).fetchall()
    names = [row[0] for row in described]
    assert names[: len(schema.FACTS["fact_invoice"])] == schema.FACTS["fact_invoice"].names
    assert "month" in names


def test_totals_equal_the_operational_database(operational: dict[str, Any], root: Path) -> None:
    _export(root)
    wh = Warehouse(root)
    with wh.connect() as conn:
        calls, talk = conn.execute("SELECT count(*), sum(talk_s) FROM fact_call").fetchone()
        invoices, amount = conn.execute(
            "SELECT count(*), sum(amount_cents) FROM fact_invoice"
        ).fetchone()
        tickets = conn.execute("SELECT count(*) FROM fact_ticket").fetchone()[0]
        customers = conn.execute("SELECT count(*) FROM dim_customer").fetchone()[0]
    assert calls == db.session.scalar(select(func.count(Call.id))) == 4
    assert talk == db.session.scalar(select(func.sum(Call.talk_seconds))) == 450.0
    assert invoices == 2
    assert amount == db.session.scalar(select(func.sum(Invoice.amount_cents))) == 165_050
    assert tickets == db.session.scalar(select(func.count(Ticket.id))) == 3
    assert customers == db.session.scalar(select(func.count(Customer.id)))
    # Costs at the value module's rates: 450 s at 90 cents a minute; the unpaid invoice is late.
    assert wh.rows("SELECT sum(cost_cents) AS c FROM fact_call")[0]["c"] == 180 + 450 + 45 + 0
    late = wh.rows("SELECT invoice_key, days_late FROM fact_invoice ORDER BY invoice_key")
    assert [r["days_late"] for r in late] == [0, (utcnow().date() - date(2026, 11, 20)).days]


def _keys(root: Path, table: str, key: str) -> list[int]:
    return [r["k"] for r in Warehouse(root).rows(f"SELECT {key} AS k FROM {table} ORDER BY 1")]


def _all_text(root: Path) -> str:
    """Every string value of every file, to look for what must not be there."""
    values: list[str] = []
    for table in schema.TABLES:
        for path in layout.table_files(root, table):
            for column in pq.read_table(path).columns:
                values += [str(v) for v in column.to_pylist() if isinstance(v, str)]
    return "\n".join(values)


def test_an_incremental_export_rewrites_the_touched_months_and_keeps_each_row_once(
    operational: dict[str, Any], root: Path
) -> None:
    ada, bob = operational["ada"], operational["bob"]
    first = _export(root)
    assert first.full
    october_ticket = operational["tickets"][2]
    october_ticket.status = "solved"
    october_ticket.solved_at = october_ticket.created_at + timedelta(hours=5)
    october_ticket.updated_at = utcnow()
    db.session.add(_call(bob.id, datetime(2026, 10, 20, 9, tzinfo=UTC), 60.0))
    unpaid = db.session.scalar(select(Invoice).where(Invoice.number == "F-2"))
    unpaid.paid_on = date(2026, 11, 25)
    db.session.commit()
    erasure.erase(db.session, bob, actor_id=None)
    db.session.commit()

    second = _export(root)

    assert not second.full
    months = {t.table: t.months for t in second.tables}
    assert "2026-10" in months["fact_ticket"]
    assert "2026-10" in months["fact_call"] and "2026-11" not in months["fact_call"]
    assert "2026-11" in months["fact_invoice"]  # it held an unpaid invoice
    wh = Warehouse(root)
    # Each row once, the change visible.
    for table, key, model in (
        ("fact_ticket", "ticket_key", Ticket),
        ("fact_call", "call_key", Call),
        ("fact_invoice", "invoice_key", Invoice),
    ):
        keys = _keys(root, table, key)
        assert keys == sorted(db.session.scalars(select(model.id))), table
        assert len(keys) == len(set(keys))
    solved = wh.rows(
        "SELECT status, resolution_s FROM fact_ticket WHERE ticket_key = ?", [october_ticket.id]
    )
    assert solved == [{"status": "solved", "resolution_s": 5 * 3600.0}]
    paid = wh.rows("SELECT paid_on, days_late FROM fact_invoice WHERE invoice_key = ?", [unpaid.id])
    assert paid == [{"paid_on": date(2026, 11, 25), "days_late": 5}]
    assert wh.rows("SELECT sum(talk_s) AS t FROM fact_call")[0]["t"] == 510.0
    # The erased customer: a key and `erased`, nothing else; no customer's name anywhere.
    erased = wh.rows("SELECT * FROM dim_customer WHERE customer_key = ?", [bob.id])
    assert erased == [
        {
            "customer_key": bob.id,
            "kind": None,
            "company_key": None,
            "language": None,
            "created_at": None,
            "segment": None,
            "erased": True,
        }
    ]
    assert wh.rows("SELECT erased FROM dim_customer WHERE customer_key = ?", [ada.id]) == [
        {"erased": False}
    ]
    text = _all_text(root)
    for personal in ("Ada", "Lovelace", "Marley", "+3361", "example.com", "Bonjour", "Rivoli"):
        assert personal not in text


def test_a_full_export_after_incrementals_finds_the_same_rows(
    operational: dict[str, Any], root: Path
) -> None:
    _export(root)
    db.session.add(_call(operational["cy"].id, datetime(2026, 9, 1, tzinfo=UTC), 10.0))
    db.session.commit()
    _export(root)
    incremental = {t: _keys(root, t, "call_key") for t in ("fact_call",)}
    assert "2026-09" in layout.partitions(root, "fact_call")
    db.session.execute(
        Call.__table__.delete().where(Call.created_at < datetime(2026, 10, 1, tzinfo=UTC))
    )
    db.session.commit()
    full = _export(root, full=True)
    assert full.full
    # The month whose only row was deleted is gone after the rebuild.
    assert "2026-09" not in layout.partitions(root, "fact_call")
    assert len(_keys(root, "fact_call", "call_key")) == len(incremental["fact_call"]) - 1


def test_a_second_export_is_refused_while_one_runs(operational: dict[str, Any], root: Path) -> None:
    with layout.export_lock(root):
        assert layout.export_running(root)
        with pytest.raises(layout.ExportBusy):
            _export(root)
    assert not layout.export_running(root)
    assert _export(root).rows_written > 0


def test_the_analytics_run_over_the_export(operational: dict[str, Any], root: Path) -> None:
    from helpdesk.warehouse import analytics
    from helpdesk.warehouse.query import fetch

    _export(root)
    today = utcnow().date()
    ada, bob, cy = (operational[k].id for k in ("ada", "bob", "cy"))
    with Warehouse(root).connect() as conn:

        def run(sql: str, params: Any) -> Any:
            return fetch(conn, sql, params)

        found = analytics.rfm(run, today)
        by_contact = analytics.cohorts(run, today, "contacts")
        costs = analytics.cost_to_serve(run, today)
        quadrants = analytics.quadrants(run, today)
    assert found["customers"] == 2
    assert sum(s["revenue_cents"] for s in found["segments"]) == 165_050
    october = next(r for r in by_contact["rows"] if r["cohort"] == "2026-10")
    # Ada and Bob first called or wrote in October; Ada again in November, both in December.
    assert october["size"] == 2 and october["retention"][:3] == [100.0, 50.0, 100.0]
    november = next(r for r in costs["by_month"] if r["month"] == "2026-11")
    assert november == {
        "month": "2026-11",
        "calls": 450,
        "tickets": 0,
        "sms": 8,
        "visits": 6000,
        "total": 6458,
    }
    placed = {q: [t["customer_key"] for t in top] for q, top in quadrants["top"].items()}
    assert placed["good"] == [ada] and placed["costly"] == [bob] and placed["quiet"] == [cy]


def test_a_call_text_or_e_mail_made_by_a_campaign_carries_its_campaign(
    operational: dict[str, Any], root: Path
) -> None:
    from helpdesk.campaigns.models import Campaign, CampaignAttempt, CampaignMember

    ada = operational["ada"]
    campaign = Campaign(name="Renewals", channel="call")
    db.session.add(campaign)
    db.session.flush()
    member = CampaignMember(campaign_id=campaign.id, customer_id=ada.id, number="+33612000001")
    db.session.add(member)
    db.session.flush()
    call = db.session.scalar(select(Call).where(Call.customer_id == ada.id).order_by(Call.id))
    text = db.session.scalar(select(SmsMessage).where(SmsMessage.customer_id == ada.id))
    mail = db.session.scalar(select(MailMessage).where(MailMessage.customer_id == ada.id))
    assert call is not None and text is not None and mail is not None
    for made in ({"call_id": call.id}, {"sms_id": text.id}, {"mail_id": mail.id}):
        db.session.add(
            CampaignAttempt(campaign_id=campaign.id, member_id=member.id, channel="call", **made)
        )
    db.session.commit()
    _export(root)
    for table, key, made_id in (
        ("fact_call", "call_key", call.id),
        ("fact_sms", "sms_key", text.id),
        ("fact_email", "email_key", mail.id),
    ):
        rows = Warehouse(root).rows(f"SELECT {key} AS k, campaign_key FROM {table} ORDER BY 1")
        assert {r["k"]: r["campaign_key"] for r in rows if r["campaign_key"] is not None} == {
            made_id: campaign.id
        }, table
        # Every other row is still there, once, without a campaign.
        assert len(rows) == len({r["k"] for r in rows}) > 0
