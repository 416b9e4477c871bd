"""The rules a compliance decision cites are stable codes, worded in the reader's language by
`rule_label`: a French page shows no English sentence, the legal texts keep their French titles,
and an attempt audited before the codes still shows what it stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_babel import force_locale

from helpdesk.campaigns import compliance_rules as tables
from helpdesk.campaigns.compliance import Contact, Terms, check
from helpdesk.campaigns.compliance_labels import rule_label
from tests.functional.test_console import compiled_catalogues  # noqa: F401 (French text)

CODES = [v for k, v in vars(tables).items() if k.isupper() and isinstance(v, str) and "." in v]


def test_every_code_has_a_label_in_both_languages(app: Flask) -> None:
    assert len(CODES) >= 14
    with app.test_request_context():
        for code in CODES:
            with force_locale("en"):
                english = rule_label(code)
            with force_locale("fr"):
                french = rule_label(code)
            assert english != code and french != code, code
            assert english != french, code


def test_french_labels_are_french_with_the_official_titles(app: Flask) -> None:
    with app.test_request_context(), force_locale("fr"):
        window = rule_label(tables.POLICY_WINDOW)
        assert window == "Règle de l\u2019entreprise : plage par défaut de 09:00 à 20:00 en semaine"
        assert rule_label(tables.CAMPAIGN_ATTEMPTS) == "Limite de tentatives propre à la campagne"
        assert rule_label(tables.POLICY_REFUSAL).endswith("pendant 60 jours après un refus")
        d223 = rule_label(tables.FR_D223_9)
        assert d223.startswith("Code de la consommation, art. D.223-9 (décret n° 2022-1313")
        assert " : jours, horaires" in d223
    with app.test_request_context(), force_locale("en"):
        window = rule_label(tables.POLICY_WINDOW)
        assert window.startswith("Company policy: default window from 9:00")
        assert window.endswith("on weekdays")
        assert rule_label(tables.FR_L223_1).startswith("Code de la consommation, art. L.223-1")


def test_a_decision_cites_codes_and_old_strings_pass_through(app: Flask) -> None:
    decision = check(
        Terms(kind="service", channel="call", legal_basis="none"),
        Contact(number="+4915112345678", email=None, customer_id=None),
        now=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),  # a Sunday
        center_timezone="Europe/Paris",
    )
    assert isinstance(decision.rules, tuple)
    assert all(isinstance(r, str) for r in decision.rules)
    assert tables.POLICY_WINDOW in decision.rules
    old = "Company policy: default window 09:00-20:00 on weekdays"
    with app.test_request_context(), force_locale("fr"):
        assert rule_label(old) == old


@pytest.mark.parametrize("rule", ["", "policy.window?start=nonsense", "unknown.code?x=1"])
def test_odd_strings_do_not_break_a_page(app: Flask, rule: str) -> None:
    with app.test_request_context(), force_locale("fr"):
        assert isinstance(rule_label(rule), str)
