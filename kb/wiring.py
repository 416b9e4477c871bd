"""The knowledge base's part of the app, in the manner of a Flask extension: `init_app` attaches
the search index (read through `kb.indexing.get_index`, typed), its API and its tasks. Calls and
texts, which suggestions read, belong to telephony: the composition root fills
`kb.suggestions.CALLS`.
"""

from __future__ import annotations

import importlib

from flask import Flask

from helpdesk.config import Settings
from helpdesk.extensions import csrf
from kb import indexing
from kb.api import bp as kb_api  # at import: its operations are declared for the OpenAPI document


def init_app(app: Flask, settings: Settings) -> None:
    indexing.init_app(app, settings)
    importlib.import_module("kb.tasks")  # importing it registers the tasks
    csrf.exempt(kb_api)  # bearer tokens, not cookies: nothing for a forged form to ride on
    app.register_blueprint(kb_api)
