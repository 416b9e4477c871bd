"""What a new user does first, the README's way: `PORT=<not 5000> make run` on a fresh folder,
then the console in a real browser under both loopback names, a call rung from the simulator at
whatever hour the test runs, and the banner when the server goes away and again once it is back.

The demo is seeded small (HELPDESK_DEMO_CUSTOMERS/TICKETS) to keep the test short; everything
else is what `make run` does: migrate, seed, serve on gunicorn.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from tests.browser.conftest import ROOT, _free_port, require_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

START_TIMEOUT_S = 240
EVENT_TIMEOUT_MS = 15_000


@dataclass
class MadeRun:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    logins: dict[str, str]
    env: dict[str, str]

    def serve_again(self) -> None:
        """The server back on the same port, as `make run` would start it the second time."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/helpdesk"), "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _logins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\S+@demo\.helpdesk)\s+(\S+)$", text, re.MULTILINE))


@pytest.fixture(scope="module")
def made_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MadeRun]:
    require_browser()
    home = tmp_path_factory.mktemp("newcomer")
    port = _free_port()
    assert port != 5000
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{home / 'helpdesk.sqlite3'}",
        "HELPDESK_INSTANCE_PATH": str(home / "instance"),
        "HELPDESK_DEMO_CUSTOMERS": "30",
        "HELPDESK_DEMO_TICKETS": "60",
        "PYTHONUNBUFFERED": "1",
    }
    for unset in ("PUBLIC_BASE_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(unset, None)
    log = home / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = MadeRun(port=port, process=process, log=log, logins={}, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Helpdesk console on http://" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("make run did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.3)
        text = log.read_text(errors="replace")
        run.logins = _logins(text)
        yield run
    finally:
        run.stop()


@pytest.fixture
def browser(made_run: MadeRun, chromium: Browser) -> Browser:
    return chromium


def _sign_in(browser: Browser, base: str, email: str, password: str) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/tickets**")
    return page


def test_make_run_prints_the_url_and_logins_last_and_serves_on_gunicorn(made_run: MadeRun) -> None:
    text = made_run.log.read_text(errors="replace")
    assert "development server" not in text
    assert "No hostname was supplied" not in text
    assert "celery.app.trace" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[-1].startswith(f"Helpdesk console on http://127.0.0.1:{made_run.port}")
    assert {"admin@demo.helpdesk", "agent@demo.helpdesk"} <= set(made_run.logins)
    # Whether calls reach the agents, said before anyone places one (README, "Two commands").
    assert "The center is open now" in text or "The center is closed now" in text
    health = requests.get(f"http://127.0.0.1:{made_run.port}/healthz", timeout=5)
    assert health.ok and health.headers.get("Server") == "gunicorn"  # no version given away


def test_the_console_goes_live_under_both_names_and_a_call_rings_at_any_hour(
    made_run: MadeRun, browser: Browser
) -> None:
    from playwright.sync_api import expect

    agent_pages = []
    for host in ("localhost", "127.0.0.1"):
        base = f"http://{host}:{made_run.port}"
        page = _sign_in(
            browser, base, "agent@demo.helpdesk", made_run.logins["agent@demo.helpdesk"]
        )
        page.wait_for_selector("html[data-live=on]", timeout=EVENT_TIMEOUT_MS)
        expect(page.locator("#live-banner")).to_be_hidden()
        agent_pages.append(page)
    # The agent on localhost takes calls; the other tab closes (one console per agent).
    agent = agent_pages[0]
    agent_pages[1].context.close()
    assert agent.locator("#phone-wrapup:not([hidden])").count() == 0  # the demo left no wrap-up
    agent.click("#presence-form button[value=available]")
    agent.wait_for_selector("#phone-state.presence-available", timeout=EVENT_TIMEOUT_MS)

    admin = _sign_in(
        browser,
        f"http://127.0.0.1:{made_run.port}",
        "admin@demo.helpdesk",
        made_run.logins["admin@demo.helpdesk"],
    )
    admin.goto(f"http://127.0.0.1:{made_run.port}/simulator")
    # Whatever the hour, the demo's center takes calls.
    expect(admin.locator("#sim-hours")).to_have_attribute("data-open", "true")
    number = admin.evaluate(
        "Array.from(document.querySelectorAll('#known option')).map(o => o.value).find(v => v)"
    )
    admin.select_option("#known", number)
    admin.fill("#digits", "1")
    admin.click("#sim-call-button")
    admin.wait_for_selector("#sim-phone:not([hidden])", timeout=EVENT_TIMEOUT_MS)
    agent.wait_for_selector("#phone-ringing:not([hidden])", timeout=EVENT_TIMEOUT_MS)

    # The server goes away: the console says so on screen.
    made_run.stop()
    expect(agent.locator("#live-banner")).to_be_visible(timeout=EVENT_TIMEOUT_MS)
    # The demo agent reads the console in French: the banner says so in their language.
    down = agent.get_attribute("#live-banner", "data-down") or ""
    assert "Reconnexion" in down
    expect(agent.locator("#live-banner .live-banner-text")).to_have_text(down)
    expect(agent.locator("#live-banner .live-banner-action")).to_be_hidden()
    assert agent.evaluate("document.documentElement.getAttribute('data-live')") == "off"
    # The log stayed what an operator needs: nothing at INFO from periodic jobs or requests.
    assert " INFO " not in made_run.log.read_text(errors="replace")
    # The server comes back: the console reconnects by itself and the banner goes away.
    made_run.serve_again()
    agent.wait_for_selector("html[data-live=on]", timeout=START_TIMEOUT_S * 1000)
    expect(agent.locator("#live-banner")).to_be_hidden()
    agent.context.close()
    admin.context.close()
