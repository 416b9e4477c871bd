"""The service-level clocks a ticket's changes drive, as the ticket service sees them.

SLA policies read tickets (their priority, group, tags), so SLA sits above tickets; the ticket
service still tells the clocks about every change, in its own transaction. It does so through
this interface, which the app fills with `helpdesk.sla.service` when it is created.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from helpdesk.db import DbSession
from helpdesk.slots import Slot

if TYPE_CHECKING:
    from helpdesk.tickets.models import Ticket


class TicketClocks(Protocol):
    def on_created(self, session: DbSession, ticket: Ticket) -> None: ...

    def on_changed(
        self, session: DbSession, ticket: Ticket, diff: dict[str, list[Any]], now: datetime
    ) -> None: ...

    def on_comment(
        self,
        session: DbSession,
        ticket: Ticket,
        *,
        from_customer: bool,
        public: bool,
        now: datetime,
    ) -> None: ...


CLOCKS: Slot[TicketClocks] = Slot("SLA clocks")
