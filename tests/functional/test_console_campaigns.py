"""Campaigns in the console: a supervisor creates one (refusals under their field), imports a
CSV list (rejected lines and exclusions shown with why), starts it after a confirmation; an agent
joins it, gets a call and records the disposition from the console; the report, its CSV export
(audited) and the audit page; French pages."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.campaigns.models import Campaign, CampaignAttempt, CampaignMember
from helpdesk.extensions import db
from telephony import agent_presence, campaign_dialer
from tests.functional.test_console import compiled_catalogues  # noqa: F401 (French pages)
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.fixture
def signed_in(
    browser: Callable[[], FlaskClient],  # noqa: F811
    make_user: Callable[..., User],
) -> Callable[..., FlaskClient]:
    def make(role: Role = Role.AGENT, **kwargs: Any) -> FlaskClient:
        user = make_user(role, **kwargs)
        client = _sign_in(browser(), user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


FORM = {
    "name": "Winter check-up",
    "kind": "service",
    "legal_basis": "none",
    "channel": "call",
    "script_en": "Hello <b>{{customer.name}}</b>, a check-up?",
    "script_fr": "Bonjour, une visite d'entretien ?",
    "dispositions": "interested | Interested | Intéressé | converted\n"
    "no_answer | No answer | Pas de réponse | retry\n"
    "refused | Refused | Refus | refused",
    "max_attempts": "3",
    "retry_delay_minutes": "60",
}
CSV = b"nom,telephone\nAnne,0612345701\nBad,12\nAnne bis,+33612345701\n"


def test_a_supervisor_runs_a_campaign_and_an_agent_takes_its_call(
    app, app_clock, signed_in, recorded
):
    boss = signed_in(Role.SUPERVISOR)
    assert "No campaign yet" in html(boss.get("/campaigns"))
    r = boss.post("/campaigns", data=FORM | {"name": "", "max_attempts": "99"})
    assert r.status_code == 422
    page = html(r)
    assert 'id="campaign-name-error"' in page and 'id="campaign-max-attempts-error"' in page

    r = boss.post("/campaigns", data=FORM)
    assert r.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    r = boss.post(
        f"/campaigns/{campaign.id}/members",
        data={"source": "csv", "file": (io.BytesIO(CSV), "list.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    page = html(boss.get(f"/campaigns/{campaign.id}/members"))
    assert "1 added" in page
    assert "Not a valid phone number" in page and "Already on the list" in page
    listing = html(boss.get("/campaigns"))
    assert "Winter check-up" in listing and "data-confirm=" in listing
    # A draft is started or abandoned, never "finished".
    assert 'data-campaign-status="finished">Abandon the draft<' in listing
    assert ">Finish<" not in listing and 'data-campaign-status="paused"' not in listing
    assert (
        boss.post(f"/campaigns/{campaign.id}/status", data={"status": "active"}).status_code == 302
    )
    db.session.refresh(campaign)
    assert campaign.status == "active"

    agent = signed_in(Role.AGENT)
    page = html(agent.get("/campaigns"))
    assert "Join campaign" in page and "/edit" not in page  # agents do not manage
    agent.post(f"/campaigns/{campaign.id}/join", data={"joined": "1"})
    assert "Leave campaign" in html(agent.get("/campaigns"))
    agent_presence.set_presence(db.session, user=agent.user, state="available")

    r = agent.post("/campaigns/dialer/next", headers={"Accept": "application/json"})
    offer = r.get_json()["offer"]
    assert r.get_json()["placed"] and offer["member"]["number"] == "+33612345701"
    assert offer["script"] == "Bonjour, une visite d'entretien ?"
    shown = agent.get("/campaigns/dialer/current").get_json()["offer"]
    assert shown["attempt_id"] == offer["attempt_id"]

    r = agent.post(
        f"/campaigns/attempts/{offer['attempt_id']}/disposition",
        data={"disposition": "interested", "notes": "Wants Tuesday"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200 and r.get_json() == {"ok": True}
    member = db.session.scalar(select(CampaignMember))
    db.session.refresh(member)
    assert member.status == "done" and member.last_disposition == "interested"
    assert agent.get("/campaigns/dialer/current").get_json()["offer"] is None
    # A second disposition for the same call is refused.
    again = agent.post(
        f"/campaigns/attempts/{offer['attempt_id']}/disposition",
        data={"disposition": "refused"},
        headers={"Accept": "application/json"},
    )
    assert again.status_code == 409

    # The wallboard's panel: its figures pushed to the supervisors with the disposition.
    pushed = recorded.named("campaign.figures")[-1]
    assert pushed.rooms == ("supervisors",)
    assert (pushed.payload["converted"], pushed.payload["reached"]) == (1, 1)
    board = html(boss.get("/wallboard"))
    assert f'data-campaign-row="{campaign.id}"' in board and "Winter check-up" in board
    assert 'class="grid compact" id="wb-campaigns-table"' in board

    report = html(boss.get(f"/campaigns/{campaign.id}/report"))
    assert "Interested" in report and 'id="report-agents"' in report
    csv_text = html(boss.get(f"/campaigns/{campaign.id}/report.csv"))
    assert "disposition,interested,1" in csv_text
    audit = html(boss.get(f"/campaigns/{campaign.id}/audit"))
    assert "attempt-allowed" in audit and "Wants Tuesday" in audit
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"campaign.create", "campaign.members_import", "campaign.status"} <= actions
    assert "report.export" in actions
    assert agent.get(f"/campaigns/{campaign.id}/audit").status_code == 403


def test_scripts_are_shown_as_text_and_pages_speak_french(app, app_clock, signed_in, make_user):
    boss = signed_in(Role.SUPERVISOR, locale="fr")
    boss.post("/campaigns", data=FORM)
    campaign = db.session.scalar(select(Campaign))
    page = html(boss.get(f"/campaigns/{campaign.id}/edit"))
    assert "&lt;b&gt;{{customer.name}}&lt;/b&gt;" in page and "<b>{{" not in page
    assert "Modifier la campagne" in page
    assert "Personne sur la liste" in html(boss.get(f"/campaigns/{campaign.id}/members"))
    audit = html(boss.get(f"/campaigns/{campaign.id}/audit"))
    assert "Aucune tentative" in audit
    # No elision to get wrong ("Journal de Asie…"): the name stands in quotes.
    assert "Journal de la campagne « Winter check-up »" in audit
    assert "Appel de campagne :" in html(boss.get("/tickets"))


def test_a_blocked_attempt_shows_its_reason_in_the_audit(app, app_clock, signed_in, make_user):
    from datetime import time

    from helpdesk.campaigns import service
    from helpdesk.campaigns.lists import Candidate
    from tests.functional.campaign_fixtures import agent as make_agent
    from tests.functional.campaign_fixtures import gateway

    boss = signed_in(Role.SUPERVISOR)
    campaign = service.create(
        db.session,
        actor=boss.user,
        **{
            k: v
            for k, v in FORM.items()
            if k not in ("dispositions", "max_attempts", "retry_delay_minutes")
        },
        window_start=time(18, 0),
        window_end=time(19, 0),
    )
    service.add_members(
        db.session,
        campaign,
        [Candidate(2, "Zoé", "+33612345702", None, None, "fr")],
        actor=boss.user,
    )
    service.set_status(db.session, campaign, status="active", actor=boss.user)
    user = make_agent(make_user)
    service.join(db.session, campaign, user=user)
    campaign_dialer.offer_next(db.session, agent_id=user.id, gateway=gateway(app))
    attempt = db.session.scalar(select(CampaignAttempt))
    assert not attempt.allowed
    audit = html(boss.get(f"/campaigns/{campaign.id}/audit"))
    assert "attempt-blocked" in audit and "Outside the permitted hours" in audit
    # The rules that applied read as words, not as their stored codes.
    assert attempt.rules and all(code not in audit for code in attempt.rules), attempt.rules


def test_nobody_called_now_says_why_and_when_to_the_agent_and_the_supervisor(
    app, app_clock, signed_in, make_user
):
    """At noon with a window from 18:00 (the callee's time), the agent is told who waits, why
    and the next possible contact; the list, the members page and the audit say the same."""
    from datetime import time

    from helpdesk.campaigns import service
    from helpdesk.campaigns.lists import Candidate

    boss = signed_in(Role.SUPERVISOR)
    campaign = service.create(
        db.session,
        actor=boss.user,
        **{
            k: v
            for k, v in FORM.items()
            if k not in ("dispositions", "max_attempts", "retry_delay_minutes")
        },
        window_start=time(18, 0),
        window_end=time(19, 0),
    )
    service.add_members(
        db.session,
        campaign,
        [Candidate(2, "Zoé", "+33612345702", None, None, "fr")],
        actor=boss.user,
    )
    service.set_status(db.session, campaign, status="active", actor=boss.user)
    agent = signed_in(Role.AGENT, locale="fr", skills={"support": 3})
    agent.post(f"/campaigns/{campaign.id}/join", data={"joined": "1"})
    agent_presence.set_presence(db.session, user=agent.user, state="available")

    page = html(agent.post("/campaigns/dialer/next", follow_redirects=True))
    assert "Personne n\u2019est à appeler maintenant" in page
    assert "1 personne attend (En dehors des heures permises : 1)." in page
    assert "Prochain contact possible : mercredi 18:00 (UTC+01:00)" in page
    assert "heures d\u2019appel légales" in page

    api = agent.post("/campaigns/dialer/next", headers={"Accept": "application/json"})
    assert api.get_json()["reason"] == "nobody_due"

    listing = html(boss.get("/campaigns"))
    assert "1 person waits (Outside the permitted hours: 1)." in listing
    assert "Wednesday 6:00" in listing and "(UTC+01:00) in the callee" in listing
    members = html(boss.get(f"/campaigns/{campaign.id}/members"))
    assert "Blocked: Outside the permitted hours" in members
    member = db.session.scalar(select(CampaignMember))
    audit = html(boss.get(f"/campaigns/{campaign.id}/audit"))
    assert "Blocked: Outside the permitted hours" in audit
    assert "Wednesday 12:00" in audit  # the callee's time then, not an ISO string
    assert "T12:00" not in audit
    assert "+33 6 12 34 57 02" in audit
    assert member.next_attempt_at is not None
    # The next attempt, as the console writes times, on the blocked attempt's row.
    assert audit.count("6:00") >= 1 and "Delivery" in audit and ">Blocked<" in audit


def test_the_form_refusals_are_in_french_on_a_french_page(app, app_clock, signed_in):
    boss = signed_in(Role.SUPERVISOR, locale="fr")
    r = boss.post(
        "/campaigns",
        data=FORM
        | {
            "name": "",
            "max_attempts": "99",
            "script_fr": "Bonjour {{prenom}}",
            "dispositions": "interested | Interested | Intéressé | maybe\n"
            "no_answer | No answer | Pas de réponse | retry",
        },
    )
    assert r.status_code == 422
    page = html(r)
    assert "Un nom de 1 à 120 caractères." in page
    assert "Entre 1 et 10." in page
    assert "Variable inconnue : prenom." in page
    assert "Ligne 1, résultat : L\u2019une des valeurs" in page
    for english in ("a name of 1 to 120", "between 1 and 10", "unknown placeholder", "one of "):
        assert english not in page


def test_starting_a_list_where_everyone_is_excluded_says_so_and_why(app, app_clock, signed_in):
    from helpdesk.campaigns import service
    from helpdesk.campaigns.lists import Candidate

    boss = signed_in(Role.SUPERVISOR, locale="fr")
    campaign = service.create(
        db.session,
        actor=boss.user,
        **{
            k: v
            for k, v in FORM.items()
            if k not in ("dispositions", "max_attempts", "retry_delay_minutes")
        },
    )
    service.add_members(
        db.session,
        campaign,
        [Candidate(i + 2, f"P{i}", None, f"p{i}@example.com", None, "fr") for i in range(3)],
        actor=boss.user,
    )
    page = html(
        boss.post(
            f"/campaigns/{campaign.id}/status", data={"status": "active"}, follow_redirects=True
        )
    )
    assert "les 3 personnes sont toutes exclues (" in page and " : 3)" in page
    assert "ajoutez d\u2019abord" not in page and "ajoutez d'abord" not in page
