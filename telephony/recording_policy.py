"""What a queue's recording policy means, as pure logic: whether to record, whether the caller
is told first, when a recording expires, and who may hear one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MODES = ("off", "on", "announce")
# Statuses in which a recording has audio the helpdesk may stream.
PLAYABLE = frozenset({"completed"})


@dataclass(frozen=True)
class Policy:
    mode: str = "off"
    retention_days: int | None = None
    restricted: bool = False

    @property
    def records(self) -> bool:
        return self.mode in ("on", "announce")

    @property
    def announces(self) -> bool:
        return self.mode == "announce"

    def expires_at(self, started: datetime) -> datetime | None:
        """When a recording begun at `started` is purged (None: kept)."""
        if self.retention_days is None:
            return None
        return started + timedelta(days=self.retention_days)


@dataclass(frozen=True)
class Listener:
    """Who asks to hear a recording: their id, whether they supervise the floor (supervisors and
    administrators hear every queue's recordings) and the queues they answer for."""

    user_id: int
    supervises: bool
    queues: frozenset[int]


def may_hear(
    listener: Listener, *, queue_id: int | None, restricted: bool, agent_id: int | None
) -> bool:
    """A restricted queue's recordings are for its own agents, the agent on the call, and
    supervisors; an unrestricted one's are for all staff."""
    if listener.supervises or not restricted:
        return True
    if agent_id is not None and agent_id == listener.user_id:
        return True
    return queue_id is not None and queue_id in listener.queues
