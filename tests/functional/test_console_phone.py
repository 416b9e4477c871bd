"""The phone in the console: presence, the ringing panel and its snapshot, accept, reject and
wrap-up, click-to-call, and the call simulator page, with their role checks and escaping."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agents_ui import phone_state
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.timeline.models import TimelineEntry
from telephony import agent_presence, offers
from telephony.models import AgentPresence, Call, CallOffer, CallQueue
from telephony.simulator import Simulator
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    html,
    sign_in,
)
from tests.statements import statements

JSON = {"Accept": "application/json"}
XSS_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture
def sim(app: Flask) -> Iterator[Simulator]:
    db.session.add_all(
        [
            CallQueue(
                name="support",
                label_en="Support",
                label_fr="Assistance",
                skills={"support": 1},
                wrap_up_s=120,
            ),
            CallQueue(name="billing", skills={"billing": 2}),
        ]
    )
    db.session.commit()
    simulator: Simulator = app.extensions["telephony_simulator"]
    yield simulator
    # Nobody is left holding: the hold loop would otherwise keep posting to this test's app.
    db.session.rollback()
    for call in list(simulator.calls.values()):
        if call.state != "completed":
            simulator.hang_up(call.call_sid)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return SessionPerRequestClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, name="Amélie Agent", skills={"support": 3}, languages=["fr", "en"])


@pytest.fixture
def console(client: FlaskClient, agent: User) -> FlaskClient:
    assert sign_in(client, agent).status_code == 302
    return client


def state(console: FlaskClient) -> dict[str, Any]:
    r = console.get("/phone/state")
    assert r.status_code == 200 and r.is_json
    return r.get_json()  # type: ignore[no-any-return]


def panel_snapshot(page: str) -> dict[str, Any]:
    found = re.search(r'data-snapshot="([^"]*)"', page)
    assert found, "no phone panel on the page"
    return json.loads(unescape(found.group(1)))  # type: ignore[no-any-return]


def ring(sim: Simulator, number: str, digits: str = "1") -> Call:
    """A customer calls the support queue; returns the call row (offered to a free agent)."""
    placed = sim.call(number, digits=digits)
    assert placed.state == "queued", placed.transcript
    db.session.expire_all()
    row = db.session.scalar(select(Call).where(Call.call_sid == placed.call_sid))
    assert row is not None
    return row


def go_available(console: FlaskClient) -> None:
    r = console.post("/phone/presence", data={"state": "available"}, headers=JSON)
    assert r.status_code == 200, r.get_json()


# -- presence ----------------------------------------------------------------------------------


def test_every_page_has_the_phone_panel(console: FlaskClient) -> None:
    page = html(console.get("/tickets"))
    assert 'id="phone"' in page and 'id="presence-form"' in page
    snap = panel_snapshot(page)
    assert snap["presence"]["state"] == "offline" and snap["offer"] is None
    assert '<span id="phone-state" class="badge presence presence-offline">Offline</span>' in page
    assert "phone.js" in page and "live.js" in page
    # Looking does not create a presence row.
    assert db.session.scalar(select(AgentPresence)) is None


def test_presence_changes_through_the_console_form(console: FlaskClient, agent: User) -> None:
    r = console.post("/phone/presence", data={"state": "available", "next": "/customers"})
    assert r.status_code == 302 and r.headers["Location"] == "/customers"
    assert "Your status is now Available." in html(console.get("/customers"))
    assert db.session.get(AgentPresence, agent.id).state == "available"

    r = console.post("/phone/presence", data={"state": "break", "reason": "lunch"}, headers=JSON)
    body = r.get_json()
    assert r.status_code == 200 and body["message"] == "Your status is now Break."
    assert body["phone"]["presence"] == {
        "state": "break",
        "reason": "lunch",
        "since": body["phone"]["presence"]["since"],
        "wrap_up_until": None,
    }
    page = html(console.get("/tickets"))
    assert "presence-break" in page and '<span id="phone-reason" class="phone-reason">Lunch' in page

    r = console.post("/phone/presence", data={"state": "offline"}, headers=JSON)
    assert r.get_json()["phone"]["presence"]["state"] == "offline"


def test_presence_refuses_unknown_states_and_reasons(console: FlaskClient) -> None:
    r = console.post("/phone/presence", data={"state": "on_call"}, headers=JSON)
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "Not a valid choice."
    r = console.post("/phone/presence", data={"state": "break", "reason": "nap"}, headers=JSON)
    assert r.status_code == 400
    # Without JavaScript: back to the page, with the reason at the top.
    r = console.post("/phone/presence", data={"state": "nope", "next": "//evil.example"})
    assert r.status_code == 302 and r.headers["Location"] == "/tickets"
    assert "Not a valid choice." in html(console.get("/tickets"))


def test_presence_in_french(client: FlaskClient, make_user: Callable[..., User]) -> None:
    agent = make_user(Role.AGENT, name="Éloïse", locale="fr")
    sign_in(client, agent)
    r = client.post("/phone/presence", data={"state": "break", "reason": "lunch"}, headers=JSON)
    assert r.get_json()["message"] == "Votre statut est maintenant : Pause."
    page = html(client.get("/tickets"))
    assert ">Disponible</button>" in page and ">Déjeuner" in page
    strings = json.loads(unescape(re.search(r'data-strings="([^"]*)"', page).group(1)))
    assert strings["state"]["wrap_up"] == "Après-appel"


# -- a call rings ------------------------------------------------------------------------------


@pytest.fixture
def hugo(customer_factory: Callable[..., Any]) -> Any:
    return customer_factory(name="Hugo Martin", language="fr", phones=["+33611111111"])


def test_snapshot_returns_the_ringing_offer(
    console: FlaskClient, agent: User, sim: Simulator, hugo: Any, recorded: Any
) -> None:
    go_available(console)
    row = ring(sim, "+33611111111")
    assert row.agent_id == agent.id and row.routing_state == "offered"
    snap = state(console)
    offer = snap["offer"]
    assert snap["presence"]["state"] == "reserved" and snap["call"] is None
    assert offer["call_id"] == row.id and offer["call_sid"] == row.call_sid
    assert offer["customer"]["name"] == "Hugo Martin" and offer["queue"] == "support"
    assert offer["number"] == "+33611111111" and offer["number_display"] == "+33 6 11 11 11 11"
    assert offer["from"] == "+33611111111"
    assert offer["language"] == "fr" and offer["ivr_path"] == ["menu:1:queue"]
    expires = db.session.scalar(select(CallOffer.expires_at).where(CallOffer.call_id == row.id))
    assert offer["expires_at"] == expires.isoformat()
    # The live event carried the same offer to my room only.
    sent = recorded.named("screen_pop")[-1]
    assert sent.rooms == (f"user:{agent.id}",) and sent.payload["call_id"] == row.id
    # A reload shows the ringing panel, with working forms even without JavaScript.
    page = html(console.get("/customers"))
    assert '<div id="phone-ringing" class="phone-ringing">' in page
    assert '<strong class="ring-who" data-field="who">Hugo Martin</strong>' in page
    assert f'action="/phone/calls/{row.id}/accept"' in page
    assert f'action="/phone/calls/{row.id}/reject"' in page
    assert "Assistance" not in page and ">Support</dd>" in page
    assert f'href="/customers/{hugo.id}"' in page
    assert panel_snapshot(page)["offer"]["call_id"] == row.id


def test_no_offer_when_nothing_rings(console: FlaskClient) -> None:
    snap = state(console)
    assert snap["offer"] is None and snap["call"] is None and snap["wrap_up"] is None
    page = html(console.get("/tickets"))
    assert '<div id="phone-ringing" class="phone-ringing" hidden>' in page


def test_accept_then_wrap_up(
    console: FlaskClient, agent: User, sim: Simulator, hugo: Any, recorded: Any
) -> None:
    go_available(console)
    row = ring(sim, "+33611111111")
    r = console.post(f"/phone/calls/{row.id}/accept", headers=JSON)
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["message"] == "You are on the line with Hugo Martin."
    phone = body["phone"]
    assert phone["offer"] is None and phone["presence"]["state"] == "on_call"
    assert phone["call"]["call_id"] == row.id and phone["call"]["customer"]["id"] == hugo.id
    assert sim.calls[row.call_sid].bridged_to == f"agent-{agent.id}"
    # The event brings my console the same view of the call and my state: nothing to fetch.
    connected = recorded.named("call.connected")[-1].payload
    assert connected["call"] == {**phone["call"], "waited_s": connected["call"]["waited_s"]}
    assert connected["presence"] == {"state": "on_call", "reason": ""}
    page = html(console.get("/tickets"))
    assert '<div id="phone-oncall" class="phone-oncall">' in page
    assert "The call ends when the customer hangs up." in page
    # Presence cannot change while on a call.
    r = console.post("/phone/presence", data={"state": "offline"}, headers=JSON)
    assert r.status_code == 409
    assert r.get_json()["error"]["message"] == "You are on a call: your status changes after it."

    db.session.rollback()
    sim.hang_up(row.call_sid)
    snap = state(console)
    assert snap["presence"]["state"] == "wrap_up" and snap["presence"]["wrap_up_until"]
    assert snap["wrap_up"]["call_id"] == row.id and snap["call"] is None
    page = html(console.get("/tickets"))
    assert f'action="/phone/calls/{row.id}/wrap-up"' in page
    assert '<option value="follow_up">Follow-up needed</option>' in page

    r = console.post(f"/phone/calls/{row.id}/wrap-up", data={"notes": "x"}, headers=JSON)
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == "Choose how the call ended."
    db.session.rollback()
    with statements() as seen:
        r = console.post(
            f"/phone/calls/{row.id}/wrap-up",
            data={"disposition": "resolved", "notes": "  Router reset, all good.  "},
            headers=JSON,
        )
    body = r.get_json()
    assert r.status_code == 200 and body["message"] == "Wrap-up saved."
    assert body["phone"]["presence"]["state"] == "available" and body["phone"]["wrap_up"] is None
    # The answer shows the presence the wrap-up's UPDATE returned: it is not read again.
    assert [s for s in seen if s.startswith("SELECT agent_presence.")] == []
    # Open consoles hear it too, not only the page that posted.
    said = recorded.named("presence.updated")[-1]
    assert said.payload == {"user_id": agent.id, "state": "available", "reason": ""}
    assert f"user:{agent.id}" in said.rooms
    db.session.expire_all()
    call = db.session.get(Call, row.id)
    assert call.disposition == "resolved" and call.wrap_up_notes == "Router reset, all good."
    kinds = db.session.scalars(
        select(TimelineEntry.kind)
        .where(TimelineEntry.customer_id == hugo.id)
        .order_by(TimelineEntry.id)
    ).all()
    assert kinds == ["call", "call_note"]
    page = html(console.get(f"/customers/{hugo.id}"))
    assert "Call notes" in page and "Router reset, all good." in page


def test_wrap_up_without_javascript_comes_back_to_the_page(
    console: FlaskClient, sim: Simulator, hugo: Any
) -> None:
    go_available(console)
    row = ring(sim, "+33611111111")
    r = console.post(f"/phone/calls/{row.id}/accept", data={"next": f"/customers/{hugo.id}"})
    assert r.status_code == 302 and r.headers["Location"] == f"/customers/{hugo.id}"
    assert "You are on the line with Hugo Martin." in html(console.get(f"/customers/{hugo.id}"))
    db.session.rollback()
    sim.hang_up(row.call_sid)
    r = console.post(
        f"/phone/calls/{row.id}/wrap-up",
        data={"disposition": "follow_up", "notes": "Call back Monday", "next": "/tickets"},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/tickets"
    assert "Wrap-up saved." in html(console.get("/tickets"))


def test_reject_offers_the_call_to_the_next_agent(
    console: FlaskClient, agent: User, sim: Simulator, hugo: Any, make_user: Callable[..., User]
) -> None:
    go_available(console)
    row = ring(sim, "+33611111111")
    other = make_user(Role.AGENT, name="Bob", skills={"support": 1}, languages=["fr"])
    agent_presence.set_presence(db.session, user=other, state="available")
    r = console.post(f"/phone/calls/{row.id}/reject", headers=JSON)
    body = r.get_json()
    assert r.status_code == 200 and body["message"] == "Call declined: it goes to the next agent."
    assert body["phone"]["offer"] is None and body["phone"]["presence"]["state"] == "available"
    db.session.expire_all()
    assert db.session.get(Call, row.id).agent_id == other.id
    # It rings for Bob now, not for me: I can no longer take it.
    r = console.post(f"/phone/calls/{row.id}/accept", headers=JSON)
    assert r.status_code == 409
    assert r.get_json()["error"]["message"] == (
        "This call is no longer ringing for you: the caller hung up, or it timed out."
    )


def test_wrap_up_of_another_agents_call_is_refused(
    console: FlaskClient, sim: Simulator, hugo: Any, make_user: Callable[..., User]
) -> None:
    other = make_user(Role.AGENT, name="Bob", skills={"support": 1}, languages=["fr"])
    agent_presence.set_presence(db.session, user=other, state="available")
    row = ring(sim, "+33611111111")
    offers.accept(
        db.session,
        user=other,
        call_id=row.id,
        gateway=console.application.extensions["telephony_gateway"],
    )
    r = console.post(f"/phone/calls/{row.id}/wrap-up", data={"disposition": "other"}, headers=JSON)
    assert r.status_code == 404
    assert r.get_json()["error"]["message"] == "This is not one of your calls."


# -- click-to-call ------------------------------------------------------------------------------


def test_click_to_call_from_the_customer_page(
    console: FlaskClient, agent: User, sim: Simulator, hugo: Any
) -> None:
    page = html(console.get(f"/customers/{hugo.id}"))
    assert 'action="/phone/dial"' in page and 'name="number" value="+33611111111"' in page
    assert 'aria-label="Call +33 6 11 11 11 11"' in page
    r = console.post("/phone/dial", data={"number": "+33611111111"}, headers=JSON)
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["message"] == "Calling +33611111111…"
    assert body["phone"]["presence"]["state"] == "on_call"
    assert body["phone"]["call"]["customer"]["name"] == "Hugo Martin"
    sid = body["phone"]["call"]["call_sid"]
    db.session.rollback()
    deadline = time.monotonic() + 5
    while sim.calls[sid].state != "connected" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.calls[sid].bridged_to == f"agent-{agent.id}"
    # On a call: a second one is refused, with the reason in words.
    r = console.post("/phone/dial", data={"number": "+33622222222"}, headers=JSON)
    assert r.status_code == 409
    assert r.get_json()["error"]["message"] == "Finish your current call first."


def test_click_to_call_refusals_are_clear(console: FlaskClient, sim: Simulator, hugo: Any) -> None:
    r = console.post("/phone/dial", data={"number": "12"}, headers=JSON)
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == "This is not a valid phone number."
    r = console.post("/phone/dial", data={"number": ""}, headers=JSON)
    assert r.status_code == 400 and r.get_json()["error"]["message"] == "This field is required."
    # Without JavaScript: back on the customer page with the reason.
    back = f"/customers/{hugo.id}"
    r = console.post("/phone/dial", data={"number": "12", "next": back})
    assert r.status_code == 302 and r.headers["Location"] == back
    page = html(console.get(back))
    assert '<p class="flash flash-error" role="alert">This is not a valid phone number.</p>' in page


def test_click_to_call_refusal_in_french(
    client: FlaskClient, make_user: Callable[..., User], sim: Simulator
) -> None:
    sign_in(client, make_user(Role.AGENT, locale="fr"))
    r = client.post("/phone/dial", data={"number": "12"}, headers=JSON)
    assert r.get_json()["error"]["message"] == "Ce numéro de téléphone n'est pas valide."


# -- escaping ----------------------------------------------------------------------------------


def test_a_callers_name_is_text_in_the_ringing_panel(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    customer_factory(name=XSS_NAME, phones=["+33699999999"])
    go_available(console)
    ring(sim, "+33699999999")
    page = html(console.get("/tickets"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert panel_snapshot(page)["offer"]["customer"]["name"] == XSS_NAME
    # The page carries no inline script or handler that an injected name could become.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert markup_of(page) == {"img": 0, "handlers": 0}
    assert " style=" not in page
    assert "script-src 'self'" in console.get("/tickets").headers["Content-Security-Policy"]
    sims = html(console.get("/simulator"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in sims and markup_of(sims)["img"] == 0


def markup_of(page: str) -> dict[str, int]:
    """How many <img> elements and on* attributes the browser would actually build."""
    found = {"img": 0, "handlers": 0}

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found["img"] += tag == "img"
            found["handlers"] += sum(1 for name, _ in attrs if name.startswith("on"))

    Parser().feed(page)
    return found


# -- the simulator page ------------------------------------------------------------------------


def test_simulator_page_offers_known_customers(
    console: FlaskClient, sim: Simulator, hugo: Any
) -> None:
    page = html(console.get("/simulator"))
    assert "<h1>Call simulator</h1>" in page
    assert '<option value="+33611111111">Hugo Martin · +33 6 11 11 11 11</option>' in page
    assert 'action="/simulator/calls"' in page and "simulator.js" in page
    assert 'id="sim-phone"' in page and "No simulated calls yet." in page
    assert 'data-go="m" href="/simulator" aria-current="page"' in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [] and " style=" not in page


def test_a_simulated_customer_calls_and_is_answered(
    console: FlaskClient, agent: User, sim: Simulator, hugo: Any
) -> None:
    go_available(console)
    r = console.post(
        "/simulator/calls", data={"known": "+33611111111", "digits": "1"}, headers=JSON
    )
    assert r.status_code == 201, r.get_json()
    call = r.get_json()["call"]
    sid = call["call_sid"]
    assert call["state"] == "queued" and call["state_label"] == "Waiting in a queue"
    assert call["caller"] == "Hugo Martin" and call["queue"] == "support"
    assert "[pressed 1]" in call["transcript"] and call["url"] == f"/simulator?call={sid}"
    # It rings on the agent's panel.
    offer = state(console)["offer"]
    assert offer["call_sid"] == sid and offer["customer"]["name"] == "Hugo Martin"
    r = console.post(f"/phone/calls/{offer['call_id']}/accept", headers=JSON)
    assert r.status_code == 200
    followed = console.get(f"/simulator/calls/{sid}").get_json()["call"]
    assert followed["state"] == "connected" and followed["agent"] == "Amélie Agent"
    assert f"[connected to agent-{agent.id}]" in followed["transcript"]
    # The list shows it, and the page renders it without JavaScript.
    listed = console.get("/simulator/calls").get_json()
    assert [c["call_sid"] for c in listed["calls"]] == [sid] and listed["sms"] == []
    page = html(console.get(f"/simulator?call={sid}"))
    assert f"<li>[connected to agent-{agent.id}]</li>" in page
    assert f'action="/simulator/calls/{sid}/hangup"' in page
    # The customer hangs up: the agent is in wrap-up.
    r = console.post(f"/simulator/calls/{sid}/hangup", headers=JSON)
    assert r.status_code == 200 and r.get_json()["call"]["state"] == "completed"
    assert r.get_json()["call"]["transcript"][-1] == "[call ended]"
    assert state(console)["wrap_up"]["call_sid"] == sid


def test_a_new_caller_presses_keys(console: FlaskClient, sim: Simulator) -> None:
    r = console.post("/simulator/calls", data={"number": "+1 415 555 2671"})
    assert r.status_code == 302
    sid = r.headers["Location"].split("call=")[1]
    assert r.headers["Location"] == f"/simulator?call={sid}"
    page = html(console.get(r.headers["Location"]))
    assert "New caller" in page and "+1 415-555-2671" in page
    call = console.get(f"/simulator/calls/{sid}").get_json()["call"]
    # A caller who presses nothing hears the menu at most three times, then waits in the
    # default route's queue (docs/telephony.md, "A menu that ends").
    assert call["caller"] is None and call["state"] in ("in-progress", "queued", "completed")
    r = console.post(f"/simulator/calls/{sid}/digits", data={"digits": "2"}, headers=JSON)
    assert r.status_code == 200 and r.get_json()["call"]["call_sid"] == sid
    assert list(sim.calls[sid].digits) in (["2"], [])
    r = console.post(f"/simulator/calls/{sid}/digits", data={"digits": "x"}, headers=JSON)
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == "Only the keys 0-9, * and #."
    r = console.post(f"/simulator/calls/{sid}/digits", data={"digits": "5"})
    assert r.status_code == 302 and r.headers["Location"] == f"/simulator?call={sid}"


def test_simulator_refusals(console: FlaskClient, sim: Simulator) -> None:
    r = console.post("/simulator/calls", data={"digits": "1"}, headers=JSON)
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == "Choose a customer or type a number."
    r = console.post("/simulator/calls", data={"number": "+33600000000", "digits": "1x"})
    assert r.status_code == 302
    assert "Only the keys 0-9, * and #." in html(console.get("/simulator"))
    assert console.get("/simulator/calls/CAnope").status_code == 404
    r = console.post("/simulator/calls/CAnope/hangup", headers=JSON)
    assert r.status_code == 404
    assert console.get("/simulator?call=CAnope").status_code == 200


def test_simulator_shows_the_text_messages_sent(console: FlaskClient, sim: Simulator) -> None:
    sim.gateway_send_sms(
        to="+33611111111",
        from_="+15005550006",
        body="Votre ticket <T-1> est résolu",
        status_callback="",
    )
    page = html(console.get("/simulator"))
    assert "Votre ticket &lt;T-1&gt; est résolu" in page and "+33 6 11 11 11 11" in page
    listed = console.get("/simulator/calls").get_json()["sms"]
    assert listed[0]["body"] == "Votre ticket <T-1> est résolu"


def test_simulator_is_off_with_twilio(
    console: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.extensions, "telephony_simulator", None)
    r = console.get("/simulator")
    page = html(r)
    assert r.status_code == 200 and "The simulator is off" in page
    assert "This helpdesk is connected to Twilio" in page and 'id="sim-call-form"' not in page
    assert 'data-go="m"' not in html(console.get("/tickets"))
    r = console.post("/simulator/calls", data={"number": "+33611111111"}, headers=JSON)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "simulator_off"
    assert console.get("/simulator/calls").status_code == 404


# -- who may do what ---------------------------------------------------------------------------

PHONE_POSTS = [
    "/phone/presence",
    "/phone/calls/1/accept",
    "/phone/calls/1/reject",
    "/phone/calls/1/wrap-up",
    "/phone/dial",
    "/simulator/calls",
    "/simulator/calls/CA1/digits",
    "/simulator/calls/CA1/hangup",
]


def test_signed_out_visitors_get_nothing(client: FlaskClient, sim: Simulator) -> None:
    for path in ["/phone/state", "/simulator", "/simulator/calls", "/simulator/calls/CA1"]:
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), path
    for path in PHONE_POSTS:
        r = client.post(path, data={"state": "available", "number": "+33611111111"})
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), path
    assert sim.calls == {}


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN])
def test_every_staff_role_has_the_phone_and_the_simulator(
    client: FlaskClient, make_user: Callable[..., User], sim: Simulator, role: Role
) -> None:
    sign_in(client, make_user(role))
    assert 'id="phone"' in html(client.get("/tickets"))
    assert client.get("/simulator").status_code == 200
    assert client.post("/phone/presence", data={"state": "break"}, headers=JSON).status_code == 200


def test_phone_forms_need_their_csrf_token(
    app: Flask, client: FlaskClient, agent: User, sim: Simulator
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    page = html(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert sign_in(client, agent, csrf_token=token).status_code == 302
    for path in PHONE_POSTS:
        r = client.post(path, data={"state": "available"}, headers=JSON)
        assert r.status_code == 400, path
        assert r.get_json()["error"]["message"].startswith("This form has expired."), path
    r = client.post("/phone/presence", data={"state": "available"})
    assert r.status_code == 400 and "This form has expired" in html(r)
    page = html(client.get("/tickets"))
    assert page.count('name="csrf_token"') >= 4  # presence, accept, reject, wrap-up (+ sign out)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/phone/presence", data={"state": "available", "csrf_token": token}, headers=JSON
    )
    assert r.status_code == 200
    assert db.session.get(AgentPresence, agent.id).state == "available"


# -- keyboard and languages --------------------------------------------------------------------


def test_phone_shortcuts_are_listed(console: FlaskClient, sim: Simulator) -> None:
    page = html(console.get("/tickets"))
    for keys, text in [
        ("<kbd>a</kbd>", "Accept the ringing call"),
        (
            "<kbd>x</kbd>",
            "Reject the ringing call; otherwise, on the ticket list, select or clear the "
            "current row (for bulk actions)",
        ),
        ("<kbd>g</kbd><kbd>o</kbd>", "Go to the campaigns (outbound calls, SMS, e-mails)"),
        (
            "<kbd>1-9</kbd>",
            "Record the outcome of a campaign call (the buttons of its panel, after hanging up)",
        ),
        ("<kbd>w</kbd>", "Write the wrap-up notes of a call"),
        ("<kbd>g</kbd><kbd>m</kbd>", "Go to the call simulator"),
    ]:
        assert f"<dt>{keys}</dt><dd>{text}</dd>" in page
    assert 'id="phone-accept" aria-keyshortcuts="a"' in page
    assert 'id="phone-reject" aria-keyshortcuts="x"' in page
    assert page.count("<dt><kbd>x</kbd></dt>") == 1  # one key, one line


def test_simulator_page_in_french(
    client: FlaskClient, make_user: Callable[..., User], sim: Simulator
) -> None:
    sign_in(client, make_user(Role.AGENT, locale="fr"))
    page = html(client.get("/simulator"))
    assert "<h1>Simulateur d'appels</h1>" in page and ">Appeler</button>" in page
    assert "Raccrocher" in page and "Un client appelle" in page


def test_the_french_catalogue_is_complete() -> None:
    from babel.messages.pofile import read_po

    from tests.functional.test_console import TRANSLATIONS

    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def test_sms_ticket_page_counts_segments(app, client, make_user, customer_factory, ticket_factory):
    """When a reply goes out by text the reply box says so, to which number, and counts
    segments; when no number can take texts, there is nothing to count."""
    from helpdesk.tickets.workflow import Channel
    from tests.conftest import PASSWORD

    user = make_user(Role.AGENT, locale="fr")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    sms_ticket = ticket_factory(
        channel=Channel.SMS, requester_id=customer_factory(phones=["+33612345678"]).id
    )
    web_ticket = ticket_factory(requester_id=customer_factory(phones=[]).id)
    page = client.get(f"/tickets/{sms_ticket.id}").get_data(as_text=True)
    assert "Une réponse publique sera envoyée par SMS au +33 6 12 34 56 78." in page
    assert 'data-label-gsm="{chars} caractères, {segments} SMS (GSM-7)"' in page
    assert "sms_meter.js" in page
    assert "data-sms-meter" not in client.get(f"/tickets/{web_ticket.id}").get_data(as_text=True)


def test_simulator_page_texts_in(app, client, make_user, customer_factory):
    """From the simulator page a customer texts in; the acknowledgement shows in the list."""
    from tests.conftest import PASSWORD

    customer_factory(name="Texteur", language="fr", phones=["+33611112222"])
    user = make_user(Role.AGENT)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "A customer texts in" in client.get("/simulator").get_data(as_text=True)
    r = client.post(
        "/simulator/sms",
        data={"number": "06 11 11 22 22", "body": "Bonjour"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["replies"][0].startswith("Nous avons bien reçu votre message")
    page = client.get("/simulator").get_data(as_text=True)
    assert "Nous avons bien reçu votre message" in page
    bad = client.post(
        "/simulator/sms",
        data={"number": "nope", "body": "x"},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400


def test_a_caller_is_named_once_by_name_or_by_formatted_number() -> None:
    """One rule for the panel and the console's messages: a contact made from an unknown
    number bears the number as its name, and is shown by the formatted number alone."""
    known = {"number": "+33611111111", "number_display": "+33 6 11 11 11 11"}
    named = {**known, "customer": {"id": 1, "name": "Hugo Martin"}}
    contact = {**known, "customer": {"id": 2, "name": "+33611111111"}}
    assert (phone_state.caller_named(named), phone_state.caller_shown(named)) == (
        True,
        "Hugo Martin",
    )
    assert (phone_state.caller_named(contact), phone_state.caller_shown(contact)) == (
        False,
        "+33 6 11 11 11 11",
    )
    assert phone_state.caller_shown({**known, "customer": None}) == "+33 6 11 11 11 11"
    assert phone_state.caller_shown(None) == ""
