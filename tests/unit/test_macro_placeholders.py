"""A macro's placeholders: found, refused when unknown, filled as plain text."""

from __future__ import annotations

from helpdesk.macros import placeholders

VALUES = {
    "customer.name": "Camille Durand",
    "customer.first_name": "Camille",
    "ticket.reference": "T-10042",
    "agent.name": "Léa Martin",
    "technician.eta": "14:30",
}


def test_every_placeholder_is_filled():
    text = (
        "Hello {{customer.first_name}} ({{customer.name}}), about {{ticket.reference}}: "
        "the technician arrives at {{technician.eta}}. {{agent.name}}"
    )
    assert placeholders.render(text, VALUES) == (
        "Hello Camille (Camille Durand), about T-10042: the technician arrives at 14:30. Léa Martin"
    )


def test_spaces_inside_the_braces_are_allowed_and_repeats_filled():
    assert placeholders.render("{{ ticket.reference }}/{{ticket.reference}}", VALUES) == (
        "T-10042/T-10042"
    )
    assert placeholders.used("{{ ticket.reference }} {{ticket.reference}} {{agent.name}}") == [
        "ticket.reference",
        "agent.name",
    ]


def test_unknown_names_are_listed_once_in_order():
    text = "Hi {{customer.nmae}}, {{ order.id }} {{customer.nmae}} {{agent.name}}"
    assert placeholders.unknown(text) == ["customer.nmae", "order.id"]
    assert placeholders.unknown("No placeholder at all {single} braces") == []
    assert placeholders.unknown("{{}}") == [""]


def test_values_stay_plain_text():
    # A customer's name that looks like markup comes out as written: the reply is plain text,
    # and the console escapes it like any other text.
    values = {**VALUES, "customer.name": "<b>Eve</b> {{agent.name}}"}
    assert placeholders.render("Dear {{customer.name}}", values) == "Dear <b>Eve</b> {{agent.name}}"


def test_missing_value_is_empty_and_unknown_name_left_as_written():
    assert placeholders.render("[{{technician.eta}}]", {}) == "[]"
    assert placeholders.render("{{nope}} stays", VALUES) == "{{nope}} stays"


def test_first_name():
    assert placeholders.first_name("  Camille  Durand ") == "Camille"
    assert placeholders.first_name("Cher") == "Cher"
    assert placeholders.first_name("   ") == ""


def test_not_scheduled_wording_per_language():
    assert placeholders.NOT_SCHEDULED == {"en": "not scheduled yet", "fr": "pas encore planifiée"}


def test_demo_macros_use_known_placeholders_only():
    from helpdesk.macros.demo import MACROS

    assert {language for _, language, *_ in MACROS} == {"en", "fr"}
    for title, _language, body, *_ in MACROS:
        assert placeholders.unknown(body) == [], title
