"""Erasure and export of a customer's personal data (docs/personal-data.md).

One customer is given everything the helpdesk can hold about a person: tickets and comments, a
text conversation both ways and an opt-out, calls with a voicemail, a callback and wrap-up notes,
visits with an address, notes and a signature, the technician's job sheet and updates, invoices
and a computed value, a knowledge-base draft from one of their tickets, and a duplicate record
merged into theirs. The export must carry every part; after the erasure no text column of any
table, and no file under the instance folder (the SQLite database itself on the embedded
backend, the Whoosh index), may still contain their name, numbers, e-mail address or address.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, func, select

from helpdesk.audit.models import AuditEntry
from helpdesk.auth.models import Role
from helpdesk.db import Base, utcnow
from helpdesk.extensions import db
from helpdesk.migrate import upgrade
from helpdesk.models import load_all
from tests.conftest import Database

FULL_NAME = "Zéphyrine Quintavalle"
LAST_NAME = "Quintavalle"
DUPLICATE_NAME = "Zephyrine Quintavalle-Brossard"
PHONE = "+33633445566"
PHONE_2 = "+33633445577"  # the duplicate record's
EMAIL = "zephyrine.q@example.org"
ADDRESS = "17 impasse des Glycines, Montreuil"
SECRET = "IBAN FR7630001007941234567890185"
NEEDLES = (
    FULL_NAME,
    LAST_NAME,
    DUPLICATE_NAME,
    PHONE,
    PHONE.lstrip("+"),
    "0633445566",
    "06 33 44 55 66",
    PHONE_2,
    "0633445577",
    EMAIL,
    ADDRESS,
    "Glycines",
    SECRET,
    "7630001007941234567890185",
    "INV-ZQ-000",  # the billing system's invoice numbers lead back to the person
)
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE77zq"


@pytest.fixture
def database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Database]:
    """On SQLite, the embedded default: the database file inside the instance folder, where the
    file search below reads it."""
    if backend == "postgresql":
        yield request.getfixturevalue("pg_db")
        return
    path = tmp_path / "instance" / "helpdesk.sqlite3"
    path.parent.mkdir(parents=True)
    upgrade(f"sqlite:///{path}")
    database = Database(f"sqlite:///{path}")
    yield database
    database.engine.dispose()


# -- seeding -----------------------------------------------------------------------------------


def _calls(app: Any, customer_id: int, agent: Any) -> None:
    from telephony import calls
    from telephony.models import Call, CallQueue

    queue = CallQueue(name="support", label_en="Support", label_fr="Assistance")
    db.session.add(queue)
    db.session.flush()
    answered = Call(
        call_sid="CA" + "1" * 32,
        from_number=PHONE,
        to_number="+33100000000",
        customer_id=customer_id,
        queue_id=queue.id,
        status="completed",
        routing_state="done",
        outcome="answered",
        agent_id=agent.id,
        wait_seconds=12.0,
        talk_seconds=240.0,
    )
    voicemail = Call(
        call_sid="CA" + "2" * 32,
        from_number=PHONE,
        to_number="+33100000000",
        customer_id=customer_id,
        status="completed",
    )
    callback = Call(
        call_sid="CA" + "3" * 32,
        from_number=PHONE,
        to_number="+33100000000",
        customer_id=customer_id,
        queue_id=queue.id,
        status="completed",
        routing_state="waiting",
        callback_requested=True,
        outcome="callback",
    )
    unknown = Call(  # before the caller was identified: found by the number alone
        call_sid="CA" + "4" * 32, from_number=PHONE_2, to_number="+33100000000", status="completed"
    )
    db.session.add_all([answered, voicemail, callback, unknown])
    db.session.commit()
    calls.record_voicemail(db.session, call=voicemail, recording_url=RECORDING, duration_s=31)
    calls.wrap_up(
        db.session,
        user=agent,
        call_id=answered.id,
        disposition="resolved",
        notes=f"{FULL_NAME} moves to {ADDRESS}, call back on {PHONE}",
        done=False,
    )
    db.session.commit()


def _texts(app: Any, customer_id: int, agent: Any, technician_phone: str) -> None:
    from telephony import sms, sms_inbound

    settings = app.extensions["sms_settings"]
    row = sms_inbound.receive(
        db.session,
        sms_inbound.InboundSms("SM" + "1" * 32, PHONE, "+33100000000", f"Bonjour, ici {FULL_NAME}"),
        settings,
    )
    sms.reply(db.session, ticket_id=row.ticket_id, body=f"Bonjour {FULL_NAME} !", author=agent)
    sms_inbound.receive(
        db.session, sms_inbound.InboundSms("SM" + "2" * 32, PHONE, "+33100000000", "STOP"), settings
    )
    # An older job sheet, sent before texts were linked to their visit: found by what it says.
    sms.queue_sms(
        db.session,
        to=technician_phone,
        from_number="+33100000000",
        body=f"Old job: {ADDRESS}. Customer: {FULL_NAME} {PHONE}",
        kind="dispatch",
    )
    db.session.commit()


def _visits(dispatcher: Any, app_clock: Any, customer_id: int, ticket_id: int) -> dict[str, Any]:
    from helpdesk.dispatch import service as dispatch

    tech = dispatch.create_technician(
        db.session, name="Tech One", phone="+33611223340", home_lat=48.86, home_lon=2.44
    )
    now = app_clock.now()
    ids = []
    for summary in ("Boiler for Zéphyrine Quintavalle", "Second visit"):
        r = dispatcher.post(
            "/work-orders",
            json={
                "ticket_id": ticket_id,
                "summary": summary,
                "description": f"Gate code 4412, ask for {FULL_NAME}",
                "address": ADDRESS,
                "lat": 48.86153,
                "lon": 2.44187,
                "window_start": (now - timedelta(minutes=5)).isoformat(),
                "window_end": (now + timedelta(hours=2)).isoformat(),
            },
        )
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["id"])
        r = dispatcher.post(f"/work-orders/{ids[-1]}/assign", json={"technician_id": tech.id})
        assert r.status_code == 200, r.get_json()
    done, open_ = ids
    assert (
        dispatcher.post(f"/work-orders/{done}/status", json={"status": "en_route"}).status_code
        == 200
    )
    r = dispatcher.post(
        f"/work-orders/{done}/complete",
        json={
            "notes": f"Replaced valve at {ADDRESS}",
            "parts_used": ["valve"],
            "acknowledged_by": FULL_NAME,
        },
    )
    assert r.status_code == 200, r.get_json()
    return {"technician": tech, "done": done, "open": open_}


def _mail() -> None:
    """An e-mail from the customer with a file, and their address listed as bouncing."""
    from helpdesk.mail import inbound
    from helpdesk.mail.models import BouncingAddress

    raw = (
        f"From: {FULL_NAME} <{EMAIL.upper()}>\r\nTo: support@helpdesk.example\r\n"
        f"Subject: About {LAST_NAME}\r\nMessage-ID: <zq-1@example.org>\r\n"
        'Content-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\n'
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nMy IBAN is {SECRET}\r\n--z\r\n"
        f'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="{LAST_NAME}.txt"'
        f"\r\n\r\n{ADDRESS}\r\n--z--\r\n"
    ).encode()
    assert inbound.ingest(db.session, raw, source="ingress").outcome == "created"
    db.session.add(BouncingAddress(address=EMAIL, reason=f"550 {EMAIL}: no such user"))
    db.session.commit()


def _seed(app: Any, api_as: Any, app_clock: Any) -> dict[str, Any]:
    from helpdesk.customers import service as customers
    from helpdesk.value import service as value
    from kb import service as kb
    from telephony import sms_inbound

    admin = api_as(Role.ADMIN)
    supervisor = api_as(Role.SUPERVISOR)
    dispatcher = api_as(Role.DISPATCHER)
    agent = api_as(Role.AGENT)
    r = admin.post(
        "/customers",
        json={
            "name": FULL_NAME,
            "phones": [{"number": PHONE}],
            "emails": [{"email": EMAIL}],
            "notes": f"Lives at {ADDRESS}",
            "tags": ["vip"],
        },
    )
    assert r.status_code == 201, r.get_json()
    customer = r.get_json()
    cid = customer["id"]
    duplicate = customers.create(db.session, name=DUPLICATE_NAME, phones=[PHONE_2])
    assert (
        supervisor.post(f"/customers/{cid}/merge", json={"source_id": duplicate.id}).status_code
        == 200
    )
    t = admin.post(
        "/tickets",
        json={"subject": f"Refund for {FULL_NAME}", "description": SECRET, "requester_id": cid},
    ).get_json()
    admin.post(f"/tickets/{t['id']}/comments", json={"body": f"Call me at {PHONE}"})
    admin.post(
        f"/tickets/{t['id']}/comments", json={"body": f"{LAST_NAME} is upset", "public": False}
    )
    admin.patch(f"/tickets/{t['id']}", json={"subject": f"Refund: {LAST_NAME}", "status": "solved"})
    kb.draft_from_ticket(db.session, ticket_id=t["id"], actor=agent.user)
    visits = _visits(dispatcher, app_clock, cid, t["id"])
    _calls(app, cid, agent.user)
    _texts(app, cid, agent.user, visits["technician"].phone)
    _mail()
    # The technician texts an update about the open visit, with a note.
    sms_inbound.receive(
        db.session,
        sms_inbound.InboundSms(
            "SM" + "3" * 32,
            visits["technician"].phone,
            "+33100000000",
            f"OMW W-{visits['open'] + 1000} gate code for {LAST_NAME}",
        ),
        app.extensions["sms_settings"],
    )
    rows, errors = value.parse_csv(
        "number,customer,amount,currency,issued_on,due_on,paid_on\n"
        f"INV-ZQ-0001,{EMAIL},120.50,EUR,2026-09-01,2026-09-30,2026-09-12\n"
        f"INV-ZQ-0002,{PHONE},80.00,EUR,2026-10-01,2026-10-31,\n"
    )
    assert not errors
    value.import_invoices(db.session, rows)
    value.recompute_all(db.session)
    _consents(cid, agent.user)
    from helpdesk.analytics.models import CustomerScore

    db.session.add(
        CustomerScore(
            customer_id=cid,
            clv_cents=15_000,
            clv_percentile=80.0,
            expected_purchases_12m=2.0,
            churn_risk=0.4,
            drivers=[{"code": "complaints_60", "value": 2, "weight": 0.5, "text": "2 complaints"}],
            method="simple+rules",
        )
    )
    db.session.commit()
    return {
        "customer_id": cid,
        "duplicate_id": duplicate.id,
        "ticket_id": t["id"],
        "admin": admin,
        "supervisor": supervisor,
        **visits,
    }


def _consents(cid: int, agent: Any) -> None:
    """A consent with a proof naming them, a refusal, their number on the do-not-call list and
    their address unsubscribed from campaign e-mails."""
    from helpdesk.consent import service as consent
    from helpdesk.consent import unsubscribe

    consent.record_consent(
        db.session,
        customer_id=cid,
        channel="call",
        source="agent",
        proof=f"{FULL_NAME} said yes on {PHONE}",
        by_user_id=agent.id,
    )
    consent.record_refusal(
        db.session, customer_id=cid, number=PHONE, channel="sms", at=utcnow(), by_user_id=agent.id
    )
    consent.add_do_not_call(
        db.session, number=PHONE, source="customer", note=f"{FULL_NAME} asked", by_user_id=agent.id
    )
    unsubscribe.record_email_opt_out(db.session, address=EMAIL, source="link")
    db.session.commit()


# -- searching ---------------------------------------------------------------------------------


def _text_columns() -> list[tuple[Any, Any]]:
    load_all()
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON)
    ]


def _found_in_tables() -> list[str]:
    """`table.column #id: needle` for every text column of every table holding a needle."""
    found = []
    for table, column in _text_columns():
        key = [c for c in table.primary_key.columns][:1]
        for row in db.session.execute(select(*key, column)):
            text = str(row[-1] if row[-1] is not None else "").lower()
            for needle in NEEDLES:
                if needle.lower() in text:
                    found.append(f"{table.name}.{column.name} #{row[0]}: {needle}")
    return found


def _found_in_files(root: Path) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        for needle in NEEDLES:
            if needle.lower().encode() in data:
                found.append(f"{path.relative_to(root)}: {needle}")
    return found


def test_erasure_leaves_no_personal_data_in_any_table_or_file(
    app_clock, backend, app, api_as, client, settings
):
    from helpdesk.dispatch import notify
    from helpdesk.dispatch import service as dispatch
    from helpdesk.dispatch.models import WorkOrder

    seeded = _seed(app, api_as, app_clock)
    cid = seeded["customer_id"]
    instance = Path(settings.HELPDESK_INSTANCE_PATH)
    # The seeding reached every table a needle can be in (the search below is not vacuous).
    before = _found_in_tables()
    for table in (
        "customers",
        "customer_phones",
        "customer_emails",
        "tickets",
        "ticket_comments",
        "ticket_changes",
        "timeline_entries",
        "calls",
        "sms_messages",
        "sms_opt_outs",
        "work_orders",
        "work_order_events",
        "invoices",
        "kb_articles",
        "kb_article_revisions",
    ):
        assert any(f.startswith(f"{table}.") for f in before), table
    if settings.HELPDESK_KB_SEARCH == "whoosh":  # PostgreSQL keeps its index in the database
        assert _found_in_files(instance / "kb_index")
    wo = db.session.get(WorkOrder, seeded["open"])
    link = "/m/jobs/" + notify.job_token(wo, seeded["technician"], dispatch.current_settings())
    page = client.get(link)
    assert page.status_code == 200 and FULL_NAME in page.get_data(as_text=True)

    assert seeded["admin"].delete(f"/customers/{cid}").status_code == 204

    db.session.expire_all()
    assert _found_in_tables() == []
    assert _found_in_files(instance) == []
    # The technician's job page for the customer's visit no longer opens.
    assert client.get(link).status_code == 404
    # Erasing again answers the same, changes nothing, and is audited again.
    assert seeded["admin"].delete(f"/customers/{cid}").status_code == 204
    assert _found_in_tables() == []


def test_erasure_keeps_what_statistics_need(app_clock, backend, app, api_as, recorded):
    from helpdesk.consent.models import ContactConsent, DoNotCall
    from helpdesk.dispatch.models import WorkOrder
    from helpdesk.dispatch.workflow import WorkOrderStatus
    from helpdesk.tickets.models import Ticket
    from helpdesk.value import service as value
    from helpdesk.value.models import CustomerValue, Invoice
    from telephony import sms_inbound
    from telephony.models import Call, SmsMessage, SmsOptOut
    from telephony.sms_optout import is_opted_out

    seeded = _seed(app, api_as, app_clock)
    cid = seeded["customer_id"]
    counts = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (Ticket, Call, SmsMessage, WorkOrder, Invoice, CustomerValue)
    }
    answered = db.session.scalar(select(Call).where(Call.outcome == "answered"))
    talk, wait, queue = answered.talk_seconds, answered.wait_seconds, answered.queue_id
    revenue = sum(i.amount_cents for i in db.session.scalars(select(Invoice)))
    segment = db.session.get(CustomerValue, cid).segment
    recorded.clear()

    assert seeded["admin"].delete(f"/customers/{cid}").status_code == 204
    # Open consoles are told: the record's page and the ticket lists drop what they showed.
    updated = recorded.named("customer.updated")
    assert [(e.payload, f"customer:{cid}" in e.rooms) for e in updated] == [
        ({"customer_id": cid, "erased": True}, True)
    ]
    changed = [e.payload for e in recorded.named("ticket.updated")]
    assert changed and all(p["subject"] == "[erased]" for p in changed)
    db.session.expire_all()
    # Rows stay: every count is what it was (texts may only grow: the technician is told).
    for model, n in counts.items():
        got = db.session.scalar(select(func.count()).select_from(model))
        assert got >= n if model is SmsMessage else got == n, model
    answered = db.session.get(Call, answered.id)
    assert (answered.talk_seconds, answered.wait_seconds, answered.queue_id) == (talk, wait, queue)
    assert answered.outcome == "answered" and answered.disposition == "resolved"
    assert answered.from_number == "" and answered.wrap_up_notes == ""
    assert answered.to_number == "+33100000000"  # our own number stays
    voicemail = db.session.scalar(select(Call).where(Call.outcome == "voicemail"))
    assert voicemail.recording_url is None
    assert sum(i.amount_cents for i in db.session.scalars(select(Invoice))) == revenue
    assert all(i.number.startswith("erased-") for i in db.session.scalars(select(Invoice)))
    assert db.session.get(CustomerValue, cid).segment == segment
    # Their old invoices imported again find no customer to attach to.
    rows, _ = value.parse_csv(
        "number,customer,amount,currency,issued_on,due_on\n"
        f"INV-ZQ-0001,{cid},120.50,EUR,2026-09-01,2026-09-30\n"
    )
    assert value.import_invoices(db.session, rows).errors[0]["field"] == "customer"
    done = db.session.get(WorkOrder, seeded["done"])
    assert done.status is WorkOrderStatus.COMPLETED and done.parts_used == ["valve"]
    assert (done.lat, done.lon) == (48.9, 2.4) and done.completed_at is not None
    # A visit still to come is cancelled: nobody is sent to an erased customer.
    assert db.session.get(WorkOrder, seeded["open"]).status is WorkOrderStatus.CANCELLED
    # The STOP outlives the erasure, without the number.
    assert db.session.scalar(select(SmsOptOut.customer_number)).startswith("h:")
    assert is_opted_out(db.session, PHONE, "+33100000000")
    # START from that number still lifts it.
    sms_inbound.receive(
        db.session,
        sms_inbound.InboundSms("SM" + "9" * 32, PHONE, "+33100000000", "START"),
        app.extensions["sms_settings"],
    )
    assert not is_opted_out(db.session, PHONE, "+33100000000")
    # The do-not-call entry outlives the erasure too, without the number, and still matches.
    from helpdesk.consent import service as consent

    assert db.session.scalar(select(DoNotCall.number)).startswith("h:")
    facts = consent.contact_facts(db.session, numbers=[PHONE], channel="call")
    assert facts["do_not_call"] == {PHONE}
    assert db.session.scalar(select(func.count()).select_from(ContactConsent)) == 0
    # The audit entry names who erased whom, and counts; nothing that was erased.
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.erase"))
    assert entry.actor_id == seeded["admin"].user.id and entry.target_id == str(cid)
    assert entry.details["rows"]["tickets"] > 0 and entry.details["rows"]["telephony"] > 0


def test_export_carries_every_part_seeded(app_clock, backend, app, api_as):
    from helpdesk.privacy import registry

    seeded = _seed(app, api_as, app_clock)
    export = seeded["supervisor"].get(f"/customers/{seeded['customer_id']}/export")
    assert export.status_code == 200  # and fits the documented schema (tests/api/contract.py)
    body = export.get_json()
    parts = {p for h in registry.holders() for p in h.parts}
    for part in parts:
        assert body[part], f"the export's {part!r} is empty"
    assert body["customer"]["name"] == FULL_NAME
    assert {p["number"] for p in body["customer"]["phones"]} == {PHONE, PHONE_2}
    assert body["customer"]["merged_ids"] == [seeded["duplicate_id"]]
    assert any(c["body"] == f"Call me at {PHONE}" for c in body["tickets"][0]["comments"])
    assert {s["direction"] for s in body["sms"]} == {"inbound", "outbound"}
    assert body["voicemails"][0]["recording_url"] == RECORDING
    assert body["callbacks"][0]["number"] == PHONE
    assert body["sms_opt_outs"][0]["number"] == PHONE
    assert {w["address"] for w in body["work_orders"]} == {ADDRESS}
    assert any(v["note"] for w in body["work_orders"] for v in w["visits"])
    assert {i["number"] for i in body["invoices"]} == {"INV-ZQ-0001", "INV-ZQ-0002"}
    assert body["value"]["segment"]
    assert body["model_scores"]["churn_risk"] == 0.4
    assert body["surveys"][0]["work_order_reference"] == f"W-{seeded['done'] + 1000}"


def test_export_schema_documents_each_part(client):
    from helpdesk.privacy import registry

    document = client.get("/api/v1/openapi.json").get_json()
    op = document["paths"]["/api/v1/customers/{customer_id}/export"]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = document["components"]["schemas"]
    export = schemas[ref.rsplit("/", 1)[-1]]
    assert export.get("additionalProperties") is False  # nothing undocumented can slip out
    parts = {p for h in registry.holders() for p in h.parts}
    assert parts | {"exported_at"} == set(export["properties"])
    assert set(export["required"]) == set(export["properties"])
    for part in parts:
        prop = export["properties"][part]
        item = prop.get("items", prop)
        refs = [item.get("$ref")] + [b.get("$ref") for b in item.get("anyOf", [])]
        model = next(r for r in refs if r).rsplit("/", 1)[-1]
        assert schemas[model]["properties"], part  # each part's fields are documented


def test_erasing_a_merged_record_points_at_the_survivor(backend, api_as, customer_factory):
    from helpdesk.customers import service as customers

    admin = api_as(Role.ADMIN)
    keep, dup = customer_factory(), customer_factory()
    customers.merge(db.session, source=dup, target=keep, actor_id=None)
    r = admin.delete(f"/customers/{dup.id}")
    assert r.status_code == 409 and f"#{keep.id}" in r.get_json()["error"]["message"]
    assert admin.delete("/customers/999999").status_code == 404
