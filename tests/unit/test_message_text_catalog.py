"""The rules a reworded customer text follows: the default's placeholders, all kept, none added,
and nothing `str.format` could use to reach into the values."""

from __future__ import annotations

import pytest

from helpdesk.texts.catalog import CATALOG, Entry, Problem, check, placeholders_of, register

ACK = Entry(
    "sms.x", "sms", {"fr": "Réf. {reference}", "en": "Ref. {reference}"}, frozenset({"reference"})
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Bien reçu ({reference}).", None),
        ("{reference} {{en attente}}", None),
        ("Bien reçu.", Problem("missing", ("reference",))),
        ("{reference} {agent}", Problem("unknown", ("agent",))),
        ("{reference", Problem("malformed")),
        ("{reference.__class__}", Problem("malformed")),
        ("{reference!r}", Problem("malformed")),
        ("{reference:>99}", Problem("malformed")),
        ("{0}", Problem("malformed")),
        ("   ", Problem("empty")),
        ("{reference}" + "x" * 2000, Problem("too_long")),
    ],
)
def test_a_wording_keeps_exactly_its_placeholders(text: str, problem: Problem | None) -> None:
    assert check(ACK, text) == problem


def test_placeholders_are_the_plain_names() -> None:
    assert placeholders_of("Le ticket {reference} est {status}.") == {"reference", "status"}
    assert placeholders_of("Pas de {{variable}}") == set()
    assert placeholders_of("}") is None


def test_registered_defaults_must_agree_on_their_placeholders() -> None:
    with pytest.raises(ValueError, match="disagree"):
        register("test.bad", "sms", {"fr": "{reference}", "en": "no reference"})
    with pytest.raises(ValueError, match="group"):
        register("test.bad", "fax", {"fr": "a", "en": "b"})
    assert "test.bad" not in CATALOG


def test_the_code_registers_the_sms_answers_and_the_mail_acknowledgement() -> None:
    import helpdesk.mail.inbound
    import telephony.sms_text  # noqa: F401

    assert CATALOG["sms.status"].placeholders == {"reference", "status"}
    assert CATALOG["sms.help"].sms and not CATALOG["email.ack"].sms
    assert CATALOG["email.ack"].defaults["fr"] == helpdesk.mail.inbound.ACK_TEXT["fr"]
