"""Which transport outgoing mail takes, chosen from the settings, and the outbound side's wiring.

`MAIL_SMTP_URL` set: the SMTP server it names. Unset: the local simulator under the instance
folder, so that `make run` shows every message the helpdesk sends without a mail server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpdesk.mail.outbox import sender
from helpdesk.mail.simulator import SimulatorTransport
from helpdesk.mail.smtp import MailTransport, SmtpTransport


def from_settings(settings: Any) -> MailTransport:
    if settings.MAIL_SMTP_URL:
        return SmtpTransport.from_url(settings.MAIL_SMTP_URL)
    return SimulatorTransport(Path(settings.HELPDESK_INSTANCE_PATH) / "mail_simulator")


def init_app(app: Any, settings: Any) -> None:
    """The transport in `app.extensions["mail_transport"]`, and e-mail as a reply channel."""
    from helpdesk.mail.replies import deliver_reply, reply_reach
    from helpdesk.tickets import delivery

    sender(settings.MAIL_FROM)  # a MAIL_FROM that is no address stops the start, not a send
    app.config["MAIL_FROM"] = settings.MAIL_FROM
    app.extensions["mail_transport"] = from_settings(settings)
    delivery.register("email", deliver_reply, reach=reply_reach)


def simulator(app: Any) -> SimulatorTransport | None:
    """The simulator, when outgoing mail goes to it; None when an SMTP server is configured."""
    found = app.extensions.get("mail_transport")
    return found if isinstance(found, SimulatorTransport) else None
