"""The layers hold (docs/architecture.md): `lint-imports` keeps the contracts in pyproject.toml,
and the only imports those contracts leave out are the composition root's own."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOT = {"helpdesk.app", "helpdesk.wsgi", "helpdesk.cli", "helpdesk.demo", "kb.cli"}


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_layers_contract_leaves_out_only_the_composition_root() -> None:
    contracts = {str(c["id"]): c for c in _contracts()}
    layers = contracts["layers"]
    assert layers["layers"] == ["agents_ui", "telephony | kb", "helpdesk"]
    rules = layers.get("ignore_imports", [])
    assert isinstance(rules, list)
    importers = {str(rule).split(" -> ")[0] for rule in rules}
    assert importers <= COMPOSITION_ROOT, importers - COMPOSITION_ROOT
