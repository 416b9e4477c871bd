"""The menu's repeat limit and the expected-wait arithmetic, as pure logic."""

from __future__ import annotations

import pytest

from telephony.ivr_menu import DEFAULT_ROUTE, MenuLimits, after_miss
from telephony.queue_wait import WaitSettings, expected_minutes

LIMITS = MenuLimits(
    max_menus=3, no_input={"action": "voicemail"}, invalid={"action": "queue", "queue": "x"}
)


@pytest.mark.parametrize("pressed", [False, True])
def test_a_caller_who_never_chooses_hears_at_most_n_menus(pressed: bool) -> None:
    heard, menus = 0, 0
    for _ in range(50):  # far past any limit: the walk must end by itself
        miss = after_miss(heard, pressed=pressed and heard > 0, limits=LIMITS)
        if miss.route is not None:
            break
        menus += 1
        heard = miss.heard
    assert menus == 3 and heard == 3
    assert miss.route == (LIMITS.invalid if pressed else LIMITS.no_input)
    assert miss.reason == ("invalid" if pressed else "no_input")


def test_the_way_in_says_the_menu_without_calling_it_invalid() -> None:
    assert after_miss(0, pressed=False, limits=LIMITS) == after_miss(
        0, pressed=False, limits=LIMITS
    )
    first = after_miss(0, pressed=False, limits=LIMITS)
    assert first.heard == 1 and not first.invalid and first.route is None
    again = after_miss(1, pressed=True, limits=LIMITS)
    assert again.heard == 2 and again.invalid


def test_a_key_on_an_uncounted_menu_counts_that_menu() -> None:
    assert after_miss(0, pressed=True, limits=LIMITS).heard == 2


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"menu_limits": {"max_menus": 0}},
        {"menu_limits": {"max_menus": "3", "no_input": {"action": "menu"}}},
        {"menu_limits": {"max_menus": True, "no_input": "voicemail"}},
    ],
)
def test_a_broken_configuration_still_ends_the_loop(raw: dict) -> None:
    limits = MenuLimits.from_config(raw)
    assert limits.max_menus == 3
    assert limits.no_input == DEFAULT_ROUTE and limits.invalid == DEFAULT_ROUTE


def test_invalid_keys_follow_the_silence_route_unless_given_their_own() -> None:
    limits = MenuLimits.from_config(
        {"menu_limits": {"max_menus": 2, "no_input": {"action": "voicemail"}}}
    )
    assert limits.max_menus == 2 and limits.invalid == {"action": "voicemail"}


@pytest.mark.parametrize(
    ("average_s", "position", "minutes"),
    [(0, 1, 1), (20, 1, 1), (60, 1, 1), (89, 1, 1), (90, 1, 2), (60, 2, 2), (45, 4, 3)],
)
def test_expected_minutes(average_s: float, position: int, minutes: int) -> None:
    assert expected_minutes(average_s, position) == minutes


def test_wait_settings_fall_back_on_defaults() -> None:
    assert WaitSettings.from_config({"queue_wait": {"window_s": -1}}) == WaitSettings(3600, 60)
