"""Realistic demo data, so that `make run` opens on a call center that looks alive.

Passwords are generated at seed time, printed, and kept in `instance/demo-logins.txt` (readable by
the owner only) so that a second `make run` can print them again; nothing secret is in the code.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select
from tqdm import tqdm

from helpdesk.auth import service as auth
from helpdesk.auth.models import Role, User
from helpdesk.customers import service as customers
from helpdesk.customers.models import Customer, CustomerKind
from helpdesk.customers.phones import try_e164
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.models import CalendarModel, SlaPolicy
from helpdesk.tickets.models import Comment, Ticket, TicketChange, TicketTag
from helpdesk.tickets.workflow import Channel, Priority, Status, reference_for
from helpdesk.timeline import service as timeline

STAFF = [
    # email, name, role, skills, languages, locale
    ("admin@demo.helpdesk", "Alex Admin", Role.ADMIN, {}, ["fr", "en"], "en"),
    (
        "supervisor@demo.helpdesk",
        "Sophie Martin",
        Role.SUPERVISOR,
        {"support": 5, "billing": 4},
        ["fr", "en"],
        "fr",
    ),
    ("dispatcher@demo.helpdesk", "Daniel Roy", Role.DISPATCHER, {"field": 4}, ["fr", "en"], "fr"),
    (
        "agent@demo.helpdesk",
        "Amélie Dubois",
        Role.AGENT,
        {"support": 4, "billing": 2},
        ["fr", "en"],
        "fr",
    ),
    (
        "agent2@demo.helpdesk",
        "James Carter",
        Role.AGENT,
        {"support": 3, "technical": 4},
        ["en"],
        "en",
    ),
    (
        "agent3@demo.helpdesk",
        "Karim Benali",
        Role.AGENT,
        {"billing": 5, "support": 2},
        ["fr", "en"],
        "fr",
    ),
    # In the Support group, so she takes French support calls too (every demo agent can be rung).
    (
        "agent4@demo.helpdesk",
        "Léa Lefèvre",
        Role.AGENT,
        {"support": 2, "technical": 3, "field": 2},
        ["fr"],
        "fr",
    ),
    (
        "agent5@demo.helpdesk",
        "Olivia Brown",
        Role.AGENT,
        {"support": 2, "sales": 4},
        ["en", "fr"],
        "en",
    ),
]
GROUPS = {"Support": [3, 4, 6], "Billing": [5, 1], "Field service": [2, 6]}

FIRST_FR = [
    "Camille",
    "Louis",
    "Manon",
    "Hugo",
    "Chloé",
    "Lucas",
    "Inès",
    "Jules",
    "Léna",
    "Gabriel",
    "Zoé",
    "Arthur",
    "Élodie",
    "Théo",
    "Océane",
    "Raphaël",
    "Margaux",
    "Noé",
]
LAST_FR = [
    "Bernard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Michel",
    "Garcia",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
]
FIRST_EN = ["Emma", "Noah", "Ava", "Liam", "Mia", "Ethan", "Grace", "Oliver", "Chloe", "Jack"]
LAST_EN = ["Smith", "Johnson", "Williams", "Taylor", "Wilson", "Davies", "Evans", "Thomas"]
COMPANIES = [
    "Boulangerie Moreau",
    "Transports Girard SA",
    "Clinique du Parc",
    "Hôtel Le Central",
    "Maple Logistics Inc.",
    "Brightside Dental",
    "Garage Fontaine",
    "Cabinet Lambert",
    "Northwind Traders",
    "Atelier Rousseau",
    "Pharmacie de la Gare",
    "Riverside Café",
]
# (region, prefix format, language): French-speaking and English-speaking countries we serve.
NUMBERS = [
    ("FR", "+336{:08d}", "fr"),
    ("FR", "+337{:08d}", "fr"),
    ("BE", "+32470{:06d}", "fr"),
    ("CH", "+4179{:07d}", "fr"),
    ("CA", "+1514555{:04d}", "fr"),
    ("US", "+1415555{:04d}", "en"),
    ("GB", "+447700{:06d}", "en"),
    ("CA", "+1416555{:04d}", "en"),
]
SUBJECTS = {
    "fr": [
        "Ma box internet ne se connecte plus",
        "Facture du mois en double",
        "Demande de remboursement",
        "L'imprimante ne s'allume plus",
        "Changement d'adresse de facturation",
        "Rendez-vous technicien à reprogrammer",
        "Code d'accès oublié",
        "Panne de chauffage",
        "Question sur mon contrat",
        "Prélèvement refusé",
        "Le technicien n'est pas venu",
        "Résiliation de l'abonnement",
    ],
    "en": [
        "Internet keeps dropping",
        "Charged twice this month",
        "Refund request",
        "Printer won't turn on",
        "Update my billing address",
        "Reschedule the technician visit",
        "Forgot my access code",
        "Heating is broken",
        "Question about my plan",
        "Direct debit failed",
        "Technician never showed up",
        "Cancel my subscription",
    ],
}
# A demo conversation takes turns: the agent answers, the customer writes back, the agent
# follows up. Each turn draws from its own lines, so nobody says the other side's words.
REPLIES = {
    "fr": (
        [
            "Bonjour, merci pour votre message, nous regardons cela.",
            "Bonjour, pouvez-vous nous envoyer une photo de l'appareil ?",
            "Bonjour, pouvez-vous nous confirmer votre numéro de contrat ?",
        ],
        [
            "Voici la photo demandée.",
            "Toujours le même problème ce matin, malheureusement.",
            "Merci, tout fonctionne de nouveau.",
        ],
        [
            "Le remboursement a été validé, il apparaîtra sous 5 jours.",
            "Un technicien passera cette semaine, vous recevrez un SMS la veille.",
            "Parfait, nous clôturons la demande. N'hésitez pas à nous recontacter.",
        ],
    ),
    "en": (
        [
            "Hello, thanks for reaching out, we're looking into it.",
            "Hello, could you send us a photo of the device?",
            "Hello, could you confirm your contract number?",
        ],
        [
            "Here is the photo you asked for.",
            "Still the same problem this morning, unfortunately.",
            "Thanks, everything works again.",
        ],
        [
            "The refund is approved and will show within 5 days.",
            "A technician will come this week; you will get a text the day before.",
            "Great, we are closing the request. Do get back to us if needed.",
        ],
    ),
}
SLA_HISTORY = timedelta(days=30)
TAGS = ["vip", "late-payer", "business", "new-customer", "complaint", "loyal"]
STATUS_WEIGHTS = [
    (Status.NEW, 8),
    (Status.OPEN, 14),
    (Status.PENDING, 9),
    (Status.ON_HOLD, 4),
    (Status.SOLVED, 25),
    (Status.CLOSED, 40),
]
PRIORITY_WEIGHTS = [
    (Priority.LOW, 20),
    (Priority.NORMAL, 55),
    (Priority.HIGH, 20),
    (Priority.URGENT, 5),
]
CHANNEL_WEIGHTS = [
    (Channel.PHONE, 45),
    (Channel.SMS, 20),
    (Channel.EMAIL, 20),
    (Channel.WEB, 10),
    (Channel.FIELD, 5),
]


T = TypeVar("T")


def _pick(rng: random.Random, weighted: list[tuple[T, int]]) -> T:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _logins_file() -> Path:
    return Path(current_app.instance_path) / "demo-logins.txt"


def has_data() -> bool:
    return bool(db.session.scalar(select(func.count(User.id))))


def seed(
    *, customers: int = 300, tickets: int = 3000, seed: int = 42, progress: bool = False
) -> dict[str, str]:
    """Create staff, customers, tickets and knowledge-base articles; returns the staff logins
    {email: password}."""
    rng = random.Random(seed)
    logins = _seed_staff()
    staff = list(db.session.scalars(select(User).order_by(User.id)))
    agents = [u for u in staff if u.role in (Role.AGENT, Role.SUPERVISOR)]
    people = _seed_customers(rng, customers, progress)
    _seed_sla()
    _seed_queues()
    from helpdesk.macros import demo as macros_demo

    macros_demo.seed(db.session)
    _seed_tickets(rng, tickets, people, agents, progress)
    # The calls draw their times over a span that depends on the hour of the seeding (today's
    # calls fall before now): on their own generator, so that what follows (invoices, hence the
    # value segments and the customer models) is the same for one seed whatever the hour.
    _seed_calls(random.Random(rng.getrandbits(64)), people, agents)
    _seed_invoices(rng, people)
    from helpdesk.value.service import recompute_all

    recompute_all(db.session)
    from helpdesk.campaigns import demo as campaigns_demo

    campaigns_demo.seed(db.session)
    from helpdesk.dispatch import demo as dispatch_demo

    dispatch_demo.seed(rng)
    from kb.demo import seed_articles

    seed_articles(db.session)
    return logins


def _seed_staff() -> dict[str, str]:
    logins: dict[str, str] = {}
    for email, name, role, skills, languages, locale in STAFF:
        password = secrets.token_urlsafe(9)
        auth.create_user(
            session=db.session,
            email=email,
            password=password,
            role=role,
            name=name,
            skills=skills,
            languages=languages,
            locale=locale,
        )
        logins[email] = password
    users = list(db.session.scalars(select(User).order_by(User.id)))
    from helpdesk.auth.models import Group

    for group_name, indexes in GROUPS.items():
        group = Group(name=group_name, members=[users[i] for i in indexes])
        db.session.add(group)
    db.session.commit()
    path = _logins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{e} {p}\n" for e, p in logins.items()))
    path.chmod(0o600)
    return logins


def _seed_queues() -> None:
    """The queues the IVR menu leads to, with escalation steps that widen the pool of agents.

    `helpdesk db upgrade` has usually created them already with plain defaults: the demo's
    settings replace those."""
    from telephony.models import CallQueue

    demo_queues = [
        dict(
            name="support",
            label_en="Support",
            label_fr="Assistance",
            skills={"support": 2},
            steps=[{"after_s": 45, "level_drop": 1}],
            ring_timeout_s=20,
            wrap_up_s=30,
            callback_after_s=60,
        ),
        dict(
            name="billing",
            label_en="Billing",
            label_fr="Facturation",
            skills={"billing": 3},
            steps=[
                {"after_s": 60, "level_drop": 1},
                {"after_s": 120, "overflow_queue": "support"},
            ],
            ring_timeout_s=20,
            wrap_up_s=45,
            callback_after_s=90,
        ),
    ]
    for values in demo_queues:
        queue = db.session.scalar(select(CallQueue).where(CallQueue.name == values["name"]))
        if queue is None:
            queue = CallQueue()
            db.session.add(queue)
        for field, value in values.items():
            setattr(queue, field, value)
    db.session.commit()


def _seed_sla() -> None:
    """Office hours with French public holidays, a 24/7 calendar for VIPs, and two policies.

    The 24/7 calendar is the center's hours, so that a trial at night or on a Sunday reaches an
    agent; the simulator page says which calendar decides and how to change it.
    """
    office = CalendarModel(
        name="Office hours",
        timezone="Europe/Paris",
        holiday_country="FR",
        weekly={
            **{
                d: [["08:00", "12:30"], ["13:30", "19:00"]]
                for d in ("mon", "tue", "wed", "thu", "fri")
            },
            "sat": [["09:00", "13:00"]],
        },
    )
    always = CalendarModel(name="24/7", timezone="Europe/Paris", always_open=True, is_default=True)
    db.session.add_all([office, always])
    db.session.flush()
    hour = 3600
    standard = {
        "low": {"first_response": 8 * hour, "next_response": 16 * hour, "resolution": 40 * hour},
        "normal": {"first_response": 4 * hour, "next_response": 8 * hour, "resolution": 24 * hour},
        "high": {"first_response": 2 * hour, "next_response": 4 * hour, "resolution": 12 * hour},
        "urgent": {"first_response": hour, "next_response": 2 * hour, "resolution": 4 * hour},
    }
    vip = {p: {m: s // 2 for m, s in targets.items()} for p, targets in standard.items()}
    notify = [
        {"on": "at_risk", "actions": [{"type": "notify_assignee"}]},
        {
            "on": "breached",
            "actions": [{"type": "notify_assignee"}, {"type": "notify_supervisors"}],
        },
    ]
    db.session.add_all(
        [
            SlaPolicy(
                name="VIP customers",
                position=10,
                calendar_id=always.id,
                conditions={"customer_tags": ["vip"]},
                targets=vip,
                escalations=[
                    *notify,
                    {
                        "on": "breached",
                        "metrics": ["resolution"],
                        "actions": [{"type": "raise_priority"}],
                    },
                ],
            ),
            SlaPolicy(
                name="Standard",
                position=100,
                calendar_id=office.id,
                targets=standard,
                escalations=notify,
            ),
        ]
    )
    db.session.commit()


def _number(rng: random.Random, fmt: str, used: set[str]) -> str:
    """A random number of the given national format that is valid and not given out yet."""
    width = int(fmt.split(":")[1][:2])
    while True:
        number = fmt.format(rng.randrange(10 ** (width - 1), 10**width))
        if number not in used and try_e164(number):
            used.add(number)
            return number


def _seed_customers(rng: random.Random, count: int, progress: bool) -> list[Customer]:
    companies = [
        customers.create(
            db.session,
            name=n,
            kind=CustomerKind.COMPANY,
            language="en" if any(w in n for w in ("Inc", "Dental", "Traders", "Café")) else "fr",
            tags=["business"],
            commit=False,
        )
        for n in COMPANIES
    ]
    db.session.flush()
    people: list[Customer] = []
    used: set[str] = set()
    for i in tqdm(range(count), desc="customers", unit="", disable=not progress):
        region, fmt, language = rng.choice(NUMBERS)
        first, last = (
            (rng.choice(FIRST_FR), rng.choice(LAST_FR))
            if language == "fr"
            else (rng.choice(FIRST_EN), rng.choice(LAST_EN))
        )
        number = _number(rng, fmt, used)
        phones: list[dict[str, str] | str] = [{"number": number, "label": "mobile"}]
        if rng.random() < 0.2:
            phones.append({"number": _number(rng, fmt, used), "label": "work"})
        # An address's local part in plain ASCII ("zoe.laurent", not "zoé.laurent"): a mail
        # server that does not speak SMTPUTF8 refuses the other, and demo mail should go.
        slug = (
            unicodedata.normalize("NFKD", f"{first}.{last}".lower().replace(" ", ""))
            .encode("ascii", "ignore")
            .decode("ascii")
        )
        people.append(
            customers.create(
                db.session,
                name=f"{first} {last}",
                language=language,
                region=region,
                phones=phones,
                emails=[f"{slug}{i}@example.com"],
                tags=rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2])),
                company_id=rng.choice(companies).id if rng.random() < 0.25 else None,
                commit=False,
            )
        )
        if i % 100 == 99:
            db.session.commit()
    db.session.commit()
    return people


def _seed_tickets(
    rng: random.Random, count: int, people: list[Customer], agents: list[User], progress: bool
) -> None:
    from helpdesk.auth.models import Group

    groups = list(db.session.scalars(select(Group)))
    now = utcnow()
    for i in tqdm(range(count), desc="tickets", unit="", disable=not progress):
        customer = rng.choice(people)
        lang = customer.language
        created = now - timedelta(seconds=rng.randrange(90 * 86400))
        status = _pick(rng, STATUS_WEIGHTS)
        assignee = rng.choice(agents) if status is not Status.NEW else None
        channel = _pick(rng, CHANNEL_WEIGHTS)
        priority = _pick(rng, PRIORITY_WEIGHTS)
        subject = rng.choice(SUBJECTS[lang])
        ticket = Ticket(
            subject=subject,
            description=subject + ".",
            status=Status.NEW,
            priority=priority,
            channel=channel,
            requester_id=customer.id,
            assignee_id=assignee.id if assignee else None,
            group_id=rng.choice(groups).id if rng.random() < 0.7 else None,
            created_at=created,
            updated_at=created,
        )
        if rng.random() < 0.3:
            ticket.tag_rows = [TicketTag(tag=rng.choice(["refund", "outage", "billing", "repeat"]))]
        db.session.add(ticket)
        db.session.flush()
        db.session.add(
            TicketChange(
                ticket_id=ticket.id, action="created", at=created, changes={"status": [None, "new"]}
            )
        )
        # Service levels for the last month (what the compliance report shows by default).
        with_sla = now - created < SLA_HISTORY
        if with_sla:
            sla.apply_policy(db.session, ticket, now=created, why="ticket created")
        timeline.append(
            db.session,
            customer_id=customer.id,
            kind="ticket_created",
            occurred_at=created,
            ticket_id=ticket.id,
            subject_type="ticket",
            subject_id=ticket.id,
            summary=f"{reference_for(ticket.id)} {subject}",
            data={"channel": channel.value, "priority": priority.value},
        )
        at = created
        for n in range(0 if status is Status.NEW else rng.randint(1, 3)):
            # Most first replies come within a few hours; later exchanges take longer.
            delay = rng.randint(5, 360) if n == 0 else rng.randint(30, 2880)
            at = min(at + timedelta(minutes=delay), now)
            by_agent = n % 2 == 0
            body = rng.choice(REPLIES[lang][n])  # agent, customer, agent
            comment = Comment(
                ticket_id=ticket.id,
                body=body,
                public=True,
                channel=channel,
                author_user_id=assignee.id if by_agent and assignee else None,
                author_customer_id=None if by_agent else customer.id,
                created_at=at,
            )
            db.session.add(comment)
            db.session.flush()
            if with_sla and (assignee or not by_agent):
                sla.on_comment(db.session, ticket, from_customer=not by_agent, public=True, now=at)
            who = assignee.name if by_agent and assignee else customer.name
            timeline.append(
                db.session,
                customer_id=customer.id,
                kind="ticket_reply",
                occurred_at=at,
                ticket_id=ticket.id,
                subject_type="comment",
                subject_id=comment.id,
                summary=f"{reference_for(ticket.id)} {who}: {body}",
                data={"public": True, "from_customer": not by_agent},
            )
        ticket.updated_at = at
        ticket.status = status
        if with_sla and status is not Status.NEW:
            sla.on_changed(db.session, ticket, {"status": ["new", status.value]}, at)
        if status in (Status.SOLVED, Status.CLOSED):
            ticket.solved_at = at
            if status is Status.CLOSED:
                ticket.closed_at = min(at + timedelta(days=4), now)
        if status is not Status.NEW:
            db.session.add(
                TicketChange(
                    ticket_id=ticket.id,
                    action="updated",
                    at=at,
                    actor_user_id=assignee.id if assignee else None,
                    changes={"status": ["new", status.value]},
                )
            )
        if i % 200 == 199:
            db.session.commit()
    db.session.commit()
    # Record the targets that fell due while the history was being written.
    while sla.scan(db.session, limit=1000).examined:
        pass


def print_logins(echo: Callable[[str], object], *, existing_only: bool = False) -> None:
    path = _logins_file()
    if not path.exists():
        if not existing_only:
            echo("No demo logins recorded.")
        return
    echo("Demo logins (email / password):")
    for line in path.read_text().splitlines():
        email, _, password = line.partition(" ")
        echo(f"  {email:<28} {password}")


# What the agents chose when they wrapped up the seeded calls, most of them solved on the spot.
DEMO_DISPOSITIONS = ("resolved", "resolved", "resolved", "follow_up", "escalated", "other")


def _seed_calls(rng: random.Random, people: list[Customer], agents: list[User]) -> None:
    """Answered and abandoned calls of the last 90 days (what the cost to serve counts), and
    today's earlier calls in the call event log, so the wallboard and reports have a history.

    The history is over and done: every call ended at least a minute ago and every answered one
    was wrapped up with a disposition. An answered call without one, ended less than half an
    hour ago, is a wrap-up its agent still owes, and the console would open on its form."""
    from helpdesk.customers.models import CustomerPhone
    from helpdesk.supervision import calllog
    from telephony.models import Call

    now = utcnow()
    today = calllog.day_and_slot(now)[0]
    local = now.astimezone(calllog.zone())
    since_midnight = local.hour * 3600 + local.minute * 60 + local.second
    numbers = dict(db.session.execute(select(CustomerPhone.customer_id, CustomerPhone.e164)).all())
    callers = rng.sample(people, k=min(len(people), max(len(people) * 2 // 3, 1)))
    for n in range(len(people) * 2):
        customer = rng.choice(callers)
        # A quarter of the calls earlier today, the others over the last 90 days.
        span = 90 * 86400 if n % 4 else max(since_midnight - 60, 1)
        start = now - timedelta(seconds=rng.randrange(span))
        queue = "support" if rng.random() < 0.7 else "billing"
        wait = rng.choice([3, 8, 12, 15, 18, 25, 35, 50, 80])
        abandoned = rng.random() < 0.1
        agent = rng.choice(agents)
        talk = 0.0 if abandoned else float(rng.randint(60, 600))
        # Over before the seeding: none still going on, or ending later.
        start = min(start, now - timedelta(seconds=wait + talk + 60))
        call = Call(
            call_sid=f"CAdemo{n:026d}",
            from_number=numbers.get(customer.id, ""),
            customer_id=customer.id,
            language=customer.language,
            status="completed",
            routing_state="done",
            created_at=start,
            enqueued_at=start,
            answered_at=None if abandoned else start + timedelta(seconds=wait),
            ended_at=start + timedelta(seconds=wait + talk),
            wait_seconds=float(wait),
            talk_seconds=None if abandoned else talk,
            outcome="abandoned" if abandoned else "answered",
            agent_id=None if abandoned else agent.id,
            disposition=None if abandoned else DEMO_DISPOSITIONS[n % len(DEMO_DISPOSITIONS)],
        )
        db.session.add(call)
        db.session.flush()
        if calllog.day_and_slot(start)[0] != today:
            continue
        calllog.record(db.session, "entered", call_id=call.id, queue=queue, at=start)
        at = start + timedelta(seconds=wait)
        if abandoned:
            calllog.record(
                db.session, "abandoned", call_id=call.id, queue=queue, wait_s=wait, at=at
            )
            continue
        calllog.record(
            db.session,
            "connected",
            call_id=call.id,
            queue=queue,
            agent_id=agent.id,
            wait_s=wait,
            at=at,
        )
        calllog.record(
            db.session,
            "completed",
            call_id=call.id,
            queue=queue,
            agent_id=agent.id,
            talk_s=talk,
            at=at + timedelta(seconds=talk),
        )
    db.session.commit()


# The share of valued customers the demo puts in these segments (docs/supervision.md): a short
# list at risk, a tenth to a fifth of the base as the best customers.
DEMO_SEGMENT_SHARES = {"at_risk": (0.05, 0.15), "best": (0.10, 0.20)}


def _seed_invoices(rng: random.Random, people: list[Customer]) -> None:
    """Two years of invoices with the profiles a value report should tell apart: large accounts
    paying on time, growing and shrinking ones, late payers, and people who never bought."""
    from helpdesk.value.models import Invoice

    today = utcnow().date()
    number = 0
    for customer in people:
        profile = _pick(
            rng,
            [
                ("large", 10),
                ("growing", 12),
                ("shrinking", 10),
                ("late", 8),
                ("small", 30),
                ("none", 30),
            ],
        )
        if profile == "none":
            continue
        every, low, high = (30, 80_000, 300_000) if profile == "large" else (90, 10_000, 60_000)
        for days_ago in range(730, 0, -every):
            issued = today - timedelta(days=days_ago - rng.randint(0, 5))
            amount = rng.randint(low, high)
            if profile == "growing" and days_ago > 365:
                amount //= 2
            if profile == "shrinking" and days_ago <= 365:
                amount //= 3
            due = issued + timedelta(days=30)
            late = profile == "late" and rng.random() < 0.7
            paid = (
                due + timedelta(days=rng.randint(10, 60))
                if late
                else due - timedelta(days=rng.randint(0, 20))
            )
            number += 1
            db.session.add(
                Invoice(
                    number=f"DEMO-{number:06d}",
                    customer_id=customer.id,
                    amount_cents=amount,
                    currency="EUR",
                    issued_on=issued,
                    due_on=due,
                    paid_on=paid if paid <= today else None,
                )
            )
        if profile == "shrinking":
            # Unhappy and buying less: their recent tickets are complaints.
            recent = db.session.scalars(
                select(Ticket.id).where(Ticket.requester_id == customer.id).limit(3)
            ).all()
            for ticket_id in recent:
                if db.session.get(TicketTag, (ticket_id, "complaint")) is None:
                    db.session.add(TicketTag(ticket_id=ticket_id, tag="complaint"))
    db.session.commit()
