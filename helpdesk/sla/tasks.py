"""The periodic breach scan (Celery beat when scaled out, the scheduler thread otherwise)."""

from __future__ import annotations

from celery import shared_task

from helpdesk.extensions import db
from helpdesk.sla import service


@shared_task(name="helpdesk.sla.tasks.scan_breaches")
def scan_breaches() -> dict[str, int]:
    total = service.ScanResult()
    # Batches keep transactions and row locks short; stop when a batch comes back short.
    for _ in range(100):
        result = service.scan(db.session, limit=500)
        total.at_risk += result.at_risk
        total.breached += result.breached
        total.examined += result.examined
        if result.examined < 500:
            break
    return {"at_risk": total.at_risk, "breached": total.breached, "examined": total.examined}
