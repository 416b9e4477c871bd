"""RFM segments from recency and frequency scores, as pure logic.

Each paying customer gets three quintile scores from 1 to 5 over the invoices: R (how recent
the last invoice: 5 = the most recent fifth), F (how many invoices) and M (how much in all).
A score is `1 + floor(5 * percent_rank)`, so customers with the same value share a score (most
customers with a single invoice all have F = 1). The segment reads R and F, as is usual; M is
shown beside it.

Quintiles are relative: in a base where everyone bought last week, a fifth still gets R = 1, and
in a base of regular buyers a fifth gets F = 1 with nine invoices. So the words that state an
absolute fact have absolute floors:

- a customer invoiced in the last `RECENT_DAYS` counts as recent whatever their rank (R is at
  least 3): never "hibernating", "lost" or "drifting away";
- "new" also needs a first invoice in the last `NEW_DAYS` and at most `NEW_MAX_INVOICES`
  invoices; otherwise the customer is "potential";
- "lost" also needs no invoice for more than `LOST_DAYS`; otherwise "hibernating".

| segment     | rule (after the recency floor)                          | who they are       |
|-------------|---------------------------------------------------------|--------------------|
| champions   | R >= 4 and F >= 4                                       | lately and often   |
| loyal       | R >= 3 and F >= 3                                       | regular buyers     |
| new         | R >= 4, F = 1, first invoice <= 90 d ago, <= 2 in all   | a first purchase   |
| potential   | R >= 3 (F <= 2)                                         | recent, fewer      |
| at_risk     | R <= 2 and F >= 3                                       | often, not lately  |
| hibernating | R = 2 and F <= 2, or R = 1 with an invoice within 365 d | few, a while ago   |
| lost        | R = 1 and F <= 2, nothing for over 365 d                | few, long ago      |

Without the absolute facts (None), the rules are the relative ones alone.
"""

from __future__ import annotations

RFM_SEGMENTS = ("champions", "loyal", "new", "potential", "at_risk", "hibernating", "lost")
RECENT_DAYS = 90  # an invoice this recent is "lately", whatever the rank
NEW_DAYS = 90  # a newcomer's first invoice is at most this old
NEW_MAX_INVOICES = 2
LOST_DAYS = 365  # "lost": no invoice for more than this


def rfm_segment(
    r: int,
    f: int,
    *,
    recent: bool | None = None,
    newcomer: bool | None = None,
    gone: bool | None = None,
) -> str:
    """The segment of a customer's recency and frequency scores (1-5 each). `recent`: the last
    invoice is at most `RECENT_DAYS` old; `newcomer`: the first is at most `NEW_DAYS` old and
    there are at most `NEW_MAX_INVOICES`; `gone`: the last is more than `LOST_DAYS` old."""
    if recent:
        r = max(r, 3)
    if r >= 4 and f >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 4 and f <= 1 and newcomer is not False:
        return "new"
    if r >= 3:
        return "potential"
    if f >= 3:
        return "at_risk"
    if r == 2 or gone is False:
        return "hibernating"
    return "lost"


def score(percent_rank: float) -> int:
    """A quintile score from a percent rank in [0, 1] (the SQL does the same)."""
    return min(5, 1 + int(5 * percent_rank))
