"""Reading results tier by tier (kb.search.tiered_page): each page is the slice of the
concatenated tiers, whatever the offset, and a looser tier is read only when needed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kb.search import tiered_page


@given(
    sizes=st.lists(st.integers(0, 30), min_size=1, max_size=3),
    offset=st.integers(0, 60),
    limit=st.integers(1, 20),
)
def test_a_page_is_the_slice_of_the_tiers_in_order(
    sizes: list[int], offset: int, limit: int
) -> None:
    tiers = [[f"{t}:{i}" for i in range(n)] for t, n in enumerate(sizes)]
    names = [str(t) for t in range(len(tiers))]
    read: list[str] = []

    def run(tier: str, off: int, lim: int) -> tuple[list[str], int]:
        read.append(tier)
        rows = tiers[int(tier)]
        return rows[off : off + lim], len(rows)

    hits, total = tiered_page(run, names, offset, limit)
    everything = [row for rows in tiers for row in rows]
    assert hits == everything[offset : offset + limit]
    # Tiers are read in order and stop as soon as the page is full.
    needed = next(
        (k + 1 for k in range(len(tiers)) if sum(sizes[: k + 1]) >= offset + limit), len(tiers)
    )
    assert read == names[:needed]
    assert total == sum(sizes[:needed])
