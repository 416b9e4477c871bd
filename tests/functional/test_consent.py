"""Consents, the do-not-call list and refusals: the service, the facts a campaign loads (checked
end to end with the compliance rules), erasure, the console pages and the import command."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.campaigns.compliance import Contact, Terms, check
from helpdesk.cli import main
from helpdesk.consent import service as consent
from helpdesk.consent.models import ContactConsent, ContactRefusal, DoNotCall
from helpdesk.customers import erasure
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.mail.models import BouncingAddress
from telephony.models import Call, SmsOptOut
from tests.functional.test_console import compiled_catalogues  # noqa: F401 (French pages)
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)

MONDAY_11_PARIS = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CALL = Terms(kind="marketing", channel="call", legal_basis="consent")


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.fixture
def signed_in(
    browser: Callable[[], FlaskClient],  # noqa: F811
    make_user: Callable[..., User],
) -> Callable[..., FlaskClient]:
    def make(role: Role = Role.AGENT, **kwargs: Any) -> FlaskClient:
        user = make_user(role, **kwargs)
        client = _sign_in(browser(), user)
        client.user_id = user.id  # type: ignore[attr-defined]
        return client

    return make


def _entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- the service -----------------------------------------------------------------------------


def test_a_consent_needs_a_proof_and_is_one_per_channel(app: Flask, customer_factory) -> None:
    customer = customer_factory(name="Ana")
    with pytest.raises(ValidationFailed) as refused:
        consent.record_consent(
            db.session,
            customer_id=customer.id,
            channel="call",
            source="agent",
            proof=" ",
            by_user_id=None,
        )
    assert set(refused.value.fields or {}) == {"proof"}
    with pytest.raises(ValidationFailed) as refused:
        consent.record_consent(
            db.session,
            customer_id=customer.id,
            channel="fax",
            source="agent",
            proof="said yes",
            by_user_id=None,
        )
    assert set(refused.value.fields or {}) == {"channel"}
    with pytest.raises(NotFound):
        consent.record_consent(
            db.session,
            customer_id=999999,
            channel="call",
            source="agent",
            proof="said yes",
            by_user_id=None,
        )
    first = consent.record_consent(
        db.session,
        customer_id=customer.id,
        channel="call",
        source="agent",
        proof="Said yes on the phone",
        by_user_id=None,
    )
    with pytest.raises(ValidationFailed) as refused:
        consent.record_consent(
            db.session,
            customer_id=customer.id,
            channel="call",
            source="agent",
            proof="again",
            by_user_id=None,
        )
    assert set(refused.value.fields or {}) == {"channel"}
    consent.withdraw_consent(db.session, consent_id=first.id, by_user_id=None)
    assert consent.active_consent(db.session, customer_id=customer.id, channel="call") is None
    second = consent.record_consent(
        db.session,
        customer_id=customer.id,
        channel="call",
        source="form",
        proof="web form",
        by_user_id=None,
    )
    assert [c.id for c in consent.consents_of(db.session, customer_id=customer.id)] == [
        second.id,
        first.id,
    ]


def test_contact_facts_feed_the_compliance_check(app: Flask, customer_factory) -> None:
    willing = customer_factory(name="Willing", phones=["+33612000101"], emails=["w@example.com"])
    listed = customer_factory(name="Listed", phones=["+33612000102"])
    refused = customer_factory(name="Refused", phones=["+33612000103"])
    stopped = customer_factory(name="Stopped", phones=["+33612000104"], emails=["b@example.com"])
    for who in (willing, listed, refused, stopped):
        for channel in ("call", "sms", "email"):
            consent.record_consent(
                db.session,
                customer_id=who.id,
                channel=channel,
                source="agent",
                proof="yes",
                by_user_id=None,
                given_at=MONDAY_11_PARIS - timedelta(days=90),
            )
    consent.add_do_not_call(db.session, number="+33612000102", source="bloctel")
    consent.record_refusal(
        db.session,
        customer_id=refused.id,
        number=None,
        channel="call",
        at=MONDAY_11_PARIS - timedelta(days=10),
        by_user_id=None,
    )
    db.session.add(
        SmsOptOut(customer_number="+33612000104", sending_number="+33700000000", source="keyword")
    )
    db.session.add(BouncingAddress(address="B@example.com", reason="550 no such user"))
    db.session.commit()

    people = (willing, listed, refused, stopped)
    ids = [p.id for p in people]
    numbers = [p.phones[0].e164 for p in people]
    emails = ["w@example.com", "b@example.com"]

    def decide(channel: str, who: Any, email: str | None = None) -> str:
        facts = consent.contact_facts(
            db.session, customer_ids=ids, numbers=numbers, emails=emails, channel=channel
        )
        number = who.phones[0].e164
        fields = consent.facts_for(facts, customer_id=who.id, number=number, email=email)
        contact = Contact(number=number, email=email, customer_id=who.id, **fields)
        terms = Terms(kind="marketing", channel=channel, legal_basis="consent")
        return check(terms, contact, MONDAY_11_PARIS).reason

    assert decide("call", willing) == "ok"
    assert decide("call", listed) == "do_not_call"
    assert decide("sms", listed) == "ok"  # Bloctel names calls only
    assert decide("call", refused) == "refused_recently"
    assert decide("sms", refused) == "ok"  # the refusal was heard on a call
    assert decide("sms", stopped) == "opted_out"
    assert decide("email", stopped, "b@example.com") == "unsubscribed"
    assert decide("email", willing, "w@example.com") == "ok"
    consent.withdraw_consent(
        db.session,
        consent_id=consent.active_consent(db.session, customer_id=willing.id, channel="call").id,
        by_user_id=None,
    )
    assert decide("call", willing) == "no_consent"


def test_import_is_idempotent_and_replace_drops_what_left_the_list(app: Flask) -> None:
    numbers = ["+33612000201", "+33612000202", "+33612000203"]
    first = consent.import_do_not_call(db.session, source="bloctel", numbers=numbers)
    assert (first.added, first.already, first.removed) == (3, 0, 0)
    again = consent.import_do_not_call(db.session, source="bloctel", numbers=numbers)
    assert (again.added, again.already) == (0, 3)
    consent.add_do_not_call(db.session, number="+33612000201", source="manual")
    replaced = consent.import_do_not_call(
        db.session, source="bloctel", numbers=["+33612000203", "+33612000204"], replace=True
    )
    assert (replaced.added, replaced.already, replaced.removed) == (1, 1, 2)
    db.session.commit()
    assert consent.counts_by_source(db.session) == {"bloctel": 2, "customer": 0, "manual": 1}
    # The staff's entry for a number that left Bloctel's list stays.
    assert [e.source for e in consent.lookup_do_not_call(db.session, number="+33612000201")] == [
        "manual"
    ]
    with pytest.raises(ValidationFailed) as refused:
        bloctel = consent.lookup_do_not_call(db.session, number="+33612000204")[0]
        consent.remove_do_not_call(db.session, entry_id=bloctel.id)
    assert set(refused.value.fields or {}) == {"source"}


def test_erasure_removes_consents_and_refusals_but_keeps_the_do_not_call_entry(
    app: Flask, customer_factory
) -> None:
    customer = customer_factory(name="Gone Soon", phones=["+33612000301"])
    consent.record_consent(
        db.session,
        customer_id=customer.id,
        channel="call",
        source="agent",
        proof="Gone Soon said yes",
        by_user_id=None,
    )
    consent.record_refusal(
        db.session,
        customer_id=None,
        number="+33612000301",
        channel="call",
        at=MONDAY_11_PARIS,
        by_user_id=None,
        campaign_id=7,
    )
    consent.add_do_not_call(
        db.session, number="+33612000301", source="customer", note="Gone Soon asked"
    )
    db.session.commit()
    exported = erasure.export(db.session, customer)
    assert [c.proof for c in exported.marketing_consents] == ["Gone Soon said yes"]
    assert [r.number for r in exported.contact_refusals] == ["+33612000301"]
    assert [d.source for d in exported.do_not_call] == ["customer"]

    report = erasure.erase(db.session, customer, actor_id=None)
    db.session.commit()
    assert report.rows["consent"] == 3
    assert db.session.scalar(select(func.count()).select_from(ContactConsent)) == 0
    assert db.session.scalar(select(func.count()).select_from(ContactRefusal)) == 0
    entry = db.session.scalar(select(DoNotCall))
    assert entry.number.startswith("h:") and entry.note == ""
    # Still on the list: the number is not called again.
    facts = consent.contact_facts(db.session, numbers=["+33612000301"], channel="call")
    assert facts["do_not_call"] == {"+33612000301"}
    assert [e.id for e in consent.lookup_do_not_call(db.session, number="+33612000301")] == [
        entry.id
    ]


# --- the console -----------------------------------------------------------------------------


def test_agent_records_and_withdraws_a_consent_on_the_customer_page(
    signed_in, customer_factory
) -> None:
    customer = customer_factory(name="Bea")
    db.session.commit()
    agent = signed_in(Role.AGENT, name="Léa Martin")
    page = html(agent.get(f"/customers/{customer.id}"))
    assert "No consent to marketing is recorded" in page
    # Not on a call: no way is chosen for them, and none given is refused.
    assert '<option value="" selected>' in page
    assert "during a call" in page and 'value="call" selected' not in page
    agent.post(f"/customers/{customer.id}/consents", data={"channel": "sms", "proof": "said yes"})
    assert db.session.scalar(select(func.count()).select_from(ContactConsent)) == 0
    r = agent.post(
        f"/customers/{customer.id}/consents",
        data={"channel": "sms", "source": "paper", "proof": "<b>Oui</b> au téléphone"},
    )
    assert r.status_code == 302
    page = html(agent.get(f"/customers/{customer.id}"))
    assert "recorded by Léa Martin (on paper)" in page
    assert "during a conversation" not in page
    assert "&lt;b&gt;Oui&lt;/b&gt; au téléphone" in page and "<b>Oui</b>" not in page
    row = db.session.scalar(select(ContactConsent))
    assert (row.channel, row.source, row.recorded_by_id) == ("sms", "paper", agent.user_id)
    [entry] = _entries("consent.record")
    assert entry.target_id == str(customer.id) and entry.details.get("channel") == "sms"
    assert entry.details.get("source") == "paper"
    # Withdrawing asks first (the console's confirmation).
    assert f'/consents/{row.id}/withdraw" data-confirm="Withdraw this consent (SMS)?' in page
    assert "Oui" not in str(entry.details)  # the proof is personal: not in the audit log

    refused = agent.post(
        f"/customers/{customer.id}/consents",
        data={"channel": "sms", "source": "paper", "proof": ""},
    )
    assert refused.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ContactConsent)) == 1

    r = agent.post(f"/customers/{customer.id}/consents/{row.id}/withdraw")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(ContactConsent, row.id).withdrawn_at is not None
    assert "withdrawn on" in html(agent.get(f"/customers/{customer.id}"))
    assert len(_entries("consent.withdraw")) == 1
    other = customer_factory(name="Other")
    db.session.commit()
    assert agent.post(f"/customers/{other.id}/consents/{row.id}/withdraw").status_code == 404


def test_during_a_call_with_the_customer_is_the_default_way(signed_in, customer_factory) -> None:
    customer = customer_factory(name="Eve")
    other = customer_factory(name="Fred")
    db.session.commit()
    agent = signed_in(Role.AGENT)
    db.session.add(
        Call(
            call_sid="CA-consent-1",
            customer_id=customer.id,
            agent_id=agent.user_id,
            status="in-progress",
        )
    )
    db.session.commit()
    assert '<option value="call" selected>' in html(agent.get(f"/customers/{customer.id}"))
    # Another customer's page: the call is not with them.
    assert '<option value="call" selected>' not in html(agent.get(f"/customers/{other.id}"))
    agent.post(
        f"/customers/{customer.id}/consents",
        data={"channel": "call", "source": "call", "proof": "said yes on the phone"},
    )
    assert db.session.scalar(select(ContactConsent.source)) == "call"
    assert "(during a call)" in html(agent.get(f"/customers/{customer.id}"))


def test_customer_asks_not_to_be_called(signed_in, customer_factory) -> None:
    customer = customer_factory(name="Carl", phones=["+33612000401", "+33612000402"])
    db.session.commit()
    agent = signed_in(Role.AGENT)
    r = agent.post(f"/customers/{customer.id}/do-not-call", data={"channels": ["call", "sms"]})
    assert r.status_code == 302
    rows = list(db.session.scalars(select(DoNotCall).order_by(DoNotCall.number)))
    assert [(e.number, e.source, e.channels) for e in rows] == [
        ("+33612000401", "customer", "call,sms"),
        ("+33612000402", "customer", "call,sms"),
    ]
    assert "+33612000401" in html(agent.get(f"/customers/{customer.id}"))
    assert len(_entries("do_not_call.customer_request")) == 1


def test_admin_page_imports_looks_up_adds_and_removes(signed_in) -> None:
    admin = signed_in(Role.ADMIN)
    upload = (
        b"numero;nom\n06 12 00 05 01;A\n+33612000502;B\nnot a number;C\n06 12 00 05 01;A\n"
        b"<b>x</b>;D\n"
    )
    from io import BytesIO

    r = admin.post(
        "/admin/do-not-call/import",
        data={"source": "bloctel", "file": (BytesIO(upload), "bloctel.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    page = html(admin.get(r.headers["Location"]))
    assert "2 added, 0 already listed, 0 removed, 2 rejected." in page
    assert "Line 4: not a number" in page
    assert "Line 6: &lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    counts = re.search(r'data-source="bloctel"><td>[^<]*</td><td class="num">(\d+)<', page)
    assert counts and counts.group(1) == "2"
    [entry] = _entries("do_not_call.import")
    assert entry.details.get("added") == 2 and entry.details.get("rejected") == 2

    found = html(admin.get("/admin/do-not-call", query_string={"number": "06 12 00 05 01"}))
    assert "+33612000501 is listed" in found
    missing = html(admin.get("/admin/do-not-call", query_string={"number": "0612000599"}))
    assert "+33612000599 is not on the list." in missing
    bad = html(admin.get("/admin/do-not-call", query_string={"number": "<script>"}))
    assert "<script>" not in bad.split('id="dnc-lookup"')[1].split("</section>")[0].replace(
        'value="&lt;script&gt;"', ""
    )

    r = admin.post(
        "/admin/do-not-call",
        data={"number": "0612000503", "channels": ["sms"], "note": "asked by letter"},
    )
    assert r.status_code == 302
    added = db.session.scalar(select(DoNotCall).where(DoNotCall.source == "manual"))
    assert (added.number, added.channels, added.note) == ("+33612000503", "sms", "asked by letter")
    [entry] = _entries("do_not_call.add")
    assert entry.target_id == str(added.id) and "+33612000503" not in str(entry.details)
    assert admin.post("/admin/do-not-call", data={"number": "nope"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(DoNotCall)) == 3

    added_id = added.id
    # Removing asks first (the console's confirmation).
    assert (
        f'/admin/do-not-call/{added_id}/delete" data-confirm="Remove +33612000503 from the'
        in html(admin.get("/admin/do-not-call"))
    )
    assert admin.post(f"/admin/do-not-call/{added_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(DoNotCall, added_id) is None
    assert len(_entries("do_not_call.remove")) == 1
    bloctel = db.session.scalar(select(DoNotCall).where(DoNotCall.source == "bloctel"))
    bloctel_id = bloctel.id
    admin.post(f"/admin/do-not-call/{bloctel_id}/delete")
    db.session.expire_all()
    assert db.session.get(DoNotCall, bloctel_id) is not None


def test_pages_in_french(signed_in, customer_factory, compiled_catalogues) -> None:  # noqa: F811
    customer = customer_factory(name="Dan")
    db.session.commit()
    admin = signed_in(Role.ADMIN, locale="fr")
    page = html(admin.get("/admin/do-not-call"))
    assert "Liste d\u2019opposition au démarchage" in page
    assert "Importer une liste d\u2019opposition" in page
    card = html(admin.get(f"/customers/{customer.id}"))
    assert "Consentement à la prospection" in card
    consent.record_consent(
        db.session,
        customer_id=customer.id,
        channel="call",
        source="paper",
        proof="signed form",
        by_user_id=None,
    )
    db.session.commit()
    card = html(admin.get(f"/customers/{customer.id}"))
    assert "<strong>Appels téléphoniques :</strong>" in card
    assert "(sur papier)" in card
    assert "Retirer ce consentement (Appels téléphoniques) ?" in card


# --- the command line ------------------------------------------------------------------------


def test_dnc_import_command(app: Flask, tmp_path: Any) -> None:
    listing = tmp_path / "bloctel.txt"
    listing.write_text("0612000601\n33612000602\nabc\n", encoding="utf-8")
    env = {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_INSTANCE_PATH": app.instance_path,
        "REDIS_URL": "",
        "HELPDESK_SCHEDULER": "false",
    }
    runner = CliRunner()
    db.session.rollback()
    args = ["consent", "dnc-import", str(listing), "--source", "bloctel", "--quiet"]
    first = runner.invoke(main, args, env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "2 added, 0 already listed, 0 removed, 1 rejected" in first.output
    assert "line 3: abc" in first.output
    second = runner.invoke(main, args, env=env, catch_exceptions=False)
    assert "0 added, 2 already listed" in second.output
    listing.write_text("0612000602\n", encoding="utf-8")
    third = runner.invoke(main, [*args, "--replace"], env=env, catch_exceptions=False)
    assert "0 added, 1 already listed, 1 removed" in third.output
    db.session.rollback()
    assert list(db.session.scalars(select(DoNotCall.number))) == ["+33612000602"]
