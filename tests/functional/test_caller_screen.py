"""The caller screen page: the customer card, open tickets, timeline and call facts; linking
the call to a new or an open ticket; an unknown caller created or linked to a customer; who may
change what; escaping of customer-written text."""

# The phone tests' fixtures are imported, and pytest hands them in by the same names.
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.auth.models import Role, User
from helpdesk.customers.models import Customer, CustomerPhone
from helpdesk.extensions import db
from helpdesk.tickets.models import Comment, Ticket
from helpdesk.tickets.workflow import Channel, Status
from helpdesk.timeline import service as timeline
from helpdesk.timeline.models import TimelineEntry
from telephony.models import Call, SmsMessage
from telephony.simulator import Simulator
from tests.functional.test_console import html, sign_in
from tests.functional.test_console_phone import (  # noqa: F401  (fixtures)
    JSON,
    XSS_NAME,
    agent,
    client,
    compiled_catalogues,
    console,
    go_available,
    ring,
    sim,
)


def _entries(customer_id: int) -> list[TimelineEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.customer_id == customer_id)
            .order_by(TimelineEntry.id)
        )
    )


def _answered(console: FlaskClient, sim: Simulator, number: str, digits: str = "1") -> Call:
    """A call from `number`, accepted by the signed-in agent (a new caller first picks French)."""
    go_available(console)
    call = ring(sim, number, digits)
    r = console.post(f"/phone/calls/{call.id}/accept", headers=JSON)
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    found = db.session.get(Call, call.id)
    assert found is not None
    return found


def test_known_caller_screen_shows_card_tickets_and_timeline(
    console: FlaskClient,
    sim: Simulator,
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    hugo = customer_factory(
        name=XSS_NAME, language="fr", phones=["+33611111111"], tags=["vip", "printer"]
    )
    ticket_factory(requester_id=hugo.id, subject="Imprimante <b>HS</b>")
    for n in range(25):
        timeline.append(db.session, customer_id=hugo.id, kind="sms", summary=f"text {n}")
    db.session.commit()
    go_available(console)
    call = ring(sim, "+33611111111")
    page = html(console.get(f"/calls/{call.id}"))
    # Customer-written text is inert.
    assert XSS_NAME not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Imprimante &lt;b&gt;HS&lt;/b&gt;" in page
    assert 'class="badge flag flag-vip">VIP</li>' in page
    assert "<dd>1 · Queue: Support</dd>" in page and "<dd>Support</dd>" in page
    # Open tickets carry their live service-level clocks; the timeline loads more on scroll.
    assert "data-sla-ticket=" in page
    assert page.count('class="timeline-entry') == 20
    assert "data-autoload" in page and f"/customers/{hugo.id}?before=" in page
    # Without a ticket yet, both forms are offered to the agent on the call.
    assert 'id="call-new-ticket"' in page and 'id="call-link-ticket"' in page


def test_agent_opens_a_ticket_for_the_call(
    console: FlaskClient, sim: Simulator, agent: User, customer_factory: Callable[..., Any]
) -> None:
    hugo = customer_factory(name="Hugo Martin", phones=["+33611111111"])
    call = _answered(console, sim, "+33611111111")
    r = console.post(
        f"/calls/{call.id}/ticket",
        data={
            "new-subject": "Box down since Monday",
            "new-description": "",
            "new-priority": "high",
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/calls/{call.id}"
    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.requester_id == hugo.id))
    assert ticket is not None and ticket.subject == "Box down since Monday"
    assert ticket.channel is Channel.PHONE and ticket.assignee_id == agent.id
    assert ticket.status is Status.OPEN and ticket.priority.value == "high"
    assert db.session.get(Call, call.id).ticket_id == ticket.id
    assert [e.kind for e in _entries(hugo.id)] == ["ticket_created"]
    page = html(console.get(f"/calls/{call.id}"))
    assert f"Ticket {ticket.reference} opened for this call." in page
    assert f'href="/tickets/{ticket.id}">{ticket.reference} Box down since Monday</a>' in page

    # The wrap-up after the call lands on the timeline with the ticket.
    sim.hang_up(call.call_sid)
    r = console.post(
        f"/phone/calls/{call.id}/wrap-up",
        data={"disposition": "follow_up", "notes": "Engineer to call back"},
        headers=JSON,
    )
    assert r.status_code == 200, r.get_json()
    kinds = {e.kind: e for e in _entries(hugo.id)}
    assert kinds["call"].ticket_id == ticket.id and kinds["call_note"].ticket_id == ticket.id


def test_agent_adds_the_call_to_an_open_ticket(
    console: FlaskClient,
    sim: Simulator,
    agent: User,
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    hugo = customer_factory(name="Hugo Martin", phones=["+33611111111"])
    mine = ticket_factory(requester_id=hugo.id, subject="Invoice twice")
    other = ticket_factory(subject="Someone else's")
    call = _answered(console, sim, "+33611111111")
    # Another customer's ticket is refused, and nothing changes.
    r = console.post(f"/calls/{call.id}/ticket/link", data={"link-ticket_id": str(other.id)})
    assert r.status_code == 302
    assert "not one of the caller" in html(console.get(f"/calls/{call.id}"))
    assert db.session.get(Call, call.id).ticket_id is None

    r = console.post(
        f"/calls/{call.id}/ticket/link",
        data={
            "link-ticket_id": str(mine.id),
            "link-note": "Refund agreed",
            "link-status": "pending",
        },
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call.id).ticket_id == mine.id
    ticket = db.session.get(Ticket, mine.id)
    assert ticket.status is Status.PENDING
    note = db.session.scalar(select(Comment).where(Comment.ticket_id == mine.id))
    assert note is not None and note.body == "Refund agreed" and note.public is False
    assert note.channel is Channel.PHONE and note.author_user_id == agent.id


def test_unknown_caller_becomes_a_customer(console: FlaskClient, sim: Simulator) -> None:
    call = _answered(console, sim, "+33655555555", "11")
    page = html(console.get(f"/calls/{call.id}"))
    assert "Unknown caller" in page and 'id="new-caller-form"' in page
    # The page does not say that no customer has the number while a contact has it.
    assert "only a contact recorded on its first call" in page
    assert "<p>No customer has this number." not in page
    # The contact recorded from the number on its first call can already hold a ticket.
    assert 'id="call-new-ticket"' in page
    r = console.post(
        f"/calls/{call.id}/caller",
        data={"caller-name": XSS_NAME, "caller-language": "en", "caller-kind": "person"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    customer = db.session.get(Customer, call.customer_id)
    assert customer.name == XSS_NAME and customer.language == "en"
    assert [p.e164 for p in customer.phones] == ["+33655555555"]
    assert "new-caller" not in customer.tags
    page = html(console.get(f"/calls/{call.id}"))
    assert XSS_NAME not in page and "&lt;img src=x" in page and 'id="new-caller-form"' not in page
    sim.hang_up(call.call_sid)
    assert [e.kind for e in _entries(customer.id)] == ["call"]
    # A second try is refused: the call has its customer.
    r = console.post(
        f"/calls/{call.id}/caller",
        data={"caller-name": "Again", "caller-language": "fr", "caller-kind": "person"},
    )
    assert "already has a customer" in html(console.get(f"/calls/{call.id}"))


def test_unknown_number_joins_an_existing_customer(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    zoe = customer_factory(name="Zoé Lambert", phones=["+33622222222"])
    call = _answered(console, sim, "+33655555555", "11")
    sim.hang_up(call.call_sid)  # linking after the call still puts it on the timeline
    page = html(console.get(f"/calls/{call.id}?q=zoe"))
    assert "Zoé Lambert" in page and f'name="customer_id" value="{zoe.id}"' in page
    assert "No customer matches" in html(console.get(f"/calls/{call.id}?q=nobody-at-all"))
    r = console.post(f"/calls/{call.id}/caller/link", data={"customer_id": str(zoe.id)})
    assert r.status_code == 302
    db.session.expire_all()
    db.session.expire_all()
    assert db.session.get(Call, call.id).customer_id == zoe.id
    numbers = db.session.scalars(
        select(CustomerPhone.e164).where(CustomerPhone.customer_id == zoe.id)
    )
    assert sorted(numbers) == ["+33622222222", "+33655555555"]
    # The contact recorded from the number is folded in: its call follows, its tag does not.
    assert [e.kind for e in _entries(zoe.id)] == ["call", "customer_merged"]
    assert "new-caller" not in db.session.get(Customer, zoe.id).tags
    page = html(console.get(f"/calls/{call.id}"))
    assert "Zoé Lambert" in page and 'id="new-caller-form"' not in page


def test_only_the_agent_on_the_call_or_a_supervisor_changes_it(
    console: FlaskClient,
    client: FlaskClient,
    sim: Simulator,
    app: Any,
    make_user: Callable[..., User],
    customer_factory: Callable[..., Any],
) -> None:
    customer_factory(name="Hugo Martin", phones=["+33611111111"])
    call = _answered(console, sim, "+33611111111")
    other = app.test_client()
    colleague = make_user(Role.AGENT, name="Colleague")
    sign_in(other, colleague)
    # Reading is fine for any staff member; changing is not.
    assert other.get(f"/calls/{call.id}").status_code == 200
    page = html(other.get(f"/calls/{call.id}"))
    assert 'id="call-new-ticket"' not in page
    r = other.post(f"/calls/{call.id}/ticket", data={"new-subject": "Nope"})
    assert r.status_code == 403
    boss = app.test_client()
    sign_in(boss, make_user(Role.SUPERVISOR, name="Boss"))
    r = boss.post(
        f"/calls/{call.id}/ticket",
        data={"new-subject": "Fixed by the supervisor", "new-priority": "normal"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Call, call.id).ticket_id is not None
    assert console.get("/calls/999999").status_code == 404


def test_caller_screen_in_french(
    client: FlaskClient, sim: Simulator, make_user: Callable[..., User], customer_factory: Any
) -> None:
    agent = make_user(
        Role.AGENT, name="Éloïse", locale="fr", skills={"support": 3}, languages=["fr"]
    )
    sign_in(client, agent)
    call = _answered(client, sim, "+33677777777", "11")
    page = html(client.get(f"/calls/{call.id}"))
    assert "Appelant inconnu" in page and "Nouveau client" in page


def test_caller_screen_explains_the_value_segment(
    console: FlaskClient, sim: Simulator, customer_factory: Callable[..., Any]
) -> None:
    from helpdesk.value.models import CustomerValue

    hugo = customer_factory(name="Hugo Martin", phones=["+33611111111"])
    db.session.add(
        CustomerValue(
            customer_id=hugo.id,
            segment="costly",
            late_payer=True,
            signals=[{"code": "late_payer", "value": 3, "decisive": True}],
        )
    )
    db.session.commit()
    go_available(console)
    call = ring(sim, "+33611111111")
    page = html(console.get(f"/calls/{call.id}"))
    assert 'id="caller-segment"' in page and ">Costly</span>" in page
    assert "3 invoices paid late or overdue in 12 months" in page
    assert 'class="badge flag flag-late-payer">Late payer</li>' in page


def test_suggested_articles_and_texting_a_public_link(
    console: FlaskClient,
    sim: Simulator,
    customer_factory: Callable[..., Any],
    ticket_factory: Callable[..., Any],
) -> None:
    from kb import service as kb

    hugo = customer_factory(name="Hugo Martin", language="fr", phones=["+33611111111"])
    public = kb.create_article(
        db.session,
        title="Box internet en panne : que faire",
        body="Redémarrez la box, vérifiez les câbles.",
        locale="fr",
        status="published",
        visibility="public",
    )
    internal = kb.create_article(
        db.session,
        title="Panne de box : procédure interne",
        body="Escalade niveau 2 pour une panne de box.",
        locale="fr",
        status="published",
        visibility="internal",
    )
    call = _answered(console, sim, "+33611111111")
    ticket_factory(requester_id=hugo.id, subject="Box en panne")
    console.post(
        f"/calls/{call.id}/ticket",
        data={"new-subject": "Box internet en panne", "new-priority": "normal"},
    )
    page = html(console.get(f"/calls/{call.id}"))
    assert f'href="/kb/{public.id}"' in page and f'href="/kb/{internal.id}"' in page
    # Only the public article can be sent to the caller.
    assert page.count(f'action="/calls/{call.id}/text-article"') == 1
    r = console.post(f"/calls/{call.id}/text-article", data={"article_id": str(public.id)})
    assert r.status_code == 302
    assert "on its way to the caller" in html(console.get(f"/calls/{call.id}"))
    db.session.expire_all()
    sent = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == "article"))
    assert sent is not None and sent.to_number == "+33611111111"
    assert sent.body.endswith(f"/help/fr/articles/{public.id}")
    assert any(e.kind == "sms" and "article" in e.summary for e in _entries(hugo.id))
    # An internal article is refused, and nothing more is sent.
    console.post(f"/calls/{call.id}/text-article", data={"article_id": str(internal.id)})
    assert "not a published public article" in html(console.get(f"/calls/{call.id}"))
    count = db.session.scalar(
        select(db.func.count(SmsMessage.id)).where(SmsMessage.kind == "article")
    )
    assert count == 1
