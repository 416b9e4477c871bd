"""What the campaign tests share: a call campaign with a list, and agents who may take it."""

from __future__ import annotations

from typing import Any

from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.campaigns import service
from helpdesk.campaigns.lists import Candidate
from helpdesk.campaigns.models import Campaign
from helpdesk.extensions import db
from telephony import agent_presence

SCRIPT_EN = "Hello, this is the helpdesk: your contract renews next month."
SCRIPT_FR = "Bonjour, ici l'assistance : votre contrat est renouvelé le mois prochain."


def call_campaign(actor: Any, *, numbers: list[str], start: bool = True, **over: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": "Renewal reminder",
        "kind": "service",
        "legal_basis": "none",
        "channel": "call",
        "script_en": SCRIPT_EN,
        "script_fr": SCRIPT_FR,
    } | over
    campaign = service.create(db.session, actor=actor, **values)
    service.add_members(
        db.session,
        campaign,
        [Candidate(i + 2, f"Person {i}", n, None, None, "fr") for i, n in enumerate(numbers)],
        actor=actor,
    )
    if start:
        service.set_status(db.session, campaign, status="active", actor=actor)
    return campaign


def agent(make_user: Any, *, skills: dict[str, int] | None = None, available: bool = True) -> Any:
    user = make_user(Role.AGENT, skills=skills or {"support": 3}, languages=["fr", "en"])
    auth.update_user(session=db.session, user=user, name=user.name)
    if available:
        agent_presence.set_presence(db.session, user=user, state="available")
    return user


def gateway(app: Any) -> Any:
    return app.extensions["telephony_gateway"]


def placed_calls(app: Any) -> list[dict[str, str]]:
    return [args for name, args in gateway(app).commands if name == "place_call"]
