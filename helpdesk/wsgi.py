"""WSGI entry point for gunicorn (`helpdesk.wsgi:app`), configured from the environment."""

import gc

from helpdesk.app import create_app
from telephony import sms_spool

app = create_app()
sms_spool.resume(app)  # texts kept on disk while the database was away, before a restart
# Everything allocated while starting lives as long as the process: move it out of the
# collector's reach, so that full collections stop walking it (100+ ms pauses otherwise).
gc.freeze()
