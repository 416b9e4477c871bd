"""The customer models' page (`/analytics/models`): which method ran and why, how well it did on
its hold-out period (ROC AUC, calibration, predicted against actual purchases), how long training
took, and the valuable customers most likely to leave with the reasons. Also the scores panel of
the customer page."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _

from agents_ui import formatting, model_charts, model_labels
from agents_ui.blueprint import bp, role_required
from agents_ui.value_labels import money
from helpdesk.analytics import features
from helpdesk.analytics import service as models
from helpdesk.audit.recorder import audit_details
from helpdesk.auth import permissions
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.warehouse import service as warehouse_service

AT_RISK_LISTED = 20
TRAIN_TASK = "helpdesk.analytics.tasks.train"


def _iso_day(value: str | None) -> str:
    """A stored ISO date ("2026-12-03") as the reader's locale writes a day ("3 déc. 2026")."""
    if not value:
        return ""
    try:
        return str(format_date(date.fromisoformat(value), "medium"))
    except ValueError:
        return value


def _at_risk() -> list[dict[str, Any]]:
    scores = models.valuable_at_risk(db.session, limit=AT_RISK_LISTED)
    names = dict(
        db.session.query(Customer.id, Customer.name).filter(
            Customer.id.in_([s.customer_id for s in scores])
        )
    )
    return [
        {
            **model_labels.scores_view(models.score_dict(s)),
            "customer_id": s.customer_id,
            "name": names.get(s.customer_id, ""),
        }
        for s in scores
    ]


@bp.get("/analytics/models")
@role_required(*permissions.SUPERVISE)
def customer_models() -> ResponseReturnValue:
    runs = models.latest_runs(db.session)
    clv_run, churn_run = runs.get("clv"), runs.get("churn")
    clv_metrics = dict(clv_run.metrics or {}) if clv_run else {}
    churn_metrics = dict(churn_run.metrics or {}) if churn_run else {}
    holdout = clv_metrics.get("holdout") or {}
    return render_template(
        "analytics/models.html",
        warehouse_ready=features.has_data(warehouse_service.directory(current_app)),
        clv_run=clv_run,
        churn_run=churn_run,
        clv_metrics=clv_metrics,
        churn_metrics=churn_metrics,
        holdout=holdout,
        calibration_chart=model_charts.calibration(churn_metrics.get("calibration") or []),
        holdout_chart=model_charts.holdout(holdout.get("bins") or []),
        at_risk=_at_risk() if churn_run and churn_run.method != "rules" else [],
        method_name=model_labels.method_name,
        clv_reason=model_labels.run_reason(clv_metrics),
        churn_reason=model_labels.run_reason(churn_metrics),
        skipped_reason=model_labels.skipped_reason(holdout),
        iso_day=_iso_day,
        money=money,
    )


@bp.post("/analytics/models/train")
@role_required(*permissions.SUPERVISE)
def customer_models_train() -> ResponseReturnValue:
    """With a Celery broker, the training is queued for a worker (at 100,000 customers it takes
    over a minute: too long to hold a request); without one (the embedded deployment), it runs
    here. The message says which happened."""
    config = current_app.config
    celery = current_app.extensions["celery"]
    if not celery.conf.task_always_eager:
        celery.tasks[TRAIN_TASK].delay()
        audit_details({"queued": True})
        flash(_("Training queued: a worker runs it; reload this page in a minute or two."), "info")
        return redirect(url_for("console.customer_models"))
    result = models.train_and_score(
        session=db.session,
        warehouse_dir=warehouse_service.directory(current_app),
        monthly_discount=float(config.get("HELPDESK_CLV_MONTHLY_DISCOUNT") or 0.01),
    )
    audit_details(result.as_dict())
    if result.ran:
        flash(
            _(
                "Models trained in %(s)s s: %(n)s customers scored.",
                s=formatting.number(result.duration_s, 1),
                n=result.scored,
            ),
            "success",
        )
    else:
        flash(_("Nothing was trained: there is no warehouse export to learn from yet."), "error")
    return redirect(url_for("console.customer_models"))


def customer_scores(customer_id: int) -> dict[str, Any] | None:
    """The customer page's scores panel (None before the first training)."""
    found = models.score_of(db.session, customer_id)
    return model_labels.scores_view(models.score_dict(found)) if found else None


def model_summary(limit: int = 5) -> dict[str, Any] | None:
    """What the value page says of the churn model: which method decides who is at risk, and
    the most valuable customers it finds likely to leave (None before the first training)."""
    runs = models.latest_runs(db.session)
    churn_run = runs.get("churn")
    if churn_run is None:
        return None
    return {
        "method": churn_run.method,
        "method_name": model_labels.method_name(churn_run.method),
        "reason": model_labels.run_reason(dict(churn_run.metrics or {})),
        "at_risk": _at_risk()[:limit] if churn_run.method != "rules" else [],
    }
