"""The analytics page: an honest empty state before the first export, the figures after one,
in English and French, and the "Export now" button that says what it did."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.value import service as value_service
from helpdesk.warehouse import layout
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    sign_in,
)


@pytest.fixture
def signed_in(app: Flask, make_user: Any) -> Any:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)

    def sign(role: Role, **kwargs: Any) -> Any:
        assert sign_in(client, make_user(role, **kwargs)).status_code == 302
        return client

    return sign


def _page(client: Any, path: str = "/analytics") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def customers(app: Flask, customer_factory: Any, ticket_factory: Any) -> dict[str, Any]:
    today = utcnow().date()
    big = customer_factory(name="Grande <b>Surface</b>")
    small = customer_factory(name="Petit Commerce")
    rows = [
        value_service.InvoiceRow(
            f"A-{n}", str(big.id), 500_000, "EUR", today - timedelta(days=30 * n), today
        )
        for n in range(1, 4)
    ] + [
        value_service.InvoiceRow(
            "B-1", str(small.id), 10_000, "EUR", today - timedelta(days=200), today
        )
    ]
    value_service.import_invoices(db.session, rows)
    for _ in range(3):
        ticket_factory(requester_id=small.id)
    db.session.commit()
    return {"big": big, "small": small}


def test_before_any_export_the_page_says_so_and_offers_the_button(signed_in: Any) -> None:
    page = _page(signed_in(Role.SUPERVISOR))
    assert "The warehouse has never been exported" in page
    assert "No figures yet" in page
    assert 'id="export-now"' in page
    assert "RFM segments" not in page


def test_export_now_runs_the_export_and_the_page_shows_the_figures(
    app: Flask, signed_in: Any, customers: dict[str, Any]
) -> None:
    client = signed_in(Role.SUPERVISOR)
    response = client.post("/analytics/export", follow_redirects=True)
    page = unescape(response.get_data(as_text=True))
    assert "Export done: " in page
    assert "Figures from the warehouse exported" in page
    assert "RFM segments" in page and "Cohort retention" in page
    assert 'id="quadrant-table"' in page
    # The customers shown link to their page; the name is escaped, never markup.
    big = customers["big"]
    assert f'href="/customers/{big.id}"' in page
    raw = client.get("/analytics").get_data(as_text=True)
    assert "Grande &lt;b&gt;Surface&lt;/b&gt;" in raw and "<b>Surface</b>" not in raw
    assert "No invoices in the warehouse" not in page
    assert "Fewer than 20 paying customers" in page
    entry = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    assert entry is not None and entry.action == "warehouse.export"
    assert entry.details.get("outcome") == "ran"


def test_with_contacts_but_no_invoices_the_page_says_what_to_import(
    signed_in: Any, ticket_factory: Any
) -> None:
    ticket_factory()
    db.session.commit()
    client = signed_in(Role.SUPERVISOR)
    client.post("/analytics/export")
    page = _page(client)
    assert "No invoices in the warehouse" in page
    assert "helpdesk invoices import FILE.csv" in page
    assert "No invoice yet." in page


def test_export_now_says_when_another_export_runs(app: Flask, signed_in: Any) -> None:
    client = signed_in(Role.SUPERVISOR)
    root = Path(app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR)
    with layout.export_lock(root):
        page = unescape(client.post("/analytics/export", follow_redirects=True).get_data(True))
    assert "An export is already running" in page
    assert "Export done" not in page
    assert not (root / layout.MANIFEST).exists()


def test_the_page_in_french(signed_in: Any, customers: dict[str, Any]) -> None:
    client = signed_in(Role.SUPERVISOR, locale="fr")
    page = unescape(client.post("/analytics/export", follow_redirects=True).get_data(True))
    assert "Analyse clients" in page
    assert "Segments RFM" in page
    assert "Rétention par cohorte" in page
    assert "Coût de service" in page
    assert "Exporter maintenant" in page
    assert "Cohort retention" not in page and "Export now" not in page


def test_agents_may_not_see_the_analytics(signed_in: Any) -> None:
    client = signed_in(Role.AGENT)
    assert client.get("/analytics").status_code == 403
    assert client.post("/analytics/export").status_code == 403


def test_the_export_leaves_the_figures_ready_for_every_web_process(
    app: Flask, signed_in: Any, customers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpdesk.warehouse import service as warehouse_service

    client = signed_in(Role.SUPERVISOR)
    client.post("/analytics/export")
    root = Path(app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR)
    assert (root / "_figures-invoices.json").exists()
    assert (root / "_figures-contacts.json").exists()
    # Another process: nothing in memory, and no DuckDB query may run.
    warehouse_service._REPORTS.clear()

    def no_query(*args: Any) -> Any:
        raise AssertionError("the figures were computed again")

    monkeypatch.setattr(warehouse_service, "_compute", no_query)
    page = _page(client)
    assert "RFM segments" in page and 'id="quadrant-table"' in page


def test_with_workers_export_now_queues_the_export_and_says_so(
    app: Flask, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpdesk.warehouse import tasks as warehouse_tasks

    queued: list[tuple[Any, ...]] = []
    monkeypatch.setitem(app.extensions["celery"].conf, "task_always_eager", False)
    monkeypatch.setattr(warehouse_tasks.export, "delay", lambda *a: queued.append(a))
    client = signed_in(Role.SUPERVISOR)
    page = unescape(client.post("/analytics/export", follow_redirects=True).get_data(True))
    assert queued == [()]
    assert "Export queued" in page and "Export done" not in page
    root = Path(app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR)
    assert not (root / layout.MANIFEST).exists()  # nothing ran in the request


def test_the_demo_s_regular_buyers_are_not_called_lost_or_new(app: Flask, signed_in: Any) -> None:
    """The demo's customers all started two years ago and invoice monthly or quarterly: the
    lowest fifths by recency or frequency are still recent regular buyers, and no cohort of the
    last twelve months has anyone, which the page must say rather than show empty rows."""
    from helpdesk import demo
    from helpdesk.warehouse import service as warehouse

    demo.seed(customers=120, tickets=300, seed=7)
    assert warehouse.export_now(db.session)["ran"]
    found = warehouse.report()
    segments = {s["segment"]: s for s in found["rfm"]["segments"]}
    assert found["rfm"]["customers"] > 50
    assert segments["lost"]["customers"] == 0 and segments["new"]["customers"] == 0
    assert segments["hibernating"]["customers"] == 0
    assert found["cohorts"]["empty"] and found["cohorts"]["earlier_customers"] > 50

    page = _page(signed_in(Role.SUPERVISOR, locale="fr"))
    assert 'id="cohorts-empty"' in page and 'id="cohort-table"' not in page
    assert "ont tous commencé avant, le premier en " in page
    # Invoices each with a decimal comma.
    assert re.search(r'<td class="num">\d+,\d</td><td>', page), page
