"""E-mail in the console, in a real browser: the thread with its quoted text folded away (and
unfolded from the keyboard), the original's HTML inert in its sandbox, a reply by e-mail and its
delivery state, the caller screen's e-mail entries, and the mail simulator's form opening a
ticket.

Messages are written into the live server's database the way the inbound pipeline stores them;
the reply and the simulator's form need the outbound and inbound pipelines
(`helpdesk.mail.outbox`, `helpdesk.mail.inbound`) and are skipped, with that reason, where the
installation lacks them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from agents_ui import phone_state
from tests.browser.conftest import Console, LiveServer

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser

EVENT_TIMEOUT_MS = 10_000
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCRIPT = Path(__file__).parents[2] / "agents_ui" / "static" / "caller_screen.js"
_serial = itertools.count(1)


def _in_server_db(live: LiveServer, work: Callable[[], Any]) -> Any:
    """Run `work` in an app bound to the live server's database (SQLite in WAL: both write)."""
    from helpdesk.app import create_app
    from helpdesk.config import Settings
    from helpdesk.extensions import db

    home = live.log.parent
    settings = Settings.from_env(
        env={},
        DATABASE_URL=f"sqlite:///{home / 'helpdesk.sqlite3'}",
        HELPDESK_INSTANCE_PATH=str(home / "instance"),
        SECRET_KEY="browser-tier-secret",
        TESTING=True,
        HELPDESK_SCHEDULER=False,
    )
    app = create_app(settings)
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()
            db.engine.dispose()


def _email_ticket(live: LiveServer, *, address: str, phones: list[str]) -> int:
    """An e-mail ticket with its opening message and a reply that quotes the history."""
    from helpdesk.customers import service as customers
    from helpdesk.extensions import db
    from helpdesk.mail.models import MailMessage
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.workflow import Channel

    n = next(_serial)

    def work() -> int:
        customer = customers.create(
            db.session, name=f"Manon Mail {n}", phones=phones, emails=[address]
        )
        ticket = tickets.create(
            db.session,
            actor=None,
            subject="<script>window.injected = true</script> Box down",
            description="My box is down.",
            requester_id=customer.id,
            channel=Channel.EMAIL,
        )
        common = {
            "direction": "inbound",
            "status": "received",
            "from_address": address,
            "to_addresses": ["support@helpdesk.test"],
            "ticket_id": ticket.id,
            "customer_id": customer.id,
        }
        db.session.add(
            MailMessage(
                message_id=f"open-{n}@example.com",
                subject="Box down",
                body_text="My box is down.",
                full_text="My box is down.",
                body_html="<p>Box <b>down</b></p><script>window.parent.injected = true</script>",
                **common,
            )
        )
        comment = tickets.add_comment(
            db.session,
            ticket,
            body="Still down after the restart.",
            author_customer_id=customer.id,
            channel=Channel.EMAIL,
        )
        db.session.add(
            MailMessage(
                message_id=f"reply-{n}@example.com",
                subject=f"Re: Box down [{ticket.reference}]",
                body_text="Still down after the restart.",
                full_text="Still down after the restart.\n\nLe lundi, Support a écrit :\n"
                "> Restart the box, please.",
                comment_id=comment.id,
                **common,
            )
        )
        db.session.commit()
        return int(ticket.id)

    return int(_in_server_db(live, work))


def test_thread_folds_the_quote_and_unfolds_it_from_the_keyboard(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    ticket_id = _email_ticket(live_server, address="manon.thread@example.com", phones=[])
    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/tickets/{ticket_id}")
    opening = page.locator("#mail-opening")
    expect(opening.locator("[data-field=from]")).to_have_text("manon.thread@example.com")
    expect(opening.locator("[data-field=to]")).to_have_text("support@helpdesk.test")
    quoted = page.locator(".mail-quoted-text")
    expect(quoted).to_be_hidden()
    toggle = page.locator(".mail-quoted > summary")
    expect(toggle).to_have_text("Show quoted text", use_inner_text=True)
    toggle.focus()
    page.keyboard.press("Enter")
    expect(quoted).to_be_visible()
    expect(quoted).to_contain_text("> Restart the box, please.")
    expect(toggle).to_have_text("Hide quoted text", use_inner_text=True)
    page.keyboard.press("Space")
    expect(quoted).to_be_hidden()
    # The original: its HTML only inside a sandbox, where its script does not run.
    page.locator("#mail-opening .mail-links a").click()
    frame = page.locator("#mail-html")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("#mail-html").locator("b")).to_have_text("down")
    assert page.evaluate("window.injected") is None
    blocked = [e for e in agent.errors if e.startswith("Blocked script execution")]
    assert blocked and "sandboxed" in blocked[0]  # the browser refused the mail's script
    assert [e for e in agent.errors if e not in blocked] == []


def test_reply_by_email_shows_its_delivery_state(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    pytest.importorskip("helpdesk.mail.outbox", reason="the outbound pipeline is not installed")
    address = "manon.reply@example.com"
    ticket_id = _email_ticket(live_server, address=address, phones=[])
    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/tickets/{ticket_id}")
    expect(page.locator("#reply-route")).to_contain_text(
        f"A public reply will be sent by e-mail to {address}."
    )
    page.fill("#reply-body", "Your new box ships today.")
    page.set_input_files(
        "#reply-files", files=[{"name": "label.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click("section.reply button[type=submit]")
    # No SMTP server on this server: the mail stays in the simulator, and is not called sent.
    expect(page.locator(".flash-warning").first).to_contain_text(f"e-mail to {address}")
    reply = page.locator("article.comment-public").last
    expect(reply.locator(".mail-file a")).to_have_text("label.pdf")
    expect(reply.locator("[data-field=to]")).to_have_text(address)
    badge = page.locator(".delivery [data-delivery-status]").last
    expect(badge).to_have_text("Simulated", timeout=EVENT_TIMEOUT_MS)
    expect(page.locator(".delivery [data-delivery-detail]").last).to_have_text(
        f"e-mail to {address}"
    )
    assert agent.errors == []


def test_mail_simulator_form_opens_a_ticket(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    pytest.importorskip("helpdesk.mail.inbound", reason="the inbound pipeline is not installed")
    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/simulator/mail")
    page.locator("#sim-mail-from").focus()
    page.keyboard.type("nina.new@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("Nina New")
    page.fill("#sim-mail-subject", "Charged twice")
    page.fill("#sim-mail-body", "Why was I charged twice this month?")
    page.locator("#sim-mail-send").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/tickets/*")
    expect(page.locator(".flash-success").first).to_contain_text("A new ticket was opened.")
    expect(page.locator("#ticket-title")).to_have_text("Charged twice")
    expect(page.locator("#mail-opening [data-field=from]")).to_contain_text("nina.new@example.com")
    assert agent.errors == []


def test_caller_screen_words_email_entries_in_french(app: Flask, browser: Any) -> None:
    with app.test_request_context(), force_locale("fr"):
        strings = phone_state.js_strings({})["screen"]
    screen = {
        "call_id": 1,
        "customer": {"id": 7, "name": "Hugo Martin", "flags": [], "phones": []},
        "open_tickets": [],
        "history": {"tickets": 1, "calls": 0},
        "timeline": [
            {
                "kind": "email",
                "occurred_at": "2026-12-02T09:00:00+00:00",
                "summary": "E-mail from hugo@example.com: <b>Facture</b>",
                "data": {"direction": "inbound", "outcome": "created", "attachments": ["a.pdf"]},
            },
            {
                "kind": "email",
                "occurred_at": "2026-12-02T08:00:00+00:00",
                "summary": "E-mail from mailer-daemon@example.net: Undelivered",
                "data": {"direction": "inbound", "outcome": "bounced"},
            },
        ],
    }
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="fr"><head><meta name="helpdesk-timezone" content="Europe/Paris">'
            '</head><body><div id="screen"></div></body></html>'
        )
        page.add_script_tag(path=str(SCRIPT))
        page.evaluate(
            "([screen, strings]) => window.HelpdeskCallerScreen.render("
            "document.getElementById('screen'), screen, strings)",
            [screen, strings],
        )
        lines = page.locator(".screen-summary").all_inner_texts()
        kinds = page.locator(".timeline-kind").all_inner_texts()
        bold = page.locator(".screen-summary b").count()
    finally:
        page.close()
    assert lines == [
        "E-mail de hugo@example.com : <b>Facture</b> · 1 pièce jointe",
        "Un e-mail envoyé à ce client est revenu non distribué",
    ]
    assert kinds == ["E-mail", "E-mail"] and bold == 0  # customer text stays text


DROP = """([name, text]) => {
    const files = new DataTransfer();
    files.items.add(new File([text], name, {type: "text/plain"}));
    const target = document.querySelector("#reply-body");
    for (const type of ["dragenter", "dragover", "drop"]) {
        const init = {bubbles: true, cancelable: true, dataTransfer: files};
        target.dispatchEvent(new DragEvent(type, init));
    }
}"""


def test_files_dropped_on_the_reply_form_go_with_the_reply(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    pytest.importorskip("helpdesk.mail.outbox", reason="the outbound pipeline is not installed")
    address = "manon.drop@example.com"
    ticket_id = _email_ticket(live_server, address=address, phones=[])
    agent = sign_in("agent")
    page = agent.page
    page.goto(f"{live_server.base_url}/tickets/{ticket_id}")
    page.fill("#reply-body", "The two notes you asked for.")
    page.set_input_files(
        "#reply-files", files=[{"name": "label.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.evaluate(DROP, ["notes.txt", "Serial 4471, firmware 2.3"])
    # Both files are chosen and named; the one dropped joined the one picked.
    expect(page.locator("#reply-files-chosen li")).to_have_count(2)
    expect(page.locator("#reply-files-chosen")).to_contain_text("notes.txt")
    assert page.evaluate("document.querySelector('#reply-files').files.length") == 2
    page.click("section.reply button[type=submit]")
    # No SMTP server on this server: the mail stays in the simulator, and is not called sent.
    expect(page.locator(".flash-warning").first).to_contain_text(f"e-mail to {address}")
    reply = page.locator("article.comment-public").last
    expect(reply.locator(".mail-file a")).to_have_text(["label.pdf", "notes.txt"])
    assert agent.errors == []
