"""The package's metadata is what current setuptools reads without deprecation banners, which a
first `make run` once printed among its pip output: a licence table and licence classifiers,
where setuptools 77 and later want one SPDX expression."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_licence_is_one_spdx_expression_for_a_setuptools_that_reads_it() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = config["project"]
    assert project["license"] == "AGPL-3.0-or-later"
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    backend = next(r for r in config["build-system"]["requires"] if r.startswith("setuptools"))
    found = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", backend)
    assert found is not None and int(found.group(1)) >= 77, backend
