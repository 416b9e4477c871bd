"""An administrator rewords the French e-mail acknowledgement in the browser: a placeholder the
text cannot have is refused under the French field, the fixed wording is saved, and the
acknowledgement of the next customer's mail (the mail simulator's) carries it. The text is put
back to its default at the end: the live server is shared by the whole tier."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

try:  # the browser tier is skipped without Playwright (see conftest)
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import Console, LiveServer

pytestmark = pytest.mark.browser
WORDING = "Merci, votre message est bien arrivé chez nous : nous revenons vers vous vite."
_serial = itertools.count(1)


def test_an_admin_rewords_the_french_mail_acknowledgement(
    sign_in: Callable[[str], Console], live_server: LiveServer
) -> None:
    pytest.importorskip("helpdesk.mail.outbox", reason="the outbound pipeline is not installed")
    address = f"texts-{next(_serial)}@example.com"
    made = live_server.api(
        "POST",
        "/customers",
        "agent",
        json={"name": "Lucie Texte", "language": "fr", "emails": [{"email": address}]},
    )
    assert made.status_code == 201, made.text
    admin = sign_in("admin")
    page = admin.page
    page.get_by_role("link", name="Customer texts").click()
    expect(page.locator("h1")).to_contain_text("Customer texts")
    french = page.locator("#text-email-ack-fr")
    # An SMS text's cost follows the typing (not saved: nothing is sent for it here).
    page.locator("#text-sms-started-en").fill("Texts are back on ✓")
    expect(page.locator("#text-sms-started-en-segments")).to_contain_text("Unicode")
    expect(page.locator("#text-sms-started-fr-segments")).to_contain_text("SMS (GSM-7)")
    expect(page.locator("#text-email-ack-en")).to_contain_text("We have received your message")
    french.fill("Merci {prenom}, votre message est bien arrivé.")
    page.locator("#text-email-ack").get_by_role("button", name="Save").click()
    error = page.locator("#text-email-ack-fr-error")
    expect(error).to_contain_text("{prenom}")
    expect(page.locator("#text-email-ack-fr")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#text-email-ack-en-error")).to_have_count(0)
    expect(page.locator("#text-email-ack-fr")).to_be_focused()  # the refused field, to retype

    page.locator("#text-email-ack-fr").fill(WORDING)
    page.locator("#text-email-ack-fr").focus()
    page.keyboard.press("Tab")  # the English text, then the button: the form works by keyboard
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success").first).to_contain_text("Text saved.")
    expect(page.locator("#text-email-ack-fr")).to_have_value(WORDING)

    try:
        page.goto(f"{live_server.base_url}/simulator/mail")
        page.fill("#sim-mail-from", address)
        page.fill("#sim-mail-subject", "Colis abîmé")
        page.fill("#sim-mail-body", "Mon colis est arrivé abîmé.")
        page.locator("#sim-mail-send").click()
        page.wait_for_url("**/tickets/*")
        page.goto(f"{live_server.base_url}/simulator/mail")
        sent = page.locator("#sim-mail-sent li", has_text=address).first
        sent.locator("summary").click()
        expect(sent.locator(".sim-sms-body")).to_contain_text(WORDING)
    finally:
        page.goto(f"{live_server.base_url}/admin/texts")
        page.locator("#text-email-ack").get_by_role("button", name="Back to default").click()
        expect(page.locator("#text-email-ack-fr")).to_have_value(
            "Nous avons bien reçu votre message et y répondrons dès que possible."
        )
    assert [e for e in admin.errors if "status of 422" not in e] == []
