"""A fresh install without the demo: the IVR's queues exist after `helpdesk db upgrade`, any
menu key leading nowhere is reported by `/healthz` and `helpdesk check`, and beat keeps its
schedule under the instance path from any working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from helpdesk.cli import main
from helpdesk.extensions import db
from helpdesk.models import load_all
from telephony import ivr
from telephony.ivr_queues import create_missing
from telephony.models import CallQueue


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "HELPDESK_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "first-start",
    }


def _queues(url: str) -> dict[str, CallQueue]:
    load_all()
    engine = create_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return {q.name: q for q in session.scalars(select(CallQueue))}
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_queues_the_ivr_names(tmp_path, monkeypatch):
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    r = runner.invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "created queue support (IVR key 1)" in r.output
    assert "created queue billing (IVR key 2)" in r.output
    queues = _queues(os.environ["DATABASE_URL"])
    assert set(queues) == {"support", "billing"}
    assert queues["support"].active and queues["support"].skills == {"support": 1}
    assert (queues["billing"].label_en, queues["billing"].label_fr) == ("Billing", "Facturation")
    # Run again (every deploy's release step): nothing more, nothing changed.
    r = runner.invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert r.exit_code == 0 and "created queue" not in r.output
    assert {q.id for q in _queues(os.environ["DATABASE_URL"]).values()} == {
        q.id for q in queues.values()
    }
    r = runner.invoke(main, ["check"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "IVR: every queue key leads to an active queue" in r.output


def test_db_upgrade_follows_the_instance_ivr(tmp_path, monkeypatch):
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "ivr.json").write_text(
        json.dumps({"menu": {"5": {"action": "queue", "queue": "after_sales"}}})
    )
    ivr.load.cache_clear()
    try:
        r = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    finally:
        ivr.load.cache_clear()
    assert r.exit_code == 0, r.output
    assert "created queue after_sales (IVR key 5)" in r.output
    queues = _queues(os.environ["DATABASE_URL"])
    assert set(queues) == {"support", "billing", "after_sales"}
    assert queues["after_sales"].label_en == "After Sales"
    assert queues["after_sales"].skills == {"after_sales": 1}


def test_healthz_and_check_name_the_keys_that_lead_nowhere(app, client, monkeypatch):
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded"
    assert body["ivr"]["ok"] is False
    assert [(d["key"], d["queue"], d["reason"]) for d in body["ivr"]["dead_keys"]] == [
        ("1", "support", "missing"),
        ("2", "billing", "missing"),
    ]
    assert body["ivr"]["dead_keys"][0]["message"] == (
        "IVR key 1 leads to queue 'support', which does not exist"
    )
    # The same through `helpdesk check`, on the same database.
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("SECRET_KEY", "check")
    monkeypatch.delenv("REDIS_URL", raising=False)
    runner = CliRunner()
    r = runner.invoke(main, ["check"])
    assert r.exit_code == 1
    assert "FAIL  IVR key 1 leads to queue 'support', which does not exist" in r.output
    assert "FAIL  IVR key 2 leads to queue 'billing', which does not exist" in r.output
    assert "2 problems found" in r.output

    assert create_missing(db.session, ivr.load(app.instance_path)) == ["billing", "support"]
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["ivr"] == {"ok": True, "dead_keys": []}
    assert runner.invoke(main, ["check"]).exit_code == 0

    # An admin deactivates a queue the menu still names: reported again, and left inactive by
    # the next `helpdesk db upgrade`.
    db.session.execute(update(CallQueue).where(CallQueue.name == "billing").values(active=False))
    db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded"
    assert body["ivr"]["dead_keys"] == [
        {
            "key": "2",
            "queue": "billing",
            "reason": "inactive",
            "message": "IVR key 2 leads to queue 'billing', which is inactive",
        }
    ]
    assert create_missing(db.session, ivr.load(app.instance_path)) == []
    r = runner.invoke(main, ["check"])
    assert r.exit_code == 1 and "which is inactive" in r.output


def _beat(tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    """`helpdesk beat` as the Procfile runs it, from a working directory with no instance/."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli", "beat"],
        env=os.environ | _env(tmp_path) | env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_beat_keeps_its_schedule_under_the_instance_path(tmp_path):
    instance = tmp_path / "instance"
    # No broker answers on this port: beat still starts, and retries the connection.
    beat = _beat(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    try:
        deadline = time.monotonic() + 30
        while not list(instance.glob("celerybeat-schedule*")):
            assert beat.poll() is None, beat.communicate()[0]
            assert time.monotonic() < deadline, "beat wrote no schedule"
            time.sleep(0.2)
        time.sleep(1)
        assert beat.poll() is None, beat.communicate()[0]
    finally:
        beat.terminate()
        try:
            beat.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.communicate()
    assert not (tmp_path / "cwd" / "instance").exists()


def test_beat_that_cannot_start_says_why_at_once(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    beat = _beat(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:1/0",
        HELPDESK_INSTANCE_PATH=str(blocker / "instance"),
        TWILIO_AUTH_TOKEN="x",
    )
    output, _ = beat.communicate(timeout=30)
    assert beat.returncode == 1, output
    assert f"beat cannot create {blocker / 'instance'} for its schedule" in output
    assert "Traceback" not in output

    beat = _beat(tmp_path, REDIS_URL="")
    output, _ = beat.communicate(timeout=30)
    assert beat.returncode == 1, output
    assert "beat needs REDIS_URL" in output


def test_a_key_that_leads_nowhere_is_logged_with_its_name(client, caplog):
    from tests.functional.test_voice import fixture, signed_post

    form = fixture("incoming_call")
    assert signed_post(client, "/twilio/voice", form).status_code == 200
    with caplog.at_level("ERROR", logger="telephony.webhooks"):
        r = signed_post(client, "/twilio/voice/menu", form | {"Digits": "1"})
    # An error answer: Twilio plays the number's fallback (docs/operations.md, section 8).
    assert r.status_code == 404
    assert "IVR key 1 leads to queue 'support', which does not exist" in caplog.text
