"""The IVR's self-service answers: "where is my technician" and "the status of my ticket".

Kept apart from the webhooks that route to them: they read the dispatch and ticket records and
say what they find, and change nothing."""

from __future__ import annotations

from typing import Any

from flask import current_app
from twilio.twiml.voice_response import Gather, VoiceResponse

from helpdesk.extensions import db
from telephony import ivr, ivr_speech
from telephony.models import Call


def technician(call: Call) -> VoiceResponse:
    """ "Where is my technician": the caller's next visit, with the ETA the route computed
    (the same one the customer's "on the way" text carries)."""
    from helpdesk.dispatch import service as dispatch
    from helpdesk.dispatch import texts

    cfg = ivr_speech.config()
    lang = call.language
    response = VoiceResponse()
    visit = (
        dispatch.active_visit_for_customer(db.session, call.customer_id)
        if call.customer_id
        else None
    )
    if visit is None:
        ivr_speech.say(response, ivr.prompt(cfg, lang, "no_technician"), lang)
    else:
        tz = current_app.config["HELPDESK_TIMEZONE"]
        values: dict[str, Any] = {
            "day": texts.day(visit.window_start, tz, lang),
            "start": texts.clock(visit.window_start, tz),
            "end": texts.clock(visit.window_end, tz),
            "time": texts.clock(visit.eta_at or visit.window_start, tz),
        }
        key = {"en_route": "technician_en_route", "on_site": "technician_on_site"}.get(
            visit.status.value, "technician_scheduled"
        )
        ivr_speech.say(response, ivr.prompt(cfg, lang, key, **values), lang)
    response.redirect(ivr_speech.url("twilio_voice.menu"), method="POST")
    return response


def ticket_status(call: Call, reference: str | None) -> VoiceResponse:
    from sqlalchemy import select

    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.workflow import UNRESOLVED, id_from_reference, reference_for

    cfg = ivr_speech.config()
    lang = call.language
    response = VoiceResponse()
    statuses = cfg["statuses"].get(lang, cfg["statuses"]["en"])
    if reference is None:
        open_tickets = list(
            db.session.scalars(
                select(Ticket)
                .where(Ticket.requester_id == call.customer_id, Ticket.status.in_(UNRESOLVED))
                .order_by(Ticket.id.desc())
                .limit(3)
            )
        )
        if not open_tickets:
            ivr_speech.say(response, ivr.prompt(cfg, lang, "no_tickets"), lang)
        for t in open_tickets:
            spoken = " ".join(reference_for(t.id).removeprefix("T-"))
            ivr_speech.say(
                response,
                ivr.prompt(
                    cfg, lang, "ticket_status", reference=spoken, status=statuses[t.status.value]
                ),
                lang,
            )
        gather = Gather(
            num_digits=12,
            finish_on_key="#",
            timeout=6,
            action=ivr_speech.url("twilio_voice.ticket"),
            method="POST",
        )
        ivr_speech.say(gather, ivr.prompt(cfg, lang, "ticket_prompt"), lang)
        response.append(gather)
        response.redirect(ivr_speech.url("twilio_voice.menu"), method="POST")
        return response
    ticket_id = id_from_reference(reference)
    ticket = db.session.get(Ticket, ticket_id) if ticket_id else None
    # Only the caller's own tickets: nothing about anyone else's.
    if ticket is None or ticket.requester_id != call.customer_id:
        ivr_speech.say(response, ivr.prompt(cfg, lang, "ticket_unknown"), lang)
    else:
        spoken = " ".join(reference_for(ticket.id).removeprefix("T-"))
        ivr_speech.say(
            response,
            ivr.prompt(
                cfg, lang, "ticket_status", reference=spoken, status=statuses[ticket.status.value]
            ),
            lang,
        )
    response.redirect(ivr_speech.url("twilio_voice.menu"), method="POST")
    return response
