"""Building outgoing mail, without a database or a server: subjects, fixed text, the HTML part,
the MIME message, the SMTP URL and the back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.mail import compose
from helpdesk.mail.outbox import BACKOFF, MAX_ATTEMPTS, next_attempt_delay, sender
from helpdesk.mail.smtp import parse_smtp_url

WHEN = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)


def _outgoing(**kw: object) -> compose.Outgoing:
    base: dict[str, object] = {
        "message_id": "abc@helpdesk.test",
        "from_address": "support@helpdesk.test",
        "from_name": "Amélie (Support)",
        "to": ["manon@example.com"],
        "subject": "[T-10234] Box down",
        "text": "Hello",
        "html": "<p>Hello</p>",
        "date": WHEN,
    }
    return compose.Outgoing(**(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Box down", "Re: [T-10234] Box down"),
        ("RE: Re: AW: Box down", "Re: [T-10234] Box down"),
        ("Re: Box down [T-10234]", "Re: [T-10234] Box down"),
        ("Re: [t10234] Box down", "Re: [T-10234] Box down"),
        ("", "Re: [T-10234]"),
    ],
)
def test_the_reference_appears_once(subject, expected):
    assert compose.reply_subject(subject, "T-10234") == expected


def test_fixed_text_follows_the_customers_language():
    signed = compose.Signed("Amélie", "Support", "T-10234", language="fr-CA", auto=True)
    text = compose.full_text("Bonjour", signed)
    assert "Référence T-10234" in text and "envoyé automatiquement" in text
    assert "-- \nAmélie, Support" in text
    english = compose.full_text("Hi", compose.Signed(None, "Support", "T-1", language="de"))
    assert "Reference T-1." in english  # a language we have no words for: English


def test_the_html_part_runs_and_loads_nothing():
    dirty = (
        '<p onclick="x()">Hi<script>alert(1)</script></p><a href="javascript:alert(1)">a</a>'
        '<img src="https://tracker.example/p.gif"><div style="background:url(x)">b</div>'
        "<style>p{}</style>"
    )
    clean = compose.sanitise_html(dirty)
    for bad in ("script", "onclick", "javascript:", "<img", "style", "tracker"):
        assert bad not in clean
    assert "<p>Hi</p>" in clean


def test_text_becomes_escaped_paragraphs_with_links():
    markup = compose.html_part(
        "a < b\nline\n\nhttps://x.example/a?b=1&c=2", compose.Signed(None, "Support", None)
    )
    assert "<p>a &lt; b<br>line</p>" in markup
    assert 'href="https://x.example/a?b=1&amp;c=2"' in markup


def test_the_message_is_the_same_bytes_each_time_it_is_built():
    first = compose.serialise(compose.build(_outgoing(auto=True)))
    assert first == compose.serialise(compose.build(_outgoing(auto=True)))
    assert b"Auto-Submitted: auto-replied" in first
    assert b"Auto-Submitted" not in compose.serialise(compose.build(_outgoing()))


def test_attachments_make_a_mixed_message():
    part = compose.Part("facture.pdf", "application/pdf", b"%PDF-1.4")
    msg = compose.build(_outgoing(attachments=(part,)))
    assert msg.get_content_type() == "multipart/mixed"
    assert [p.get_filename() for p in msg.iter_attachments()] == ["facture.pdf"]


@pytest.mark.parametrize(
    "field",
    [
        {"subject": "Hi\r\nBcc: all@example.net"},
        {"from_name": "Amélie\nBcc: all@example.net"},
        {"to": ["manon@example.com\r\nBcc: all@example.net"]},
        {"in_reply_to": "a@b\r\nX: y"},
        {"references": ["a@b", "c@d\nX: y"]},
    ],
)
def test_a_line_break_in_any_header_is_refused(field):
    with pytest.raises(ValueError):
        compose.build(_outgoing(**field))


@pytest.mark.parametrize(
    "bad", ["manon", "Manon <manon@example.com>", "a@b.c, d@e.f", "a @b.c", "@b.c", "a@"]
)
def test_only_bare_addresses_are_addresses(bad):
    with pytest.raises(ValueError):
        compose.check_address("to", bad)


def test_smtp_urls():
    s = parse_smtp_url("smtp://me%40corp:p%2Fw@mail.example.com:587?starttls=1")
    assert (s.host, s.port, s.starttls, s.tls) == ("mail.example.com", 587, True, False)
    assert (s.username, s.password, s.verify) == ("me@corp", "p/w", True)
    s = parse_smtp_url("smtps://mail.example.com?timeout=5&verify=0")
    assert (s.port, s.tls, s.timeout_s, s.verify, s.username) == (465, True, 5.0, False, "")
    assert parse_smtp_url("smtp://relay").port == 25
    for bad in ("http://x", "smtp://", "smtps://x?starttls=1"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


def test_back_off_then_give_up():
    assert [next_attempt_delay(n) for n in range(1, MAX_ATTEMPTS)] == list(BACKOFF)
    assert next_attempt_delay(MAX_ATTEMPTS) is None
    assert sum(BACKOFF, timedelta()) < timedelta(hours=6)


def test_mail_from():
    assert sender("Support <support@example.com>") == ("Support", "support@example.com")
    assert sender("support@example.com") == ("Helpdesk", "support@example.com")
    with pytest.raises(ValueError):
        sender("Support <no address>")
