"""A connection that dies after the view has answered must not turn the answer into a 500."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from helpdesk.app import create_app
from helpdesk.config import Settings


def test_a_session_that_cannot_close_leaves_the_answer_and_the_next_request_alone(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)  # no app context pushed: each request tears its own down
    client = app.test_client()
    original = Session.close
    failures = {"left": 1}

    def close(self: Session, *args: Any, **kwargs: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("ROLLBACK", {}, Exception("terminating connection"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(Session, "close", close)
    first = client.get("/healthz")
    assert first.status_code == 200
    assert failures["left"] == 0  # the failing close did happen, during the first teardown
    second = client.get("/healthz")
    assert second.status_code == 200
