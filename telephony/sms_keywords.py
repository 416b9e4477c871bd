"""Texts that are commands, not conversation: STOP, START, HELP and STATUS (and their French
forms), each answered by a text of its own.

Twilio's Advanced Opt-Out, when enabled, names the keyword in the webhook; it wins over our own
reading of the body so that both agree on what the customer asked.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.customers.models import Customer
from helpdesk.db import DbSession, utcnow
from helpdesk.texts.service import render
from telephony.models import SmsMessage
from telephony.sms import queue_sms
from telephony.sms_optout import opt_in, opt_out
from telephony.sms_text import STATUS_WORDS_BY_LANG, Keyword, keyword


def keyword_of(body: str, opt_out_type: str) -> Keyword | None:
    """The keyword a text is: Twilio's reading first (`OptOutType`), else the body's."""
    opt = opt_out_type.strip().upper()
    if opt in ("STOP", "START", "HELP"):
        return Keyword(opt.lower())
    return keyword(body)


def answer_keyword(
    session: DbSession, row: SmsMessage, kw: Keyword, customer: Customer, *, quiet: bool
) -> None:
    """Apply a keyword (opt out, opt back in) and queue its answer, unless `quiet` (a flood).

    A STOP is confirmed once a day at most: a customer sending it again and again must not be
    answered each time, and the confirmation is the one text that goes to an opted-out number.
    """
    reply = _apply(session, row, kw, customer)
    if reply is None or quiet:
        return
    session.flush()
    already = kw.kind == "stop" and session.scalar(
        select(SmsMessage.id).where(
            SmsMessage.kind == "opt_out_confirmation",
            SmsMessage.to_number == row.from_number,
            SmsMessage.from_number == row.to_number,
            SmsMessage.created_at > utcnow() - timedelta(days=1),
        )
    )
    if already:
        return  # one confirmation, not one per STOP
    queue_sms(
        session,
        to=row.from_number,
        from_number=row.to_number,
        body=reply[0],
        customer_id=customer.id,
        kind=reply[1],
        bypass_opt_out=reply[1] == "opt_out_confirmation",
    )


def _apply(
    session: DbSession, row: SmsMessage, kw: Keyword, customer: Customer
) -> tuple[str, str] | None:
    """Do what the keyword asks; returns the answer's body and outbox kind."""
    lang = customer.language
    if kw.kind == "stop":
        opt_out(session, row.from_number, row.to_number, "keyword")
        return render(session, "sms.stopped", lang), "opt_out_confirmation"
    if kw.kind == "start":
        opt_in(session, row.from_number, row.to_number)
        return render(session, "sms.started", lang), "keyword"
    if kw.kind == "help":
        return render(session, "sms.help", lang), "keyword"
    if kw.kind == "status":
        return _status_reply(session, kw.argument, customer), "keyword"
    return None


def _status_reply(session: DbSession, reference: str, customer: Customer) -> str:
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.workflow import id_from_reference, reference_for

    lang = customer.language
    ticket_id = id_from_reference(reference) if reference else None
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    # Only the sender's own tickets: nothing about anyone else's, not even that it exists.
    if ticket is None or ticket.requester_id != customer.id:
        return render(session, "sms.status_unknown", lang)
    words = STATUS_WORDS_BY_LANG.get(lang, STATUS_WORDS_BY_LANG["en"])
    return render(
        session,
        "sms.status",
        lang,
        reference=reference_for(ticket.id),
        status=words[ticket.status.value],
    )
