"""The console in a real browser against the split formation without a proxy (the Procfile's
`web` and `sockets` lines run locally, `SOCKETS_PUBLIC_URL` set): a page opened under
`localhost` or `127.0.0.1` on the web port opens its live connection to the sockets port under
the same name, passes the origin check and the content security policy, and receives events."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.customers import service as customers
from helpdesk.extensions import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.services.formation import Processes, free_port, procfile, wait_until

BIN = Path(sys.executable).parent
PASSWORD = "a long split password"
EVENT_TIMEOUT_MS = 15_000


@pytest.fixture
def split(settings, database, redis_url, tmp_path) -> Iterator[dict[str, Any]]:
    require_browser()
    app = create_app(settings)
    email = f"split-browser-{uuid.uuid4().hex[:8]}@example.com"
    with app.app_context():
        user = auth.create_user(
            session=db.session, email=email, password=PASSWORD, role=Role.AGENT, name="Split"
        )
        token = auth.issue_token(session=db.session, user=user)
        customer_id = customers.create(db.session, name="Split Browser Caller").id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    web_port, live_port = free_port(), free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "TWILIO_"))} | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database.url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "split-browser-secret",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "SOCKETS_PUBLIC_URL": f"http://127.0.0.1:{live_port}",
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
        "HELPDESK_SCHEDULER": "false",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "8",
        "SOCKETS_THREADS": "32",
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(tmp_path, env, logs)
    lines = procfile()
    try:
        procs.start("web", lines["web"], PORT=str(web_port))
        procs.start("sockets", lines["sockets"], SOCKETS_PORT=str(live_port))
        for port in (web_port, live_port):
            wait_until(
                f"port {port}",
                lambda port=port: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok,
                procs,
            )
        yield {
            "web_port": web_port,
            "live_port": live_port,
            "email": email,
            "token": token,
            "customer_id": customer_id,
        }
    finally:
        procs.stop()
        # The tickets and users made here must not be found by the next test on this database.
        database.reset()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_the_console_goes_live_on_the_sockets_process(split: dict[str, Any], host: str) -> None:
    # On a thread of its own: in a whole run the browser tier's session-wide Playwright is still
    # open on the main thread, and a second synchronous Playwright there is refused.
    with ThreadPoolExecutor(max_workers=1) as pool:
        sockets, errors = pool.submit(_console_goes_live, split, host).result()
    assert any(url.startswith(f"ws://{host}:{split['live_port']}/socket.io/") for url in sockets), (
        sockets
    )
    assert errors == []


def _console_goes_live(split: dict[str, Any], host: str) -> tuple[list[str], list[str]]:
    """Sign in under `host`, wait for the live connection, see a ticket made through the API
    arrive; returns the websocket addresses the page opened and its console errors."""
    from playwright.sync_api import expect, sync_playwright

    web = f"http://{host}:{split['web_port']}"
    errors: list[str] = []
    sockets: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_context(locale="en-GB").new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("websocket", lambda ws: sockets.append(ws.url))
            page.goto(web + "/login")
            page.fill("#email", split["email"])
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/tickets")
            page.goto(web + "/tickets?all=1")
            page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)
            # The ticket list follows the tickets feed: a ticket created through the web
            # process (the API) reaches this page through the sockets process.
            r = requests.post(
                f"http://127.0.0.1:{split['web_port']}/api/v1/tickets",
                headers={"Authorization": f"Bearer {split['token']}"},
                json={
                    "subject": f"Live through the sockets process ({host})",
                    "requester_id": split["customer_id"],
                },
                timeout=10,
            )
            assert r.status_code == 201, r.text
            expect(page.locator("body")).to_contain_text(
                f"Live through the sockets process ({host})", timeout=EVENT_TIMEOUT_MS
            )
        finally:
            chromium.close()
    return sockets, errors
