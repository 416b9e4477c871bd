"""Fixtures that run a test once per knowledge-base search backend.

`kb_search` is "whoosh" (on SQLite, index under the test's instance directory) or "postgresql"
(on the test PostgreSQL database, services tier). Modules that import these fixtures override the
`backend` and `settings` fixtures of tests/conftest.py accordingly.
"""

from __future__ import annotations

import pytest
from flask import Flask

from helpdesk.config import Settings
from kb.indexing import get_index
from kb.search import SearchIndex


@pytest.fixture(params=["whoosh", pytest.param("postgresql", marks=pytest.mark.services)])
def kb_search(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(kb_search: str) -> str:
    return "postgresql" if kb_search == "postgresql" else "sqlite"


@pytest.fixture
def settings(settings: Settings, kb_search: str) -> Settings:
    settings.HELPDESK_KB_SEARCH = kb_search
    return settings


@pytest.fixture
def index(app: Flask) -> SearchIndex:
    return get_index(app)
