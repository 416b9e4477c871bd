"""The phone panel's caller screen (static/caller_screen.js) shows the caller's lifetime value,
churn risk and its drivers, worded in the agent's language with the templates the console gives
it (agents_ui/model_labels.driver_templates), and says when no churn model ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from agents_ui import phone_state

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).parents[2] / "agents_ui" / "static" / "caller_screen.js"


def _screen(scores: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "call_id": 1,
        "customer": {"id": 7, "name": "Hugo Martin", "flags": [], "phones": []},
        "open_tickets": [],
        "history": {"tickets": 1, "calls": 1},
        "timeline": [],
        "scores": scores,
    }


SCORED = {
    "clv_cents": 123_450,
    "churn_risk": 0.72,
    "method": "bgnbd_gamma_gamma+logistic_regression",
    "drivers": [
        {"code": "complaints_60", "value": 3, "text": "3 complaints in 60 days"},
        {"code": "revenue_trend", "value": -0.4, "text": "revenue down 40%"},
        {"code": "complaints_90", "value": 1, "text": "1 complaints in 90 days"},
    ],
}


def _render(app: Flask, browser: Any, locale: str, screen: dict[str, Any]) -> tuple[str, list[str]]:
    with app.test_request_context(), force_locale(locale):
        strings = phone_state.js_strings({})["screen"]
    page = browser.new_page()
    try:
        page.set_content(
            f'<html lang="{locale}"><head><meta name="helpdesk-timezone" '
            'content="Europe/Paris"></head><body><div id="screen"></div></body></html>'
        )
        page.add_script_tag(path=str(SCRIPT))
        page.evaluate(
            "([screen, strings]) => window.HelpdeskCallerScreen.render("
            "document.getElementById('screen'), screen, strings)",
            [screen, strings],
        )
        line = page.locator(".screen-scores .scores-line").inner_text()
        drivers = page.locator(".screen-scores .reasons li").all_inner_texts()
    finally:
        page.close()
    return _spaces(line), [_spaces(d) for d in drivers]


def _spaces(text: str) -> str:
    """Browsers and Babel differ on which no-break space goes before % and €: one space."""
    return text.replace("\N{NARROW NO-BREAK SPACE}", " ").replace("\N{NO-BREAK SPACE}", " ")


def test_the_pop_shows_value_risk_and_drivers_in_french(app: Flask, browser: Any) -> None:
    line, drivers = _render(app, browser, "fr", _screen(SCORED))
    assert line == "Valeur vie client 1 234,50 € · Risque de départ 72 %"
    assert drivers == [
        "3 réclamations en 60 jours",
        "Chiffre d\u2019affaires en baisse de 40 % sur les 90 jours précédents",
        "1 réclamation en 90 jours",
    ]


def test_the_pop_in_english_and_without_a_churn_model(app: Flask, browser: Any) -> None:
    line, drivers = _render(app, browser, "en", _screen(SCORED))
    assert line == "Lifetime value €1,234.50 · Churn risk 72%"
    assert drivers[0] == "3 complaints in 60 days"
    assert drivers[2] == "1 complaint in 90 days"
    ruled = {**SCORED, "churn_risk": None, "drivers": [], "method": "simple+rules"}
    line, drivers = _render(app, browser, "en", _screen(ruled))
    assert line == "Lifetime value €1,234.50 · No churn model: the segment rule applies."
    assert drivers == []
    lapsed = {**SCORED, "churn_risk": None, "drivers": []}
    line, _ = _render(app, browser, "en", _screen(lapsed))
    assert line == "Lifetime value €1,234.50 · Churn risk not scored: no purchase in 12 months."
