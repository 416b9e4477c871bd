"""The requests the foundation benchmark makes, and the values it puts in them.

Values come from the database being measured (the agent with the most open tickets, the most and
least common tag, real phone numbers), so the same shapes work at any `--scale`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg

from bench import datagen
from helpdesk.pagination import encode_cursor

DEFAULT_LIMIT = 25  # the API's default page size for tickets


@dataclass(frozen=True)
class Params:
    """Values to put in the URLs, read from the database they are asked of.

    Each list starts with the value that matches the most rows (used to count statements on
    full pages); benchmarks then rotate through the rest so that they do not measure one hot row.
    """

    open_assignees: list[int]
    groups: list[int]
    requesters: list[int]
    common_tag: str
    rare_tag: str
    numbers: list[str]
    heavy_customer: int
    deep_cursor: str
    deep_position: int

    @classmethod
    def read(cls, url: str, layout: datagen.Layout) -> Params:
        heavy = layout.heavy_customer_id
        with psycopg.connect(url) as conn:

            def column(query: str, *args: Any) -> list[Any]:
                return [r[0] for r in conn.execute(query, args).fetchall()]

            tags = column("SELECT tag FROM ticket_tags GROUP BY tag ORDER BY count(*) DESC, tag")
            depth = int(
                column("SELECT count(*) FROM timeline_entries WHERE customer_id = %s", heavy)[0]
                * 0.95
            )
            at, last = conn.execute(
                "SELECT occurred_at, id FROM timeline_entries WHERE customer_id = %s "
                "ORDER BY occurred_at DESC, id DESC OFFSET %s LIMIT 1",
                (heavy, depth - 1),
            ).fetchone() or (None, None)
            rng = random.Random(datagen.SEED)
            people = range(heavy + 1, layout.sizes.customers + 1)
            return cls(
                open_assignees=column(
                    "SELECT assignee_id FROM tickets WHERE status = 'open' AND assignee_id "
                    "IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1"
                ),
                groups=column(
                    "SELECT group_id FROM tickets WHERE group_id IS NOT NULL "
                    "GROUP BY 1 ORDER BY count(*) DESC, 1"
                ),
                requesters=[heavy, *rng.sample(people, min(500, len(people)))],
                common_tag=tags[0],
                rare_tag=tags[-1],
                numbers=column("SELECT e164 FROM customer_phones ORDER BY id %% 997, id LIMIT 500"),
                heavy_customer=heavy,
                deep_cursor=encode_cursor(at, last),
                deep_position=depth,
            )


def pick(values: list[Any], i: int) -> Any:
    """The i-th value of a rotation that jumps around the list rather than walking it in order."""
    return values[(i * 7919) % len(values)]


TICKETS = "/api/v1/tickets?"
LIST_SHAPES: dict[str, Callable[[Params, int], str]] = {
    "status=open&assignee_id=N": lambda p, i: (
        f"status=open&assignee_id={pick(p.open_assignees, i)}"
    ),
    "status=new": lambda p, i: "status=new",
    "priority=urgent&status=open": lambda p, i: "priority=urgent&status=open",
    "group_id=G": lambda p, i: f"group_id={pick(p.groups, i)}",
    "tag=<most common>": lambda p, i: f"tag={p.common_tag}",
    "tag=<least common>": lambda p, i: f"tag={p.rare_tag}",
    "requester_id=R": lambda p, i: f"requester_id={pick(p.requesters, i)}",
}
OTHER_SHAPES: dict[str, Callable[[Params, int], str]] = {
    "customers/lookup?number=": lambda p, i: (
        f"/api/v1/customers/lookup?number={quote(pick(p.numbers, i))}"
    ),
    "timeline, first page": lambda p, i: f"/api/v1/customers/{p.heavy_customer}/timeline?",
    "timeline, deep page": lambda p, i: (
        f"/api/v1/customers/{p.heavy_customer}/timeline?cursor={p.deep_cursor}&"
    ),
}


def list_url(shape: str, params: Params, i: int, limit: int) -> str:
    return f"{TICKETS}{LIST_SHAPES[shape](params, i)}&limit={limit}"


def other_url(shape: str, params: Params, i: int, limit: int | None = None) -> str:
    url = OTHER_SHAPES[shape](params, i)
    return url + (f"limit={limit}" if limit is not None and url.endswith(("?", "&")) else "")


def ticket_body(layout: datagen.Layout, i: int, offset: int = 0) -> dict[str, Any]:
    """A ticket as a phone agent would file it: random caller, half of them assigned, some tags."""
    rng = random.Random(offset + i)
    return {
        "subject": rng.choice(datagen.SUBJECTS),
        "description": "Caller explained the problem; steps tried are in the call notes.",
        "requester_id": rng.randint(layout.heavy_customer_id + 1, layout.sizes.customers),
        "priority": rng.choice(("low", "normal", "normal", "normal", "high", "urgent")),
        "channel": "phone",
        "assignee_id": rng.randint(1, layout.agents) if rng.random() < 0.5 else None,
        "group_id": rng.randint(1, layout.sizes.groups),
        "tags": [rng.choice(datagen.TAGS)] if rng.random() < 0.3 else [],
    }
