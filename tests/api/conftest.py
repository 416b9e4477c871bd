"""API tests run on SQLite and, in the services tier, on PostgreSQL."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
