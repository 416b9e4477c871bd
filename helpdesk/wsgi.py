"""WSGI entry points for gunicorn, configured from the environment.

- `helpdesk.wsgi:app`: everything in one process (pages, API, webhooks, Socket.IO), for one
  gunicorn worker per port: the embedded form's server, and any deployment without the split.
- `helpdesk.wsgi:api`: the Procfile's `web` line, one gunicorn worker per core: no Socket.IO.
- `helpdesk.wsgi:sockets`: the Procfile's `sockets` line: only the Socket.IO endpoint.

Each is built when gunicorn asks for it (in the worker), so that a process builds only its own.
See helpdesk.process_roles for what each serves.
"""

from __future__ import annotations

import gc

from flask import Flask

from helpdesk.app import create_app
from telephony import sms_spool

ROLES = {"app": "web", "api": "api", "sockets": "sockets"}
_built: dict[str, Flask] = {}


def _build(role: str) -> Flask:
    app = create_app(role=role)
    if role != "sockets":
        sms_spool.resume(app)  # texts kept on disk while the database was away, before a restart
    # Everything allocated while starting lives as long as the process: move it out of the
    # collector's reach, so that full collections stop walking it (100+ ms pauses otherwise).
    gc.freeze()
    return app


def __getattr__(name: str) -> Flask:
    if name not in ROLES:
        raise AttributeError(name)
    if name not in _built:
        _built[name] = _build(ROLES[name])
    return _built[name]
