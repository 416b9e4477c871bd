"""The IVR edited in the console: a publication is the configuration the next call follows
(through the voice webhooks), refusals are named under their fields, the preview follows the
unsaved form, and a rollback publishes a copy of an earlier version; each change is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agents_ui.ivr_form import values_of
from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from telephony import ivr, ivr_path, ivr_queues
from telephony.ivr_models import IvrVersion
from telephony.models import Call, CallQueue
from tests.functional.test_console import compiled_catalogues  # noqa: F401 (French pages)
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)


@pytest.fixture
def queues(app: Flask) -> None:
    db.session.add_all(
        [
            CallQueue(name="support", skills={"support": 1}),
            CallQueue(name="billing", skills={"billing": 1}),
            CallQueue(name="repairs", skills={"repairs": 1}),
            CallQueue(name="closed_desk", skills={"x": 1}, active=False),
        ]
    )
    db.session.commit()


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def console(browser: Callable[[], FlaskClient], admin: User) -> FlaskClient:  # noqa: F811
    return _sign_in(browser(), admin)


# The versions' JSON is JSONB on PostgreSQL: the main paths run on both databases.
BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def form(app: Flask, **changes: str) -> dict[str, str]:
    """The editor's form as the page fills it (the configuration in use), with `changes`."""
    values = values_of(ivr.load_file(app.instance_path))
    return {**values, "note": "test", **changes}


def _row(sim_call: Any) -> Call:
    row = db.session.scalar(select(Call).where(Call.call_sid == sim_call.call_sid))
    db.session.refresh(row)
    return row


def test_the_editor_opens_on_the_file_configuration_as_version_0(console, queues):
    page = html(console.get("/admin/ivr"))
    assert "version 0" in page
    assert '<option value="billing" selected>' in page  # key 2 of the packaged menu
    assert "Pour l&#39;assistance, tapez 1." in page
    assert "{position}" in page and "{minutes}" in page  # what the prompt must keep


@BOTH
def test_a_publication_is_what_the_next_call_follows(app, console, queues, customer_factory):
    sim = app.extensions["telephony_simulator"]
    customer_factory(name="Rita", language="en", phones=["+33611110000"])
    assert sim.call("+33611110000", digits="2").queue == "billing"
    r = console.post("/admin/ivr", data=form(app, **{"menu.2.queue": "repairs", "note": "moved"}))
    assert r.status_code == 302, html(r)
    version = db.session.scalar(select(IvrVersion))
    assert version.note == "moved" and version.config["menu"]["2"]["queue"] == "repairs"
    assert version.config["statuses"] == ivr.load_file(app.instance_path)["statuses"]
    call = sim.call("+33611110000", digits="2")
    assert call.state == "queued" and call.queue == "repairs"
    assert _row(call).ivr_path == ["menu:2:queue"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ivr.publish"))
    assert entry.target_id == str(version.id) and entry.details["note"] == "moved"
    assert "Version 1" in html(console.get("/admin/ivr/versions"))


def test_the_cache_is_cleared_by_the_publication(app, console, queues):
    assert ivr.load(app.instance_path)["menu"]["1"]["queue"] == "support"  # read and cached
    console.post("/admin/ivr", data=form(app, **{"menu.1.queue": "repairs"}))
    assert ivr.load(app.instance_path)["menu"]["1"]["queue"] == "repairs"


def test_refusals_name_their_fields_and_nothing_is_published(app, console, queues):
    changes = {
        "menu.5.action": "queue",  # a key leading nowhere
        "menu.2.queue": "closed_desk",  # a queue that takes no callers
        "menu_limits.no_input.queue": "gone",  # a queue that does not exist
        "languages.en": "1",  # the same key as French
        "prompts.fr.position.other": "Vous êtes en position {position}.",  # {minutes} lost
        "prompts.en.goodbye": "",
        "prompts.en.ticket_status": "Ticket {reference} is {state}.",
        "statuses.fr.solved": "",
        "hold_music": "music.mp3",
        "note": "",
    }
    r = console.post("/admin/ivr", data=form(app, **changes))
    assert r.status_code == 422
    page = html(r)
    for field in (
        "menu-5-queue",
        "menu-2-queue",
        "menu_limits-no_input-queue",
        "languages-en",
        "prompts-fr-position-other",
        "prompts-en-goodbye",
        "prompts-en-ticket_status",
        "statuses-fr-solved",
        "hold_music",
    ):
        assert f'id="ivr-{field}-error"' in page, field
    assert 'id="ivr-note-error"' in page
    assert "Choose a queue: this key leads nowhere." in page
    assert "Queue closed_desk is inactive" in page and "Queue gone does not exist" in page
    assert "Keep {minutes}" in page and "{state} cannot be filled in here" in page
    assert "menu-1-queue-error" not in page
    assert db.session.scalar(select(IvrVersion)) is None
    assert db.session.scalar(select(AuditEntry)) is None


def test_refusals_are_in_french_for_a_french_admin(app, browser, make_user, queues):  # noqa: F811
    console = _sign_in(browser(), make_user(Role.ADMIN, locale="fr"))
    r = console.post("/admin/ivr", data=form(app, **{"menu.5.action": "queue"}))
    assert r.status_code == 422
    assert "Choisissez une file : cette touche ne mène nulle part." in html(r)
    assert "Essayer un parcours" in html(r) and "corrigez les champs signalés" in html(r)


def test_the_preview_follows_the_unsaved_form(app, console, queues):
    data = form(app, **{"menu.2.queue": "repairs", "path": "2 2", "caller": "", "preview": "1"})
    r = console.post("/admin/ivr", data=data)
    assert r.status_code == 200
    steps = html(r).split('id="ivr-preview-steps"')[1].split("</ol>")[0]
    assert "Welcome to customer service. For English, press 2." in steps
    assert "Presses 2" in steps and "For support, press 1." in steps
    assert "Waits in queue repairs" in steps and "queue billing" not in steps
    assert db.session.scalar(select(IvrVersion)) is None
    assert db.session.scalar(select(AuditEntry)) is None
    data.update({"menu.2.queue": "gone", "path": "2", "caller": "fr"})
    steps = html(console.post("/admin/ivr", data=data)).split('id="ivr-preview-steps"')[1]
    assert "Waits in queue gone" in steps and "does not exist" in steps


@BOTH
def test_rollback_publishes_a_copy_and_is_audited(app, console, queues, customer_factory):
    console.post("/admin/ivr", data=form(app, **{"menu.2.queue": "repairs"}))
    r = console.post("/admin/ivr/versions/0/rollback")
    assert r.status_code == 302
    newest = db.session.scalar(select(IvrVersion).order_by(IvrVersion.id.desc()))
    assert newest.id == 2 and newest.copied_from == 0
    assert newest.config == ivr.load_file(app.instance_path)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ivr.rollback"))
    assert entry.target_id == "2" and entry.details["copied_from"] == 0
    customer_factory(name="Rob", language="en", phones=["+33611112222"])
    sim = app.extensions["telephony_simulator"]
    assert sim.call("+33611112222", digits="2").queue == "billing"
    r = console.post("/admin/ivr/versions/1/rollback")
    assert db.session.scalar(select(IvrVersion).order_by(IvrVersion.id.desc())).copied_from == 1
    page = html(console.get("/admin/ivr/versions/3"))
    assert "repairs" in page and "Roll back to this version" not in page  # it is in use
    assert "Roll back to this version" in html(console.get("/admin/ivr/versions/1"))
    page = html(console.get("/admin/ivr/versions/0"))
    assert "The packaged configuration" in page and "billing" in page
    page = html(console.get("/admin/ivr?from=0"))  # an earlier version, opened in the editor
    assert '<option value="billing" selected>' in page and "From version 0" in page


def test_a_rollback_to_a_dead_end_is_refused(app, console, queues):
    console.post("/admin/ivr", data=form(app, **{"menu.2.queue": "repairs"}))
    console.post("/admin/ivr/versions/0/rollback")
    db.session.execute(db.update(CallQueue).where(CallQueue.name == "repairs").values(active=False))
    db.session.commit()
    r = console.post("/admin/ivr/versions/1/rollback", follow_redirects=True)
    assert "Queue repairs is inactive" in html(r)
    assert db.session.query(IvrVersion).count() == 2


def test_the_dead_key_check_reads_the_version_in_use(app, console, queues):
    console.post("/admin/ivr", data=form(app, **{"menu.2.queue": "repairs"}))
    assert ivr_queues.menu_dead_keys(db.session, app.instance_path) == []
    db.session.execute(db.update(CallQueue).where(CallQueue.name == "repairs").values(active=False))
    db.session.commit()
    dead = ivr_queues.menu_dead_keys(db.session, app.instance_path)
    assert [(d.key, d.queue, d.reason) for d in dead] == [("2", "repairs", "inactive")]


def test_an_unknown_version_is_not_found(console, queues):
    assert console.get("/admin/ivr/versions/99").status_code == 404
    assert console.post("/admin/ivr/versions/99/rollback").status_code == 404
    assert console.get("/admin/ivr?from=99").status_code == 404


def test_healthz_names_a_dead_key_of_the_version_in_use(app, client, console, queues):
    console.post("/admin/ivr", data=form(app, **{"menu.2.queue": "repairs"}))
    assert client.get("/healthz").get_json()["ivr"]["dead_keys"] == []
    db.session.execute(db.update(CallQueue).where(CallQueue.name == "repairs").values(active=False))
    db.session.commit()
    body = client.get("/healthz").get_json()
    assert [d["key"] for d in body["ivr"]["dead_keys"]] == ["2"]
    assert "repairs" in body["ivr"]["dead_keys"][0]["message"]


# -- the preview says what a call hears --------------------------------------------------------


def _heard(transcript: list[str]) -> list[str]:
    """A simulated call's transcript up to where it waits in a queue or records a message."""
    out = []
    for line in transcript:
        if line.startswith("[beep]"):
            break
        out.append(line)
        if line.startswith("[waiting in queue"):
            break
    return out


def _previewed(steps: list[ivr_path.Step]) -> list[str]:
    """The preview's steps written as the simulator writes a transcript."""
    lines = []
    for step in steps:
        if step.kind == "say":
            lines.append(step.text)
        elif step.kind == "key" and step.text:
            lines.append(f"[pressed {step.text}]")
        elif step.kind == "queue":
            lines.append(f"[waiting in queue {step.text}]")
    return lines


@pytest.mark.parametrize(
    ("number", "digits", "keys", "language"),
    [
        ("+33611113333", "2", "2", "en"),  # a known caller: the published key
        ("+33611113333", "5", "5", "en"),  # voicemail
        ("+33611113333", "77", "77", "en"),  # invalid keys, then the invalid route
        ("+33611113333", "", "--", "en"),  # silence, then the no-input route
        ("+33611113333", "72", "72", "en"),  # a valid key after an invalid one
        ("+14155550123", "22", "22", None),  # a new caller: the language menu first
        ("+14155550123", "1", "1--", None),  # French, then silence
    ],
)
def test_the_preview_says_what_the_call_hears(
    app, console, queues, customer_factory, number, digits, keys, language
):
    changes = {
        "menu.2.queue": "repairs",
        "menu.5.action": "voicemail",
        "menu_limits.max_menus": "2",
        "menu_limits.invalid.action": "voicemail",
        "prompts.en.menu": "Repairs: 2. A message: 5.",
        "prompts.fr.menu": "Dépannage : 2. Un message : 5.",
    }
    assert console.post("/admin/ivr", data=form(app, **changes)).status_code == 302
    if language:
        customer_factory(name="Pat", language=language, phones=[number])
    call = app.extensions["telephony_simulator"].call(number, digits=digits)
    steps = ivr_path.walk(ivr.load(app.instance_path), ivr_path.parse_keys(keys), language=language)
    assert _heard(call.transcript) == _previewed(steps)
    assert steps[-1].kind in ("queue", "voicemail")


def test_db_upgrade_checks_the_version_in_use(tmp_path, monkeypatch):
    """The release step's IVR check reads the published version, not the files."""
    from click.testing import CliRunner
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from helpdesk.cli import main
    from helpdesk.db import utcnow
    from tests.functional.test_first_start import _env

    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], catch_exceptions=False).exit_code == 0
    engine = create_engine(_env(tmp_path)["DATABASE_URL"])
    try:
        with Session(engine) as session:
            packaged = ivr.load_file(_env(tmp_path)["HELPDESK_INSTANCE_PATH"])
            config = {**packaged, "menu": {"2": {"action": "queue", "queue": "repairs"}}}
            session.add(CallQueue(name="repairs", skills={"repairs": 1}, active=False))
            session.add(IvrVersion(config=config, note="x", published_at=utcnow()))
            session.commit()
    finally:
        engine.dispose()
    r = runner.invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert "IVR key 2 leads to queue 'repairs', which is inactive" in r.output
