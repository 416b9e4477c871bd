"""The value page explains, in the reader's language, how each segment is decided."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.value import service as value_service
from tests.functional.test_console import (  # noqa: F401  (compiled_catalogues is autouse)
    SessionPerRequestClient,
    compiled_catalogues,
    sign_in,
)


@pytest.fixture
def signed_in(app: Flask, make_user: Any) -> Any:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)

    def sign(role: Role, **kwargs: Any) -> Any:
        assert sign_in(client, make_user(role, **kwargs)).status_code == 302
        return client

    return sign


@pytest.fixture
def valued(app: Flask, customer_factory: Any) -> None:
    customer = customer_factory(name="Grande Surface")
    today = date.today()
    row = value_service.InvoiceRow(
        "A-1", str(customer.id), 500_000, "EUR", today - timedelta(days=30), today
    )
    value_service.import_invoices(db.session, [row])
    value_service.recompute_all(db.session)


def test_the_value_page_explains_the_segment_rules(signed_in: Any, valued: None) -> None:
    page = unescape(signed_in(Role.SUPERVISOR).get("/value").get_data(as_text=True))
    assert "How a customer's segment is chosen" in page
    assert "Only the riskiest 10% of paying customers are listed" in page
    assert "2 points per complaint and 1 per missed service-level target" in page
    assert "revenue down 30% or more" in page
    assert "Everyone else." in page


def test_the_segment_rules_in_french(signed_in: Any, valued: None) -> None:
    page = unescape(signed_in(Role.SUPERVISOR, locale="fr").get("/value").get_data(as_text=True))
    assert "Comment le segment d\N{RIGHT SINGLE QUOTATION MARK}un client est choisi" in page
    assert "Seuls les 10\N{NO-BREAK SPACE}% de clients payants les plus à risque" in page
    assert "Le coût pour les servir atteint 50\N{NO-BREAK SPACE}%" in page
    assert "Parmi le cinquième des clients payants" in page
    assert (
        "Chiffre d\N{RIGHT SINGLE QUOTATION MARK}affaires en hausse de 25\N{NO-BREAK SPACE}%"
        in page
    )
    assert "3 contacts ou plus, et jamais de facture." in page
    assert "Tous les autres." in page
    assert "Still buying" not in page and "Everyone else" not in page
