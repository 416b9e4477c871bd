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
