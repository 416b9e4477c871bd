"""The cost to serve counts each field visit once, however many steps it put on the timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from helpdesk.db import utcnow
from helpdesk.dispatch.models import WorkOrder
from helpdesk.dispatch.workflow import WorkOrderStatus
from helpdesk.extensions import db
from helpdesk.timeline import service as timeline
from helpdesk.value.models import CustomerValue
from helpdesk.value.service import recompute_all


def test_a_completed_visit_costs_one_visit(app: Any, customer_factory: Callable[..., Any]) -> None:
    customer = customer_factory(name="Hugo Martin")
    now = utcnow()

    def visit(status: WorkOrderStatus, done: bool) -> None:
        db.session.add(
            WorkOrder(
                customer_id=customer.id,
                summary="Router replacement",
                address="1 rue de Rivoli, Paris",
                lat=48.86,
                lon=2.35,
                window_start=now - timedelta(hours=3),
                window_end=now - timedelta(hours=1),
                day=(now - timedelta(hours=3)).date().isoformat(),
                status=status,
                completed_at=now - timedelta(hours=1) if done else None,
            )
        )

    visit(WorkOrderStatus.COMPLETED, True)
    visit(WorkOrderStatus.CANCELLED, False)  # a cancelled visit costs no trip
    for step in ("booked", "on the way", "done"):
        timeline.append(db.session, customer_id=customer.id, kind="visit", summary=step)
    db.session.commit()
    recompute_all(db.session)
    value = db.session.get(CustomerValue, customer.id)
    assert value is not None
    assert value.cost_breakdown["field_visits"] == 6000  # one visit at the default rate
