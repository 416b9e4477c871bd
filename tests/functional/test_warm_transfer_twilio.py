"""A warm transfer to an outside number with Twilio, end to end against the contract mock: the
caller put on hold, the number dialled into the call's conference, then the agent leaves
(complete) or the number is let go (cancel). Every request is checked against Twilio's OpenAPI
document by the mock, which refuses a broken one (the transfer would then answer 409)."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from telephony.models import Call
from tests.functional.test_conference_bridge import (
    CALLER,
    _accepted,
    _agent,
    _api,
    app,
    mock,
    queue,
    twilio_mock,
)
from tests.twilio_mock import ACCOUNT, ContractMock

__all__ = ["app", "mock", "queue", "twilio_mock"]  # the fixtures, shared

NUMBER = "+33698765432"


def _seen(mock: ContractMock) -> list[tuple[str, dict[str, list[str]]]]:
    return [
        (path.split(f"/Accounts/{ACCOUNT}/", 1)[-1], form)
        for method, path, form in mock.seen
        if method == "POST"
    ]


@pytest.mark.parametrize("end", ["complete", "cancel"])
def test_a_warm_transfer_to_a_number_fits_twilios_contract(
    end: str, client: Any, mock: ContractMock, queue: Any, make_user: Any
) -> None:
    agent = _agent(make_user)
    call = _accepted(client, mock, queue, agent)
    agent_leg = call.agent_call_sid
    assert agent_leg
    agent.role = Role.SUPERVISOR  # who holds the transfer-out permission
    db.session.commit()
    api = _api(client, agent)
    room = f"Conferences/{mock.conferences[f'call-{CALLER}']}/Participants"
    mock.seen.clear()

    body = {"to": {"number": NUMBER}, "mode": "warm", "notes": "their insurer"}
    r = api.post(f"/calls/{call.id}/transfer", json=body)
    assert r.status_code == 200, r.get_json()
    (held, hold_form), (dialled, dial_form) = _seen(mock)
    assert held == f"{room}/{CALLER}.json" and hold_form["Hold"] == ["true"]
    assert dialled.endswith("/Participants.json") and dial_form["To"] == [NUMBER]
    assert dial_form["Label"] == ["consult"] and dial_form["EndConferenceOnExit"] == ["false"]
    db.session.expire_all()
    consulting = db.session.get(Call, call.id)
    assert consulting is not None and consulting.transfer is not None
    leg = consulting.transfer["consult_leg"]
    assert leg.startswith("CA")
    mock.seen.clear()

    r = api.post(f"/calls/{call.id}/transfer/{end}")
    assert r.status_code == 200, r.get_json()
    if end == "cancel":
        assert _seen(mock) == [
            (f"Calls/{leg}.json", {"Status": ["completed"]}),
            (f"{room}/{CALLER}.json", {"Hold": ["false"]}),
        ]
        return
    # The number's leg now ends the room, the agent's no longer does and is hung up.
    assert _seen(mock) == [
        (f"{room}/{leg}.json", {"EndConferenceOnExit": ["true"]}),
        (f"{room}/{agent_leg}.json", {"EndConferenceOnExit": ["false"]}),
        (f"{room}/{CALLER}.json", {"Hold": ["false"]}),
        (f"Calls/{agent_leg}.json", {"Status": ["completed"]}),
    ]
    db.session.expire_all()
    done = db.session.get(Call, call.id)
    assert done is not None and done.routing_state == "done" and done.outcome == "transferred"
