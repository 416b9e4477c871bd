"""The pure rules of ticket merge and bulk changes."""

from __future__ import annotations

import pytest

from helpdesk.tickets import bulk_rules, merge_rules
from helpdesk.tickets.bulk_rules import BulkSet

Side = merge_rules.Side


def side(id_: int, requester: int = 1, company: int | None = None, **kw: object) -> Side:
    return Side(
        id=id_,
        requester_id=requester,
        company_id=company,
        merged_into_id=kw.get("merged_into"),  # type: ignore[arg-type]
        closed=bool(kw.get("closed", False)),
    )


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        (side(1), side(2), None),
        (side(1, requester=5, company=9), side(2, requester=6, company=9), None),
        (side(1, requester=5, company=9), side(2, requester=9), None),
        (side(1, requester=9), side(2, requester=5, company=9), None),
        (side(1), side(1), (422, "into")),
        (side(1, requester=5), side(2, requester=6), (422, "into")),
        (side(1, requester=5, company=8), side(2, requester=6, company=9), (422, "into")),
        (side(1, merged_into=3), side(2), (409, "ticket_id")),
        (side(1), side(2, merged_into=3), (409, "into")),
        (side(1, closed=True), side(2), (409, "ticket_id")),
        (side(1), side(2, closed=True), (409, "into")),
    ],
)
def test_refusal(source: Side, target: Side, expected: tuple[int, str] | None) -> None:
    found = merge_rules.refusal(source, target)
    assert (None if found is None else (found.status, found.field)) == expected


def test_notice_in_the_customer_language_names_both_references() -> None:
    fr = merge_rules.notice("fr", source="T-10001", target="T-10002")
    en = merge_rules.notice("en-GB", source="T-10001", target="T-10002")
    assert "regroupée" in fr and "T-10002" in fr and "T-10001" in fr
    assert en.startswith("Your request T-10001") and "T-10002" in en
    assert merge_rules.notice("de", source="a", target="b") == merge_rules.notice(
        "en", source="a", target="b"
    )


def test_changes_for_adds_and_removes_tags() -> None:
    wanted = BulkSet(fields={"status": "open"}, add_tags=("Billing ",), remove_tags=("old",))
    assert bulk_rules.changes_for(["keep", "old"], wanted) == {
        "status": "open",
        "tags": ["billing", "keep"],
    }
    assert bulk_rules.changes_for(["x"], BulkSet(fields={"assignee_id": None})) == {
        "assignee_id": None
    }
    assert BulkSet().empty and not BulkSet(add_tags=("a",)).empty


def test_undoable_diff_keeps_only_undoable_fields() -> None:
    before, after = bulk_rules.undoable_diff(
        {"status": ["new", "open"], "subject": ["a", "b"], "tags": [["a"], ["a", "b"]]}
    )
    assert before == {"status": "new", "tags": ["a"]}
    assert after == {"status": "open", "tags": ["a", "b"]}


@pytest.mark.parametrize(
    ("after", "current", "expected"),
    [
        ({"status": "open"}, {"status": "open"}, None),
        ({"tags": ["b", "a"]}, {"tags": ["a", "b"], "status": "new"}, None),
        ({"status": "open"}, {"status": "pending"}, "status changed since"),
        ({"assignee_id": 3}, {"assignee_id": 4, "status": "open"}, "assignee_id changed since"),
        ({"status": "open"}, {"status": "closed"}, "closed since"),
        ({"status": "closed"}, {"status": "closed"}, "closed: closed is final"),
    ],
)
def test_undo_refusal(after: dict, current: dict, expected: str | None) -> None:
    assert bulk_rules.undo_refusal(after, current) == expected
