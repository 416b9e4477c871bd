"""RFM segments from recency and frequency scores, as pure logic.

Each paying customer gets three quintile scores from 1 to 5 over the invoices: R (how recent
the last invoice: 5 = the most recent fifth), F (how many invoices) and M (how much in all).
A score is `1 + floor(5 * percent_rank)`, so customers with the same value share a score (most
customers with a single invoice all have F = 1). The segment reads R and F, as is usual; M is
shown beside it:

| segment       | rule                 | who they are                                   |
|---------------|----------------------|------------------------------------------------|
| champions     | R >= 4 and F >= 4    | bought lately and often                        |
| loyal         | R >= 3 and F >= 3    | buy regularly                                  |
| new           | R >= 4 and F = 1     | a first purchase, lately                       |
| potential     | R >= 3 (F <= 2)      | recent, not yet regular                        |
| at_risk       | R <= 2 and F >= 3    | bought often, not lately: call them            |
| hibernating   | R = 2 and F <= 2     | few purchases, a while ago                     |
| lost          | R = 1 and F <= 2     | few purchases, long ago                        |
"""

from __future__ import annotations

RFM_SEGMENTS = ("champions", "loyal", "new", "potential", "at_risk", "hibernating", "lost")


def rfm_segment(r: int, f: int) -> str:
    """The segment of a customer's recency and frequency scores (1-5 each)."""
    if r >= 4 and f >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 4 and f <= 1:
        return "new"
    if r >= 3:
        return "potential"
    if f >= 3:
        return "at_risk"
    if r == 2:
        return "hibernating"
    return "lost"


def score(percent_rank: float) -> int:
    """A quintile score from a percent rank in [0, 1] (the SQL does the same)."""
    return min(5, 1 + int(5 * percent_rank))
