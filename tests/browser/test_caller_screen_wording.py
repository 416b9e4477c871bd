"""The phone panel's caller screen (static/caller_screen.js) words timeline entries from their
data in the agent's language, with the strings the console gives it, as the pages do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from agents_ui import phone_state

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).parents[2] / "agents_ui" / "static" / "caller_screen.js"

SCREEN: dict[str, Any] = {
    "call_id": 1,
    "customer": {"id": 7, "name": "Hugo Martin", "flags": [], "phones": []},
    "open_tickets": [],
    "history": {"tickets": 1, "calls": 1},
    "timeline": [
        {
            "kind": "ticket_status",
            "occurred_at": "2026-12-02T09:00:00+00:00",
            "summary": "T-10001 solved → closed",
            "ticket_id": 1,
            "ticket_ref": "T-10001",
            "data": {"from": "solved", "to": "closed"},
        },
        {
            "kind": "call",
            "occurred_at": "2026-12-02T08:00:00+00:00",
            "summary": "inbound call answered, waited 12 s, talked 185 s",
            "data": {"direction": "inbound", "outcome": "answered", "wait_s": 12, "talk_s": 185},
        },
        {
            "kind": "call_note",
            "occurred_at": "2026-12-02T08:05:00+00:00",
            "summary": "Wrap-up (follow_up): Rappeler",
            "data": {"disposition": "follow_up", "notes": "Rappeler"},
        },
        {
            "kind": "visit",
            "occurred_at": "2026-12-02T07:00:00+00:00",
            "summary": "V-1 technician on the way, arriving around 11:30",
            "data": {
                "event": "en_route",
                "reference": "V-1",
                "eta_at": "2026-12-02T10:30:00+00:00",
            },
        },
        {
            "kind": "sms",
            "occurred_at": "2026-12-02T06:00:00+00:00",
            "summary": "Bonjour, ma box clignote",
            "data": {},
        },
    ],
}


def test_the_screen_pop_words_its_timeline_in_french(app: Flask, browser: Any) -> None:
    with app.test_request_context(), force_locale("fr"):
        strings = phone_state.js_strings({})["screen"]
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="fr"><head><meta name="helpdesk-timezone" content="Europe/Paris">'
            '</head><body><div id="screen"></div></body></html>'
        )
        page.add_script_tag(path=str(SCRIPT))
        page.evaluate(
            "([screen, strings]) => window.HelpdeskCallerScreen.render("
            "document.getElementById('screen'), screen, strings)",
            [SCREEN, strings],
        )
        lines = page.locator(".screen-summary").all_inner_texts()
    finally:
        page.close()
    assert lines == [
        "T-10001 Résolu → Clos",
        "Entrant · Répondu · attente 12 s · conversation 3 min 5 s",
        "Après-appel (Suivi nécessaire) : Rappeler",
        "V-1 technicien en route, arrivée vers 11:30",
        "Bonjour, ma box clignote",  # customer-written: as written
    ]
