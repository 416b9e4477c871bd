"""SMS conversations in the console: the list of threads, one thread with its delivery states,
replying by text through the outbox, opted-out customers, and escaping of what customers write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel
from telephony.models import SmsMessage
from telephony.simulator import Simulator
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    html,
    sign_in,
)

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def console(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    assert sign_in(client, make_user(Role.AGENT, name="Amélie Agent")).status_code == 302
    return client


@pytest.fixture
def sim(app: Flask) -> Iterator[Simulator]:
    simulator: Simulator = app.extensions["telephony_simulator"]
    yield simulator


def _thread(number: str) -> Ticket:
    db.session.expire_all()
    found = db.session.scalar(
        select(Ticket).where(Ticket.channel == Channel.SMS).order_by(Ticket.id.desc())
    )
    assert found is not None
    return found


def test_threads_list_and_one_thread(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    assert "No open SMS conversation" in html(console.get("/sms"))
    customer_factory(name=XSS, phones=["+33611111111"])
    sim.text("+33611111111", f"Hello {XSS} my box is down")
    ticket = _thread("+33611111111")
    page = html(console.get("/sms"))
    assert f'href="/sms/{ticket.id}"' in page and XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    page = html(console.get(f"/sms/{ticket.id}"))
    assert XSS not in page and "Hello &lt;img src=x onerror=alert(1)&gt; my box is down" in page
    # The automatic acknowledgement went out as a text, with its delivery state.
    assert 'class="sms sms-inbound' in page and 'class="sms sms-outbound' in page
    assert "sms-status-" in page and 'id="sms-reply-form"' in page
    assert 'data-sms-meter="reply-body"' in page
    fragment = html(console.get(f"/sms/{ticket.id}?fragment=messages"))
    assert "<html" not in fragment and 'id="sms-messages"' in fragment


def test_reply_leaves_as_one_text(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    customer_factory(name="Hugo Martin", phones=["+33611111111"])
    sim.text("+33611111111", "Is my order shipped?")
    ticket = _thread("+33611111111")
    before = db.session.scalar(
        select(db.func.count(SmsMessage.id)).where(SmsMessage.direction == "outbound")
    )
    r = console.post(f"/sms/{ticket.id}/reply", data={"body": "Yes, it left this morning."})
    assert r.status_code == 302 and r.headers["Location"] == f"/sms/{ticket.id}"
    db.session.expire_all()
    sent = list(
        db.session.scalars(
            select(SmsMessage).where(
                SmsMessage.direction == "outbound", SmsMessage.body == "Yes, it left this morning."
            )
        )
    )
    assert len(sent) == 1 and sent[0].to_number == "+33611111111"
    after = db.session.scalar(
        select(db.func.count(SmsMessage.id)).where(SmsMessage.direction == "outbound")
    )
    assert after == before + 1
    page = html(console.get(f"/sms/{ticket.id}"))
    assert "Text queued" in page and "Yes, it left this morning." in page
    # An empty reply is refused and sends nothing.
    r = console.post(f"/sms/{ticket.id}/reply", data={"body": ""})
    assert r.status_code == 302 and "This field is required." in html(
        console.get(f"/sms/{ticket.id}")
    )


def test_opted_out_customer_cannot_be_texted(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    customer_factory(name="Hugo Martin", phones=["+33611111111"])
    sim.text("+33611111111", "Where is my technician?")
    ticket = _thread("+33611111111")
    sim.text("+33611111111", "STOP")
    page = html(console.get(f"/sms/{ticket.id}"))
    assert "asked to receive no more texts" in page and 'id="sms-reply-form"' not in page
    r = console.post(f"/sms/{ticket.id}/reply", data={"body": "Still there?"})
    assert r.status_code == 302
    assert "Not sent" in html(console.get(f"/sms/{ticket.id}"))
    db.session.expire_all()
    assert db.session.scalar(select(SmsMessage).where(SmsMessage.body == "Still there?")) is None


def test_only_sms_tickets_have_a_thread(
    console: FlaskClient, ticket_factory: Callable[..., Any]
) -> None:
    web = ticket_factory(subject="By the web form")
    assert console.get(f"/sms/{web.id}").status_code == 404
    assert console.post(f"/sms/{web.id}/reply", data={"body": "x"}).status_code == 404
    assert console.get("/sms/999999").status_code == 404


def test_reply_goes_to_the_number_that_texted(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    customer_factory(name="Hugo Martin", phones=["+33600000001", "+33611111111"])
    sim.text("+33611111111", "Texting from my second phone")
    ticket = _thread("+33611111111")
    console.post(f"/sms/{ticket.id}/reply", data={"body": "Got it."})
    db.session.expire_all()
    sent = db.session.scalar(select(SmsMessage).where(SmsMessage.body == "Got it."))
    assert sent is not None and sent.to_number == "+33611111111"


def test_media_links_other_than_http_are_shown_as_text(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    customer_factory(name="Mia", phones=["+33611111112"])
    photo = "https://example.com/photo.jpg"
    sim.text("+33611111112", "see attached", media_urls=(photo, "javascript:alert(1)"))
    page = html(console.get(f"/sms/{_thread('+33611111112').id}"))
    assert f'<a href="{photo}"' in page
    assert 'href="javascript:' not in page
    assert "data-unsafe-link>Attachment 2: javascript:alert(1)</span>" in page
