"""Two real web processes on one PostgreSQL and one Redis: what one of them has cached (a token's
owner, a console sign-in, the SLA policies) is dropped by the other's commit, through Redis, at
once."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from helpdesk.app import create_app
from helpdesk.auth import service as auth
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from tests.services.test_realtime_processes import _port, _up, _web


def _until(check, what: str, limit_s: float = 5.0):  # type: ignore[no-untyped-def]
    """Poll `check` until it is true; the limit guards against an invalidation never arriving
    (the cache's own expiry is 30 s or more, far beyond it)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError(what)


PASSWORD = "long enough pw"
AGENT = "ag@example.com"


def _staff(settings) -> tuple[str, str, int]:  # type: ignore[no-untyped-def]
    """An administrator and an agent: their API tokens and the agent's id."""
    app = create_app(settings)
    with app.app_context():
        admin = auth.create_user(
            session=db.session, email="adm@example.com", password=PASSWORD, role=Role.ADMIN
        )
        agent = auth.create_user(
            session=db.session, email=AGENT, password=PASSWORD, role=Role.AGENT
        )
        tokens = (
            auth.issue_token(session=db.session, user=admin),
            auth.issue_token(session=db.session, user=agent),
            agent.id,
        )
        db.session.remove()
        db.engine.dispose()
    return tokens


@contextmanager
def _two_web_processes(database, redis_url, tmp_path) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Two web processes on the same database and Redis: their base addresses."""
    ports = (_port(), _port())
    procs = [_web(database.url, redis_url, p, tmp_path) for p in ports]
    try:
        for port in ports:
            _up(port)
        yield (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
    database.reset()


def test_a_revocation_and_a_new_policy_reach_the_other_process_cache(
    settings, database, redis_url, tmp_path
):
    admin_token, agent_token, agent_id = _staff(settings)
    as_admin = {"Authorization": f"Bearer {admin_token}"}
    as_agent = {"Authorization": f"Bearer {agent_token}"}
    with _two_web_processes(database, redis_url, tmp_path) as (root_a, root_b):
        a, b = f"{root_a}/api/v1", f"{root_b}/api/v1"
        # B knows the agent's token (first use, then read once, then from its cache)...
        for _ in range(3):
            assert requests.get(f"{b}/users/me", headers=as_agent, timeout=10).status_code == 200
        # ...and A revokes it: B refuses it almost at once.
        revoked = requests.delete(f"{a}/users/{agent_id}/tokens", headers=as_admin, timeout=10)
        assert revoked.json() == {"ended": 1}, revoked.text
        started = time.monotonic()
        _until(
            lambda: requests.get(f"{b}/users/me", headers=as_agent, timeout=10).status_code == 401,
            "process B still accepts a token revoked through process A",
        )
        assert time.monotonic() - started < 2

        # B has read "no policy" while creating tickets; A adds one; B's next ticket gets clocks.
        customer = requests.post(
            f"{b}/customers", headers=as_admin, json={"name": "Two Processes"}, timeout=10
        ).json()["id"]
        for n in range(2):
            made = requests.post(
                f"{b}/tickets",
                headers=as_admin,
                json={"subject": f"before {n}", "requester_id": customer},
                timeout=10,
            )
            assert made.status_code == 201, made.text
        calendar = requests.post(
            f"{a}/sla/calendars",
            headers=as_admin,
            json={"name": "Always", "always_open": True},
            timeout=10,
        ).json()["id"]
        policy = requests.post(
            f"{a}/sla/policies",
            headers=as_admin,
            json={
                "name": "All",
                "calendar_id": calendar,
                "targets": {"normal": {"first_response": 3600}},
            },
            timeout=10,
        )
        assert policy.status_code == 201, policy.text

        def clocked() -> bool:
            made = requests.post(
                f"{b}/tickets",
                headers=as_admin,
                json={"subject": "after", "requester_id": customer},
                timeout=10,
            ).json()["id"]
            sla = requests.get(f"{b}/tickets/{made}/sla", headers=as_admin, timeout=10).json()
            return [c["metric"] for c in sla["clocks"]] == ["first_response"]

        _until(clocked, "process B kept using its cached 'no policy' after A added one", 2.0)


def test_a_console_sign_in_ended_through_one_process_is_refused_by_the_other(
    settings, database, redis_url, tmp_path
):
    admin_token, _agent_token, agent_id = _staff(settings)
    with _two_web_processes(database, redis_url, tmp_path) as (a, b):
        browser = requests.Session()
        page = browser.get(f"{b}/login", timeout=10).text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found
        signed = browser.post(
            f"{b}/login",
            data={"email": AGENT, "password": PASSWORD, "csrf_token": found[1]},
            allow_redirects=False,
            timeout=10,
        )
        assert signed.status_code == 302, signed.text

        def let_in() -> bool:
            r = browser.get(f"{b}/tickets", allow_redirects=False, timeout=10)
            return r.status_code == 200

        # B reads the sign-in once, then serves it from its cache...
        assert all(let_in() for _ in range(3))
        # ...and an administrator ends the agent's sessions through A: B refuses the cookie.
        ended = requests.delete(
            f"{a}/api/v1/users/{agent_id}/sessions",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=10,
        )
        assert ended.status_code == 200 and ended.json() == {"ended": 1}, ended.text
        started = time.monotonic()
        _until(lambda: not let_in(), "process B still lets in a sign-in ended through A")
        assert time.monotonic() - started < 2
