"""What follows a ticket's solving, as the ticket service sees it.

The satisfaction survey reads tickets, so it sits above them; the ticket service still tells it
when a ticket becomes solved, in the same transaction (the survey is written with the change and
sent after the commit, or not at all). The app fills this with `helpdesk.surveys.service`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from helpdesk.db import DbSession
from helpdesk.slots import Slot

if TYPE_CHECKING:
    from helpdesk.tickets.models import Ticket


class AfterSolved(Protocol):
    def __call__(self, session: DbSession, ticket: Ticket) -> Any: ...


AFTER_SOLVED: Slot[AfterSolved] = Slot("what follows a solved ticket")
