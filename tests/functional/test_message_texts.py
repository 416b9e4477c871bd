"""Customer texts reworded from the console: the next SMS answer and e-mail acknowledgement use
the new wording, a wording that loses or invents a placeholder is refused under its field, "back
to default" restores the code's text, and every change is audited."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage
from helpdesk.texts.models import MessageText
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)

ME = "+33612345678"
MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail" / "iso_8859_1.eml"
HELP_FR = "Service client : répondez à ce SMS pour nous écrire. STATUT suivi de la"


@pytest.fixture
def console(browser: Callable[[], FlaskClient], make_user: Callable[..., User]) -> FlaskClient:  # noqa: F811
    return _sign_in(browser(), make_user(Role.ADMIN, name="Ada Admin"))


@pytest.fixture
def sim(app):
    return app.extensions["telephony_simulator"]


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _save(console: FlaskClient, key: str, fr: str, en: str) -> Any:
    return console.post(f"/admin/texts/{key}", data={"fr": fr, "en": en})


def test_the_next_keyword_answer_uses_the_new_wording_then_the_default(
    console, sim, customer_factory
):
    customer_factory(name="Hugo", language="fr", phones=[ME])
    sim.text(ME, "AIDE")
    assert sim.inbox(ME)[-1].startswith(HELP_FR)
    page = html(console.get("/admin/texts"))
    assert 'id="text-sms-help-fr"' in page and 'id="text-sms-help-en"' in page
    meter = page.split('id="text-sms-help-fr-segments"')[1].split("</p>")[0]
    assert "163 characters, 2 SMS (GSM-7)" in meter  # the French help, as shipped
    r = _save(console, "sms.help", "Écrivez-nous ici, on vous répond.", "Write to us here.")
    assert r.status_code == 302
    sim.text(ME, "AIDE")
    assert sim.inbox(ME)[-1] == "Écrivez-nous ici, on vous répond."
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "texts.update"))
    assert entry.channel == "console" and entry.target_id == "sms.help"
    assert entry.details["languages"] == ["fr", "en"]
    assert entry.details["fr"] == "Écrivez-nous ici, on vous répond."

    assert console.post("/admin/texts/sms.help/reset").status_code == 302
    assert db.session.scalars(select(MessageText)).all() == []
    sim.text(ME, "AIDE")
    assert sim.inbox(ME)[-1].startswith(HELP_FR)
    actions = db.session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "texts.update")
    )
    assert [d.get("reset") for d in actions] == [None, True]


def test_the_acknowledgement_keeps_its_reference_placeholder(console, sim, customer_factory):
    customer_factory(name="Camille", language="fr", phones=[ME])
    r = _save(console, "sms.ack", "Bien reçu, merci.", "Got it (ref. {reference}).")
    assert r.status_code == 422
    page = html(r)
    assert 'id="text-sms-ack-fr-error"' in page and "{reference}" in page
    assert 'id="text-sms-ack-en-error"' not in page
    assert 'aria-invalid="true"' in page and "Bien reçu, merci." in page  # kept as typed
    r = _save(console, "sms.ack", "Reçu {reference} {agent}", "Got it (ref. {reference}).")
    assert r.status_code == 422 and "{agent}" in html(r)
    r = _save(console, "sms.ack", "Reçu {reference.__class__}", "Got it (ref. {reference}).")
    assert r.status_code == 422 and 'id="text-sms-ack-fr-error"' in html(r)
    assert db.session.scalars(select(MessageText)).all() == []
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "texts.update")) is None

    assert (
        _save(console, "sms.ack", "Bien reçu ({reference}).", "Got it.{reference}").status_code
        == 302
    )
    sim.text(ME, "Ma box ne marche plus")
    assert sim.inbox(ME)[-1].startswith("Bien reçu (T-")


def test_the_next_mail_acknowledgement_uses_the_new_wording(
    console, client, make_user, token_for, monkeypatch
):
    sent: list[dict[str, Any]] = []

    def queue_message(session: Any, **kw: Any) -> MailMessage:
        sent.append(kw)
        row = MailMessage(
            message_id=f"ack-{len(sent)}@helpdesk.example",
            direction="outbound",
            kind=kw["kind"],
            from_address="support@helpdesk.example",
            to_addresses=[kw["to"]],
            subject=kw["subject"],
            customer_id=kw.get("customer_id"),
            ticket_id=kw["ticket"].id,
        )
        session.add(row)
        return row

    module = types.ModuleType("helpdesk.mail.outbox")
    module.queue_message = queue_message  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "helpdesk.mail.outbox", module)
    r = _save(console, "email.ack", "Merci {client}", "Thanks.")
    assert r.status_code == 422 and 'id="text-email-ack-fr-error"' in html(r)
    assert _save(console, "email.ack", "Merci, {{bien}} reçu.", "Thanks.").status_code == 302
    token = token_for(make_user(Role.INTEGRATION))
    response = client.post(
        "/api/v1/mail/inbound",
        data=MAIL.read_bytes(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 200
    assert [m["text"] for m in sent] == ["Merci, {bien} reçu."]


def test_unknown_text_and_agents_are_refused(console, browser, make_user):  # noqa: F811
    assert _save(console, "sms.nothing", "a", "b").status_code == 404
    agent = _sign_in(browser(), make_user(Role.AGENT, name="Alex Agent"))
    assert agent.get("/admin/texts").status_code == 403
    assert _save(agent, "sms.help", "a", "b").status_code == 403


def test_the_survey_invitation_and_its_subject_follow_the_new_wording(
    console, app, customer_factory, ticket_factory
):
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Channel, Status

    subject = {"fr": "Votre avis", "en": "How did we do?\nBcc: x@example.com"}
    r = _save(console, "surveys.mail_subject", subject["fr"], subject["en"])
    assert r.status_code == 422 and 'id="text-surveys-mail_subject-en-error"' in html(r)
    assert "one line" in html(r)
    assert _save(console, "surveys.mail_subject", "Votre avis", "Your opinion").status_code == 302
    body = "Hi! Ticket {reference}: rate us at {link} (open {days} days)."
    page = html(console.get("/admin/texts"))
    fr = page.split('id="text-surveys-mail_ticket-fr"')[1].split(">", 1)[1].split("</textarea>")[0]
    assert _save(console, "surveys.mail_ticket", unescape(fr), body).status_code == 302
    customer = customer_factory(language="en", phones=[], emails=["lea@example.com"])
    ticket = ticket_factory(requester_id=customer.id, channel=Channel.EMAIL)
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    [mail] = app.extensions["mail_transport"].sent(to="lea@example.com")
    assert mail.subject == f"[{ticket.reference}] Your opinion"
    assert mail.text.startswith(
        f"Hi! Ticket {ticket.reference}: rate us at http://localhost/survey/"
    )
    # The French wording was posted back unchanged: it stays the default, no override.
    keys = db.session.execute(select(MessageText.key, MessageText.language)).all()
    assert sorted(map(tuple, keys)) == [
        ("surveys.mail_subject", "en"),
        ("surveys.mail_subject", "fr"),
        ("surveys.mail_ticket", "en"),
    ]


def test_a_wording_that_no_longer_fits_sends_the_default(app, sim, customer_factory):
    """A row saved before the code's placeholders changed (written here directly, as an older
    version of the page would have allowed it) cannot break the answer."""
    db.session.add(MessageText(key="sms.status_unknown", language="fr", text="Inconnu : {ref}"))
    db.session.commit()
    customer_factory(name="Hugo", language="fr", phones=[ME])
    sim.text(ME, "STATUT T-99999")
    assert sim.inbox(ME)[-1] == "Nous ne trouvons pas ce ticket pour votre numéro."
