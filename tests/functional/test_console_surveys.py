"""Satisfaction in the console: the ticket page and the customer page show the surveys, their
scores and the customer's words (inert), in the agent's language; the caller screen carries the
customer's average; the call report has its CSAT columns by agent."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.supervision import live
from helpdesk.surveys import service as surveys
from helpdesk.tickets import service as tickets
from helpdesk.tickets.workflow import Channel, Status
from tests.functional.test_console import SessionPerRequestClient, html, sign_in

MARKUP = "<img src=x onerror=alert(1)> trop lent"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


def _answered_ticket(customer_factory: Any, ticket_factory: Any, agent_id: int, score: int) -> Any:
    customer = customer_factory(language="fr", phones=[], emails=["noa@example.com"])
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.EMAIL, assignee_id=agent_id)
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    survey = surveys.recent(db.session, ticket_id=ticket.id)[0]
    assert surveys.record_answer(db.session, survey, score=score, comment=MARKUP, via="link")
    return ticket


def test_ticket_and_customer_pages_show_the_answer_inert_in_french(
    client, make_user, customer_factory, ticket_factory
):
    agent = make_user(Role.AGENT, locale="fr")
    ticket = _answered_ticket(customer_factory, ticket_factory, agent.id, 2)
    assert sign_in(client, agent).status_code == 302
    page = html(client.get(f"/tickets/{ticket.id}"))
    assert 'id="surveys"' in page and "2/5" in page and "par e-mail" in page
    assert MARKUP not in page and "&lt;img src=x onerror=alert(1)&gt; trop lent" in page
    card = html(client.get(f"/customers/{ticket.requester_id}"))
    assert "Moyenne de 1 réponse" in card and "2/5" in card and MARKUP not in card
    # The timeline words the answer too.
    assert "Satisfaction 2/5 : &lt;img" in card
    # A solved ticket with no survey (its customer was asked within the period) says so.
    second = ticket_factory(requester_id=ticket.requester_id, channel=Channel.EMAIL)
    tickets.update(db.session, second, actor=None, status=Status.SOLVED)
    empty = html(client.get(f"/tickets/{second.id}"))
    assert "Aucune enquête de satisfaction n\u2019a été envoyée pour ce ticket" in empty
    # An open ticket shows no satisfaction panel at all.
    fresh = ticket_factory(requester_id=ticket.requester_id)
    assert 'id="surveys"' not in html(client.get(f"/tickets/{fresh.id}"))


def test_call_report_page_has_csat_columns_by_agent(
    client, make_user, customer_factory, ticket_factory
):
    agent = make_user(Role.AGENT, name="Noé Agent")
    _answered_ticket(customer_factory, ticket_factory, agent.id, 4)
    supervisor = make_user(Role.SUPERVISOR)
    assert sign_in(client, supervisor).status_code == 302
    day = live.local_today()
    page = html(client.get(f"/reports/calls?start={day}&end={day}&by=agent"))
    assert "Satisfaction (/5)" in page and '<th scope="row">Noé Agent</th>' in page
    assert 'id="report-csat"' in page and "4.0/5 from 1 survey answer" in page
    csv = html(client.get(f"/reports/calls.csv?start={day}&end={day}&by=agent")).splitlines()
    assert csv[0].endswith(",csat_avg,csat_responses") and csv[1].endswith(",4.0,1")
    by_day = html(client.get(f"/reports/calls?start={day}&end={day}&by=day"))
    assert "Satisfaction (/5)" not in by_day and 'id="report-csat"' in by_day


def test_the_caller_screen_carries_the_customers_satisfaction(
    app, make_user, customer_factory, ticket_factory
):
    from telephony.models import Call
    from telephony.screen import screen

    agent = make_user(Role.AGENT)
    ticket = _answered_ticket(customer_factory, ticket_factory, agent.id, 5)
    call = Call(
        call_sid="CA" + "5" * 32, from_number="+33612340000", customer_id=ticket.requester_id
    )
    db.session.add(call)
    db.session.commit()
    assert screen(db.session, call)["satisfaction"] == {"average": 5.0, "responses": 1}
    stranger = customer_factory(phones=["+33612340001"])
    other = Call(call_sid="CA" + "6" * 32, from_number="+33612340001", customer_id=stranger.id)
    db.session.add(other)
    db.session.commit()
    assert screen(db.session, other)["satisfaction"] == {"average": None, "responses": 0}
