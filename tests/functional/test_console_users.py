"""Staff accounts from the console: created and changed by the API's rules and services (the same
refusals, shown next to the field), a new password or a deactivation ends every sign-in, the last
active administrator stays one, and each change is in the audit log without any password."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth import access, service
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db, socketio
from tests.conftest import PASSWORD
from tests.functional.test_console import compiled_catalogues  # noqa: F401  (fixture)
from tests.functional.test_revocation import (
    NS,
    _bearer,
    _sign_in,
    _signed_in,
    browser,  # noqa: F401  (fixture)
    live_events,  # noqa: F401  (fixture)
)

NEW_PASSWORD = "plum-harbour-violin-42"


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def console(browser: Callable[[], FlaskClient], admin: User) -> FlaskClient:  # noqa: F811
    return _sign_in(browser(), admin)


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _error_of(page: str, field_id: str) -> str:
    """The error shown under a field, which the field names with aria-describedby."""
    assert re.search(
        rf'id="{field_id}"[^>]*aria-(invalid="true" aria-)?describedby="{field_id}-error"', page
    ), f"{field_id} is not marked invalid"
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', page)
    assert found, f"no error under {field_id}"
    return found.group(1)


def _audit(target: User | int) -> list[AuditEntry]:
    target_id = target if isinstance(target, int) else target.id
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "user", AuditEntry.target_id == str(target_id))
            .order_by(AuditEntry.id)
        )
    )


def _user(email: str) -> User:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


NEW_AGENT = {
    "email": " Nina.Noel@Example.com ",
    "password": NEW_PASSWORD,
    "name": "Nina Noël",
    "role": "agent",
    "locale": "fr",
    "skill": ["Billing", "fibre", ""],
    "skill_level": ["4", "2", "1"],
    "languages": "fr, EN",
    "groups": "Level 2, Night shift",
}


def test_an_admin_creates_a_user_who_can_then_sign_in(
    console: FlaskClient,
    admin: User,
    browser: Callable[[], FlaskClient],  # noqa: F811
) -> None:
    listing = html(console.get("/admin/users"))
    assert 'href="/admin/users/new"' in listing
    form = html(console.get("/admin/users/new"))
    assert 'id="new-user-form"' in form and 'for="new-user-password"' in form
    answer = console.post("/admin/users/new", data=NEW_AGENT)
    assert answer.status_code == 302, html(answer)[:500]
    user = _user("nina.noel@example.com")
    assert answer.headers["Location"].endswith(f"/admin/users/{user.id}")
    assert (user.name, user.role, user.locale) == ("Nina Noël", Role.AGENT, "fr")
    assert {s.skill: s.level for s in user.skills} == {"billing": 4, "fibre": 2}
    assert user.languages == ["fr", "en"]
    assert [g.name for g in user.groups] == ["Level 2", "Night shift"]
    page = html(console.get(f"/admin/users/{user.id}"))
    assert 'value="billing"' in page and 'value="Level 2, Night shift"' in page
    agent = browser()
    assert agent.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
    assert _signed_in(agent)
    [entry] = _audit(user)
    assert entry.action == "user.create" and entry.actor_id == admin.id
    assert entry.details["skills"] == {"billing": 4, "fibre": 2}
    assert entry.details["email"] == "nina.noel@example.com"
    assert NEW_PASSWORD not in str(entry.details) and "password" not in entry.details


def test_refused_input_is_shown_by_field_and_what_was_typed_is_kept(
    console: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(Role.AGENT, email="taken@example.com")
    bad = {
        **NEW_AGENT,
        "email": "not-an-address",
        "password": "12345678",
        "skill": ["billing"],
        "skill_level": ["9"],
    }
    answer = console.post("/admin/users/new", data=bad)
    assert answer.status_code == 422
    page = html(answer)
    # Said for a person (and translated), not the validator's own English.
    assert _error_of(page, "new-user-email") == "This is not an e-mail address."
    assert 'value="not-an-address"' in page and 'value="Nina Noël"' in page
    assert 'value="billing"' in page and "12345678" not in page  # a password is never shown back
    # The model accepts the rest; then the service's own rules refuse the skill level and the
    # password, as the API's would.
    answer = console.post("/admin/users/new", data={**bad, "email": "nina@example.com"})
    assert answer.status_code == 422
    assert _error_of(html(answer), "new-user-skills") == "billing: the level goes from 1 to 5."
    answer = console.post(
        "/admin/users/new", data={**NEW_AGENT, "email": "nina@example.com", "password": "12345678"}
    )
    assert _error_of(html(answer), "new-user-password") == (
        "Too easy to guess: one of the most common passwords."
    )
    answer = console.post("/admin/users/new", data={**NEW_AGENT, "email": "taken@example.com"})
    assert answer.status_code == 422
    assert _error_of(html(answer), "new-user-email") == (
        "A user with this e-mail address already exists."
    )
    assert db.session.scalar(select(User).where(User.email == "nina@example.com")) is None
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.create")
    ).all()


def _edit(user: User, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": user.name,
        "role": user.role.value,
        "locale": user.locale,
        "skill": [s.skill for s in user.skills],
        "skill_level": [str(s.level) for s in user.skills],
        "languages": ", ".join(user.languages),
        "groups": ", ".join(g.name for g in user.groups),
    }
    return {**form, **changes}


def test_an_admin_changes_skills_then_the_role_each_audited(
    app: Flask,
    console: FlaskClient,
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
    live_events: None,  # noqa: F811
) -> None:
    agent = make_user(Role.AGENT, name="Bob Agent", skills={"billing": 2}, languages=["fr"])
    page = html(console.get(f"/admin/users/{agent.id}"))
    assert 'id="user-form"' in page and "Not signed in to the console anywhere." in page
    answer = console.post(
        f"/admin/users/{agent.id}/edit",
        data=_edit(agent, skill=["billing", "mobile", ""], skill_level=["5", "3", "1"]),
    )
    assert answer.status_code == 302
    agent = _user(agent.email)
    assert {s.skill: s.level for s in agent.skills} == {"billing": 5, "mobile": 3}
    token = token_for(agent)
    sock = socketio.test_client(app, namespace=NS, auth={"token": token})
    assert sock.is_connected(NS)
    answer = console.post(
        f"/admin/users/{agent.id}/edit", data=_edit(agent, role="supervisor", groups="Leads")
    )
    # The live connection closes, to reconnect into the supervisors' rooms; the token still works.
    assert not sock.is_connected(NS)
    assert answer.status_code == 302
    agent = _user(agent.email)
    assert agent.role is Role.SUPERVISOR and [g.name for g in agent.groups] == ["Leads"]
    assert console.get("/api/v1/users/me", headers=_bearer(token)).status_code == 200
    first, second = _audit(agent)
    assert (first.action, first.details) == (
        "user.update",
        {"skills": {"billing": 5, "mobile": 3}},
    )
    assert second.action == "user.role_change"
    assert second.details == {"role": "supervisor", "groups": ["Leads"]}


def test_a_refused_change_is_shown_under_its_field(
    console: FlaskClient, make_user: Callable[..., User]
) -> None:
    agent = make_user(Role.AGENT, name="Bob Agent")
    answer = console.post(
        f"/admin/users/{agent.id}/edit",
        data=_edit(agent, name="", skill=["billing"], skill_level=["0"], groups="x" * 101),
    )
    assert answer.status_code == 422
    page = html(answer)
    assert _error_of(page, "user-name") == "Required."
    assert _error_of(page, "user-groups")
    assert 'value="billing"' in page
    assert _user(agent.email).name == "Bob Agent"
    assert _audit(agent) == []


def test_deactivating_ends_every_sign_in_and_reactivating_lets_them_back(
    app: Flask,
    console: FlaskClient,
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
    browser: Callable[[], FlaskClient],  # noqa: F811
    live_events: None,  # noqa: F811
) -> None:
    agent = make_user(Role.AGENT, name="Bob Agent")
    agents_browser = _sign_in(browser(), agent)
    token = token_for(agent)
    sock = socketio.test_client(app, namespace=NS, auth={"token": token})
    assert sock.is_connected(NS)
    answer = console.post(f"/admin/users/{agent.id}/deactivate", follow_redirects=True)
    assert "Bob Agent is deactivated and was signed out everywhere." in html(answer)
    assert 'id="reactivate-user"' in html(answer)
    assert not sock.is_connected(NS)
    assert not _signed_in(agents_browser)
    refused = browser().post("/login", data={"email": agent.email, "password": PASSWORD})
    assert refused.status_code != 302
    console.post(f"/admin/users/{agent.id}/reactivate")
    agent = _user(agent.email)
    # Reactivation lets them sign in afresh; what was open before stays ended.
    assert access.console_sessions(session=db.session, user=agent) == []
    assert access.api_tokens(session=db.session, user=agent) == []
    assert not _signed_in(agents_browser)
    assert console.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401
    assert _signed_in(_sign_in(browser(), agent))
    assert [e.action for e in _audit(agent)] == ["user.deactivate", "user.reactivate"]
    assert _signed_in(console)


def test_a_password_reset_signs_the_user_out_everywhere(
    console: FlaskClient,
    make_user: Callable[..., User],
    token_for: Callable[[User], str],
    browser: Callable[[], FlaskClient],  # noqa: F811
) -> None:
    agent = make_user(Role.AGENT, name="Bob Agent")
    agents_browser = _sign_in(browser(), agent)
    token = token_for(agent)
    weak = console.post(f"/admin/users/{agent.id}/password", data={"password": "short"})
    assert weak.status_code == 422
    assert _error_of(html(weak), "user-password") == "At least 8 characters."
    assert _signed_in(agents_browser)
    answer = console.post(f"/admin/users/{agent.id}/password", data={"password": NEW_PASSWORD})
    assert answer.status_code == 302
    assert not _signed_in(agents_browser)
    assert console.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401
    assert _signed_in(_sign_in_with(browser(), agent, NEW_PASSWORD))
    [entry] = _audit(agent)
    assert entry.action == "user.password_reset"
    assert entry.details == {"password": "[changed]"}
    assert NEW_PASSWORD not in str(entry.details)


def _sign_in_with(client: FlaskClient, user: User, password: str) -> FlaskClient:
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302
    return client


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(
    console: FlaskClient, admin: User, make_user: Callable[..., User]
) -> None:
    demoted = console.post(f"/admin/users/{admin.id}/edit", data=_edit(admin, role="agent"))
    assert demoted.status_code == 422
    assert "No other active administrator would be left" in _error_of(html(demoted), "user-role")
    gone = console.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "No other active administrator would be left" in html(gone)
    admin = _user(admin.email)
    assert admin.role is Role.ADMIN and admin.active
    assert _signed_in(console)
    assert _audit(admin) == []
    # With another active administrator, stepping down is allowed.
    make_user(Role.ADMIN, name="Second Admin")
    stepped = console.post(f"/admin/users/{admin.id}/edit", data=_edit(admin, role="supervisor"))
    assert stepped.status_code == 302 and stepped.headers["Location"] == "/"
    assert _user(admin.email).role is Role.SUPERVISOR


def test_the_api_keeps_the_last_active_admin_too(
    app: Flask, admin: User, make_user: Callable[..., User], token_for: Callable[[User], str]
) -> None:
    client = app.test_client()
    headers = _bearer(token_for(admin))
    for change in ({"role": "agent"}, {"active": False}):
        answer = client.patch(f"/api/v1/users/{admin.id}", json=change, headers=headers)
        assert answer.status_code == 409, change
        assert answer.get_json()["error"]["code"] == "last_admin"
    other = make_user(Role.ADMIN)
    service.update_user(session=db.session, user=other, active=False)
    answer = client.patch(f"/api/v1/users/{admin.id}", json={"active": False}, headers=headers)
    assert answer.status_code == 409  # a deactivated admin does not count
    answer = client.patch(
        f"/api/v1/users/{admin.id}", json={"groups": ["Leads", "Leads "]}, headers=headers
    )
    assert answer.status_code == 200 and answer.get_json()["groups"] == ["Leads"]


def test_the_pages_read_in_french(
    app: Flask,
    compiled_catalogues: None,  # noqa: F811
    make_user: Callable[..., User],
    browser: Callable[[], FlaskClient],  # noqa: F811
) -> None:
    admin = make_user(Role.ADMIN, name="Ada Admin", locale="fr")
    agent = make_user(Role.AGENT, name="Bob Agent")
    console = _sign_in(browser(), admin)
    listing = html(console.get("/admin/users"))
    assert "Nouvel utilisateur" in listing
    page = html(console.get("/admin/users/new"))
    assert "Mot de passe initial" in page and "Langues parlées" in page
    page = html(console.get(f"/admin/users/{agent.id}"))
    assert "Désactiver" in page and "Définir le mot de passe" in page
    refused = console.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "Il ne resterait aucun autre administrateur actif" in html(refused)


def test_the_services_refusals_are_said_in_french_and_the_api_keeps_its_english(
    browser: Callable[[], FlaskClient],  # noqa: F811
    make_user: Callable[..., User],
    api_as: Callable[..., Any],
) -> None:
    """The password's and the skills' rules are the service's, in English for the API; the
    console words them in the administrator's language from the reason's code."""
    french = _sign_in(browser(), make_user(Role.ADMIN, name="Adèle", locale="fr"))
    answer = french.post(
        "/admin/users/new",
        data={**NEW_AGENT, "email": "nina@example.com", "password": "azertyuiop"},
    )
    assert answer.status_code == 422
    assert _error_of(html(answer), "new-user-password") == (
        "Trop facile à deviner : une rangée du clavier."
    )
    answer = french.post(
        "/admin/users/new",
        data={**NEW_AGENT, "email": "nina@example.com", "password": "nina.noel@example"},
    )
    assert _error_of(html(answer), "new-user-password") == (
        "Trop proche de l\u2019adresse e-mail, du nom ou du nom du produit."
    )
    answer = french.post(
        "/admin/users/new", data={**NEW_AGENT, "email": "nina@example.com", "skill_level": ["9"]}
    )
    assert _error_of(html(answer), "new-user-skills") == "Billing : le niveau va de 1 à 5."

    r = api_as(Role.ADMIN).post(
        "/users",
        json={"email": "nina@example.com", "password": "azertyuiop", "role": "agent"},
    )
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {
        "password": "too easy to guess: a row of the keyboard"
    }
