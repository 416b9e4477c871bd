"""The seeded demo shows customer segments in realistic proportions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from helpdesk import demo
from helpdesk.extensions import db
from helpdesk.value.models import CustomerValue


def test_the_seeded_demo_spreads_customers_within_the_documented_bounds(app: Any) -> None:
    # Ten tickets a customer, as the default demo (300 customers, 3000 tickets).
    demo.seed(customers=120, tickets=1200, seed=7)
    segments = Counter(db.session.scalars(select(CustomerValue.segment)))
    valued = sum(segments.values())
    assert valued >= 100
    for segment, (low, high) in demo.DEMO_SEGMENT_SHARES.items():
        share = segments[segment] / valued
        assert low <= share <= high, (segment, share, dict(segments))
    # No segment swallows the base.
    assert max(segments.values()) / valued < 0.4, dict(segments)


def test_demo_addresses_are_plain_ascii_so_any_mail_server_takes_them(app: Any) -> None:
    from helpdesk.customers.models import CustomerEmail

    demo.seed(customers=120, tickets=200, seed=3)
    addresses = list(db.session.scalars(select(CustomerEmail.email)))
    assert len(addresses) >= 100
    # The demo's names have accents (Zoé, Hélène): their addresses must not.
    assert [a for a in addresses if not a.isascii()] == []


def test_one_seed_gives_the_same_invoices_at_any_hour_of_the_day(
    app: Any, app_clock: Any, database: Any
) -> None:
    """Today's calls are drawn over the hours since midnight; the invoices after them (hence
    the segments and the customer models) must not change with the hour of the seeding."""
    from helpdesk.value.models import Invoice

    def seeded() -> list[tuple[Any, ...]]:
        demo.seed(customers=60, tickets=60, seed=5)
        rows = db.session.execute(
            select(Invoice.customer_id, Invoice.issued_on, Invoice.amount_cents).order_by(
                Invoice.id
            )
        ).all()
        db.session.remove()
        database.reset()
        return [tuple(r) for r in rows]

    app_clock.advance(hours=-3)  # 09:00 in the helpdesk's time zone
    morning = seeded()
    app_clock.advance(hours=11)  # 20:00, the same day
    evening = seeded()
    assert len(morning) > 100
    assert morning == evening
