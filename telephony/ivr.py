"""IVR prompts and menus: configuration (`ivr.json`, overridable under `instance/`), not code."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULTS = Path(__file__).with_name("ivr.json")


@lru_cache(maxsize=4)
def load(instance_path: str) -> dict[str, Any]:
    """The packaged configuration, with `instance/ivr.json` merged over it when present."""
    config: dict[str, Any] = json.loads(DEFAULTS.read_text(encoding="utf-8"))
    override = Path(instance_path) / "ivr.json"
    if override.exists():
        extra = json.loads(override.read_text(encoding="utf-8"))
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = _deep_merge(config[key], value)
            else:
                config[key] = value
    return config


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            _deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def prompt(config: dict[str, Any], language: str, key: str, **values: Any) -> str:
    texts = config["prompts"].get(language) or config["prompts"]["en"]
    return str(texts[key]).format(**values)


def twilio_language(language: str) -> str:
    return {"fr": "fr-FR", "en": "en-US"}.get(language, "en-US")
