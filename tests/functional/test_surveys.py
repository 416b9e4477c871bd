"""Satisfaction surveys end to end: sent once per period after a solved ticket or an answered
call, by text or e-mail, never to an opted-out number or an erased customer; answered by a
digit (which opens no ticket) or on the e-mail's page, once, before it expires."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from helpdesk.customers import erasure
from helpdesk.extensions import db
from helpdesk.mail.models import MailMessage
from helpdesk.surveys import service as surveys
from helpdesk.surveys.models import Survey
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel, Status
from helpdesk.timeline.models import TimelineEntry
from telephony.models import SmsMessage
from telephony.sms_optout import opt_out

OURS = "+15005550006"
MOBILE = "+33612345001"
ADDRESS = "lea@example.com"


@pytest.fixture
def sim(app: Any) -> Any:
    return app.extensions["telephony_simulator"]


@pytest.fixture
def mailsim(app: Any) -> Any:
    return app.extensions["mail_transport"]


def _count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _solve(ticket_factory: Any, customer: Any, channel: Channel, **kw: Any) -> Ticket:
    ticket = ticket_factory(requester_id=customer.id, channel=channel, **kw)
    tickets.update(db.session, ticket, actor=None, status=Status.SOLVED)
    return ticket


def _surveys(customer: Any) -> list[Survey]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Survey).where(Survey.customer_id == customer.id).order_by(Survey.id)
        )
    )


def _link_token(mailsim: Any, address: str) -> str:
    mails = mailsim.sent(to=address)
    assert len(mails) == 1
    found = re.search(r"http://localhost/survey/([A-Za-z0-9_\-]+)", mails[0].text)
    assert found, mails[0].text
    return found.group(1)


def test_a_solved_phone_ticket_is_surveyed_by_text_once_per_period(
    app_clock, sim, customer_factory, ticket_factory
):
    customer = customer_factory(name="Léa", language="fr", phones=[MOBILE], emails=[ADDRESS])
    first = _solve(ticket_factory, customer, Channel.PHONE)
    inbox = sim.inbox(MOBILE)
    assert len(inbox) == 1 and inbox[0].startswith(f"Votre demande {first.reference} est résolue")
    [survey] = _surveys(customer)
    assert (survey.channel, survey.sent_to, survey.trigger) == ("sms", MOBILE, "ticket")
    assert survey.ticket_id == first.id and survey.token_hash is None
    # A second solved ticket within the period: no second survey.
    _solve(ticket_factory, customer, Channel.SMS)
    assert len(sim.inbox(MOBILE)) == 1 and len(_surveys(customer)) == 1
    # Once the period (7 days by default) has passed, the next solved ticket is surveyed.
    app_clock.advance(days=7, minutes=1)
    _solve(ticket_factory, customer, Channel.PHONE)
    assert len(sim.inbox(MOBILE)) == 2 and len(_surveys(customer)) == 2


def test_opted_out_numbers_get_the_survey_by_email_or_not_at_all(
    app, sim, mailsim, customer_factory, ticket_factory
):
    with_mail = customer_factory(language="en", phones=[MOBILE], emails=[ADDRESS])
    opt_out(db.session, MOBILE, OURS, "keyword")
    db.session.commit()
    _solve(ticket_factory, with_mail, Channel.SMS)
    assert sim.inbox(MOBILE) == []
    [survey] = _surveys(with_mail)
    assert (survey.channel, survey.sent_to, survey.language) == ("email", ADDRESS, "en")
    assert len(mailsim.sent(to=ADDRESS)) == 1
    # Opted out and no address: no survey at all, and nothing queued to the number.
    other = "+33612345002"
    without = customer_factory(phones=[other], emails=[])
    opt_out(db.session, other, OURS, "keyword")
    db.session.commit()
    _solve(ticket_factory, without, Channel.PHONE)
    assert _surveys(without) == []
    assert _count(SmsMessage, SmsMessage.to_number == other) == 0


def test_no_survey_for_an_erased_customer_nor_for_spam(app, sim, customer_factory, ticket_factory):
    spam_sender = customer_factory(phones=[MOBILE])
    _solve(ticket_factory, spam_sender, Channel.SMS, tags=["spam"])
    assert _surveys(spam_sender) == [] and sim.inbox(MOBILE) == []
    erased = customer_factory(phones=["+33612345003"], emails=["gone@example.com"])
    erasure.erase(db.session, erased, actor_id=None)
    assert (
        surveys.after_call(db.session, customer_id=erased.id, call_id=1, agent_id=None, queue=None)
        is None
    )
    db.session.commit()
    assert _surveys(erased) == []
    # The same call for a live customer is surveyed: the refusal above is the erasure's.
    live = customer_factory(phones=["+33612345004"])
    sent = surveys.after_call(
        db.session, customer_id=live.id, call_id=2, agent_id=None, queue="support"
    )
    db.session.commit()
    assert sent is not None and sent.channel == "sms" and sent.queue == "support"


def test_an_email_survey_is_answered_once_on_its_page(
    app, client, mailsim, recorded, customer_factory, ticket_factory
):
    customer = customer_factory(language="fr", phones=[], emails=[ADDRESS])
    ticket = _solve(ticket_factory, customer, Channel.EMAIL)
    token = _link_token(mailsim, ADDRESS)
    [survey] = _surveys(customer)
    assert survey.token_hash != token and len(survey.token_hash) == 64  # stored hashed
    page = client.get(f"/survey/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Êtes-vous satisfait" in html and html.count('name="score"') == 5
    done = client.post(f"/survey/{token}", data={"score": "4", "comment": "Rapide <b>merci</b>"})
    assert done.status_code == 200
    assert "4/5" in done.get_data(as_text=True)
    assert "<b>merci</b>" not in done.get_data(as_text=True)
    [survey] = _surveys(customer)
    assert (survey.score, survey.comment, survey.answered_by) == (4, "Rapide <b>merci</b>", "link")
    assert [e.name for e in recorded.events if e.name == "survey.answered"] == ["survey.answered"]
    entry = db.session.scalar(
        select(TimelineEntry).where(
            TimelineEntry.customer_id == customer.id, TimelineEntry.kind == "survey"
        )
    )
    assert entry is not None and entry.ticket_id == ticket.id
    again = client.post(f"/survey/{token}", data={"score": "1"})
    assert again.status_code == 409 and "déjà répondu" in again.get_data(as_text=True)
    assert _surveys(customer)[0].score == 4
    assert client.get("/survey/not-a-token").status_code == 404


def test_an_expired_survey_takes_no_answer(
    app_clock, client, mailsim, customer_factory, ticket_factory
):
    customer = customer_factory(language="en", phones=[], emails=[ADDRESS])
    _solve(ticket_factory, customer, Channel.WEB)
    token = _link_token(mailsim, ADDRESS)
    bad = client.post(f"/survey/{token}", data={"score": "9"})
    assert bad.status_code == 422 and "from 1 to 5" in bad.get_data(as_text=True)
    app_clock.advance(days=14, minutes=1)
    assert "has expired" in client.get(f"/survey/{token}").get_data(as_text=True)
    late = client.post(f"/survey/{token}", data={"score": "5"})
    assert late.status_code == 409 and _surveys(customer)[0].score is None


def test_a_texted_digit_answers_the_survey_and_opens_no_ticket(
    app, sim, customer_factory, ticket_factory
):
    customer = customer_factory(language="fr", phones=[MOBILE])
    ticket = _solve(ticket_factory, customer, Channel.SMS)
    before = _count(Ticket)
    sim.text(MOBILE, "2 trop long à venir")
    [survey] = _surveys(customer)
    assert (survey.score, survey.comment, survey.answered_by) == (2, "trop long à venir", "sms")
    # Neither a new conversation nor the solved one reopened: the answer is not a message.
    assert _count(Ticket) == before
    assert db.session.get(Ticket, ticket.id).status is Status.SOLVED
    answer = db.session.scalar(select(SmsMessage).where(SmsMessage.direction == "inbound"))
    assert answer.kind == "survey" and answer.customer_id == customer.id
    assert sim.inbox(MOBILE)[-1] == "Merci pour votre réponse (2/5)."
    # The survey is answered: the next digit is an ordinary message, which reopens the
    # conversation as any customer's text does, and leaves the answer as it was.
    sim.text(MOBILE, "5")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status is Status.OPEN
    assert _surveys(customer)[0].score == 2


def test_an_answered_call_is_surveyed_by_text(app, sim, make_user, customer_factory):
    from helpdesk.auth.models import Role
    from telephony import agent_presence, offers
    from telephony.models import Call, CallQueue

    db.session.add(CallQueue(name="support", skills={"support": 1}, callback_after_s=0))
    db.session.commit()
    customer = customer_factory(language="en", phones=[MOBILE])
    agent = make_user(Role.AGENT, skills={"support": 3}, languages=["fr", "en"])
    agent_presence.set_presence(db.session, user=agent, state="available")
    call = sim.call(MOBILE, digits="1")
    row = db.session.scalar(select(Call).where(Call.call_sid == call.call_sid))
    offers.accept(
        db.session, user=agent, call_id=row.id, gateway=app.extensions["telephony_gateway"]
    )
    assert sim.inbox(MOBILE) == []  # nothing while the call goes on
    sim.hang_up(call.call_sid)
    [survey] = _surveys(customer)
    assert (survey.trigger, survey.call_id, survey.agent_id) == ("call", row.id, agent.id)
    assert survey.queue == "support"
    assert sim.inbox(MOBILE) == [
        "Thank you for your call. Are you satisfied? Reply with a digit from 1 (not at all) to 5 "
        "(very satisfied), followed by a comment if you wish."
    ]


def test_mail_survey_is_an_automatic_message(app, mailsim, customer_factory, ticket_factory):
    customer = customer_factory(language="en", phones=[], emails=[ADDRESS])
    _solve(ticket_factory, customer, Channel.EMAIL)
    row = db.session.scalar(select(MailMessage).where(MailMessage.kind == "survey"))
    assert row is not None and row.customer_id == customer.id and row.status == "sent"


def test_erasure_blanks_the_comment_and_address_and_keeps_the_score(
    app, sim, customer_factory, ticket_factory
):
    customer = customer_factory(language="fr", phones=[MOBILE])
    _solve(ticket_factory, customer, Channel.SMS)
    sim.text(MOBILE, "1 Jeanne au guichet était désagréable")
    assert _surveys(customer)[0].comment == "Jeanne au guichet était désagréable"
    exported = erasure.export(db.session, customer).satisfaction
    assert [(s.score, s.sent_to) for s in exported] == [(1, MOBILE)]
    erasure.erase(db.session, customer, actor_id=None)
    [survey] = _surveys(customer)
    assert (survey.score, survey.comment, survey.sent_to) == (1, "", "[erased]")


def test_reports_give_each_agent_and_queue_their_satisfaction(
    app, api_as, make_user, customer_factory, ticket_factory
):
    from helpdesk.auth.models import Role
    from helpdesk.supervision import live

    supervisor = api_as(Role.SUPERVISOR)
    ada, ben = make_user(Role.AGENT, name="Ada"), make_user(Role.AGENT, name="Ben")

    def answered(score, *, agent, queue=None, ticket=None):
        customer = customer_factory(phones=[], emails=[f"c{score}{agent.id}{queue}@example.com"])
        if ticket:
            t = ticket_factory(
                requester_id=customer.id, channel=Channel.EMAIL, assignee_id=agent.id
            )
            tickets.update(db.session, t, actor=None, status=Status.SOLVED)
            survey = surveys.recent(db.session, ticket_id=t.id)[0]
        else:
            survey = surveys.after_call(
                db.session, customer_id=customer.id, call_id=score, agent_id=agent.id, queue=queue
            )
            db.session.commit()
        assert surveys.record_answer(db.session, survey, score=score, comment="", via="link")

    answered(5, agent=ada, ticket=True)
    answered(2, agent=ada, queue="support")
    answered(4, agent=ben, queue="support")
    answered(1, agent=ben, queue="billing")
    silent = customer_factory(emails=["silent@example.com"], phones=[])
    unanswered = surveys.after_call(
        db.session, customer_id=silent.id, call_id=99, agent_id=ada.id, queue="support"
    )
    db.session.commit()
    assert unanswered is not None  # sent, never answered: in no figure below
    day = live.local_today()
    by_agent = supervisor.get(f"/reports/calls?start={day}&end={day}&by=agent").get_json()
    rows = {r["key"]: r for r in by_agent["rows"]}
    assert (rows[str(ada.id)]["csat_avg"], rows[str(ada.id)]["csat_responses"]) == (3.5, 2)
    assert (rows[str(ben.id)]["csat_avg"], rows[str(ben.id)]["csat_responses"]) == (2.5, 2)
    assert (by_agent["total"]["csat_avg"], by_agent["total"]["csat_responses"]) == (3.0, 4)
    by_queue = supervisor.get(f"/reports/calls?start={day}&end={day}&by=queue").get_json()
    queues = {r["key"]: (r["csat_avg"], r["csat_responses"]) for r in by_queue["rows"]}
    assert queues == {"support": (3.0, 2), "billing": (1.0, 1)}  # ticket surveys have no queue
    one_queue = f"/reports/calls?start={day}&end={day}&by=agent&queue=support"
    rows = {r["key"]: r["csat_avg"] for r in supervisor.get(one_queue).get_json()["rows"]}
    assert rows == {str(ada.id): 2.0, str(ben.id): 4.0}
    # Another day's report holds none of these answers.
    other = supervisor.get("/reports/calls?start=2001-01-01&end=2001-01-01&by=agent").get_json()
    assert other["rows"] == [] and other["total"]["csat_responses"] == 0


def test_a_low_score_is_a_signal_on_the_customers_value(app, sim, customer_factory, ticket_factory):
    from helpdesk.value import service as value

    customer = customer_factory(language="fr", phones=[MOBILE])
    _solve(ticket_factory, customer, Channel.SMS)
    value.recompute_all(db.session)
    before = value.value_of(db.session, customer.id)
    assert before is not None
    assert "low_satisfaction" not in [s["code"] for s in before.signals]
    sim.text(MOBILE, "1")
    value.recompute_all(db.session)
    db.session.expire_all()
    after = value.value_of(db.session, customer.id)
    assert {"code": "low_satisfaction", "value": 1, "decisive": False} in after.signals


def test_a_merged_duplicates_surveys_follow_it(app, sim, customer_factory, ticket_factory):
    from helpdesk.customers import service as customers

    duplicate = customer_factory(language="fr", phones=[MOBILE])
    survivor = customer_factory(language="fr", phones=["+33612345099"])
    _solve(ticket_factory, duplicate, Channel.SMS)
    sim.text(MOBILE, "3")
    customers.merge(db.session, source=duplicate, target=survivor, actor_id=None)
    assert _surveys(duplicate) == []
    assert [s.score for s in _surveys(survivor)] == [3]
    assert surveys.summary(db.session, customer_id=survivor.id) == surveys.Csat(3.0, 1)


def test_an_answer_emits_the_survey_answered_webhook_without_the_comment(
    app, client, mailsim, customer_factory, ticket_factory
):
    from helpdesk.webhooks import subscriptions
    from helpdesk.webhooks.models import WebhookDelivery

    subscriptions.create(
        db.session, actor=None, url="http://127.0.0.1:9/hook", event_types=["survey.answered"]
    )
    db.session.commit()
    customer = customer_factory(language="en", phones=[], emails=[ADDRESS])
    ticket = _solve(ticket_factory, customer, Channel.EMAIL)
    assert _count(WebhookDelivery) == 0  # sending a survey is no answer
    token = _link_token(mailsim, ADDRESS)
    assert (
        client.post(f"/survey/{token}", data={"score": "3", "comment": "Slow"}).status_code == 200
    )
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.event_type == "survey.answered"
    data = delivery.payload
    assert (data["score"], data["ticket_id"], data["customer_id"]) == (3, ticket.id, customer.id)
    assert "Slow" not in str(delivery.payload)


def test_erasure_closes_an_open_survey(app, client, mailsim, customer_factory, ticket_factory):
    customer = customer_factory(language="en", phones=[], emails=[ADDRESS])
    _solve(ticket_factory, customer, Channel.EMAIL)
    token = _link_token(mailsim, ADDRESS)
    assert "How satisfied" in client.get(f"/survey/{token}").get_data(as_text=True)
    erasure.erase(db.session, customer, actor_id=None)
    assert "has expired" in client.get(f"/survey/{token}").get_data(as_text=True)
    late = client.post(f"/survey/{token}", data={"score": "2", "comment": "my name is Lea"})
    assert late.status_code == 409
    [survey] = _surveys(customer)
    assert (survey.score, survey.comment, survey.sent_to) == (None, "", "[erased]")
