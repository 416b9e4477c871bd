from __future__ import annotations

import pytest

from telephony.sms_text import keyword, segments


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop ",
        "ARRÊT",
        "arret",
        "Arrêt!",
        "STOPALL",
        "unsubscribe",
        "End",
        "QUIT",
        "cancel",
    ],
)
def test_stop_words(body):
    assert keyword(body).kind == "stop"


@pytest.mark.parametrize(
    ("body", "kind"), [("START", "start"), ("unstop", "start"), ("HELP", "help"), ("aide", "help")]
)
def test_other_keywords(body, kind):
    assert keyword(body).kind == kind


@pytest.mark.parametrize("body", ["STATUS T-10234", "statut t-10234", "Statut T-10234 merci"])
def test_status_with_reference(body):
    k = keyword(body)
    assert k.kind == "status" and k.argument == "T-10234"


@pytest.mark.parametrize(
    "body",
    [
        "",
        "Please stop calling me at night",
        "stop it now",
        "Bonjour, mon imprimante ne marche plus",
        "🙂",
    ],
)
def test_ordinary_messages_are_not_keywords(body):
    assert keyword(body) is None


def test_segments():
    assert segments("Hello").count == 1 and segments("Hello").encoding == "GSM-7"
    assert segments("a" * 160).count == 1 and segments("a" * 161).count == 2
    assert segments("a" * 306).count == 2 and segments("a" * 307).count == 3
    assert segments("€" * 80).count == 1 and segments("€" * 81).count == 2  # 2 units each
    assert segments("Ça coûte 5€").encoding == "UCS-2"  # û is not GSM-7
    assert segments("é" * 160).encoding == "GSM-7"
    assert segments("ê" * 70).count == 1 and segments("ê" * 71).count == 2
    assert segments("🙂" * 35).count == 1 and segments("🙂" * 36).count == 2
