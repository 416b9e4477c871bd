"""WSGI entry point for gunicorn (`helpdesk.wsgi:app`), configured from the environment."""

import gc

from helpdesk.app import create_app

app = create_app()
# Everything allocated while starting lives as long as the process: move it out of the
# collector's reach, so that full collections stop walking it (100+ ms pauses otherwise).
gc.freeze()
