"""The queues the IVR menu names, kept consistent with the database.

The menu (`ivr.json`, or its override under `instance/`) routes keys to queues by name, while
queues are rows an admin manages. A fresh install has no rows, so a caller pressing a queue key
would reach a queue that does not exist: `helpdesk db upgrade` creates the missing ones with
plain defaults (`create_missing`), and `helpdesk check` and `/healthz` list any key that still
leads nowhere (`dead_keys`), say after a queue was renamed or deactivated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.db import DbSession
from telephony import ivr, ivr_menu
from telephony.models import CallQueue

# Labels for the queues the packaged menu names; any other name is labelled after itself.
LABELS = {"support": ("Support", "Assistance"), "billing": ("Billing", "Facturation")}


@dataclass(frozen=True)
class DeadKey:
    """A menu key whose queue cannot take a caller."""

    key: str
    queue: str
    reason: str  # "missing", "inactive" or "unnamed"

    @property
    def message(self) -> str:
        if self.reason == "unnamed":
            return f"IVR key {self.key} is a queue option without a queue name"
        what = "is inactive" if self.reason == "inactive" else "does not exist"
        return f"IVR key {self.key} leads to queue '{self.queue}', which {what}"

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "message": self.message}


def menu_queues(config: dict[str, Any]) -> dict[str, str]:
    """{menu key: queue name} for every menu option that puts the caller in a queue, and the
    menu's default routes (`no_input`, `invalid`: `telephony.ivr_menu`) when configured and
    leading to a queue no key names (one that a key names is checked, and named, by that key)."""
    found = {
        str(key): str(option.get("queue") or "")
        for key, option in sorted((config.get("menu") or {}).items())
        if isinstance(option, dict) and option.get("action") == "queue"
    }
    if "menu_limits" in config:
        limits = ivr_menu.MenuLimits.from_config(config)
        for reason, route in (("no_input", limits.no_input), ("invalid", limits.invalid)):
            name = str(route.get("queue") or "")
            if route.get("action") == "queue" and name not in found.values():
                found[reason] = name
    return found


def menu_dead_keys(session: DbSession, instance_path: str) -> list[DeadKey]:
    """`dead_keys` of the menu this instance uses, then the queues' after-hours routes that
    lead nowhere: the health report's IVR check."""
    return dead_keys(session, ivr.load(instance_path)) + dead_after_hours(session)


def dead_after_hours(session: DbSession) -> list[DeadKey]:
    """Active queues whose after-hours route names a queue that is missing or inactive (say,
    renamed since): their callers get voicemail at night instead. Keyed `after_hours:<queue>`."""
    routes = {
        name: str(route.get("queue") or "")
        for name, route in session.execute(
            select(CallQueue.name, CallQueue.after_hours).where(
                CallQueue.active, CallQueue.after_hours.is_not(None)
            )
        )
        if isinstance(route, dict) and route.get("action") == "queue"
    }
    if not routes:
        return []
    config = {
        "menu": {f"after_hours:{q}": {"action": "queue", "queue": t} for q, t in routes.items()}
    }
    return dead_keys(session, config)


def dead_keys(session: DbSession, config: dict[str, Any]) -> list[DeadKey]:
    """The menu keys that lead to no active queue, in key order (one query)."""
    wanted = menu_queues(config)
    names = {name for name in wanted.values() if name}
    active: dict[str, bool] = {}
    if names:
        query = select(CallQueue.name, CallQueue.active).where(CallQueue.name.in_(names))
        active = {name: is_active for name, is_active in session.execute(query)}
    dead = []
    for key, name in wanted.items():
        if not name:
            dead.append(DeadKey(key=key, queue="", reason="unnamed"))
        elif name not in active:
            dead.append(DeadKey(key=key, queue=name, reason="missing"))
        elif not active[name]:
            dead.append(DeadKey(key=key, queue=name, reason="inactive"))
    return dead


def create_missing(session: DbSession, config: dict[str, Any]) -> list[str]:
    """Create each queue the menu names that has no row, and commit; returns the names created.

    Idempotent, and safe when two processes run it at once (the name is unique: the loser of a
    race finds the row made). A queue that exists but is inactive is left as the admin set it.
    Defaults: the skill named like the queue at level 1, so an agent given that skill takes its
    calls; admins tune queues later in the console or the API.
    """
    created = []
    for name in sorted(set(menu_queues(config).values()) - {""}):
        if session.scalar(select(CallQueue.id).where(CallQueue.name == name)) is not None:
            continue
        label_en, label_fr = LABELS.get(name, (name.replace("_", " ").title(),) * 2)
        try:
            with session.begin_nested():
                session.add(
                    CallQueue(
                        name=name,
                        label_en=label_en,
                        label_fr=label_fr,
                        skills={name: 1},
                        steps=[],
                    )
                )
        except IntegrityError:
            continue  # made meanwhile by another process
        created.append(name)
    session.commit()
    return created
