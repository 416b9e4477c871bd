"""`helpdesk consent ...`: importing an opposition list from the command line. The composition
root hands in its app factory, so this module never imports the root."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from tqdm import tqdm

from helpdesk.consent.models import DNC_SOURCES


def group(make_app: Callable[[str], Any]) -> click.Group:
    @click.group(help="Marketing consents and the do-not-call list (docs/campaign-compliance.md).")
    def consent() -> None:
        pass

    @consent.command(
        "dnc-import",
        help="Import an opposition list (one number per line, or CSV with a number column) into "
        "the do-not-call list. Importing the same file again changes nothing.",
    )
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--source", type=click.Choice(DNC_SOURCES), default="bloctel", show_default=True)
    @click.option(
        "--replace",
        is_flag=True,
        help="The file is the source's whole list: remove the source's numbers absent from it.",
    )
    @click.option("--region", default=None, help="Region of numbers without a prefix (FR).")
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    def dnc_import(path: str, source: str, replace: bool, region: str | None, quiet: bool) -> None:
        from helpdesk.audit.commands import record_command
        from helpdesk.consent import lists
        from helpdesk.consent import service as consent
        from helpdesk.extensions import db

        app = make_app("cli")
        default_region = region or app.config.get("HELPDESK_DEFAULT_REGION") or "FR"
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            parsed = lists.parse(f.read(), default_region)
        with app.app_context():
            with tqdm(total=len(parsed.numbers), unit="", desc="numbers", disable=quiet) as bar:
                result = consent.import_do_not_call(
                    db.session,
                    source=source,
                    numbers=parsed.numbers,
                    replace=replace,
                    progress=bar.update,
                )
            result.rejected = list(parsed.rejected)
            db.session.commit()
            record_command(
                session=db.session,
                action="do_not_call.import",
                target_type="do_not_call",
                details={"source": source, "replace": replace, **result.counts()},
            )
        for rejected in parsed.rejected:
            click.echo(f"line {rejected.line}: {rejected.text}: {rejected.reason}", err=True)
        click.echo(
            f"{result.added} added, {result.already} already listed, {result.removed} removed, "
            f"{len(parsed.rejected)} rejected, {parsed.duplicates} duplicate lines"
        )

    return consent
