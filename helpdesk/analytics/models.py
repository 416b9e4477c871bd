"""What the customer models produced: each customer's scores, and each training run with the
figures that say how far to trust them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import UTCDateTime, json_type, utcnow
from helpdesk.extensions import db


class ModelRun(db.Model):  # type: ignore[name-defined,misc]
    """One model trained: `kind` is "clv" or "churn", `method` what ran (a model, or the
    fallback), `metrics` its validation (AUC, calibration bins, the CLV hold-out table) and the
    data-sufficiency message under "reason"."""

    __tablename__ = "model_runs"
    __table_args__ = (Index("ix_model_runs_kind_trained", "kind", "trained_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)


class CustomerScore(db.Model):  # type: ignore[name-defined,misc]
    """A customer's last scores. `churn_risk` is null when no churn model ran (the value rules
    decide "at risk" then); `p_alive` is null with the simple CLV method. `drivers` lists the top
    reasons for the risk: [{"code", "value", "weight", "text"}]."""

    __tablename__ = "customer_scores"
    __table_args__ = (Index("ix_customer_scores_clv", "clv_cents"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    clv_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Rank of the CLV among everyone scored (100: the most valuable), read by routing.
    clv_percentile: Mapped[float] = mapped_column(Float, default=0.0)
    p_alive: Mapped[float | None] = mapped_column(Float, nullable=True)
    expected_purchases_12m: Mapped[float] = mapped_column(Float, default=0.0)
    churn_risk: Mapped[float | None] = mapped_column(Float, nullable=True)
    drivers: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    method: Mapped[str] = mapped_column(String(48))
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
