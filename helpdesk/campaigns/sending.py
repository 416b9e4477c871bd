"""SMS and e-mail campaigns: a periodic job sends to the members whose turn has come, in batches.

Each member is checked with the compliance rules at send time; the message then goes through the
channel's outbox (telephony's SMS outbox through the `TEXTS` slot, the mail outbox), and the
member stays `in_progress` until the outbox says what became of it: `reconcile` marks the member
done once the outbox has sent it, never before, and excluded when the number opted out meanwhile.

E-mails end with a signed unsubscribe link (helpdesk.consent.unsubscribe) and carry it in the
one-click `List-Unsubscribe` headers (RFC 8058).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from helpdesk.campaigns import attempts, compliance, contacts, messages, results
from helpdesk.campaigns.models import Campaign, CampaignAttempt, CampaignMember
from helpdesk.consent import unsubscribe
from helpdesk.db import DbSession
from helpdesk.mail import outbox
from helpdesk.mail.models import MailMessage
from helpdesk.slots import Slot

BATCH = 200
# The outboxes' words: a text the provider `accepted` is sent, as an e-mail the server took
# (telephony.sms's own reading for replies).
SENT = frozenset({"accepted", "sent", "delivered"})
FAILED = frozenset({"failed", "undelivered", "rejected"})

UNSUBSCRIBE = {
    "en": "To stop receiving these messages, open this link: {link}",
    "fr": "Pour ne plus recevoir ces messages, ouvrez ce lien : {link}",
}


class CampaignTexts(Protocol):
    """What SMS campaigns need of telephony's SMS channel."""

    def opted_out(self, session: DbSession, number: str) -> bool:
        """Whether the number sent STOP to our sending number."""

    def queue(self, session: DbSession, *, to: str, body: str, customer_id: int | None) -> int:
        """Write the text to the outbox (sent after the commit); its id."""

    def statuses(self, session: DbSession, ids: list[int]) -> dict[int, str]:
        """The outbox status of each text."""


TEXTS: Slot[CampaignTexts] = Slot("SMS channel for campaigns")


def _texts_of(campaign: Campaign, member: CampaignMember) -> tuple[str, str]:
    lang = "fr" if member.language == "fr" else "en"
    values = messages.values_for(member.display_name, campaign.name)
    body = messages.render(getattr(campaign, f"message_{lang}"), values)
    subject = messages.render(getattr(campaign, f"subject_{lang}"), values)
    return subject, body


def _send_one(
    session: DbSession,
    campaign: Campaign,
    member: CampaignMember,
    decision: compliance.Decision,
    now: datetime,
) -> None:
    subject, body = _texts_of(campaign, member)
    if campaign.channel == "sms":
        assert member.number is not None
        sms_id = TEXTS.get().queue(
            session, to=member.number, body=body, customer_id=member.customer_id
        )
        attempts.placed(
            session,
            campaign,
            member,
            decision,
            now=now,
            agent_id=None,
            sms_id=sms_id,
            delivery="queued",
        )
    else:
        assert member.email is not None
        lang = "fr" if member.language == "fr" else "en"
        link = unsubscribe.unsubscribe_link(member.email, campaign_id=campaign.id, language=lang)
        row = outbox.queue_message(
            session,
            to=member.email,
            subject=subject,
            text=f"{body}\n\n{UNSUBSCRIBE[lang].format(link=link)}",
            list_unsubscribe=link,
            customer_id=member.customer_id,
            language=lang,
        )
        attempts.placed(
            session,
            campaign,
            member,
            decision,
            now=now,
            agent_id=None,
            mail_id=row.id,
            delivery="queued",
        )
    member.status = "in_progress"


def send_due(session: DbSession, *, now: datetime, batch: int = BATCH) -> int:
    """One batch per running SMS or e-mail campaign; how many messages were queued."""
    queued = 0
    running = session.scalars(
        select(Campaign).where(attempts.running(now), Campaign.channel.in_(("sms", "email")))
    ).all()
    for campaign in running:
        if campaign.channel == "sms" and not TEXTS.filled:
            continue
        due = list(
            session.scalars(
                select(CampaignMember)
                .where(CampaignMember.campaign_id == campaign.id, attempts.due(now))
                .order_by(CampaignMember.id)
                .limit(batch)
            )
        )
        loaded = contacts.load(session, campaign, due, now=now)
        terms = contacts.terms_of(campaign)
        for member in due:
            contact = loaded[member.id]
            # Our own STOP list as well as the consent module's facts (Twilio's is a third).
            if (
                campaign.channel == "sms"
                and member.number
                and TEXTS.get().opted_out(session, member.number)
            ):
                contact = replace(contact, sms_opted_out=True)
            decision = compliance.check(terms, contact, now)
            if decision.allowed:
                _send_one(session, campaign, member, decision, now)
                queued += 1
            else:
                attempts.blocked(session, campaign, member, decision, now=now)
        if due:
            results.announce(session, campaign)
        session.commit()
    return queued


def reconcile(session: DbSession, *, limit: int = 1000) -> int:
    """Follow the outboxes: members whose message was sent are done; failed ones are done with
    the failure noted; a text refused because the number opted out excludes the member."""
    waiting = list(
        session.scalars(
            select(CampaignAttempt)
            .where(CampaignAttempt.delivery == "queued")
            .order_by(CampaignAttempt.id)
            .limit(limit)
        )
    )
    sms_ids = [a.sms_id for a in waiting if a.sms_id is not None]
    mail_ids = [a.mail_id for a in waiting if a.mail_id is not None]
    status: dict[tuple[str, int], str] = {}
    if sms_ids and TEXTS.filled:
        status |= {("sms", k): v for k, v in TEXTS.get().statuses(session, sms_ids).items()}
    if mail_ids:
        for mid, st in session.execute(
            select(MailMessage.id, MailMessage.status).where(MailMessage.id.in_(mail_ids))
        ):
            status[("mail", mid)] = st
    changed: set[int] = set()
    for attempt in waiting:
        key = ("sms", attempt.sms_id) if attempt.sms_id is not None else ("mail", attempt.mail_id)
        now_status = status.get(key)  # type: ignore[arg-type]
        if now_status is None or now_status not in SENT | FAILED | {"opted_out"}:
            continue
        member = session.get(CampaignMember, attempt.member_id)
        if member is None:
            continue
        attempt.delivery = "sent" if now_status in SENT else now_status
        if now_status == "opted_out":
            member.status, member.excluded_reason = "excluded", "opted_out"
        else:
            member.status = "done"
            member.last_disposition = "sent" if now_status in SENT else "failed"
        changed.add(attempt.campaign_id)
    for cid in changed:
        campaign = session.get(Campaign, cid)
        if campaign is not None:
            results.announce(session, campaign)
    session.commit()
    return len(changed)
