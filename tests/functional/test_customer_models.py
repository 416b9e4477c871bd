"""The customer models in the application: a training run stores scores for the customers the
database knows, the models page shows the method, its validation and the valuable customers at
risk (in English and French), thin data or no warehouse say so, the scores raise a caller's
routing priority and show on the caller screen, and an erased customer's scores are deleted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from helpdesk.analytics import service, synthetic
from helpdesk.analytics.models import CustomerScore, ModelRun
from helpdesk.auth.models import Role
from helpdesk.customers import erasure
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from telephony import calls
from telephony.models import Call
from telephony.screen import screen
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    sign_in,
)

END = date(2026, 12, 1)


@pytest.fixture
def signed_in(app: Flask, make_user: Any) -> Any:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)

    def sign(role: Role, **kwargs: Any) -> Any:
        assert sign_in(client, make_user(role, **kwargs)).status_code == 302
        return client

    return sign


def _customers(n: int) -> list[int]:
    """n customers inserted at once; the synthetic warehouse uses their ids as keys."""
    first = (db.session.scalar(select(func.max(Customer.id))) or 0) + 1
    db.session.execute(
        insert(Customer),
        [{"id": first + i, "name": f"Client {first + i}", "name_key": ""} for i in range(n)],
    )
    db.session.commit()
    return list(range(first, first + n))


def _warehouse(app: Flask, root: Path, customers: int) -> list[int]:
    ids = _customers(customers)
    synthetic.generate(root, customers=customers, end=END, seed=4, first_key=ids[0])
    app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR = str(root)
    return ids


@pytest.fixture
def trained(app: Flask, tmp_path: Path) -> list[int]:
    ids = _warehouse(app, tmp_path, 800)
    result = service.train_and_score(session=db.session, warehouse_dir=tmp_path, cutoff=END)
    assert result.ran
    return ids


def test_training_scores_every_known_customer_and_records_both_runs(trained: list[int]) -> None:
    runs = service.latest_runs(db.session)
    assert runs["clv"].method == "bgnbd_gamma_gamma"
    assert runs["churn"].method == "logistic_regression"
    assert runs["churn"].metrics["auc"] > 0.7
    assert runs["clv"].metrics["holdout"].get("bins"), runs["clv"].metrics["holdout"]
    scores = db.session.scalars(select(CustomerScore)).all()
    assert len(scores) == len(trained)
    assert any(s.churn_risk is not None and s.drivers for s in scores)
    assert all(s.clv_cents >= 0 and 0 <= s.clv_percentile <= 100 for s in scores)


def test_a_second_run_replaces_the_scores(app: Flask, trained: list[int], tmp_path: Path) -> None:
    service.train_and_score(session=db.session, warehouse_dir=tmp_path, cutoff=END)
    assert db.session.scalar(select(func.count()).select_from(CustomerScore)) == len(trained)
    assert db.session.scalar(select(func.count()).select_from(ModelRun)) == 4


def test_the_models_page_shows_method_validation_and_customers_at_risk(
    signed_in: Any, trained: list[int]
) -> None:
    page = unescape(signed_in(Role.SUPERVISOR).get("/analytics/models").get_data(as_text=True))
    assert 'data-method="bgnbd_gamma_gamma"' in page
    assert "BG/NBD and Gamma-Gamma model" in page
    assert "ROC AUC on the hold-out period: 0." in page
    assert 'id="clv-holdout"' in page and 'id="churn-calibration"' in page
    assert "<svg" in page
    assert "Valuable customers likely to leave" in page
    assert "Client " in page  # the list names customers
    assert "Train now" in page


def test_the_models_page_in_french(signed_in: Any, trained: list[int]) -> None:
    client = signed_in(Role.SUPERVISOR, locale="fr")
    page = unescape(client.get("/analytics/models").get_data(as_text=True))
    assert "Modèles clients" in page
    assert "Entraîner maintenant" in page
    assert "Clients précieux susceptibles de partir" in page
    assert "Valuable customers likely to leave" not in page


def test_agents_may_not_open_the_models_page(signed_in: Any) -> None:
    assert signed_in(Role.AGENT).get("/analytics/models").status_code == 403


def test_thin_data_says_so_and_keeps_the_rule(app: Flask, signed_in: Any, tmp_path: Path) -> None:
    _warehouse(app, tmp_path, 60)
    service.train_and_score(session=db.session, warehouse_dir=tmp_path, cutoff=END)
    assert db.session.scalars(select(CustomerScore.churn_risk)).all() == [None] * 60
    page = unescape(signed_in(Role.SUPERVISOR).get("/analytics/models").get_data(as_text=True))
    assert 'data-method="rules"' in page and 'data-method="simple"' in page
    assert "Too little data for a model:" in page
    assert "fewer than 200" in page
    assert "chosen by the value rules" in page
    assert "fewer than the 100 the BG/NBD model needs" in page


def test_without_a_warehouse_the_page_is_empty_and_train_says_nothing_ran(
    app: Flask, signed_in: Any, tmp_path: Path
) -> None:
    app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR = str(tmp_path / "none")
    client = signed_in(Role.SUPERVISOR)
    page = unescape(client.get("/analytics/models").get_data(as_text=True))
    assert 'id="models-empty"' in page and "No model trained yet" in page
    done = client.post("/analytics/models/train", follow_redirects=True)
    assert "Nothing was trained" in unescape(done.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ModelRun)) == 0


def test_train_now_runs_and_says_how_many_were_scored(
    app: Flask, signed_in: Any, tmp_path: Path
) -> None:
    _warehouse(app, tmp_path, 300)
    done = signed_in(Role.SUPERVISOR).post("/analytics/models/train", follow_redirects=True)
    assert "customers scored." in unescape(done.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(CustomerScore)) == 300


def _score(customer_id: int, *, risk: float | None, percentile: float) -> None:
    """A score as a training with a churn model leaves it (drivers only with a risk)."""
    db.session.add(
        CustomerScore(
            customer_id=customer_id,
            clv_cents=250_000,
            clv_percentile=percentile,
            expected_purchases_12m=4.2,
            churn_risk=risk,
            drivers=[
                {"code": "complaints_60", "value": 3, "weight": 1.1, "text": "3 complaints"},
                {"code": "revenue_trend", "value": -0.4, "weight": 0.6, "text": "revenue down"},
            ]
            if risk is not None
            else [],
            method="bgnbd_gamma_gamma+logistic_regression",
        )
    )
    db.session.commit()


def test_a_valuable_customer_likely_to_leave_is_served_first(customer_factory: Any) -> None:
    plain, leaving, cheap = (customer_factory() for _ in range(3))
    _score(leaving.id, risk=0.9, percentile=95.0)
    _score(cheap.id, risk=0.9, percentile=5.0)
    base = calls._customer_priority(db.session, plain.id)
    assert calls._customer_priority(db.session, leaving.id) == base + 26
    assert calls._customer_priority(db.session, cheap.id) == base + 1


def _ringing(customer_id: int) -> Call:
    call = Call(
        call_sid=f"CA{customer_id:032d}",
        from_number="+33612345678",
        customer_id=customer_id,
        language="fr",
        status="in-progress",
        routing_state="waiting",
        enqueued_at=datetime.now(UTC) - timedelta(seconds=5),
        created_at=datetime.now(UTC),
    )
    db.session.add(call)
    db.session.commit()
    return call


def test_the_caller_screen_shows_value_risk_and_drivers(
    signed_in: Any, customer_factory: Any
) -> None:
    customer = customer_factory(name="Durand")
    _score(customer.id, risk=0.72, percentile=90.0)
    call = _ringing(customer.id)
    pop = screen(db.session, call)
    assert pop["scores"]["churn_risk"] == pytest.approx(0.72)
    assert [d["code"] for d in pop["scores"]["drivers"]] == ["complaints_60", "revenue_trend"]
    page = unescape(signed_in(Role.SUPERVISOR).get(f"/calls/{call.id}").get_data(as_text=True))
    assert 'id="caller-scores"' in page
    assert "3 complaints in 60 days" in page
    assert "Revenue down 40%" in page
    french = signed_in(Role.SUPERVISOR, locale="fr").get(f"/calls/{call.id}")
    assert "3 réclamations en 60 jours" in unescape(french.get_data(as_text=True))


def test_the_customer_page_shows_the_scores_and_the_method(
    signed_in: Any, customer_factory: Any
) -> None:
    customer = customer_factory(name="Martin")
    _score(customer.id, risk=0.3, percentile=50.0)
    page = unescape(signed_in(Role.AGENT).get(f"/customers/{customer.id}").get_data(as_text=True))
    assert 'id="customer-scores"' in page
    assert "Why this risk" in page and "3 complaints in 60 days" in page
    assert "BG/NBD and Gamma-Gamma model; Logistic regression" in page


def test_an_erased_customer_loses_the_scores(customer_factory: Any) -> None:
    customer = customer_factory(name="Effacé")
    _score(customer.id, risk=0.5, percentile=50.0)
    exported = erasure.export(db.session, customer)
    assert exported.model_scores is not None and exported.model_scores.churn_risk == 0.5
    erasure.erase(db.session, customer, actor_id=None)
    db.session.commit()
    assert db.session.get(CustomerScore, customer.id) is None


def test_the_value_page_names_the_churn_model_and_its_customers(
    signed_in: Any, trained: list[int]
) -> None:
    page = unescape(signed_in(Role.SUPERVISOR).get("/value").get_data(as_text=True))
    assert 'id="value-model-risk"' in page
    assert 'data-method="logistic_regression"' in page
    assert "Client " in page


def test_the_daily_task_trains_on_the_configured_warehouse(app: Flask, tmp_path: Path) -> None:
    from helpdesk.analytics import tasks

    _warehouse(app, tmp_path, 300)
    outcome = tasks.train.run()
    assert outcome["ran"] and outcome["scored"] == 300
    assert service.latest_runs(db.session)["clv"].customers == 300


def test_with_a_broker_train_now_queues_the_task_and_says_so(
    app: Flask, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    celery = app.extensions["celery"]
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setitem(celery.conf, "task_always_eager", False)
    monkeypatch.setattr(
        celery.tasks["helpdesk.analytics.tasks.train"], "delay", lambda *a: queued.append(a)
    )
    done = signed_in(Role.SUPERVISOR).post("/analytics/models/train", follow_redirects=True)
    assert "Training queued" in unescape(done.get_data(as_text=True))
    assert queued == [()]
    assert db.session.scalar(select(func.count()).select_from(ModelRun)) == 0


def test_a_customer_the_model_did_not_score_is_told_apart_from_no_model(
    signed_in: Any, customer_factory: Any
) -> None:
    lapsed, ruled = customer_factory(name="Ancien"), customer_factory(name="Règle")
    _score(lapsed.id, risk=None, percentile=10.0)
    _score(ruled.id, risk=None, percentile=10.0)
    db.session.get(CustomerScore, ruled.id).method = "simple+rules"
    db.session.commit()
    client = signed_in(Role.AGENT)
    page = unescape(client.get(f"/customers/{lapsed.id}").get_data(as_text=True))
    assert "Not scored: no purchase in the last 12 months." in page
    page = unescape(client.get(f"/customers/{ruled.id}").get_data(as_text=True))
    assert "No model: the “at risk” segment rule applies." in page


def test_the_demo_data_trains_on_its_customers(app: Flask, signed_in: Any, tmp_path: Path) -> None:
    """The demo creates every customer today with two years of invoices behind them, as an
    import does: the models must still see those customers at the past cutoffs, and where the
    churn model cannot train (the demo's buyers never stop buying), the page says why."""
    from helpdesk import demo
    from helpdesk.warehouse import service as warehouse

    demo.seed(customers=300, tickets=600, seed=7)
    app.config["HELPDESK_SETTINGS"].WAREHOUSE_DIR = str(tmp_path)
    assert warehouse.export_now(db.session)["ran"]
    result = service.train_and_score(session=db.session, warehouse_dir=tmp_path)
    assert result.scored > 150, result
    runs = service.latest_runs(db.session)
    assert runs["clv"].method == "bgnbd_gamma_gamma", runs["clv"].metrics["reason"]
    assert runs["clv"].metrics["holdout"].get("bins"), runs["clv"].metrics["holdout"]
    churn_reason = runs["churn"].metrics
    assert runs["churn"].method == "rules"
    assert churn_reason["reason_code"] == "too_few_churners"
    assert churn_reason["reason_values"]["stayed"] > 150

    page = unescape(
        signed_in(Role.SUPERVISOR, locale="fr").get("/analytics/models").get_data(as_text=True)
    )
    assert "clients ayant racheté : assez pour le modèle" in page
    assert "qui ont cessé d\u2019acheter" in page and "sur la période d\u2019apprentissage" in page
    assert "repeat buyers" not in page and "churners" not in page


def test_the_models_page_words_the_reasons_in_french_with_french_numbers(
    app: Flask, signed_in: Any, tmp_path: Path
) -> None:
    _warehouse(app, tmp_path, 60)
    service.train_and_score(session=db.session, warehouse_dir=tmp_path, cutoff=END)
    client = signed_in(Role.SUPERVISOR, locale="fr")
    page = unescape(client.get("/analytics/models").get_data(as_text=True))
    assert "moins que les 100 dont le modèle BG/NBD a besoin" in page
    assert "clients actifs sur la période d\u2019apprentissage, moins de 200" in page
    assert "fewer than" not in page
    # Seconds with a decimal comma; the docs named as a file path.
    assert re.search(r"<dd>\d+,\d s ", page), page
    assert "<code>docs/customer-models.md</code>" in page
    assert "(données jusqu\u2019au 1 déc. 2026)" in page, page
    # The main menu points at the supervision pages, not at "Customers".
    current = re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]+)</a>', page)
    assert "Clients" not in current and "Tableau mural" in current, current
