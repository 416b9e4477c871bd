"""A known customer's texts arriving at once, over two web processes sharing PostgreSQL, open one
conversation: the select that finds the sender's customer also locks it (`FOR UPDATE OF
customers`), so the texts after the first find the conversation it opened and comment on it, and
one acknowledgement goes out. Each copy of one of them at once changes nothing more."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import create_engine, text

from helpdesk.app import create_app
from helpdesk.customers import service as customers
from helpdesk.extensions import db
from tests.services.test_webhook_duplicates import CENTER, _post, ports  # noqa: F401

TEXTS = 6
NUMBER = "+33644444444"


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_texts_at_once_open_one_conversation(settings, database, ports):  # noqa: F811
    app = create_app(settings)
    with app.app_context():
        customers.create(db.session, name="Camille", phones=[NUMBER])
        db.session.remove()
        db.engine.dispose()
    start = threading.Barrier(TEXTS * 2)

    def one(i: int) -> requests.Response:
        form = {
            "MessageSid": f"SM{i % TEXTS:032d}",  # each text twice: a copy of its webhook
            "From": NUMBER,
            "To": CENTER,
            "Body": f"Message {i % TEXTS}",
        }
        start.wait(timeout=30)
        return _post(ports[i % 2], "/twilio/sms", form)

    with ThreadPoolExecutor(max_workers=TEXTS * 2) as pool:
        answers = list(pool.map(one, range(TEXTS * 2)))
    assert [r.status_code for r in answers] == [200] * (TEXTS * 2), [r.text for r in answers]
    url = database.url
    assert _scalar(url, "SELECT count(*) FROM sms_messages WHERE direction = 'inbound'") == TEXTS
    assert _scalar(url, "SELECT count(*) FROM tickets WHERE channel = 'sms'") == 1
    assert _scalar(url, "SELECT count(DISTINCT ticket_id) FROM sms_messages") == 1
    assert _scalar(url, "SELECT count(*) FROM ticket_comments") == TEXTS - 1
    assert _scalar(url, "SELECT count(*) FROM sms_messages WHERE kind = 'ack'") == 1
