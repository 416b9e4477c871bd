"""The browser tier: a real server in a subprocess, driven with Playwright in Debian's Chromium.

The server is started the way `make run` starts it (`helpdesk db upgrade`, then `helpdesk serve`)
on a temporary SQLite database, with its in-process scheduler running the SLA breach scan every
30 seconds. Minimal data is written through the services before it starts; tests then change
things through the REST API, so that every live event comes from the server process itself.

Without Playwright or Chromium the tests are skipped with the reason, except under CI=true where
a missing browser fails the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.conftest import IN_CI, PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HELPDESK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 30


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives the console in headless Chromium with Playwright (skipped without them, "
        "a failure in CI)",
    )


def _missing() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (pip install playwright)")
    if not Path(CHROMIUM).exists():
        missing.append(f"Chromium at {CHROMIUM} (Debian package: chromium)")
    return missing


def require_browser() -> None:
    missing = _missing()
    if not missing:
        return
    message = f"the browser tier needs {' and '.join(missing)}, which this machine lacks"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing browser is a failure)")
    pytest.skip(message)


# -- the server ------------------------------------------------------------------------------


@dataclass
class LiveServer:
    base_url: str
    log: Path
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def token(self, who: str) -> str:
        email = self.people[who]["email"]
        answer = requests.post(
            self.base_url + "/api/v1/auth/token",
            json={"email": email, "password": PASSWORD},
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["token"])

    def api(self, method: str, path: str, who: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token(who)}"}
        return requests.request(
            method, self.base_url + "/api/v1" + path, headers=headers, timeout=10, **kwargs
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(env: dict[str, str]) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Staff, two calendars, three policies and the tickets the tests look at.

    - "Standard" (24/7): first reply within 45 minutes, so a countdown visibly runs.
    - "Night desk": a calendar closed for the next hours (a closure over now); its clocks run
      but no business time passes, so their countdown must not move.
    - "Alerts" (customers tagged `alert`): first reply within 20 seconds, at risk after 10.

    For calls: the IVR's "support" queue, which the agent can take (French and English), with a
    wrap-up long enough to write notes in; and a customer whose name is markup.
    """
    from sqlalchemy import select

    from helpdesk.app import create_app
    from helpdesk.auth import service as auth_service
    from helpdesk.config import Settings
    from helpdesk.customers import service as customers
    from helpdesk.db import utcnow
    from helpdesk.extensions import db
    from helpdesk.sla.models import CalendarException, CalendarModel, SlaPolicy
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Status
    from helpdesk.timeline import service as timeline
    from telephony.models import CallQueue

    settings = Settings.from_env(
        env={},
        DATABASE_URL=env["DATABASE_URL"],
        HELPDESK_INSTANCE_PATH=env["HELPDESK_INSTANCE_PATH"],
        SECRET_KEY=env["SECRET_KEY"],
        TESTING=True,
        HELPDESK_SCHEDULER=False,
    )
    app = create_app(settings)
    with app.app_context():
        people = {}
        staff = (("agent", "Alice Agent"), ("supervisor", "Sam Supervisor"), ("admin", "Ada Admin"))
        for role, name in staff:
            user = auth_service.create_user(
                session=db.session,
                email=f"{role}@browser.test",
                password=PASSWORD,
                role=role,
                name=name,
                skills={"support": 3} if role == "agent" else None,
                languages=["fr", "en"],
            )
            people[role] = {"id": user.id, "email": user.email, "name": user.name}
        now = utcnow()
        always = CalendarModel(name="24/7", timezone="Europe/Paris", always_open=True)
        night = CalendarModel(name="Night desk", timezone="Europe/Paris", always_open=True)
        night.exceptions = [
            CalendarException(
                kind="closure",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=6),
                label="Closed for the test",
            )
        ]
        db.session.add_all([always, night])
        db.session.flush()
        every = ("low", "normal", "high", "urgent")
        db.session.add_all(
            [
                SlaPolicy(
                    name="Alerts",
                    position=1,
                    calendar_id=always.id,
                    conditions={"customer_tags": ["alert"]},
                    targets={p: {"first_response": 20} for p in every},
                    at_risk_ratio=0.5,
                ),
                SlaPolicy(
                    name="Night",
                    position=2,
                    calendar_id=night.id,
                    conditions={"customer_tags": ["night"]},
                    targets={p: {"first_response": 45 * 60} for p in every},
                ),
                SlaPolicy(
                    name="Standard",
                    position=10,
                    calendar_id=always.id,
                    targets={p: {"first_response": 45 * 60, "resolution": 8 * 3600} for p in every},
                ),
            ]
        )
        # `helpdesk db upgrade` created the IVR's queues with their defaults: tune "support".
        support = db.session.scalar(select(CallQueue).where(CallQueue.name == "support"))
        support.skills = {"support": 1}
        support.ring_timeout_s = 60
        support.wrap_up_s = 300
        db.session.commit()
        plain = customers.create(db.session, name="Camille Martin", phones=["+33612000001"])
        sleeper = customers.create(
            db.session, name="Noor Night", phones=["+33612000002"], tags=["night"]
        )
        urgent = customers.create(
            db.session, name="Alex Alert", phones=["+33612000003"], tags=["alert"]
        )
        # The call controls' caller: their calls and notes stay off Camille's screen, which
        # the call-flow test reads.
        customers.create(db.session, name="Chloé Contrôle", phones=["+33612000011"])
        agent_id = people["agent"]["id"]
        running = tickets.create(
            db.session,
            actor=None,
            subject="Countdown is running",
            requester_id=plain.id,
            assignee_id=agent_id,
        )
        waiting = tickets.create(
            db.session,
            actor=None,
            subject="Waiting on the customer",
            requester_id=plain.id,
            assignee_id=agent_id,
        )
        tickets.update(db.session, waiting, actor=None, status=Status.PENDING)
        closed = tickets.create(
            db.session,
            actor=None,
            subject="Desk closed tonight",
            requester_id=sleeper.id,
            assignee_id=agent_id,
        )
        answered = tickets.create(
            db.session,
            actor=None,
            subject="Answered in time",
            requester_id=plain.id,
            assignee_id=agent_id,
        )
        tickets.add_comment(
            db.session,
            answered,
            body="We are on it.",
            public=True,
            actor=auth_service.get_user(session=db.session, user_id=agent_id),
        )
        markup = customers.create(
            db.session, name="<img src=x onerror=alert(1)>", phones=["+33612000009"]
        )
        # A text they sent, as the SMS webhook records it on the timeline: markup again.
        timeline.append(
            db.session,
            customer_id=markup.id,
            kind="sms",
            summary="<img src=x onerror=alert(2)> my box is down",
            data={"direction": "inbound"},
        )
        tickets.create(
            db.session,
            actor=None,
            subject="<script>window.injected = true</script> Box down",
            requester_id=markup.id,
        )
        db.session.commit()
        ids = {
            "camille": plain.id,
            "markup_customer": markup.id,
            "running": running.id,
            "waiting": waiting.id,
            "closed": closed.id,
            "alert_customer": urgent.id,
        }
        db.session.remove()
        db.engine.dispose()
    return people, ids


@contextmanager
def serving(
    home: Path,
    *,
    module: str = "helpdesk.cli",
    env: dict[str, str] | None = None,
    seed_more: Callable[[dict[str, str], dict[str, Any]], dict[str, int]] | None = None,
) -> Iterator[LiveServer]:
    """A migrated, seeded server of `module`'s `serve` (the CLI, or a wrapper of it) on a free
    port, with its own SQLite database under `home`; `seed_more` adds ids to the seeded ones."""
    port = _free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{home / 'helpdesk.sqlite3'}",
        "HELPDESK_INSTANCE_PATH": str(home / "instance"),
        "SECRET_KEY": "browser-tier-secret",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
        # Webhook receivers in browser tests listen on 127.0.0.1.
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        **(env or {}),
    }
    full_env.pop("REDIS_URL", None)
    exe = [sys.executable, "-m", module]
    subprocess.run([*exe, "db", "upgrade"], env=full_env, cwd=ROOT, check=True, capture_output=True)
    people, ids = _seed(full_env)
    if seed_more is not None:
        ids.update(seed_more(full_env, people))
    log = home / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*exe, "serve", "--port", str(port)],
            env=full_env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    live = LiveServer(base_url=f"http://127.0.0.1:{port}", log=log, people=people, ids=ids)
    try:
        _wait_until_up(live, server)
        yield live
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_browser()
    with serving(tmp_path_factory.mktemp("browser")) as live:
        yield live


def _wait_until_up(live: LiveServer, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if requests.get(live.base_url + "/healthz", timeout=1).ok:
                return
        except requests.RequestException:  # refused, or accepted while the worker loads
            pass
        time.sleep(0.2)
    pytest.fail("the server did not start:\n" + live.log.read_text(errors="replace"))


# -- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One Playwright and one Chromium for the whole tier: Playwright's sync API cannot run a
    second instance while one is open."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def browser(live_server: LiveServer, chromium: Browser) -> Browser:
    return chromium


@dataclass
class Console:
    """A signed-in browser page and what its console said."""

    page: Page
    errors: list[str]


@pytest.fixture
def sign_in(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[str], Console]]:
    """`sign_in("agent")`: a new browser context signed in as that person."""
    contexts = []

    def open_as(who: str) -> Console:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live_server.base_url + "/login")
        page.fill("#email", live_server.people[who]["email"])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/tickets")
        return Console(page=page, errors=errors)

    yield open_as
    for context in contexts:
        context.close()
