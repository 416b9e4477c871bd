"""The IVR menu's topics reach the knowledge base's suggestions through the call source that the
app registers, never by the knowledge base reading telephony's configuration."""

from __future__ import annotations

import json
from pathlib import Path

import kb.suggestions
from kb.suggestions import ivr_hint
from telephony import ivr


def test_menu_topics_name_the_queue_or_the_action(tmp_path: Path) -> None:
    topics = ivr.menu_topics(str(tmp_path))
    assert topics["1"] == "support"
    assert topics["2"] == "billing"
    assert topics["3"] == "technician"


def test_an_instance_menu_override_changes_the_topics(tmp_path: Path) -> None:
    (tmp_path / "ivr.json").write_text(
        json.dumps({"menu": {"5": {"action": "queue", "queue": "billing"}}})
    )
    ivr.load.cache_clear()
    try:
        assert ivr.menu_topics(str(tmp_path))["5"] == "billing"
    finally:
        ivr.load.cache_clear()


def test_the_hint_follows_the_topics_it_is_given() -> None:
    path = ["lang:fr", "menu:7:queue"]
    assert ivr_hint(path, "fr", {}) == ""
    assert ivr_hint(path, "fr", {"7": "billing"}) == "facture paiement facturation"
    assert ivr_hint(path, "en", {"7": "technician"}) == "technician appointment visit"


def test_suggestions_read_no_telephony_file() -> None:
    source = Path(kb.suggestions.__file__).read_text(encoding="utf-8")
    assert "ivr.json" not in source
    assert "read_text" not in source
