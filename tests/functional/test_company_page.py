"""The company page: its contacts (a page at a time), the tickets and calls of the company and its
contacts, its value and its contacts' together, with empty states that say what to do; in English
and in French."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from agents_ui import company_page
from helpdesk.auth.models import Role, User
from helpdesk.customers.models import CustomerKind
from helpdesk.extensions import db
from helpdesk.value.models import CustomerValue
from telephony.models import Call
from tests.functional.test_console import SessionPerRequestClient, html, sign_in


def _console(app: Flask, user: User) -> SessionPerRequestClient:
    client = SessionPerRequestClient(app, app.response_class, use_cookies=True)
    assert sign_in(client, user).status_code == 302
    return client


def _section(page: str, title_id: str) -> str:
    return page.split(f'id="{title_id}"')[1].split("</section>")[0]


def test_the_company_page_lists_contacts_tickets_calls_and_value(
    app: Flask,
    make_user: Callable[..., User],
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    company = customer_factory(name="Garage Fontaine", kind=CustomerKind.COMPANY)
    jeanne = customer_factory(name="Jeanne <b>Roux</b>", company_id=company.id)
    marc = customer_factory(name="Marc Petit", company_id=company.id)
    stranger = customer_factory(name="Someone Else")
    ticket_factory(subject="Invoice question", requester_id=company.id)
    ticket_factory(subject="Brakes squeak", requester_id=jeanne.id)
    ticket_factory(subject="Not theirs", requester_id=stranger.id)
    db.session.add_all(
        [
            Call(call_sid="CA-company-1", customer_id=marc.id, direction="inbound"),
            Call(call_sid="CA-stranger", customer_id=stranger.id, direction="inbound"),
            CustomerValue(customer_id=jeanne.id, revenue_cents=120_000, cost_cents=5_000),
            CustomerValue(customer_id=marc.id, revenue_cents=30_000, cost_cents=1_000),
        ]
    )
    db.session.commit()
    page = html(_console(app, make_user(Role.AGENT)).get(f"/customers/{company.id}"))

    contacts = _section(page, "contacts-title")
    assert "Jeanne &lt;b&gt;Roux&lt;/b&gt;" in contacts and "Marc Petit" in contacts
    assert "Someone Else" not in contacts
    tickets = _section(page, "customer-tickets-title")
    assert "Invoice question" in tickets and "Brakes squeak" in tickets
    assert "Not theirs" not in tickets
    calls = _section(page, "company-calls-title")
    assert "Marc Petit" in calls and "Someone Else" not in calls
    together = _section(page, "contacts-value-title")
    assert "1,500.00" in together or "1 500,00" in together or "1,500" in together, together
    assert "Over 2 contacts with a computed value." in together


def test_contacts_come_a_page_at_a_time(
    app: Flask, make_user: Callable[..., User], customer_factory: Callable[..., Any]
) -> None:
    company = customer_factory(name="Big Corp", kind=CustomerKind.COMPANY)
    for n in range(company_page.CONTACTS_PAGE + 2):
        customer_factory(name=f"Employee {n:02d}", company_id=company.id, phones=[])
    console = _console(app, make_user(Role.AGENT))
    page = html(console.get(f"/customers/{company.id}"))
    first = _section(page, "contacts-title")
    assert "Employee 00" in first and "Employee 25" not in first
    more = first.split('href="')[-1].split('"')[0].replace("&amp;", "&")
    assert "contacts_after=" in more
    rest = _section(html(console.get(more)), "contacts-title")
    assert "Employee 25" in rest and "Employee 26" in rest and "Employee 00" not in rest
    assert "First contacts" in rest


def test_an_empty_company_says_so_in_english_and_french(
    app: Flask, make_user: Callable[..., User], customer_factory: Callable[..., Any]
) -> None:
    company = customer_factory(name="Nouvelle SARL", kind=CustomerKind.COMPANY)
    page = html(_console(app, make_user(Role.AGENT)).get(f"/customers/{company.id}"))
    assert "No contact belongs to this company yet" in page
    assert "Neither the company nor its contacts have tickets." in page
    assert "No call from the company or its contacts yet." in page
    assert "No value computed for its contacts yet." in page
    page = html(_console(app, make_user(Role.AGENT, locale="fr")).get(f"/customers/{company.id}"))
    assert "Aucun contact ne fait encore partie de cette société" in page
    assert "Ni la société ni ses contacts n\u2019ont de ticket." in page
    assert "Aucun appel de la société ou de ses contacts pour l\u2019instant." in page
    assert "Aucune valeur calculée pour ses contacts pour l\u2019instant." in page


def test_a_person_s_page_has_no_company_sections(
    app: Flask, make_user: Callable[..., User], customer_factory: Callable[..., Any]
) -> None:
    person = customer_factory(name="Paul Durand")
    page = html(_console(app, make_user(Role.AGENT)).get(f"/customers/{person.id}"))
    assert 'id="contacts-title"' not in page and 'id="company-calls-title"' not in page
    assert "This customer has no tickets." in page
