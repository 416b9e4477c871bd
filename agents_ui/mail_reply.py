"""The reply box's e-mail side: why a reply cannot go by e-mail when the ticket came by e-mail,
whether the address has been bouncing, and the files an agent attaches.

The route itself is `tickets.delivery`'s choice; this module only explains it where e-mail is
concerned, so that an agent answering a mail is never surprised that the answer left as a text,
or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from agents_ui.account import me
from helpdesk.customers.models import CustomerEmail
from helpdesk.db import DbSession
from helpdesk.extensions import db
from helpdesk.mail import uploads
from helpdesk.mail.models import BouncingAddress
from helpdesk.tickets import delivery
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.workflow import Channel

# What the file picker offers (the server checks the bytes again, whatever the picker allowed).
ACCEPT = ".pdf,.png,.jpg,.jpeg,.gif,.txt,.csv,.zip,.docx,.xlsx,.pptx,.odt,.ods"


def _first_address(session: DbSession, customer_id: int) -> str | None:
    return session.scalar(
        select(CustomerEmail.email)
        .where(CustomerEmail.customer_id == customer_id)
        .order_by(CustomerEmail.id)
        .limit(1)
    )


def bouncing(session: DbSession, address: str) -> BouncingAddress | None:
    return session.scalar(
        select(BouncingAddress).where(func.lower(BouncingAddress.address) == address.lower())
    )


def warning(session: DbSession, ticket: Ticket, route: delivery.Route) -> str:
    """A sentence under the reply box's route, or "" when there is nothing to add."""
    if route.channel == "email" and route.to:
        found = bouncing(session, route.to)
        if found is not None:
            return str(
                ngettext(
                    "Mail to %(address)s has come back %(num)d time (last: %(reason)s): "
                    "the reply may not arrive. Check the address with the customer.",
                    "Mail to %(address)s has come back %(num)d times (last: %(reason)s): "
                    "the reply may not arrive. Check the address with the customer.",
                    found.bounces,
                    address=route.to,
                    reason=found.reason or "—",
                )
            )
        return ""
    if ticket.channel is not Channel.EMAIL or route.refusal is not None:
        return ""
    address = _first_address(session, ticket.requester_id)
    if address is None:
        reason = _("This ticket came by e-mail, but the customer has no e-mail address on record.")
    elif delivery.deliverer("email") is None:
        reason = _(
            "E-mail is not set up on this server, so replies cannot go to %(address)s.",
            address=address,
        )
    else:
        return ""
    if route.channel is None:
        return str(reason)
    return str(_("%(reason)s The reply goes by another channel instead.", reason=reason))


def attachment_store() -> uploads.FileStore | None:
    return uploads.file_store(current_app)


def limits() -> uploads.Limits:
    return uploads.Limits.from_config(current_app.config)


def hint() -> str:
    found = limits()
    megabytes = format_decimal(round(found.max_bytes / (1024 * 1024), 1))
    return str(
        _(
            "Up to %(files)s files, %(size)s MB in all: PDF, images, text, office documents or "
            "ZIP. They go with a public reply by e-mail, and stay on the ticket.",
            files=found.max_files,
            size=megabytes,
        )
    )


def received(files: Sequence[FileStorage]) -> list[uploads.Upload]:
    """The files of a submitted form (an empty file input sends one nameless part: left out)."""
    found = []
    for f in files:
        if not isinstance(f, FileStorage) or not f.filename:
            continue
        found.append(
            uploads.Upload(filename=f.filename, data=f.read(), declared_type=f.mimetype or "")
        )
    return found


def store_for_reply(ticket: Ticket, files: Sequence[FileStorage]) -> list[Any]:
    """Check and store the files of the reply form (rows not yet tied to a reply).

    Refused as a whole (`ValidationFailed`, naming the file) before anything is stored; if the
    store fails halfway, what it already took is removed.
    """
    given = received(files)
    if not given:
        return []
    try:
        checked = uploads.check(given, limits())
    except uploads.Refused as exc:
        raise uploads.Refused(exc.reason, refusal_text(exc), filename=exc.filename) from exc
    store = attachment_store()
    if store is None:
        refused = uploads.Refused("no_store", "no attachment store")
        raise uploads.Refused("no_store", refusal_text(refused))
    rows: list[Any] = []
    try:
        for upload, kind in checked:
            rows.append(
                uploads.store_upload(
                    db.session,
                    store,
                    upload,
                    content_type=kind,
                    ticket_id=ticket.id,
                    customer_id=ticket.requester_id,
                    user_id=me().id,
                )
            )
    except Exception:
        discard(rows)
        raise
    return rows


def refusal_text(exc: uploads.Refused) -> str:
    """Why the files were refused, in the agent's language."""
    found = limits()
    if exc.reason == "too_many":
        return str(_("Attach at most %(count)s files to one reply.", count=found.max_files))
    if exc.reason == "too_big":
        size = format_decimal(round(found.max_bytes / (1024 * 1024), 1))
        return str(
            _("The files come to more than %(size)s MB: attach fewer or smaller files.", size=size)
        )
    if exc.reason == "empty":
        return str(_("“%(name)s” is empty.", name=exc.filename))
    if exc.reason == "type":
        return str(
            _(
                "“%(name)s” cannot be sent: only PDF, images, text, office documents and ZIP "
                "files can be attached.",
                name=exc.filename,
            )
        )
    return str(_("Files cannot be attached: the attachment store is not configured."))


def discard(rows: Sequence[Any]) -> None:
    """Remove the stored bytes of files whose reply was refused (their rows roll back)."""
    if not rows:
        return
    store = attachment_store()
    for row in rows:
        try:
            if store is not None:
                store.delete(row.storage_key)
        except OSError:
            current_app.logger.warning("could not remove attachment %s", row.storage_key)
