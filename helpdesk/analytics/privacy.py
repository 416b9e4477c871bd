"""Model scores are a profile of the person: an erased customer's scores are deleted (not kept
under the anonymised record as the value figures are), and they are part of the export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete

from helpdesk.analytics.models import CustomerScore
from helpdesk.db import DbSession
from helpdesk.privacy.registry import Holder, Subject, register


def erase(session: DbSession, subject: Subject) -> int:
    result = session.execute(
        delete(CustomerScore).where(CustomerScore.customer_id.in_(subject.customer_ids))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def export(session: DbSession, subject: Subject) -> Mapping[str, Any]:
    score = session.get(CustomerScore, subject.customer_id)
    return {
        "model_scores": (
            {
                "clv_cents": score.clv_cents,
                "p_alive": score.p_alive,
                "expected_purchases_12m": score.expected_purchases_12m,
                "churn_risk": score.churn_risk,
                "drivers": list(score.drivers or []),
                "method": score.method,
                "computed_at": score.computed_at,
            }
            if score is not None
            else None
        )
    }


register(
    Holder(
        name="customer_models",
        covers={"customer_scores": ("drivers",)},
        erase=erase,
        export=export,
        parts=("model_scores",),
    )
)
