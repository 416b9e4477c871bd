"""The e-mail channel's part of the application: its transport, its reply channel, its APIs."""

from __future__ import annotations

from flask import Flask

from helpdesk.config import Settings
from helpdesk.extensions import csrf
from helpdesk.mail import ticket_follow, transport, uploads
from helpdesk.mail.api import bp as inbound_api
from helpdesk.mail.attachments_api import bp as files_api
from helpdesk.mail.setup import init_inbound
from helpdesk.mail.simulator_api import bp as simulator_api
from helpdesk.tickets.files import FILES
from helpdesk.tickets.ticket_merge import register_follower

# Bearer tokens, not cookies: nothing for a forged form to ride on.
API_BLUEPRINTS = (inbound_api, simulator_api, files_api)
TASK_MODULES = ("helpdesk.mail.outbox_tasks", "helpdesk.mail.imap_tasks")


def init_app(app: Flask, settings: Settings) -> None:
    transport.init_app(app, settings)
    FILES.fill(uploads)
    register_follower("e-mails", ticket_follow.move_mail)
    register_follower("files", ticket_follow.move_files)
    init_inbound(app, settings)
    for api_bp in API_BLUEPRINTS:
        csrf.exempt(api_bp)
        app.register_blueprint(api_bp)
