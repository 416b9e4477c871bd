"""`python -m tests.browser.fixed_clock serve ...`: the `helpdesk` command with the application's
clock started at HELPDESK_TEST_CLOCK (ISO 8601) and running on from there, as the `app_clock`
fixture of tests/conftest.py does in process: `helpdesk.db.utcnow` reads `datetime.now` of its
own module, which is replaced. For browser tests whose outcome depends on the time of day (a
campaign call is only placed within the permitted hours)."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta, tzinfo

import helpdesk.db

START = datetime.fromisoformat(os.environ["HELPDESK_TEST_CLOCK"])
_BEGAN = time.monotonic()


class ClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        at = START + timedelta(seconds=time.monotonic() - _BEGAN)
        return at.astimezone(tz) if tz is not None else at.astimezone().replace(tzinfo=None)


helpdesk.db.datetime = ClockDatetime  # type: ignore[misc]

if __name__ == "__main__":
    from helpdesk.cli import run

    sys.exit(run(sys.argv[1:]))
