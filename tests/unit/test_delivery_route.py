"""The choice of a public reply's channel, as pure data (no database, no registry)."""

from __future__ import annotations

import pytest

from helpdesk.tickets.delivery import NOWHERE, Reach, Route, choose, earlier_than

SMS = Reach(channel="sms", to="+33612345678")
MAIL = Reach(channel="email", to="manon@example.com")
NO_SMS = Reach(channel="sms", to=None)
STOPPED = Reach(channel="sms", to="+33612345678", refusal="opted out")


def _by_name(*reaches: Reach) -> dict[str, Reach]:
    return {r.channel: r for r in reaches}


@pytest.mark.parametrize(
    ("ticket_channel", "expected"),
    [("sms", "sms"), ("phone", "sms"), ("field", "sms"), ("email", "email"), ("web", "email")],
)
def test_the_tickets_own_channel_then_the_customary_one(ticket_channel, expected):
    assert choose(ticket_channel, _by_name(SMS, MAIL)).channel == expected


def test_falls_back_to_what_reaches_the_customer():
    assert choose("email", _by_name(SMS)) == Route(channel="sms", to=SMS.to)
    assert choose("sms", _by_name(NO_SMS, MAIL)) == Route(channel="email", to=MAIL.to)


def test_nothing_registered_or_nothing_reachable_is_nowhere():
    assert choose("email", {}) == NOWHERE
    assert choose("web", _by_name(NO_SMS)) == NOWHERE
    assert not NOWHERE.deliverable


def test_an_opt_out_refuses_on_its_own_channel_only():
    refused = choose("sms", _by_name(STOPPED))
    assert refused.channel == "sms" and refused.refusal == "opted out" and not refused.deliverable
    assert choose("web", _by_name(STOPPED)) == NOWHERE
    assert choose("sms", _by_name(STOPPED, MAIL)) == Route(channel="email", to=MAIL.to)


def test_a_channel_registered_later_is_tried_last():
    chat = Reach(channel="chat", to="session-1")
    assert choose("web", _by_name(chat)).channel == "chat"
    assert choose("web", _by_name(chat, SMS)).channel == "sms"


def test_statuses_only_move_forward():
    assert set(earlier_than("sent")) == {"queued"}
    assert set(earlier_than("delivered")) == set(earlier_than("failed")) == {"queued", "sent"}
    assert set(earlier_than("bounced")) == {"queued", "sent"}
    # Nothing goes back to queued, nothing becomes or stops being undeliverable.
    assert earlier_than("queued") == () and earlier_than("undeliverable") == ()
    assert earlier_than("nonsense") == ()


@pytest.mark.parametrize(
    ("number", "label", "expected"),
    [
        ("+33612345678", "mobile", True),
        ("+33612345678", "work", True),  # the numbering plan says mobile
        ("+33142685300", "mobile", False),  # a Paris landline, whatever its label
        ("+14155552671", "mobile", True),  # fixed line or mobile: the label decides
        ("+14155552671", "landline", False),
    ],
)
def test_which_numbers_take_texts(number, label, expected):
    from telephony.sms_text import textable

    assert textable(number, label) is expected
