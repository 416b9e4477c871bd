"""The Twilio gateway's requests, checked against Twilio's own OpenAPI description.

A mock of Twilio's REST API is built from `shared/twilio/twilio_api_v2010.json`: each request must
name an operation of the document, carry every required parameter, no unknown one, and only
allowed enum values; otherwise the mock answers 422, as a contract-checking mock server would.
"""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from telephony.conference import AgentLeg
from telephony.gateway import TwilioGateway
from tests.twilio_mock import ACCOUNT, start_mock, twiml_errors


@pytest.fixture(scope="module")
def twilio_mock():
    mock, base, server = start_mock()
    yield mock, base
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(twilio_mock):
    mock, base = twilio_mock
    mock.seen.clear()
    # TWILIO_API_BASE_URL's path: the production client, aimed at the mock.
    return TwilioGateway.from_credentials(ACCOUNT, "token", api_base_url=base), mock


LEG = AgentLeg(
    from_number="+15005550006",
    status_callback="https://example.com/twilio/voice/agent-status?call=1",
    wait_url="https://example.com/twilio/voice/hold",
)


def test_every_gateway_request_fits_the_contract(gateway):
    gw, mock = gateway
    sid = "CA" + "2" * 32
    assert gw.bridge(sid, "client:agent-7", LEG).startswith("CA")
    assert gw.bridge(sid, "+33612345678", LEG).startswith("CA")
    assert gw.place_call(
        "+33612345678",
        "+15005550006",
        "https://example.com/twilio/voice/cb",
        "https://example.com/twilio/voice/status",
    ).startswith("CA")
    gw.redirect(sid, "https://example.com/twilio/voice/ivr/menu")
    gw.hangup(sid)
    assert gw.send_sms(
        "+33612345678",
        "+15005550006",
        "Votre ticket T-10001",
        "https://example.com/twilio/sms/status",
    ).startswith("SM")
    methods = [(m, p.rsplit("/", 1)[-1]) for m, p, _ in mock.seen]
    bridge = [("POST", f"{sid}.json"), ("POST", "Participants.json")]
    assert methods == bridge * 2 + [("POST", "Calls.json")] + [("POST", f"{sid}.json")] * 2 + [
        ("POST", "Messages.json")
    ]
    create = mock.seen[4][2]
    assert create["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    # The caller goes to the conference; each agent endpoint is rung into it as a participant.
    assert mock.seen[0][2]["Twiml"] == mock.seen[2][2]["Twiml"]
    assert [seen[2]["To"] for seen in (mock.seen[1], mock.seen[3])] == [
        ["client:agent-7"],
        ["+33612345678"],
    ]
    assert mock.seen[1][1].endswith(f"/Conferences/call-{sid}/Participants.json")


def test_the_mock_refuses_a_broken_request(gateway):
    gw, _ = gateway
    with pytest.raises(TwilioRestException) as info:
        gw.client.calls.create(
            to="+33612345678", from_="+15005550006", method="PUNCH", url="https://x.test/"
        )
    assert info.value.status == 422 and "not in enum" in str(info.value.msg)
    with pytest.raises(TwilioRestException) as info:
        gw.client.api.v2010.accounts(ACCOUNT).queues("QU" + "3" * 32).members(
            "CA" + "4" * 32
        ).update(url="https://x.test/", method="PUNCH")
    assert "Method='PUNCH' not in enum" in str(info.value.msg)
    with pytest.raises(TwilioRestException) as info:
        gw.client.conferences("call-CA1").participants.create(
            from_="+15005550006", to="client:agent-7", end_conference_on_exit="sometimes"
        )
    assert "EndConferenceOnExit='sometimes' not a boolean" in str(info.value.msg)
    with pytest.raises(TwilioRestException) as info:
        gw.client.calls("CA" + "4" * 32).update(
            twiml='<Response><Dial><Conference beep="loud" hold="yes">r</Conference></Dial>'
            "</Response>"
        )
    assert "beep='loud'" in str(info.value.msg) and "no attribute hold" in str(info.value.msg)


def test_the_twiml_check_reads_the_document():
    assert twiml_errors("<Response><Dial><Client>agent-7</Client></Dial></Response>") == []
    assert twiml_errors("<Dial/>") == ["TwiML root is <Dial>, not <Response>"]
    assert twiml_errors("<Response><Dial><Conference/></Dial></Response>") == [
        "<Conference> has no room name"
    ]
    assert twiml_errors("<Response><Dial><Enqueue>q</Enqueue></Dial></Response>") == [
        "<Dial> cannot hold <Enqueue>"
    ]
    assert twiml_errors("<Response>")[0].startswith("TwiML is not XML")


def test_the_sms_lookup_of_the_recovery_fits_the_contract(gateway):
    """`find_sms` (how the outbox recovery learns that a text already left) reads Twilio's
    message list: its query string is checked against the document like any request."""
    from datetime import UTC, datetime, timedelta

    gw, mock = gateway
    callback = "https://example.com/twilio/sms/status?key=k1"
    since = datetime.now(UTC) - timedelta(minutes=5)
    sid = gw.send_sms("+33612345678", "+15005550006", "Votre ticket T-10002", callback)
    assert (
        gw.find_sms("+33612345678", "+15005550006", "Votre ticket T-10002", callback, since) == sid
    )
    assert gw.find_sms("+33612345678", "+15005550006", "Autre chose", callback, since) is None
    method, path, query = mock.seen[-1]
    assert (method, path.rsplit("/", 1)[-1]) == ("GET", "Messages.json")
    assert set(query) >= {"To", "From", "DateSent>"}


def test_the_mock_refuses_a_broken_lookup(gateway):
    gw, _ = gateway
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    for params, error in (
        ({"PageSize": "many"}, "PageSize not an integer"),
        ({"Sender": "+33612345678"}, "unknown query parameter Sender"),
        ({"DateSent>": "yesterday"}, "not a date"),
    ):
        answer = gw.client.request("GET", url, params=params)
        assert answer.status_code == 422 and error in answer.text, (params, answer.text)


def test_hold_and_resume_fit_the_contract(gateway):
    """Hold is an update of the caller's participant in the call's conference, addressed by the
    conference's SID: looked up once by name (none was kept), then Hold with the HoldUrl and its
    method, then Hold=false."""
    gw, mock = gateway
    sid = "CA" + "5" * 32
    room = mock.open_conference(f"call-{sid}")
    gw.hold(sid, True, "https://example.com/twilio/voice/on-hold")
    gw.hold(sid, False, "https://example.com/twilio/voice/on-hold")
    assert [(m, p.split("/Accounts/", 1)[-1].split("/", 1)[-1]) for m, p, _ in mock.seen] == [
        ("GET", "Conferences.json")
    ] + [("POST", f"Conferences/{room}/Participants/{sid}.json")] * 2
    assert mock.seen[0][2] == {"FriendlyName": [f"call-{sid}"], "Status": ["in-progress"]} | {
        "PageSize": mock.seen[0][2]["PageSize"]
    }
    held, resumed = (seen[2] for seen in mock.seen[1:])
    assert held["Hold"] == ["true"] and held["HoldMethod"] == ["POST"]
    assert held["HoldUrl"] == ["https://example.com/twilio/voice/on-hold"]
    assert resumed == {"Hold": ["false"]}


def test_transfer_requests_fit_the_contract(gateway):
    """A cold transfer redirects the caller; a warm one rings the target into the conference,
    then completes (the target's leg now ends the room, the first agent's leg is hung up, the
    caller comes off hold) or cancels (the target's leg is hung up, the caller taken back)."""
    gw, mock = gateway
    sid, first, second = "CA" + "6" * 32, "CA" + "8" * 32, "CA" + "9" * 32
    gw.park(sid, "https://example.com/twilio/voice/transfer-wait")
    assert gw.add_consult_leg(sid, "client:agent-8", LEG).startswith("CA")
    gw.complete_consult(sid, first, second)
    gw.cancel_consult(sid, second)
    paths = [p.split(f"/Accounts/{ACCOUNT}/", 1)[-1] for _, p, _ in mock.seen]
    # Rung in by the room's name; the SID Twilio answered with addresses the rest.
    room = f"Conferences/{mock.conferences[f'call-{sid}']}/Participants"
    assert paths == [
        f"Calls/{sid}.json",
        f"Conferences/call-{sid}/Participants.json",
        f"{room}/{second}.json",
        f"{room}/{first}.json",
        f"{room}/{sid}.json",
        f"Calls/{first}.json",
        f"Calls/{second}.json",
        f"{room}/{sid}.json",
    ]
    forms = [seen[2] for seen in mock.seen]
    assert forms[1]["EndConferenceOnExit"] == ["false"] and forms[1]["To"] == ["client:agent-8"]
    assert forms[2] == {"EndConferenceOnExit": ["true"]}
    assert forms[3] == {"EndConferenceOnExit": ["false"]}
    assert forms[4] == forms[7] == {"Hold": ["false"]}
    assert forms[5] == forms[6] == {"Status": ["completed"]}


def test_conference_requests_fit_the_contract(gateway):
    """A party is a participant created in the call's room (it does not end the room), removed
    by deleting it; an agent who leaves stops ending the room, then their leg is hung up."""
    gw, mock = gateway
    sid, party, agent = "CA" + "a" * 32, "CA" + "b" * 32, "CA" + "c" * 32
    assert gw.add_party(sid, "+33612345678", LEG).startswith("CA")
    gw.remove_party(sid, party, "+33612345678")
    gw.agent_leaves(sid, agent)
    room = f"Conferences/{mock.conferences[f'call-{sid}']}/Participants"
    seen = [(m, p.split(f"/Accounts/{ACCOUNT}/", 1)[-1], form) for m, p, form in mock.seen]
    assert [(m, p) for m, p, _ in seen] == [
        ("POST", f"Conferences/call-{sid}/Participants.json"),
        ("DELETE", f"{room}/{party}.json"),
        ("POST", f"{room}/{agent}.json"),
        ("POST", f"Calls/{agent}.json"),
    ]
    assert seen[0][2]["EndConferenceOnExit"] == ["false"] and seen[0][2]["To"] == ["+33612345678"]
    assert seen[2][2] == {"EndConferenceOnExit": ["false"]}
    assert seen[3][2] == {"Status": ["completed"]}


def test_the_mock_refuses_a_conference_addressed_by_name(gateway):
    """Twilio accepts a conference's friendly name only to add a participant: fetching,
    updating or removing one needs the conference's SID, and so does the conference itself."""
    gw, _ = gateway
    sid = "CA" + "d" * 32
    participant = gw.client.conferences(f"call-{sid}").participants(sid)
    for request in (participant.fetch, lambda: participant.update(hold=True), participant.delete):
        with pytest.raises(TwilioRestException) as info:
            request()
        assert info.value.status == 404
        assert f"ConferenceSid='call-{sid}' does not match" in str(info.value.msg)
    with pytest.raises(TwilioRestException) as info:
        gw.client.conferences(f"call-{sid}").fetch()
    assert info.value.status == 404 and "Sid='call-" in str(info.value.msg)


def test_a_control_on_a_conference_twilio_does_not_know_fails(gateway):
    """No conference in progress by that name: the control fails before any update is sent."""
    from telephony.gateway import ConferenceNotFound

    gw, mock = gateway
    with pytest.raises(ConferenceNotFound):
        gw.hold("CA" + "e" * 32, True, "https://example.com/twilio/voice/on-hold")
    assert [m for m, _, _ in mock.seen] == ["GET"]
