"""NUL characters, which PostgreSQL's text types cannot store: refused by the API with a 422
naming the field, removed from webhooks and console forms (the message is kept)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from helpdesk.auth.models import Role, User
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from telephony.models import SmsMessage
from tests.conftest import PASSWORD, Api

BASE = "http://localhost"  # PUBLIC_BASE_URL of the test settings
TOKEN = "test-auth-token"  # TWILIO_AUTH_TOKEN of the test settings


def test_the_token_endpoint_refuses_a_nul_naming_the_field(client: FlaskClient) -> None:
    r = client.post("/api/v1/auth/token", json={"email": "a\x00@example.com", "password": "x"})
    assert r.status_code == 422
    assert "email" in r.get_json()["error"]["fields"]


def test_api_bodies_and_queries_with_a_nul_get_422(api_as: Callable[..., Api]) -> None:
    api = api_as(Role.SUPERVISOR)
    r = api.post("/customers", json={"name": "Ann\x00 Lee", "phones": [{"number": "+33612345678"}]})
    assert r.status_code == 422 and "name" in r.get_json()["error"]["fields"]
    r = api.get("/tickets", query_string={"q": "box\x00down"})
    assert r.status_code == 422 and "q" in r.get_json()["error"]["fields"]
    assert db.session.scalar(select(Customer.id).where(Customer.name.like("Ann%"))) is None


def test_an_inbound_text_with_a_nul_is_recorded_without_it(app: Flask, client: FlaskClient) -> None:
    form = {
        "MessageSid": "SM" + "0" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "+33612345678",
        "To": "+15005550006",
        "Body": "my box\x00 is down",
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/twilio/sms", form)
    r = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 200
    bodies = list(db.session.scalars(select(SmsMessage.body)))
    assert bodies and bodies[0] == "my box is down"


def test_a_forged_webhook_is_still_refused_before_anything_is_stripped(
    client: FlaskClient,
) -> None:
    form = {"MessageSid": "SM" + "1" * 32, "From": "+33612345678", "Body": "x\x00"}
    clean = {**form, "Body": "x"}
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/twilio/sms", clean)
    r = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 403


def test_a_console_sign_in_with_a_nul_is_an_ordinary_failure(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.AGENT)
    r = client.post("/login", data={"email": user.email + "\x00", "password": PASSWORD})
    assert r.status_code in (302, 401)  # the character is dropped: no 500


def test_nothing_else_changes_for_ordinary_input(api_as: Callable[..., Api]) -> None:
    api = api_as(Role.SUPERVISOR)
    r = api.post("/customers", json={"name": "Ann Lee", "phones": [{"number": "+33612345678"}]})
    assert r.status_code == 201, r.get_json()
