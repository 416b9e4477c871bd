"""The README's table of `helpdesk` commands names every command there is, and only those.

It once repeated a fragment and left out `simulate`; a command added later (`sms replay`) was
missing until this test read the table against the CLI itself."""

from __future__ import annotations

import re
from pathlib import Path

import click

from helpdesk.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> set[str]:
    found: set[str] = set()
    for name, command in main.commands.items():
        if isinstance(command, click.Group):
            found |= {f"{name} {sub}" for sub in command.commands}
        else:
            found.add(name)
    return found


def _table() -> set[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("| command | does |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.strip().startswith("|"):
            break
        rows.append(line.strip().split("|")[1])
    return {name for cell in rows for name in re.findall(r"`([^`]+)`", cell)}


def test_the_readme_lists_every_command_and_no_other() -> None:
    assert _table() == _commands()
