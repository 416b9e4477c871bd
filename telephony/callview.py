"""One call as every client sees it: the offer event, the caller screen, the REST API's view of
my state and the console's phone panel all carry this view, built here and nowhere else.

`number` is the other party (the caller, or whom we dial) in E.164 and `number_display` the same
as an agent reads it out; `from` is Twilio's From, kept for the documented events. A client
reads one shape whichever message brought it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import Select, select

from helpdesk.customers.models import Customer, CustomerTag
from helpdesk.db import DbSession, kept_memo
from telephony.models import Call
from telephony.queue_config import name_of
from telephony.recording_models import CallRecording

# A live recording's status as the view shows it; any other status is not a live recording.
_RECORDING_STATE = {"in-progress": "recording", "paused": "paused"}


@dataclass(frozen=True)
class CustomerRef:
    """Who the caller is, in the few words the ringing panel shows."""

    id: int
    name: str
    language: str
    tags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        tags = list(self.tags)
        return {"id": self.id, "name": self.name, "language": self.language, "tags": tags}

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> CustomerRef:
        """From the caller screen's card, which has read these already."""
        return cls(card["id"], card["name"], card["language"], tuple(card.get("tags") or ()))


@dataclass(frozen=True)
class CallView:
    call_id: int
    call_sid: str
    direction: str
    from_number: str
    number: str
    number_display: str
    queue: str | None
    language: str
    ivr_path: tuple[str, ...]
    waited_s: float
    callback: bool
    customer: CustomerRef | None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    expires_at: datetime | None = None  # while it rings for an agent: until when
    # Call controls: since when the caller is on hold (None: not on hold), and the hold time
    # before that, so a panel shows the hold clock without asking.
    held_since: datetime | None = None
    hold_s: float = 0.0
    # A transfer of the call (`telephony.transfer`): mode, state, from whom, their notes, target.
    transfer: dict[str, Any] | None = None
    # The conference's third parties still on the call (`telephony.conference_parties`).
    parties: tuple[dict[str, Any], ...] = ()
    # The call's recording: none, recording or paused, so the panel offers pause or resume only
    # while there is something to pause (`telephony.recordings`).
    recording: str = "none"

    def to_json(self) -> dict[str, Any]:
        """The view as events and answers carry it (documented in docs/realtime.md)."""
        return {
            "call_id": self.call_id,
            "call_sid": self.call_sid,
            "direction": self.direction,
            "from": self.from_number,
            "number": self.number,
            "number_display": self.number_display,
            "queue": self.queue,
            "language": self.language,
            "ivr_path": list(self.ivr_path),
            "waited_s": self.waited_s,
            "callback": self.callback,
            "customer": self.customer.to_json() if self.customer else None,
            "answered_at": _iso(self.answered_at),
            "ended_at": _iso(self.ended_at),
            "expires_at": _iso(self.expires_at),
            "on_hold": self.held_since is not None,
            "held_since": _iso(self.held_since),
            "hold_s": self.hold_s,
            "transfer": _shown(self.transfer),
            "parties": [
                {k: p.get(k) for k in ("id", "kind", "name", "agent_id")} for p in self.parties
            ],
            "recording": self.recording,
        }


def display(e164: str) -> str:
    """`+33612345678` as `+33 6 12 34 56 78`: what an agent reads out or dials by hand.
    Unparseable values are shown as stored, so a bad row never breaks a view."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _shown(transfer: dict[str, Any] | None) -> dict[str, Any] | None:
    """A transfer as consoles see it: without the network's leg ids."""
    if not transfer:
        return None
    return {k: v for k, v in transfer.items() if k != "consult_leg"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


_CUSTOMER_COLUMNS = (
    Customer.id.label("customer_id"),
    Customer.name.label("customer_name"),
    Customer.language.label("customer_language"),
    CustomerTag.tag.label("customer_tag"),
)


def with_customer(query: Select[Any], customer_id: Any) -> Select[Any]:
    """`query` with the columns of the customer `customer_id` names added, a row per tag: a
    statement that is read anyway brings the view's customer along, at no round trip more."""
    return (
        query.add_columns(*_CUSTOMER_COLUMNS)
        .outerjoin(Customer, Customer.id == customer_id)
        .outerjoin(CustomerTag, CustomerTag.customer_id == Customer.id)
    )


def customer_in(rows: Sequence[Any]) -> CustomerRef | None:
    """The customer the rows of a `with_customer` query carry (None: no customer)."""
    if not rows or rows[0].customer_id is None:
        return None
    first = rows[0]
    tags = tuple(sorted(r.customer_tag for r in rows if r.customer_tag is not None))
    return CustomerRef(first.customer_id, first.customer_name, first.customer_language, tags)


def _customer(session: DbSession, customer_id: int | None) -> CustomerRef | None:
    # One statement of columns: the ORM entity would bring its phones, emails, tags and company
    # in four more (they load with it), which the view does not show.
    if customer_id is None:
        return None
    query = (
        select(*_CUSTOMER_COLUMNS)
        .outerjoin(CustomerTag, CustomerTag.customer_id == Customer.id)
        .where(Customer.id == customer_id)
    )
    return customer_in(session.execute(query).all())


def _known_customer(
    session: DbSession, call: Call, customer: CustomerRef | None
) -> CustomerRef | None:
    """The caller as handed in, or as read once in this request (`kept_memo`: the accept's
    answer shows the call whose view the accept has just announced), or read now."""
    memo = kept_memo(session)
    key = ("call_view.customer", call.id)
    if customer is None:
        customer = memo[key] if memo is not None and key in memo else None
    if customer is None:
        customer = _customer(session, call.customer_id)
    if memo is not None:
        memo[key] = customer
    return customer


def recording_state(session: DbSession, call: Call) -> str:
    """none, recording or paused. Read only for a call in progress: a ringing or ended call has
    no recording to pause, and the screen pop's statements stay as they were."""
    if call.answered_at is None or call.ended_at is not None or call.id is None:
        return "none"
    # The accept announces the call's view, then answers with it: read once (after the
    # recording the accept started, if any) for both.
    memo = kept_memo(session)
    key = ("call_view.recording", call.id)
    if memo is not None and key in memo:
        return str(memo[key])
    status = session.scalar(
        select(CallRecording.status)
        .where(CallRecording.call_id == call.id, CallRecording.kind == "call")
        .order_by(CallRecording.id.desc())
        .limit(1)
    )
    state = _RECORDING_STATE.get(status or "", "none")
    if memo is not None:
        memo[key] = state
    return state


def call_view(
    session: DbSession,
    call: Call,
    *,
    now: datetime,
    expires_at: datetime | None = None,
    customer: CustomerRef | None = None,
    queue: str | None = None,
) -> CallView:
    """The view of `call`. A caller that has read the customer or the queue already (the caller
    screen has) hands them in, and nothing is read twice."""
    customer = _known_customer(session, call, customer)
    if queue is None:
        queue = name_of(session, call.queue_id)
    waited = round((now - call.enqueued_at).total_seconds(), 1) if call.enqueued_at else 0.0
    number = call.from_number if call.direction == "inbound" else call.to_number
    return CallView(
        call_id=call.id,
        call_sid=call.call_sid,
        direction=call.direction,
        from_number=call.from_number,
        number=number,
        number_display=display(number),
        queue=queue,
        language=call.language,
        ivr_path=tuple(call.ivr_path or ()),
        waited_s=waited,
        callback=bool(call.callback_requested),
        customer=customer,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        expires_at=expires_at,
        held_since=call.held_since,
        hold_s=call.hold_seconds or 0.0,
        transfer=call.transfer,
        parties=tuple(p for p in call.parties or () if not p.get("left")),
        recording=recording_state(session, call),
    )
