"""The composition root: each package adds its part with its own `init_app`, `create_app` only
calls them, adapters are read through typed accessors, and no module reaches into another's
private names (the console calls services, not an API module's helpers)."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from flask import Flask

from helpdesk import app as root
from kb import suggestions
from telephony import adapters
from telephony.sms import SmsSettings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("helpdesk", "telephony", "kb", "agents_ui")


def test_each_package_has_its_init_app_and_create_app_only_calls_them() -> None:
    for package in PACKAGES:
        wiring = importlib.import_module(f"{package}.wiring")
        assert callable(wiring.init_app), package
    lines = inspect.getsource(root.create_app).splitlines()
    assert len(lines) < 30, len(lines)
    for fn in (root.create_app, root._flask_app, root._join_calls_to_suggestions):
        assert len(inspect.getsource(fn).splitlines()) < 60, fn.__name__


def test_the_typed_accessors_give_the_apps_adapters(app: Flask) -> None:
    assert adapters.gateway() is app.extensions[adapters.GATEWAY]
    assert adapters.gateway(app) is app.extensions[adapters.GATEWAY]
    assert adapters.simulator() is app.extensions[adapters.SIMULATOR] is not None
    assert isinstance(adapters.sms_settings(), SmsSettings)


def test_suggestions_learn_the_ivr_menu_from_the_registered_call_source(app: Flask) -> None:
    topics = suggestions.CALLS.get().menu_topics()
    assert topics["1"] == "support"
    assert topics["2"] == "billing"


def _project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _reaches(module: str, tree: ast.Module, modules: dict[str, Path]) -> list[str]:
    """`from other import _name` and `other_module._name` where `other` is another module."""
    bad: list[str] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module in modules:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    aliases[alias.asname or alias.name] = full
                elif _private(alias.name) and node.module != module:
                    bad.append(f"{module}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and aliases[node.value.id] != module
            and _private(node.attr)
        ):
            bad.append(f"{module}: {aliases[node.value.id]}.{node.attr}")
    return bad


def test_no_module_uses_another_modules_private_names() -> None:
    modules = _project_modules()
    bad: list[str] = []
    for module, path in sorted(modules.items()):
        bad += _reaches(module, ast.parse(path.read_text(encoding="utf-8")), modules)
    # Known, to be made public: telephony.sms reads the call service's language choice.
    known: set[str] = set()
    assert set(bad) <= known, sorted(set(bad) - known)
