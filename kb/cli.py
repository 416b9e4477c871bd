"""`helpdesk kb reindex` and `helpdesk kb check`."""

from __future__ import annotations

import click


@click.group(help="Knowledge base: search index upkeep.")
def kb() -> None:
    pass


@kb.command("reindex", help="Rebuild the search index from every article (with a progress bar).")
@click.option("--batch", default=1000, show_default=True, help="Articles read and written at once")
def reindex(batch: int) -> None:
    from sqlalchemy import func, select
    from tqdm import tqdm

    from helpdesk.app import create_app
    from helpdesk.audit.commands import record_command
    from helpdesk.extensions import db
    from kb import indexing
    from kb.models import Article

    app = create_app()
    with app.app_context():
        index = indexing.get_index()
        total = db.session.scalar(select(func.count(Article.id))) or 0
        with tqdm(total=total, unit="article", desc=f"reindex ({index.name})") as bar:
            done = indexing.rebuild(db.session, index, batch=batch, progress=bar)
        record_command(
            session=db.session,
            action="kb.reindex",
            target_type="kb_index",
            details={"articles": done, "backend": index.name},
        )
    click.echo(f"{done} articles indexed ({index.name})")


@kb.command("check", help="Report articles missing from the index or indexed at an old version.")
def check() -> None:
    from helpdesk.app import create_app
    from helpdesk.extensions import db
    from kb import indexing

    app = create_app()
    with app.app_context():
        index = indexing.get_index()
        report = indexing.check(db.session, index)
    click.echo(f"{report.articles} articles, search backend {index.name}")
    for label, ids in (
        ("missing from the index", report.missing),
        ("stale in the index", report.stale),
        ("in the index but deleted", report.orphaned),
    ):
        shown = ", ".join(str(i) for i in ids[:20]) + (" ..." if len(ids) > 20 else "")
        click.echo(f"  {label}: {len(ids)}" + (f" ({shown})" if ids else ""))
    if not report.ok:
        click.echo("run `helpdesk kb reindex` to repair")
        raise SystemExit(1)
    click.echo("index is up to date")
