"""`helpdesk mail ...`: the IMAP worker's commands. The composition root hands in its app
factory, so this module never imports the root."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

import click


def group(make_app: Callable[[str], Any]) -> click.Group:
    @click.group(help="E-mail: read the mailbox of MAIL_IMAP_URL (docs/email.md).")
    def mail() -> None:
        pass

    def _reader(app: Any) -> Any:
        from helpdesk.extensions import db
        from helpdesk.mail.imap import reader_for_app

        if not app.config["HELPDESK_SETTINGS"].MAIL_IMAP_URL:
            raise click.ClickException("MAIL_IMAP_URL is not set: there is no mailbox to read")
        return reader_for_app(app, db.session)

    @mail.command("fetch", help="Take in what is new in the mailbox once, then stop.")
    def fetch() -> None:
        app = make_app("worker")
        from helpdesk.extensions import db

        with app.app_context():
            reader = _reader(app)
            try:
                results = reader.take_new()
            finally:
                reader.close()
                db.session.remove()
                db.engine.dispose()
        for result in results:
            click.echo(f"{result.outcome:<10} ticket={result.ticket_id} {result.reason}")
        click.echo(f"{len(results)} message(s) taken")

    @mail.command("watch", help="Take in new mail as it arrives (IDLE, else polling).")
    @click.option(
        "--if-configured",
        is_flag=True,
        help="Without MAIL_IMAP_URL, wait quietly until stopped instead of failing (the "
        "Procfile's `mail` process, in a deployment that has no mailbox).",
    )
    def watch(if_configured: bool) -> None:
        app = make_app("worker")
        settings = app.config["HELPDESK_SETTINGS"]
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if if_configured and not settings.MAIL_IMAP_URL:
            click.echo("MAIL_IMAP_URL is not set: no mailbox to read; waiting until stopped")
            stop.wait()
            return
        with app.app_context():
            reader = _reader(app)
            click.echo(f"reading {reader.target.mailbox}")
            reader.run(stop, idle_s=settings.MAIL_IMAP_IDLE_S, poll_s=settings.MAIL_IMAP_POLL_S)

    return mail
