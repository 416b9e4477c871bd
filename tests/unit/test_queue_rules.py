"""Overflow loops and what sends callers to a queue, as pure logic."""

from __future__ import annotations

from telephony.queue_rules import Referrer, overflow_loop, overflow_targets, referrers


def test_a_loop_through_the_queue_is_found_with_its_path():
    assert overflow_loop({"a": ["b"], "b": ["a"]}, "a") == ["a", "b", "a"]
    assert overflow_loop({"a": ["b"], "b": ["c"], "c": ["a"]}, "a") == ["a", "b", "c", "a"]


def test_chains_and_loops_elsewhere_are_not_loops_through_the_queue():
    assert overflow_loop({"a": ["b"], "b": ["c"]}, "a") is None
    # b and c overflow to each other, but nothing comes back to a.
    assert overflow_loop({"a": ["b"], "b": ["c"], "c": ["b"]}, "a") is None
    assert overflow_loop({}, "a") is None


def test_a_dead_end_branch_is_left_for_the_one_that_loops():
    edges = {"a": ["x", "b"], "x": ["y"], "b": ["a"]}
    assert overflow_loop(edges, "a") == ["a", "b", "a"]


def test_overflow_targets_skip_steps_that_only_lower_levels():
    steps = [{"after_s": 30, "level_drop": 1}, {"after_s": 60, "overflow_queue": "b"}]
    assert overflow_targets(steps) == ["b"]


def test_referrers_are_menu_keys_overflows_and_after_hours_routes():
    found = referrers(
        "support",
        menu={"1": "support", "2": "billing", "no_input": "support"},
        queues={
            "billing": ([{"after_s": 60, "overflow_queue": "support"}], None),
            "night": ([], {"action": "queue", "queue": "support"}),
            "sales": ([{"after_s": 60, "level_drop": 1}], {"action": "voicemail"}),
            "support": ([{"after_s": 5, "overflow_queue": "support"}], None),
        },
    )
    assert found == [
        Referrer("ivr", "1"),
        Referrer("ivr", "no_input"),
        Referrer("overflow", "billing"),
        Referrer("after_hours", "night"),
    ]
    assert found[0].describe("support") == "IVR key 1 leads to 'support'"
    assert referrers("sales", menu={"1": "support"}, queues={}) == []
