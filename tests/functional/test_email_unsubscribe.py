"""The unsubscribe link of campaign e-mails: the page asks before it records (a GET never does),
a tampered link is refused, the opt-out then blocks the address, the one-click headers leave
with the mail, and the opt-out outlives the customer's erasure."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from urllib.parse import urlsplit

from sqlalchemy import func, select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role
from helpdesk.campaigns import sending, service
from helpdesk.campaigns.lists import Candidate
from helpdesk.campaigns.models import CampaignMember
from helpdesk.consent import service as consent
from helpdesk.consent import unsubscribe
from helpdesk.consent.models import EmailOptOut
from helpdesk.customers import erasure
from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage
from tests.functional.test_revocation import _sign_in

ADDRESS = "Bea.Roux@Example.com"


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(EmailOptOut)) or 0)


def _unsubscribed(address: str = ADDRESS) -> bool:
    facts = consent.contact_facts(db.session, emails=[address], channel="email")
    return bool(
        consent.facts_for(facts, customer_id=None, number=None, email=address)["email_unsubscribed"]
    )


def test_the_link_asks_first_then_records_the_opt_out_and_blocks_the_address(app) -> None:
    link = unsubscribe.unsubscribe_link(ADDRESS, campaign_id=7, language="fr")
    assert "bea" not in link.lower()  # the address cannot be read back from the link
    client = app.test_client()

    asked = client.get(_path(link))
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Oui, me désinscrire" in page
    assert _count() == 0 and not _unsubscribed()  # a mail scanner's GET changes nothing

    done = client.post(_path(link), data={})
    assert done.status_code == 200
    assert "vous ne recevrez plus ce type d\u2019e-mails" in done.get_data(as_text=True)
    assert _count() == 1
    assert _unsubscribed() and _unsubscribed("bea.roux@example.com")
    assert not _unsubscribed("someone.else@example.com")
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "consent.email_unsubscribe")
    )
    assert entry is not None and entry.actor_id is None and entry.details["campaign_id"] == 7
    assert "bea" not in str(entry.details).lower()


def test_a_post_without_the_form_token_or_one_click_does_nothing(app, monkeypatch) -> None:
    # The page's own form is protected like every console form; only the RFC 8058 one-click
    # POST (which no browser form of another site can be confused with) goes without it.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    link = unsubscribe.unsubscribe_link(ADDRESS, campaign_id=None)
    assert app.test_client().post(_path(link), data={}).status_code == 400
    assert _count() == 0


def test_one_click_from_the_mail_client_unsubscribes(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the client has no form token
    link = unsubscribe.unsubscribe_link(ADDRESS, campaign_id=3, language="en")
    page = app.test_client().get(_path(link)).get_data(as_text=True)
    assert "Yes, unsubscribe me" in page and _count() == 0
    r = app.test_client().post(_path(link), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and _unsubscribed()


def test_a_tampered_or_made_up_link_is_refused(app) -> None:
    link = unsubscribe.unsubscribe_link(ADDRESS, campaign_id=7)
    token = link.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client = app.test_client()
    assert client.get(f"/unsubscribe/{tampered}").status_code == 404
    assert (
        client.post(f"/unsubscribe/{tampered}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 404
    )
    # Signed with another key: someone who does not hold the e-mail cannot make one.
    forged = unsubscribe.URLSafeSerializer("not-our-key", salt=unsubscribe.SALT).dumps(
        [unsubscribe.address_key(ADDRESS), 7]
    )
    assert (
        client.post(f"/unsubscribe/{forged}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 404
    )
    assert _count() == 0


def test_a_consent_given_after_the_opt_out_lets_mail_through_again(app, customer_factory) -> None:
    customer = customer_factory(name="Bea Roux", emails=[ADDRESS])
    entry = unsubscribe.record_email_opt_out(db.session, address=ADDRESS, source="link")
    db.session.commit()
    assert _unsubscribed()
    given = consent.record_consent(
        db.session,
        customer_id=customer.id,
        channel="email",
        source="form",
        proof="ticked the box again",
        by_user_id=None,
        given_at=entry.at + timedelta(minutes=1),
    )
    db.session.commit()
    assert not _unsubscribed()
    consent.withdraw_consent(db.session, consent_id=given.id, by_user_id=None)
    db.session.commit()
    assert _unsubscribed()


def test_campaign_mail_carries_the_link_and_one_click_headers_and_skips_opted_out(
    app, app_clock, make_user
) -> None:
    boss = make_user(Role.SUPERVISOR)
    campaign = service.create(
        db.session,
        actor=boss,
        name="Maintenance notice",
        kind="service",
        legal_basis="none",
        channel="email",
        message_en="Hello {{customer.first_name}}.",
        message_fr="Bonjour {{customer.first_name}}.",
        subject_en="Maintenance",
        subject_fr="Maintenance",
    )
    service.add_members(
        db.session,
        campaign,
        [
            Candidate(1, "Bea Roux", None, "bea@example.com", None, "fr"),
            Candidate(2, "Carl Dupont", None, "carl@example.com", None, "en"),
        ],
        actor=boss,
    )
    service.set_status(db.session, campaign, status="active", actor=boss)
    unsubscribe.record_email_opt_out(db.session, address="CARL@example.com", source="link")
    db.session.commit()

    assert sending.send_due(db.session, now=app_clock.now()) == 1
    mail = db.session.scalar(select(MailMessage))
    assert mail.to_addresses == ["bea@example.com"]
    link = unsubscribe.unsubscribe_link("bea@example.com", campaign_id=campaign.id, language="fr")
    assert f"ouvrez ce lien : {link}" in mail.body_text
    assert "DÉSINSCRIRE" not in mail.body_text
    raw = app.extensions["mail_transport"].files_to(["bea@example.com"])[0].read_bytes()
    sent = email.message_from_bytes(raw, policy=policy.default)
    assert sent["List-Unsubscribe"] == f"<{link}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    carl = db.session.scalar(
        select(CampaignMember).where(CampaignMember.email == "carl@example.com")
    )
    assert carl.status == "excluded" and carl.excluded_reason == "unsubscribed"


def test_the_opt_out_outlives_the_erasure_and_is_exported(app, customer_factory) -> None:
    customer = customer_factory(name="Bea Roux", emails=[ADDRESS])
    unsubscribe.record_email_opt_out(db.session, address=ADDRESS, source="link", campaign_id=4)
    db.session.commit()
    stored = db.session.scalar(select(EmailOptOut.address))
    assert stored.startswith("h:") and "bea" not in stored  # never the address itself
    exported = erasure.export(db.session, customer)
    assert [(o.source, o.campaign_id) for o in exported.email_opt_outs] == [("link", 4)]
    erasure.erase(db.session, customer, actor_id=None)
    db.session.commit()
    assert _count() == 1 and _unsubscribed()  # still no campaign e-mail to that address


def test_the_customer_page_says_the_address_unsubscribed(app, customer_factory, make_user) -> None:
    customer = customer_factory(name="Bea Roux", emails=[ADDRESS])
    unsubscribe.record_email_opt_out(db.session, address=ADDRESS, source="link")
    db.session.commit()
    client = _sign_in(app.test_client(), make_user(Role.AGENT))
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Unsubscribed from campaign e-mails: bea.roux@example.com." in page


def test_the_headers_for_the_campaigns_side(app) -> None:
    headers = unsubscribe.unsubscribe_headers(ADDRESS, campaign_id=5)
    assert (
        headers["List-Unsubscribe"].startswith("<")
        and "/unsubscribe/" in headers["List-Unsubscribe"]
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
