"""Bulk data for the foundation benchmarks: users, customers, tickets and their timeline.

Rows go in with COPY into the tables that the project's own migration created, so the benchmarks
read exactly the schema and indexes that production runs. Two things make a million tickets load in
about a minute rather than a quarter of an hour, and neither changes the result: the secondary
indexes of the big tables are dropped for the load and rebuilt afterwards from their own definitions
(`pg_get_indexdef`), and foreign-key triggers are skipped while copying (the rows are consistent by
construction, and tables load parent first anyway). ANALYZE runs at the end, as autovacuum would.

The data is deterministic for a given scale (a seeded random generator), so two runs measure the
same thing. Ticket facts are generated twice from the same seed rather than held in memory: once for
the `tickets` table and once for the rows that depend on them (tags, timeline).
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from tqdm import tqdm
from werkzeug.security import generate_password_hash

from helpdesk.customers.service import name_key
from helpdesk.tickets.workflow import reference_for

SEED = 20_261_126
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HISTORY = timedelta(days=730)
RECENT_FRACTION = 0.05  # the newest 5% of tickets (about five weeks) are still being worked on
API_USER_EMAIL = "bench-agent@bench.example"
BIG_TABLES = (
    "customers",
    "customer_phones",
    "customer_emails",
    "customer_tags",
    "tickets",
    "ticket_tags",
    "timeline_entries",
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "Élodie François Camille Léa Hugo Chloé Lucas Manon Noah Inès Jules Zoé Louis Emma "
    "Gabriel Sarah Arthur Jade Raphaël Anaïs John Mary Ahmed Fatima Wei Olga Pedro Aïcha "
    "Björn Maëlle"
)
LAST = _words(
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
    "Lefèvre Michel García David Bertrand Roux Vincent Fournier Morel Girard André Mercier "
    "Dupont Lambert Bonnet François Martínez Legrand Nguyen Smith Müller Rossi Kowalski"
)
SUBJECTS = (
    "No internet since this morning",
    "Invoice amount is wrong",
    "Technician did not come",
    "Change of address",
    "Router keeps rebooting",
    "Cancel my subscription",
    "Double charge on my card",
    "Phone line crackles",
    "Upgrade to fibre",
    "Password reset does not arrive",
    "TV box shows error E-42",
    "Request a callback",
    "Move appointment to next week",
    "Refund not received",
    "Slow Wi-Fi upstairs",
    "Contract question",
    "Roaming charges abroad",
    "SIM card blocked",
    "Installation damaged the wall",
    "Complaint about the last call",
)
TAGS = _words(
    "billing outage fibre dsl mobile tv refund appointment complaint vip-callback churn-risk "
    "escalated hardware roaming sim wifi moving cancellation upgrade password legal press "
    "accessibility warranty installation fraud porting callback feedback survey"
)
CUSTOMER_TAGS = ("vip", "reseller", "do-not-call", "key-account", "prepaid")
SKILLS = ("billing", "technical", "sales", "retention", "fibre", "mobile", "field")
STATUSES_RECENT = (
    ("new", 20),
    ("open", 35),
    ("pending", 15),
    ("on_hold", 5),
    ("solved", 10),
    ("closed", 15),
)
STATUSES_OLD = (("open", 3), ("pending", 1), ("on_hold", 1), ("closed", 95))
PRIORITIES = (("low", 20), ("normal", 60), ("high", 15), ("urgent", 5))
CHANNELS = (("phone", 45), ("sms", 15), ("email", 25), ("web", 10), ("field", 5))
# The last status change a ticket went through, as its timeline shows it.
PREVIOUS_STATUS = {
    "open": "new",
    "pending": "open",
    "on_hold": "open",
    "solved": "open",
    "closed": "solved",
}


@dataclass(frozen=True)
class Sizes:
    """How much data to build; `at(1.0)` is the full scale the recorded figures use."""

    customers: int
    tickets: int
    users: int
    groups: int
    heavy_items: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        tickets = max(1_000, round(1_000_000 * scale))
        heavy = max(200, round(20_000 * scale))
        heavy -= heavy % 2  # two timeline entries per ticket of the heavy customer
        return cls(
            customers=max(200, round(100_000 * scale)),
            tickets=tickets,
            users=max(60, round(3_000 * scale)),
            groups=30,
            heavy_items=min(heavy, tickets),
        )


@dataclass(frozen=True)
class Layout:
    """Where things are in the id space, so the benchmarks can pick realistic parameters."""

    sizes: Sizes
    companies: int
    agents: int
    api_user_id: int
    heavy_customer_id: int
    heavy_every: int

    @classmethod
    def of(cls, sizes: Sizes) -> Layout:
        companies = max(1, sizes.customers // 50)
        agents = sizes.users - max(3, sizes.users // 20)
        return cls(
            sizes=sizes,
            companies=companies,
            agents=agents,
            api_user_id=sizes.users + 1,
            heavy_customer_id=companies + 1,
            heavy_every=sizes.tickets // (sizes.heavy_items // 2),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TicketFacts:
    id: int
    subject: str
    description: str
    status: str
    priority: str
    channel: str
    requester_id: int
    assignee_id: int | None
    group_id: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None
    tags: tuple[str, ...]


class _Weighted:
    """Draws from fixed weights with one `random()` and a bisect: `choices` is slower per call."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        total = float(sum(w for _, w in pairs))
        self.values = [v for v, _ in pairs]
        self.bounds: list[float] = []
        acc = 0.0
        for _, w in pairs:
            acc += w / total
            self.bounds.append(acc)

    def draw(self, rng: random.Random) -> Any:
        return self.values[min(bisect.bisect(self.bounds, rng.random()), len(self.values) - 1)]


def mobile_number(index: int) -> str:
    """A valid French mobile number, distinct for every index below 80 million.

    `+336` followed by a digit libphonenumber accepts there (not 3 or 9) and seven more digits;
    multiplying by a prime modulo the size of that space is a bijection, so numbers never repeat.
    """
    n = (index * 7919 + 1_234_567) % 80_000_000
    return f"+336{'01245678'[n // 10_000_000]}{n % 10_000_000:07d}"


def landline_number(index: int) -> str:
    """A valid Paris landline (`+331` and eight digits), distinct for every index."""
    return f"+331{(index * 104_729 + 7_654_321) % 100_000_000:08d}"


# -- generators ----------------------------------------------------------------------------------


def ticket_facts(layout: Layout) -> Iterator[TicketFacts]:
    """Every ticket, oldest first, identical on every call for the same layout."""
    rng = random.Random(SEED)
    sizes = layout.sizes
    recent_status, old_status = _Weighted(STATUSES_RECENT), _Weighted(STATUSES_OLD)
    priority, channel = _Weighted(PRIORITIES), _Weighted(CHANNELS)
    tag = _Weighted([(t, 1.0 / rank) for rank, t in enumerate(TAGS, start=1)])
    others_from = layout.heavy_customer_id + 1  # the heavy customer gets only its own share
    for i in range(1, sizes.tickets + 1):
        created = NOW - HISTORY + HISTORY * (i / (sizes.tickets + 1))
        recent = i > sizes.tickets * (1 - RECENT_FRACTION)
        status = (recent_status if recent else old_status).draw(rng)
        if i % layout.heavy_every == 0 and i // layout.heavy_every <= sizes.heavy_items // 2:
            requester = layout.heavy_customer_id
            status = "open" if status == "new" else status
        else:
            requester = rng.randint(others_from, sizes.customers)
        assignee = None if status == "new" and rng.random() < 0.7 else rng.randint(1, layout.agents)
        n_tags = 0 if rng.random() < 0.65 else (1 if rng.random() < 0.75 else 2)
        updated, solved, closed = _ticket_times(rng, created, status)
        yield TicketFacts(
            id=i,
            subject=SUBJECTS[rng.randrange(len(SUBJECTS))],
            description=f"Caller reported the problem on {created:%d %B}; details in the notes.",
            status=status,
            priority=priority.draw(rng),
            channel=channel.draw(rng),
            requester_id=requester,
            assignee_id=assignee,
            group_id=None if rng.random() < 0.1 else rng.randint(1, sizes.groups),
            created_by_id=rng.randint(1, layout.agents),
            created_at=created,
            updated_at=updated,
            solved_at=solved,
            closed_at=closed,
            tags=tuple(sorted({tag.draw(rng) for _ in range(n_tags)})),
        )


def _ticket_times(
    rng: random.Random, created: datetime, status: str
) -> tuple[datetime, datetime | None, datetime | None]:
    """updated_at, solved_at and closed_at consistent with the status and never in the future."""
    if status == "new":
        return created, None, None
    if status == "closed":
        solved = created + timedelta(hours=rng.uniform(1, 240))
        closed = min(solved + timedelta(days=4), NOW)
        return closed, min(solved, closed), closed
    touched = min(created + timedelta(hours=rng.uniform(0.1, 72)), NOW)
    if status == "solved":
        return touched, touched, None
    return touched, None, None


def _ticket_row(t: TicketFacts) -> tuple[Any, ...]:
    return (
        t.id,
        t.subject,
        t.description,
        t.status,
        t.priority,
        t.channel,
        t.requester_id,
        t.assignee_id,
        t.group_id,
        t.created_by_id,
        t.created_at,
        t.updated_at,
        t.solved_at,
        t.closed_at,
    )


def _timeline_rows(t: TicketFacts) -> Iterator[tuple[Any, ...]]:
    """The entries the ticket service would have written: created, then the last status change."""
    ref = reference_for(t.id)
    yield (
        t.requester_id,
        t.created_at,
        "ticket_created",
        t.id,
        "ticket",
        t.id,
        f"{ref} {t.subject}",
        json.dumps({"channel": t.channel, "priority": t.priority}),
    )
    if t.status != "new":
        before = PREVIOUS_STATUS[t.status]
        yield (
            t.requester_id,
            t.updated_at,
            "ticket_status",
            t.id,
            "ticket",
            t.id,
            f"{ref} {before} → {t.status}",
            json.dumps({"from": before, "to": t.status}),
        )


# -- loading -------------------------------------------------------------------------------------


class _Copier:
    """COPY rows into one table with a progress bar that moves in steps, not on every row."""

    STEP = 10_000

    def __init__(
        self, conn: psycopg.Connection, table: str, columns: Sequence[str], total: int | None
    ) -> None:
        self.conn, self.table, self.columns = conn, table, columns
        self.bar = tqdm(
            total=total,
            desc=f"{table:<17}",
            unit="row",
            unit_scale=True,
            leave=True,
            mininterval=0.5,
        )

    def load(self, rows: Iterator[tuple[Any, ...]]) -> int:
        cols = ", ".join(self.columns)
        count = pending = 0
        with self.conn.cursor() as cur, cur.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
                pending += 1
                if pending == self.STEP:
                    self.bar.update(pending)
                    pending = 0
        self.bar.update(pending)
        self.bar.close()
        self.conn.commit()
        return count


def build(database_url: str, sizes: Sizes, api_password: str) -> Layout:
    """Fill a freshly migrated database; returns where things are."""
    layout = Layout.of(sizes)
    with psycopg.connect(database_url) as conn:
        _tune_session(conn)
        indexes = _drop_secondary_indexes(conn)
        _load_people(conn, layout, api_password)
        _load_customers(conn, layout)
        _load_tickets(conn, layout)
        _recreate_indexes(conn, indexes)
        _reset_sequences(conn)
    with psycopg.connect(database_url, autocommit=True) as conn:
        tqdm.write("VACUUM ANALYZE ...")
        conn.execute("VACUUM (ANALYZE)")
    return layout


def _tune_session(conn: psycopg.Connection) -> None:
    """Settings for this loading session only; the server's configuration is left alone."""
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '512MB'")
    try:
        conn.execute("SET session_replication_role = replica")  # skips FK triggers while copying
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()  # not a superuser: the checks run, the load is only slower
    conn.commit()


def _drop_secondary_indexes(
    conn: psycopg.Connection, tables: Sequence[str] = BIG_TABLES
) -> list[str]:
    """Drop the indexes of `tables` that back no constraint; return their definitions to
    recreate them."""
    rows = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        (list(tables),),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f"DROP INDEX {name}")
    conn.commit()
    return [definition for _, definition in rows]


def _recreate_indexes(conn: psycopg.Connection, definitions: list[str]) -> None:
    for definition in tqdm(definitions, desc="indexes          ", unit="index"):
        conn.execute(definition)
        conn.commit()


def _reset_sequences(conn: psycopg.Connection) -> None:
    """Ids were given explicitly; move each sequence past them so inserts by the app work."""
    rows = conn.execute(
        """
        SELECT c.relname, a.attname FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
        WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
          AND pg_get_serial_sequence(c.relname, a.attname) IS NOT NULL
        """
    ).fetchall()
    for table, column in rows:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f"COALESCE((SELECT max({column}) FROM {table}), 0) + 1, false)"
        )
    conn.commit()


def _load_people(conn: psycopg.Connection, layout: Layout, api_password: str) -> None:
    """Groups, agents (with skills and groups), supervisors, dispatchers, admins, the API user."""
    sizes, rng = layout.sizes, random.Random(SEED + 1)
    shared_hash = generate_password_hash(f"unused-{rng.random()}")
    _Copier(conn, "groups", ("id", "name"), sizes.groups).load(
        (g, f"Queue {g:02d}") for g in range(1, sizes.groups + 1)
    )
    others = sizes.users - layout.agents
    roles = ["agent"] * layout.agents + ["supervisor"] * (others - 2) + ["dispatcher", "admin"]

    def users() -> Iterator[tuple[Any, ...]]:
        for uid, role in enumerate(roles, start=1):
            name = f"{FIRST[uid % len(FIRST)]} {LAST[uid % len(LAST)]}"
            yield (
                uid,
                f"{role}{uid}@bench.example",
                name,
                shared_hash,
                role,
                "fr",
                '["fr", "en"]',
                True,
                NOW - HISTORY,
                1,
            )
        yield (
            layout.api_user_id,
            API_USER_EMAIL,
            "Bench Agent",
            generate_password_hash(api_password),
            "agent",
            "en",
            '["en"]',
            True,
            NOW,
            1,
        )

    cols = (
        "id",
        "email",
        "name",
        "password_hash",
        "role",
        "locale",
        "languages",
        "active",
        "created_at",
        "session_version",
    )
    _Copier(conn, "users", cols, sizes.users + 1).load(users())
    _Copier(conn, "agent_skills", ("user_id", "skill", "level"), None).load(
        (uid, skill, rng.randint(1, 5))
        for uid in range(1, layout.agents + 1)
        for skill in rng.sample(SKILLS, rng.randint(1, 3))
    )
    _Copier(conn, "group_members", ("group_id", "user_id"), None).load(
        (gid, uid)
        for uid in range(1, layout.agents + 1)
        for gid in rng.sample(range(1, sizes.groups + 1), rng.randint(1, 2))
    )


def _load_customers(conn: psycopg.Connection, layout: Layout) -> None:
    """Companies first, then people (some working for a company), their phones, e-mails and tags."""
    sizes = layout.sizes

    def customers() -> Iterator[tuple[Any, ...]]:
        rng = random.Random(SEED + 2)
        for cid in range(1, sizes.customers + 1):
            company = cid <= layout.companies
            if company:
                name, kind, employer = f"{LAST[cid % len(LAST)]} & Co {cid}", "company", None
            else:
                name = f"{FIRST[rng.randrange(len(FIRST))]} {LAST[rng.randrange(len(LAST))]}"
                kind = "person"
                employer = rng.randint(1, layout.companies) if rng.random() < 0.2 else None
            created = NOW - HISTORY * rng.random()
            updated = created + (NOW - created) * rng.random()
            yield (
                cid,
                kind,
                name,
                name_key(name),
                employer,
                "fr" if rng.random() < 0.8 else "en",
                "",
                created,
                updated,
            )

    cols = (
        "id",
        "kind",
        "name",
        "name_key",
        "company_id",
        "language",
        "notes",
        "created_at",
        "updated_at",
    )
    _Copier(conn, "customers", cols, sizes.customers).load(customers())
    _Copier(conn, "customer_phones", ("customer_id", "e164", "label"), None).load(
        _phone_rows(sizes.customers)
    )
    _Copier(conn, "customer_emails", ("customer_id", "email", "label"), None).load(
        (cid, f"customer{cid}@mail.example", "home")
        for cid in range(1, sizes.customers + 1)
        if cid % 10 < 6
    )
    tags_rng = random.Random(SEED + 3)
    _Copier(conn, "customer_tags", ("customer_id", "tag"), None).load(
        (cid, CUSTOMER_TAGS[tags_rng.randrange(len(CUSTOMER_TAGS))])
        for cid in range(1, sizes.customers + 1)
        if tags_rng.random() < 0.08
    )


def _phone_rows(customers: int) -> Iterator[tuple[int, str, str]]:
    """One mobile each; three in ten also a landline, and one in a hundred shares the landline
    of the customer before (a household), so that a lookup can find two people."""
    for cid in range(1, customers + 1):
        yield cid, mobile_number(cid), "mobile"
        if cid % 10 < 3:
            yield cid, landline_number(cid), "home"
        if cid % 100 == 1 and cid > 1:
            yield cid, landline_number(cid - 1), "home"


def _load_tickets(conn: psycopg.Connection, layout: Layout) -> None:
    total = layout.sizes.tickets
    cols = (
        "id",
        "subject",
        "description",
        "status",
        "priority",
        "channel",
        "requester_id",
        "assignee_id",
        "group_id",
        "created_by_id",
        "created_at",
        "updated_at",
        "solved_at",
        "closed_at",
    )
    _Copier(conn, "tickets", cols, total).load(_ticket_row(t) for t in ticket_facts(layout))
    _Copier(conn, "ticket_tags", ("ticket_id", "tag"), None).load(
        (t.id, tag) for t in ticket_facts(layout) for tag in t.tags
    )
    cols = (
        "customer_id",
        "occurred_at",
        "kind",
        "ticket_id",
        "subject_type",
        "subject_id",
        "summary",
        "data",
    )
    _Copier(conn, "timeline_entries", cols, None).load(
        row for t in ticket_facts(layout) for row in _timeline_rows(t)
    )
