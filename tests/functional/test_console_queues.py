"""Queues from the console: made and changed by the API's rules with each refusal under the field
it names, overflow loops and deactivations that would strand callers refused, every change in
the audit log, and the next offer ringing for the ring timeout just saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role, User
from helpdesk.extensions import db
from telephony import agent_presence, calls
from telephony.models import Call, CallOffer, CallQueue
from telephony.recording_models import QueueRecording
from tests.functional.test_revocation import _sign_in, browser  # noqa: F401  (fixture)


@pytest.fixture
def console(browser: Callable[[], FlaskClient], make_user: Callable[..., User]) -> FlaskClient:  # noqa: F811
    make_user(Role.AGENT, name="Skilled", skills={"sales": 3, "support": 2}, languages=["fr"])
    return _sign_in(browser(), make_user(Role.ADMIN, name="Ada Admin"))


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _form(name: str, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": name,
        "label_en": name.title(),
        "label_fr": name.title(),
        "skill": ["sales", ""],
        "skill_level": ["2", "1"],
        "language": "",
        "strategy": "longest_idle",
        "priority": "0",
        "ring_timeout_s": "20",
        "wrap_up_s": "30",
        "callback_after_s": "60",
        "step_after_s": ["", ""],
        "step_level_drop": ["0", "0"],
        "step_overflow": ["", ""],
        "calendar_id": "",
        "after_hours": "",
        "after_hours_queue": "",
        "recording_mode": "off",
        "retention_days": "",
        "active": "on",
    }
    form.update(extra)
    return form


def _queue(name: str) -> CallQueue:
    db.session.expire_all()
    queue = db.session.scalar(select(CallQueue).where(CallQueue.name == name))
    assert queue is not None
    return queue


def test_an_empty_list_says_so_and_a_queue_is_made_with_every_setting(console):
    page = html(console.get("/admin/queues"))
    assert 'class="empty"' in page and "No queue yet" in page
    # The packaged phone menu names queues that do not exist yet.
    assert 'id="dead-keys"' in page and "Phone menu key 1 leads to support" in page
    console.post("/admin/queues/new", data=_form("support", skill=["support"], skill_level=["1"]))
    form = _form(
        "sales",
        skill=["sales", "support"],
        skill_level=["3", "1"],
        language="fr",
        strategy="fewest_calls",
        priority="15",
        ring_timeout_s="25",
        wrap_up_s="45",
        callback_after_s="90",
        step_after_s=["30", "90"],
        step_level_drop=["1", "0"],
        step_overflow=["", "support"],
        recording_mode="announce",
        retention_days="30",
        recording_restricted="on",
        after_hours="queue",
        after_hours_queue="support",
    )
    r = console.post("/admin/queues/new", data=form)
    assert r.status_code == 302, html(r)
    q = _queue("sales")
    assert r.headers["Location"].endswith(f"/admin/queues/{q.id}")
    assert (q.skills, q.language, q.strategy, q.priority) == (
        {"sales": 3, "support": 1},
        "fr",
        "fewest_calls",
        15,
    )
    assert (q.ring_timeout_s, q.wrap_up_s, q.callback_after_s) == (25, 45, 90)
    assert q.steps == [
        {"after_s": 30, "level_drop": 1},
        {"after_s": 90, "overflow_queue": "support"},
    ]
    assert q.after_hours == {"action": "queue", "queue": "support"}
    rec = db.session.get(QueueRecording, q.id)
    assert (rec.mode, rec.retention_days, rec.restricted) == ("announce", 30, True)
    page = html(console.get(f"/admin/queues/{q.id}"))
    assert 'value="25"' in page and 'id="queue-step-1-overflow_queue"' in page
    listing = html(console.get("/admin/queues"))
    assert 'data-queue="sales"' in listing and "sales ≥ 3" in listing
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "queue.create", AuditEntry.target_id == str(q.id)
        )
    )
    assert entry is not None and entry.channel == "console"
    assert (
        entry.details["ring_timeout_s"] == 25 and entry.details["recording"]["mode"] == "announce"
    )


@pytest.mark.parametrize(
    ("extra", "field_id"),
    [
        ({"name": "Bad Name"}, "queue-name"),
        ({"ring_timeout_s": "500"}, "queue-ring-timeout"),
        ({"ring_timeout_s": "2"}, "queue-ring-timeout"),
        ({"wrap_up_s": "-1"}, "queue-wrap-up"),
        ({"callback_after_s": "99999"}, "queue-callback"),
        ({"priority": "80"}, "queue-priority"),
        ({"skill": ["nosuchskill"], "skill_level": ["1"]}, "queue-skills"),
        ({"step_after_s": ["-5", ""]}, "queue-step-0-after_s"),
        (
            {"step_after_s": ["10", "20"], "step_overflow": ["", "nowhere"]},
            "queue-step-1-overflow_queue",
        ),
        (
            {"step_after_s": ["10", ""], "step_overflow": ["sales", ""]},
            "queue-step-0-overflow_queue",
        ),
        ({"retention_days": "0", "recording_mode": "on"}, "queue-retention"),
        ({"calendar_id": "999999"}, "queue-calendar"),
        ({"after_hours": "queue", "after_hours_queue": ""}, "queue-after-hours"),
    ],
)
def test_each_refusal_is_shown_under_its_field_and_nothing_is_saved(console, extra, field_id):
    r = console.post("/admin/queues/new", data={**_form("sales"), **extra})
    assert r.status_code == 422
    page = html(r)
    assert f'id="{field_id}-error"' in page, page[page.find("queue-form") :][:4000]
    assert db.session.scalar(select(CallQueue)) is None
    assert db.session.scalar(select(AuditEntry)) is None


def test_a_taken_name_is_refused_under_the_name(console):
    console.post("/admin/queues/new", data=_form("sales"))
    r = console.post("/admin/queues/new", data=_form("sales"))
    assert r.status_code == 422 and 'id="queue-name-error"' in html(r)
    assert "Another queue has this name." in html(r)


def test_an_overflow_loop_is_refused_and_named(console):
    console.post("/admin/queues/new", data=_form("alpha"))
    beta = dict(_form("beta"), step_after_s=["60", ""], step_overflow=["alpha", ""])
    assert console.post("/admin/queues/new", data=beta).status_code == 302
    alpha = _queue("alpha")
    loop = dict(_form("alpha"), step_after_s=["30", ""], step_overflow=["beta", ""])
    r = console.post(f"/admin/queues/{alpha.id}", data=loop)
    assert r.status_code == 422
    page = html(r)
    assert 'id="queue-step-0-overflow_queue-error"' in page and "alpha → beta → alpha" in page
    assert _queue("alpha").steps == []
    # Through the API too, with the field named.
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["queue.create", "queue.create"]


def test_a_queue_the_menu_or_another_queue_sends_callers_to_stays_active(console):
    console.post("/admin/queues/new", data=_form("support", skill=["support"], skill_level=["1"]))
    support = _queue("support")
    page = html(console.get(f"/admin/queues/{support.id}"))
    assert 'id="queue-referrers"' in page and "key 1" in page  # the packaged menu's key 1
    r = console.post(f"/admin/queues/{support.id}/deactivate")
    assert r.status_code == 302
    assert "was not deactivated" in html(console.get(r.headers["Location"]))
    assert _queue("support").active
    r = console.post(f"/admin/queues/{support.id}", data=_form("support", active=""))
    assert r.status_code == 422 and 'id="queue-active-error"' in html(r)
    r = console.post(f"/admin/queues/{support.id}", data=_form("helpdesk"))
    assert r.status_code == 422 and 'id="queue-name-error"' in html(r)
    # Another queue's overflow counts as much as a key of the menu.
    console.post("/admin/queues/new", data=_form("spare"))
    dict_form = dict(_form("sales"), step_after_s=["10", ""], step_overflow=["spare", ""])
    console.post("/admin/queues/new", data=dict_form)
    spare = _queue("spare")
    console.post(f"/admin/queues/{spare.id}/deactivate")
    assert _queue("spare").active
    sales = _queue("sales")
    console.post(f"/admin/queues/{sales.id}", data=_form("sales"))  # the overflow removed
    r = console.post(f"/admin/queues/{spare.id}/deactivate")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/queues")
    assert not _queue("spare").active
    assert "inactive" in html(console.get("/admin/queues"))
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "queue.create",
        "queue.create",
        "queue.create",
        "queue.update",
        "queue.deactivate",
    ]


def test_callers_waiting_keep_their_queue_active(console):
    console.post("/admin/queues/new", data=_form("spare"))
    spare = _queue("spare")
    db.session.add(
        Call(
            call_sid="CA" + "7" * 32,
            from_number="+33612345678",
            status="in-progress",
            routing_state="waiting",
            queue_id=spare.id,
            enqueued_at=datetime.now(UTC),
            created_at=datetime.now(UTC),
        )
    )
    db.session.commit()
    r = console.post(f"/admin/queues/{spare.id}/deactivate")
    assert "Callers are waiting in this queue (1)" in html(console.get(r.headers["Location"]))
    assert _queue("spare").active


def _ring(queue_name: str, agent: User, n: int) -> CallOffer:
    call = Call(
        call_sid=f"CA{n:032d}",
        from_number="+33612345678",
        language="fr",
        status="in-progress",
        routing_state="none",
        created_at=datetime.now(UTC),
    )
    db.session.add(call)
    db.session.commit()
    agent_presence.set_presence(db.session, user=agent, state="available")
    calls.enqueue(db.session, call=call, queue=calls.queue_by_name(db.session, name=queue_name))
    offer = db.session.scalar(select(CallOffer).where(CallOffer.call_id == call.id))
    assert offer is not None and offer.agent_id == agent.id
    return offer


def test_the_next_offer_rings_for_the_ring_timeout_just_saved(console, make_user):
    first = make_user(Role.AGENT, skills={"sales": 3}, languages=["fr"])
    second = make_user(Role.AGENT, skills={"sales": 3}, languages=["fr"])
    console.post("/admin/queues/new", data=_form("sales", priority="12"))
    offer = _ring("sales", first, 1)
    assert (offer.expires_at - offer.created_at).total_seconds() == 20
    assert db.session.get(Call, offer.call_id).priority == 12
    sales = _queue("sales")
    r = console.post(f"/admin/queues/{sales.id}", data=_form("sales", ring_timeout_s="45"))
    assert r.status_code == 302
    offer = _ring("sales", second, 2)
    assert (offer.expires_at - offer.created_at).total_seconds() == 45
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "queue.update"))
    assert entry.target_id == str(sales.id) and entry.details["ring_timeout_s"] == 45


def test_agents_are_refused_the_pages(browser, make_user):  # noqa: F811
    agent = _sign_in(browser(), make_user(Role.SUPERVISOR))
    assert agent.get("/admin/queues").status_code == 403
    assert agent.post("/admin/queues/new", data=_form("x")).status_code == 403


def test_a_french_admin_reads_the_page_and_its_refusals_in_french(browser, make_user):  # noqa: F811
    make_user(Role.AGENT, skills={"sales": 3})
    admin = _sign_in(browser(), make_user(Role.ADMIN, locale="fr"))
    assert "Aucune file pour l\u2019instant." in html(admin.get("/admin/queues"))
    admin.post("/admin/queues/new", data=_form("alpha"))
    assert "Une autre file porte ce nom." in html(
        admin.post("/admin/queues/new", data=_form("alpha"))
    )
    page = html(admin.post("/admin/queues/new", data=_form("beta", ring_timeout_s="500")))
    assert "De 5 à 120." in page and "Durée de sonnerie (secondes)" in page


def test_the_queue_and_its_recording_are_checked_together(console):
    form = _form("sales", ring_timeout_s="1", recording_mode="on", retention_days="99999")
    page = html(console.post("/admin/queues/new", data=form))
    assert 'id="queue-ring-timeout-error"' in page and 'id="queue-retention-error"' in page
