"""An IVR configuration's checks: no key leading nowhere, every prompt with the placeholders it
is filled with; and the walk of a path the console's preview shows."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from telephony import ivr, ivr_path, ivr_rules
from telephony.ivr_rules import Problem

QUEUES = {"support": True, "billing": True, "old": False}


@pytest.fixture
def config() -> dict[str, Any]:
    return copy.deepcopy(ivr_rules.packaged())


def codes(problems: list[Problem]) -> dict[str, str]:
    return {p.field: p.code for p in problems}


def test_the_packaged_configuration_passes(config):
    assert ivr_rules.check(config, QUEUES) == []


def test_keys_leading_nowhere_are_named(config):
    config["menu"]["1"] = {"action": "queue"}
    config["menu"]["2"] = {"action": "queue", "queue": "old"}
    config["menu"]["5"] = {"action": "queue", "queue": "nowhere"}
    config["menu"]["6"] = {"action": "dance"}
    config["menu_limits"]["invalid"] = {"action": "technician"}
    found = ivr_rules.check(config, QUEUES)
    assert codes(found) == {
        "menu.1.queue": "required",
        "menu.2.queue": "queue_inactive",
        "menu.5.queue": "queue_missing",
        "menu.6.action": "unknown_action",
        "menu_limits.invalid.action": "unknown_action",
    }
    assert Problem("menu.5.queue", "queue_missing", "nowhere") in found


def test_an_empty_menu_and_bad_limits(config):
    config["menu"] = {}
    config["menu_limits"]["max_menus"] = 0
    assert codes(ivr_rules.check(config, QUEUES)) == {
        "menu": "empty",
        "menu_limits.max_menus": "out_of_range",
    }
    config["menu_limits"]["max_menus"] = "three"
    assert codes(ivr_rules.check(config, QUEUES))["menu_limits.max_menus"] == "not_a_number"


def test_language_keys_must_be_digits(config):
    config["languages"] = {"x": "fr", "2": "en"}
    assert codes(ivr_rules.check(config, QUEUES)) == {"languages.fr": "not_a_key"}


def test_prompts_keep_their_placeholders_and_nothing_else(config):
    fr = config["prompts"]["fr"]
    fr["position"]["one"] = "Position {position}."
    fr["ticket_status"] = "Le ticket {reference} est {status} ({when})."
    fr["closed"] = "   "
    fr["goodbye"] = "Au revoir {"
    del config["prompts"]["en"]["welcome"]
    found = ivr_rules.check(config, QUEUES)
    assert found == [
        Problem("prompts.fr.closed", "required"),
        Problem("prompts.fr.position.one", "placeholders_missing", "{minutes}"),
        Problem("prompts.fr.ticket_status", "placeholders_unknown", "{when}"),
        Problem("prompts.fr.goodbye", "malformed"),
        Problem("prompts.en.welcome", "required"),
    ]


def test_placeholders_of_the_packaged_prompts():
    assert ivr_rules.required_placeholders("position", "other") == ["minutes", "position"]
    assert ivr_rules.required_placeholders("technician_scheduled") == [
        "day",
        "end",
        "start",
        "time",
    ]
    assert ivr_rules.required_placeholders("welcome") == []
    assert ivr_rules.placeholders("{a} {{b}} {c:>3}") == {"a", "c"}
    assert ivr_rules.placeholders("{a") is None


# -- the preview's walk ---------------------------------------------------------------------------


def said(steps: list[ivr_path.Step]) -> list[str]:
    return [s.text for s in steps if s.kind == "say"]


def test_a_new_caller_chooses_english_then_billing(config):
    steps = ivr_path.walk(config, ivr_path.parse_keys("2 2"))
    assert said(steps)[:2] == [
        "Bienvenue au service client. Pour le français, tapez 1.",
        "Welcome to customer service. For English, press 2.",
    ]
    assert steps[2:5] == [
        ivr_path.Step("key", "2"),
        ivr_path.Step("language", "en", "en"),
        ivr_path.Step("say", config["prompts"]["en"]["menu"], "en"),
    ]
    assert steps[-1] == ivr_path.Step("queue", "billing", "en")


def test_a_known_caller_skips_the_language_menu_and_may_stop_anywhere(config):
    steps = ivr_path.walk(config, [], language="fr")
    assert [s.kind for s in steps] == ["say", "say", "waiting"]
    steps = ivr_path.walk(config, ["9"], language="fr")
    assert steps[-1].kind == "voicemail" and said(steps)[-1] == config["prompts"]["fr"]["voicemail"]


def test_invalid_keys_repeat_the_menu_then_take_the_default_route(config):
    config["menu_limits"] = {
        "max_menus": 2,
        "no_input": {"action": "queue", "queue": "support"},
        "invalid": {"action": "voicemail"},
    }
    steps = ivr_path.walk(config, ivr_path.parse_keys("7 7"), language="en")
    texts = said(steps)
    assert texts.count(config["prompts"]["en"]["menu"]) == 2
    assert texts.count(config["prompts"]["en"]["invalid"]) == 2  # before the menu, then at the end
    assert steps[-1].kind == "voicemail"
    steps = ivr_path.walk(config, ivr_path.parse_keys("- -"), language="en")
    assert steps[-1] == ivr_path.Step("queue", "support", "en")
    assert config["prompts"]["en"]["invalid"] not in said(steps)


def test_the_webhooks_decisions():
    config = {"languages": {"1": "fr"}, "menu": {"3": {"action": "technician"}, "4": "bad"}}
    assert ivr_path.language_choice(config, "1") == "fr"
    assert ivr_path.language_choice(config, "2") is None
    assert ivr_path.language_choice(config, None) is None
    assert ivr_path.menu_option(config, "3") == {"action": "technician"}
    assert ivr_path.menu_option(config, "4") is None
    assert ivr_path.menu_option(config, None) is None


def test_typed_keys():
    assert ivr_path.parse_keys("2 1") == ["2", "1"]
    assert ivr_path.parse_keys("2,-,#x") == ["2", None, "#"]
    assert len(ivr_path.parse_keys("1" * 100)) == ivr_path.MAX_KEYS


def test_a_version_lacking_a_later_prompt_takes_it_from_the_files(config):
    files = copy.deepcopy(config)
    version = copy.deepcopy(config)
    del version["prompts"]["en"]["connecting"]
    del version["hold_music"]
    version["menu"] = {"1": {"action": "voicemail"}}
    version["prompts"]["fr"]["goodbye"] = "Salut."
    merged = ivr.completed(version, files)
    assert merged["prompts"]["en"]["connecting"] == files["prompts"]["en"]["connecting"]
    assert merged["prompts"]["fr"]["goodbye"] == "Salut."
    assert merged["hold_music"] == files["hold_music"]
    assert merged["menu"] == {"1": {"action": "voicemail"}}  # the version's menu, whole
    assert "connecting" not in version["prompts"]["en"]  # the version is not changed


def test_statuses_are_said_and_the_hold_music_is_an_address(config):
    config["statuses"]["fr"]["pending"] = " "
    del config["statuses"]["en"]["solved"]
    config["hold_music"] = "file:///music.mp3"
    assert ivr_rules.check(config, QUEUES) == [
        Problem("statuses.fr.pending", "required"),
        Problem("statuses.en.solved", "required"),
        Problem("hold_music", "not_a_url"),
    ]
    config["hold_music"] = ""
    assert ivr_rules.check(config, QUEUES)[-1] == Problem("hold_music", "required")


def test_the_preview_shows_a_broken_draft_prompt_as_typed(config):
    config["prompts"]["en"]["menu"] = "Press {one} or {"
    steps = ivr_path.walk(config, ["1"], language="en")
    assert "Press {one} or {" in said(steps) and steps[-1].kind == "queue"
