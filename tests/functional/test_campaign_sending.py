"""SMS and e-mail campaigns: each person checked at send time, STOP respected, and a person done
only once the outbox has sent their message."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.campaigns import sending, service
from helpdesk.campaigns.lists import Candidate
from helpdesk.campaigns.models import CampaignAttempt, CampaignMember
from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage
from telephony.models import SmsMessage
from telephony.sms_optout import opt_out

NUMBERS = ["+33612345101", "+33612345102"]


def _campaign(boss, channel, candidates):
    values = {
        "name": "Maintenance notice",
        "kind": "service",
        "legal_basis": "none",
        "channel": channel,
        "message_en": "Hello {{customer.first_name}}, maintenance on Friday.",
        "message_fr": "Bonjour {{customer.first_name}}, maintenance vendredi.",
        "subject_en": "Maintenance",
        "subject_fr": "Maintenance",
    }
    campaign = service.create(db.session, actor=boss, **values)
    service.add_members(db.session, campaign, candidates, actor=boss)
    service.set_status(db.session, campaign, status="active", actor=boss)
    return campaign


def _members(campaign):
    return {
        m.number or m.email: m
        for m in db.session.scalars(
            select(CampaignMember).where(CampaignMember.campaign_id == campaign.id)
        )
    }


def test_an_sms_campaign_never_texts_a_number_that_sent_stop(app, app_clock, make_user):
    boss = make_user(Role.SUPERVISOR)
    candidates = [Candidate(i, f"Ann {i}", n, None, None, "fr") for i, n in enumerate(NUMBERS)]
    campaign = _campaign(boss, "sms", candidates)
    # The second number sends STOP after the list was made.
    opt_out(db.session, NUMBERS[1], app.config["TWILIO_PHONE_NUMBER"], "keyword")
    db.session.commit()

    assert sending.send_due(db.session, now=app_clock.now()) == 1

    texts = list(db.session.scalars(select(SmsMessage).where(SmsMessage.direction == "outbound")))
    assert [t.to_number for t in texts] == [NUMBERS[0]]
    assert texts[0].body == "Bonjour Ann, maintenance vendredi."
    members = _members(campaign)
    assert members[NUMBERS[1]].status == "excluded"
    assert members[NUMBERS[1]].excluded_reason == "opted_out"
    blocked = db.session.scalar(select(CampaignAttempt).where(CampaignAttempt.allowed.is_(False)))
    assert blocked.number == NUMBERS[1] and blocked.reason == "opted_out"

    # Sent (the provider accepted it, as the outbox says), the person is done; never before.
    db.session.refresh(texts[0])
    first = members[NUMBERS[0]]
    assert texts[0].status == "accepted" and first.status == "in_progress"
    sending.reconcile(db.session)
    db.session.refresh(first)
    assert first.status == "done" and first.last_disposition == "sent"
    assert sending.send_due(db.session, now=app_clock.now()) == 0


def test_a_person_is_not_done_while_the_outbox_has_not_sent(app, app_clock, make_user):
    boss = make_user(Role.SUPERVISOR)
    campaign = _campaign(
        boss, "email", [Candidate(1, "Bea Roux", None, "bea@example.com", None, "en")]
    )
    assert sending.send_due(db.session, now=app_clock.now()) == 1
    mail = db.session.scalar(select(MailMessage))
    assert mail.to_addresses == ["bea@example.com"] and "/unsubscribe/" in mail.body_text
    mail.status = "retry"  # the server did not take it yet
    db.session.commit()
    sending.reconcile(db.session)
    member = _members(campaign)["bea@example.com"]
    assert member.status == "in_progress"
    mail.status = "sent"
    db.session.commit()
    sending.reconcile(db.session)
    db.session.refresh(member)
    assert member.status == "done"
    attempt = db.session.scalar(select(CampaignAttempt))
    assert attempt.mail_id == mail.id and attempt.delivery == "sent"
    # The wallboard counts it as sent; "reached" stays for answered calls and replies.
    from helpdesk.campaigns import results

    fig = results.figures(db.session, [campaign])[campaign.id]
    assert (fig["sent"], fig["reached"]) == (1, 0)


def test_an_erased_customer_leaves_every_list_and_the_audit_forgets_the_number(
    app, app_clock, make_user, customer_factory
):
    from helpdesk.customers import erasure
    from helpdesk.customers.models import Customer

    boss = make_user(Role.SUPERVISOR)
    person = customer_factory(name="Iris Efface", phones=[NUMBERS[0]])
    campaign = _campaign(boss, "sms", [Candidate(1, "", NUMBERS[0], None, None, "fr")])
    assert sending.send_due(db.session, now=app_clock.now()) == 1
    member = _members(campaign)[NUMBERS[0]]
    assert member.customer_id == person.id  # matched by number at import

    erasure.erase(db.session, db.session.get(Customer, person.id), actor_id=boss.id)
    db.session.commit()

    db.session.refresh(member)
    assert (member.number, member.display_name) == (None, "[erased]")
    attempt = db.session.scalar(select(CampaignAttempt))
    assert attempt.number is None and attempt.sms_id is not None
