"""Where a call's conference SID is kept once Twilio has told it.

Twilio accepts a conference's friendly name (`call-<CallSid>`) only when a participant is added;
fetching, updating (hold, end-on-exit) and removing a participant need the conference's own SID
(`CF...`). The gateway learns it from the answer to a participant's creation, or else looks it up
once; these stores keep it so that it is asked for at most once per call: in memory for the
process, and on the call's row (`calls.conference_sid`) for the other processes and restarts.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Protocol

# Twilio's Conference SID (the API description's pattern for `ConferenceSid`).
CONFERENCE_SID = re.compile(r"^CF[0-9a-fA-F]{32}$")


def is_conference_sid(value: object) -> bool:
    """Whether Twilio handed back a usable conference SID (a mock or an old answer may not)."""
    return isinstance(value, str) and CONFERENCE_SID.match(value) is not None


class ConferenceSids(Protocol):
    def get(self, call_sid: str) -> str | None:
        """The SID of the conference carrying `call_sid`, if known."""

    def put(self, call_sid: str, conference_sid: str) -> None:
        """Remember the SID of the conference carrying `call_sid`."""


class MemoryConferenceSids:
    """The recent calls' SIDs in this process: bounded, since a long-running web process sees
    calls without end."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._known: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, call_sid: str) -> str | None:
        with self._lock:
            return self._known.get(call_sid)

    def put(self, call_sid: str, conference_sid: str) -> None:
        with self._lock:
            self._known[call_sid] = conference_sid
            self._known.move_to_end(call_sid)
            while len(self._known) > self.size:
                self._known.popitem(last=False)


class CallConferenceSids(MemoryConferenceSids):
    """The memory first, then the call's row. The row is written in the session of the control
    under way, so it is kept when that control commits and dropped with it otherwise (the SID is
    then looked up again, which is harmless)."""

    def get(self, call_sid: str) -> str | None:
        known = super().get(call_sid)
        if known is not None:
            return known
        from sqlalchemy import select

        from helpdesk.extensions import db
        from telephony.models import Call

        stored = db.session.scalar(select(Call.conference_sid).where(Call.call_sid == call_sid))
        if stored:
            super().put(call_sid, stored)
        return stored or None

    def put(self, call_sid: str, conference_sid: str) -> None:
        super().put(call_sid, conference_sid)
        from sqlalchemy import update

        from helpdesk.extensions import db
        from telephony.models import Call

        db.session.execute(
            update(Call)
            .where(Call.call_sid == call_sid, Call.conference_sid.is_distinct_from(conference_sid))
            .values(conference_sid=conference_sid)
            .execution_options(synchronize_session=False)
        )
