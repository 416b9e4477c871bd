"""A public reply's `delivery`: which channel carries it, where to, and how far it got.

Nothing reports "sent" for a reply that no channel can carry: such a reply is `undeliverable`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets import delivery
from helpdesk.tickets import service as tickets
from telephony import sms
from telephony.models import SmsMessage

MOBILE = "+33612345678"
LANDLINE = "+33142685300"


@pytest.fixture
def sim(app: Any) -> Any:
    return app.extensions["telephony_simulator"]


def _ticket(api: Any, customer_id: int, channel: str) -> dict[str, Any]:
    r = api.post(
        "/tickets", json={"subject": "Box down", "requester_id": customer_id, "channel": channel}
    )
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _reply(api: Any, ticket_id: int, body: str, **extra: Any) -> dict[str, Any]:
    r = api.post(f"/tickets/{ticket_id}/comments", json={"body": body, **extra})
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _delivery_of(api: Any, ticket_id: int, comment_id: int) -> Any:
    items = api.get(f"/tickets/{ticket_id}/comments").get_json()["items"]
    return next(c for c in items if c["id"] == comment_id)["delivery"]


def _texts() -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.direction == "outbound")
        )
    )


def test_sms_ticket_reply_is_sent_by_text(api, sim, customer_factory):
    c = customer_factory(phones=[MOBILE])
    t = _ticket(api, c.id, "sms")
    out = _reply(api, t["id"], "A technician comes tomorrow.")
    # The outbox handed it to the provider once the reply was committed (here the simulator:
    # no Twilio account, and the answer says so).
    assert out["delivery"] == {"channel": "sms", "status": "sent", "to": MOBILE, "simulated": True}
    assert sim.inbox(MOBILE)[-1] == "A technician comes tomorrow."
    assert _delivery_of(api, t["id"], out["id"]) == out["delivery"]


def test_sms_statuses_follow_the_outbox_and_never_go_back(
    api, app, sim, customer_factory, monkeypatch, recorded
):
    monkeypatch.setattr(sms, "send_after_commit", lambda session, message_id: None)
    c = customer_factory(phones=[MOBILE])
    t = _ticket(api, c.id, "sms")
    out = _reply(api, t["id"], "On our way.")
    assert out["delivery"] == {
        "channel": "sms",
        "status": "queued",
        "to": MOBILE,
        "simulated": True,
    }
    row = db.session.scalar(select(SmsMessage).where(SmsMessage.ticket_id == t["id"]))
    gateway = app.extensions["telephony_gateway"]
    assert sms.send(db.session, row.id, gateway, public_base_url="http://localhost") == "accepted"
    assert _delivery_of(api, t["id"], out["id"])["status"] == "sent"
    row = db.session.get(SmsMessage, row.id)
    for status, expected in (("delivered", "delivered"), ("sent", "delivered")):
        sim.post(
            f"/twilio/sms/status?key={row.idempotency_key}",
            {"MessageSid": row.message_sid, "MessageStatus": status},
        )
        assert _delivery_of(api, t["id"], out["id"])["status"] == expected
    changes = recorded.named("ticket.delivery")
    assert [e.payload["status"] for e in changes] == ["sent", "delivered"]
    assert changes[-1].payload["comment_id"] == out["id"]


def test_a_text_the_carrier_refuses_is_failed(api, sim, customer_factory):
    c = customer_factory(phones=[MOBILE])
    t = _ticket(api, c.id, "sms")
    out = _reply(api, t["id"], "Did it work?")
    row = db.session.scalar(select(SmsMessage).where(SmsMessage.ticket_id == t["id"]))
    sim.post(
        f"/twilio/sms/status?key={row.idempotency_key}",
        {"MessageSid": row.message_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )
    assert _delivery_of(api, t["id"], out["id"])["status"] == "failed"


@pytest.mark.parametrize("channel", ["phone", "web", "email"])
def test_no_reachable_channel_is_undeliverable(api, sim, customer_factory, channel):
    # A landline takes no texts, and there is no address to write to: nothing can carry it.
    c = customer_factory(phones=[LANDLINE])
    t = _ticket(api, c.id, channel)
    out = _reply(api, t["id"], "We looked into it.")
    assert out["delivery"] == {
        "channel": None,
        "status": "undeliverable",
        "to": None,
        "simulated": False,
    }
    assert _texts() == 0 and sim.inbox(LANDLINE) == []
    assert _delivery_of(api, t["id"], out["id"])["status"] == "undeliverable"


def test_a_customer_with_a_mobile_is_answered_by_text_on_any_ticket(api, sim, customer_factory):
    c = customer_factory(phones=[LANDLINE, MOBILE])
    t = _ticket(api, c.id, "phone")
    out = _reply(api, t["id"], "Your line is fixed.")
    assert out["delivery"] == {"channel": "sms", "status": "sent", "to": MOBILE, "simulated": True}
    assert sim.inbox(MOBILE) == ["Your line is fixed."]


def test_notes_and_customer_words_have_no_delivery(api, customer_factory):
    c = customer_factory(phones=[MOBILE])
    t = _ticket(api, c.id, "sms")
    note = _reply(api, t["id"], "Customer sounded upset.", public=False)
    assert note["delivery"] is None
    ticket = tickets.get(db.session, t["id"])
    tickets.add_comment(db.session, ticket, body="Still broken", author_customer_id=c.id)
    items = api.get(f"/tickets/{t['id']}/comments").get_json()["items"]
    assert [c["delivery"] for c in items] == [None, None]
    assert _texts() == 0


def test_an_opted_out_customer_is_not_texted_from_another_ticket(api, sim, customer_factory):
    """STOP refuses a reply on the SMS conversation itself (409, as before); a web ticket of
    the same customer falls back to what else reaches them, here nothing."""
    c = customer_factory(phones=[MOBILE])
    sim.text(MOBILE, "STOP")
    before = _texts()
    sms_ticket = _ticket(api, c.id, "sms")
    r = api.post(f"/tickets/{sms_ticket['id']}/comments", json={"body": "Hello?"})
    assert r.status_code == 409 and "opted out" in r.get_json()["error"]["message"]
    web = _ticket(api, c.id, "web")
    out = _reply(api, web["id"], "Hello?")
    assert out["delivery"] == {
        "channel": None,
        "status": "undeliverable",
        "to": None,
        "simulated": False,
    }
    assert _texts() == before


@pytest.fixture
def mailer() -> Iterator[list[tuple[int, str | None]]]:
    """An e-mail channel standing in for the e-mail feature's; the real one put back after."""
    sent: list[tuple[int, str | None]] = []
    real = delivery._CHANNELS.get("email")

    def deliver(session: Any, ticket: Any, comment: Any) -> str:
        sent.append((comment.id, comment.delivery_to))
        return f"<reply-{comment.id}@helpdesk.test>"

    delivery.register("email", deliver)
    yield sent
    delivery.unregister("email")
    if real is not None:
        delivery.register("email", real.deliver, reach=real.reach)


def test_email_is_chosen_once_it_can_be_delivered(api, sim, customer_factory, mailer):
    c = customer_factory(phones=[MOBILE], emails=["manon@example.com"])
    email_ticket = _ticket(api, c.id, "email")
    web_ticket = _ticket(api, c.id, "web")
    phone_ticket = _ticket(api, c.id, "phone")
    by_mail = _reply(api, email_ticket["id"], "See the attached steps.")
    assert by_mail["delivery"] == {
        "channel": "email",
        "status": "queued",
        "to": "manon@example.com",
        "simulated": True,
    }
    assert _reply(api, web_ticket["id"], "Done.")["delivery"]["channel"] == "email"
    # A call is answered by text first: the customer reached us on that number.
    assert _reply(api, phone_ticket["id"], "Done.")["delivery"]["channel"] == "sms"
    assert mailer == [
        (by_mail["id"], "manon@example.com"),
        (by_mail["id"] + 1, "manon@example.com"),
    ]
    ref = f"<reply-{by_mail['id']}@helpdesk.test>"
    assert tickets.record_delivery(db.session, channel="email", ref=ref, status="bounced") == 1
    db.session.commit()
    assert _delivery_of(api, email_ticket["id"], by_mail["id"])["status"] == "bounced"
    # A later, lower status changes nothing.
    assert tickets.record_delivery(db.session, channel="email", ref=ref, status="sent") == 0


def test_openapi_documents_the_delivery(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "delivery" in schemas["CommentOut"]["required"]
    shape = schemas["DeliveryOut"]
    assert shape["properties"]["status"]["enum"] == list(delivery.STATUSES)
    channels = shape["properties"]["channel"]["anyOf"]
    assert {"enum": ["sms", "email"], "type": "string"} in channels
    assert {"type": "null"} in channels
    assert "undeliverable" in shape["properties"]["status"]["description"]


def test_asking_for_a_text_with_no_number_to_text_saves_nothing(api, customer_factory):
    """`POST /sms` asks for a text: without a number that takes one it is refused (422) and no
    reply is kept; the same reply through the comments API is saved as undeliverable."""
    c = customer_factory(phones=[LANDLINE])
    t = _ticket(api, c.id, "sms")
    r = api.post("/sms", json={"ticket_id": t["id"], "body": "Hello?"})
    assert r.status_code == 422 and "body" in r.get_json()["error"]["fields"]
    assert api.get(f"/tickets/{t['id']}/comments").get_json()["items"] == []
    out = _reply(api, t["id"], "Hello?")
    assert out["delivery"]["status"] == "undeliverable" and _texts() == 0
