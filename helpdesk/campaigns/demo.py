"""The demo's campaign: a small service call campaign, left as a draft, whose list is the demo's
"at risk" customers (or the first customers when none is at risk), so that a new user sees the
campaigns page filled and can start it, join it and take its calls in the simulator."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.auth.models import Role, User
from helpdesk.campaigns import service
from helpdesk.customers.models import Customer, CustomerPhone
from helpdesk.db import DbSession

SCRIPT_EN = (
    "Hello, this is customer service. We noticed you contacted us several times lately: is "
    "everything working now? (Listen. Offer a technician visit if needed.)\n"
    "Close: thank them, and say they can reach us any time."
)
SCRIPT_FR = (
    "Bonjour, ici le service client. Vous nous avez contactés plusieurs fois ces derniers "
    "temps : tout fonctionne-t-il maintenant ? (Écouter. Proposer la visite d'un technicien si "
    "besoin.)\nConclure : remercier, rappeler qu'on peut nous joindre à tout moment."
)
MEMBERS = 8


def seed(session: DbSession) -> None:
    supervisor = session.scalars(
        select(User).where(User.role == Role.SUPERVISOR).order_by(User.id).limit(1)
    ).first()
    if supervisor is None:
        return
    campaign = service.create(
        session,
        actor=supervisor,
        name="Follow-up of customers at risk",
        kind="service",
        legal_basis="none",
        channel="call",
        skill="support",
        script_en=SCRIPT_EN,
        script_fr=SCRIPT_FR,
        max_attempts=3,
        retry_delay_minutes=60,
    )
    # People one can call: the "at risk" customers with a number first, then others.
    at_risk = [c for c in service.candidates_from_segment(session, "at_risk") if c.number]
    chosen = [c.customer_id for c in at_risk[:MEMBERS] if c.customer_id is not None]
    if len(chosen) < MEMBERS:
        chosen += list(
            session.scalars(
                select(Customer.id)
                .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
                .where(
                    Customer.erased_at.is_(None),
                    Customer.merged_into_id.is_(None),
                    Customer.id.not_in(chosen),
                )
                .group_by(Customer.id)
                .order_by(Customer.id)
                .limit(MEMBERS - len(chosen))
            )
        )
    filled = service.candidates_from_ids(session, chosen)
    service.add_members(session, campaign, filled, actor=supervisor)
