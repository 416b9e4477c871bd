"""The local mail simulator's personal data: the messages it kept for a customer.

Without an SMTP server, each message sent is an `.eml` file under the instance folder (see
helpdesk.mail.simulator); it names the customer and carries what they were told. Erasing the
customer deletes the files sent to any of their addresses, once the erasure commits. The outbox's
rows themselves are erased with the rest of the e-mail channel (helpdesk.mail.privacy).
"""

from __future__ import annotations

from flask import current_app, has_app_context

from helpdesk.db import DbSession
from helpdesk.events import on_commit
from helpdesk.privacy.registry import Holder, Subject, register


def erase(session: DbSession, subject: Subject) -> int:
    from helpdesk.mail.transport import simulator

    if not subject.emails or not has_app_context():
        return 0
    found = simulator(current_app)
    if found is None:
        return 0
    paths = found.files_to(subject.emails)
    if paths:
        on_commit(session, lambda: found.delete(paths))
    return len(paths)


register(Holder(name="mail_simulator", covers={}, erase=erase, export=None))
