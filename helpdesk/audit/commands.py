"""Audit entries for the `helpdesk` command line (channel `cli`).

A command runs with shell access to the server and no staff account, so the entry names the
operating-system account that ran it (`os_user`) and the command (`helpdesk users create`) in its
details; its actor is empty. Each command that changes state records one entry once its change is
committed, with counts rather than the data it handled.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from typing import Any

import click

from helpdesk.audit import service
from helpdesk.audit.models import AuditEntry
from helpdesk.db import DbSession

CHANNEL = "cli"


def operator() -> str:
    """The system account running the command (`USER`/`LOGNAME`, else the password database)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user with no name
        return "unknown"


def command_path() -> str:
    """`helpdesk invoices import`, whatever name the program was started under."""
    ctx = click.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["helpdesk", *reversed(names)])


def record_command(
    *,
    session: DbSession,
    action: str,
    target_type: str = "",
    target_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    return service.record(
        session=session,
        action=action,
        actor=None,
        target_type=target_type,
        target_id=target_id,
        details={"command": command_path(), "os_user": operator(), **(details or {})},
        channel=CHANNEL,
    )
