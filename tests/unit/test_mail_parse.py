"""Reading inbound mail: the corpus of real-shaped messages (tests/fixtures/mail), charsets and
encodings, the quotes split, the HTML allow-list, the loop rules, and bad input that must give a
clear outcome without raising."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from helpdesk.mail import loops, quotes
from helpdesk.mail.parse import MAX_PARTS, decode_words, parse
from helpdesk.mail.sanitize import clean_html, html_to_text
from helpdesk.mail.store import sniff_type
from helpdesk.mail.threading import clean_subject, subject_reference

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def new_part(name: str) -> str:
    mail = parse(load(name))
    return quotes.split(mail.text or html_to_text(mail.html)).new


@pytest.mark.parametrize(
    ("name", "expected", "history"),
    [
        (
            "gmail_reply_fr.eml",
            "l'imprimante fonctionne de nouveau après la mise à jour",
            "a écrit",
        ),
        ("gmail_reply_en.eml", "Thanks, that fixed it.", "wrote:"),
        ("outlook_reply_en.eml", "when he will come?", "A technician will visit"),
        (
            "outlook_reply_fr_cp1252.eml",
            "Coût annoncé : 80 € \u2013 merci.",
            "Un technicien passera",
        ),
        ("apple_reply_en.eml", "same error on the screen", "Could you tell us"),
        ("apple_reply_fr.eml", "Toujours la même erreur ce matin.", "Que dit l'écran"),
    ],
)
def test_replies_keep_the_new_part_and_drop_the_quoted_history(
    name: str, expected: str, history: str
) -> None:
    mail = parse(load(name))
    text = mail.text or html_to_text(mail.html)
    split = quotes.split(text)
    assert expected in split.new
    assert history not in split.new
    assert history in split.quoted or history in text  # the history is kept, apart


def test_thread_headers_and_addresses_are_read() -> None:
    mail = parse(load("gmail_reply_fr.eml"))
    assert mail.message_id == "CAGmailFr1+abc=xyz@mail.gmail.example"
    assert mail.in_reply_to == "reply-10001-1@helpdesk.example"
    assert mail.references == ("first-10001@helpdesk.example", "reply-10001-1@helpdesk.example")
    assert mail.from_address == "jeanne.martin@gmail.example"  # lower-cased
    assert mail.from_name == "Jeanne Martin"
    assert subject_reference(mail.subject) == 1
    assert clean_subject(mail.subject) == "[T-10001] Imprimante en panne"
    assert clean_subject("RE : TR: Fwd: AW: Devis") == "Devis"


def test_charsets_latin1_windows1252_and_encoded_words() -> None:
    latin1 = parse(load("iso_8859_1.eml"))
    assert latin1.subject == "Problème de facturation"
    assert latin1.from_name == "Renée François"
    assert "J'ai reçu une facture erronée. Le montant dû est trop élevé." in latin1.text
    cp1252 = parse(load("windows_1252.eml"))
    assert "120 € \u2013 c\u2019est bien plus que prévu. \u201cForfait\u201d ?" in cp1252.text
    encoded = parse(load("encoded_subject.eml"))
    assert encoded.subject == "Commande n°42 : livraison retardée \u2013 urgent"
    assert encoded.from_name == "Élodée Dupont"
    assert "ma commande n°42 n'est toujours pas arrivée" in encoded.text  # base64 body
    assert (
        parse(load("apple_reply_fr.eml")).subject == "Re: [T-10005] Erreur chaudière"
    )  # raw 8-bit
    assert decode_words("=?x-no-such-charset?Q?caf=C3=A9?=") == "café"


def test_attachments_inline_parts_and_sniffed_types() -> None:
    mail = parse(load("alternative_with_attachments.eml"))
    assert "charges me twice" in mail.text and "<b>twice</b>" in mail.html
    by_name = {f.filename: f for f in mail.files}
    assert by_name["invoice-2026-11.pdf"].data.startswith(b"%PDF")
    assert sniff_type(by_name["invoice-2026-11.pdf"].data, "application/octet-stream") == (
        "application/pdf"
    )
    page = by_name["reçu.html"]  # RFC 2231 file name; declared a PDF, really HTML
    assert sniff_type(page.data, page.declared_type) == "text/plain"
    logo = next(f for f in mail.files if f.inline)
    assert logo.content_id == "sig@example.org" and sniff_type(logo.data) == "image/png"


def test_forwarded_content_is_not_taken_for_history() -> None:
    text = new_part("forwarded.eml")
    assert "nobody came" in text and "Your appointment is confirmed" in text
    mail = parse(load("forwarded.eml"))
    assert [f.declared_type for f in mail.files] == ["message/rfc822"]


def test_html_is_sanitised() -> None:
    mail = parse(load("html_only.eml"))
    html = clean_html(mail.html)
    for bad in ("<script", "alert", "javascript:", "expression(", "onload", "onclick", "<iframe",
                "<form", "<style", ' src="https://tracker'):  # fmt: skip
        assert bad not in html, bad
    assert 'href="https://shop.example/orders/12345"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'data-remote-src="https://tracker.example/pixel.gif?u=42"' in html
    assert 'src="cid:logo@web.example"' in html
    assert 'src="https://tracker.example/pixel.gif' in clean_html(mail.html, remote_images=True)
    assert html_to_text(mail.html).startswith("My order 12345 has not arrived.")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("out_of_office.eml", "auto"),
        ("newsletter.eml", "bulk"),
        ("dsn_bounce.eml", "bounce"),
        ("gmail_reply_fr.eml", "message"),
        ("outlook_reply_en.eml", "message"),
    ],
)
def test_loop_rules(name: str, kind: str) -> None:
    verdict = loops.classify(parse(load(name)))
    assert verdict.kind == kind
    assert verdict.acknowledge is (kind == "message")


def test_a_bounce_names_the_address_and_our_message() -> None:
    verdict = loops.classify(parse(load("dsn_bounce.eml")))
    assert verdict.bounce is not None
    assert verdict.bounce.addresses == ("nobody@gone.example",)
    assert verdict.bounce.original_message_id == "reply-10006-1@helpdesk.example"
    assert "5.1.1" in verdict.bounce.reason


def test_missing_from_and_malformed_mime_give_clear_results() -> None:
    nofrom = parse(load("missing_from.eml"))
    assert nofrom.from_address == "" and "no sender address (From)" in nofrom.defects
    broken = parse(load("malformed_mime.eml"))
    assert broken.from_address == "broken@example.com"
    assert "my box is broken" in (broken.text + broken.html)
    assert broken.defects  # said, not hidden
    assert parse(b"").from_address == ""
    assert parse(b"\x00\xff garbage \r\n\r\n\x00").message_id.endswith("@no-message-id.invalid")


def _nested(depth: int) -> bytes:
    head = b"From: deep@example.com\r\nSubject: deep\r\nMessage-ID: <deep@example.com>\r\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhello at the bottom" + closing


def test_ten_thousand_nested_parts_are_read_in_part_without_crashing() -> None:
    started = time.monotonic()
    mail = parse(_nested(10_000))
    assert time.monotonic() - started < 30
    assert mail.from_address == "deep@example.com" and mail.subject == "deep"
    assert mail.defects and any("could not be read" in d or "nested" in d for d in mail.defects)


def test_ten_thousand_parts_side_by_side_stop_at_the_limit() -> None:
    body = b"".join(
        b"--B\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(10_000)
    )
    raw = (
        b'From: wide@example.com\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        + body
        + b"--B--\r\n"
    )
    mail = parse(raw)
    assert mail.text.count("part ") < MAX_PARTS
    assert any(str(MAX_PARTS) in d for d in mail.defects)


def test_a_thirty_megabyte_attachment_is_decoded_whole() -> None:
    data = b"%PDF-1.4\n" + b"\x00" * (30 * 1024 * 1024)
    raw = (
        b'From: big@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary="Z"\r\n'
        b"\r\n--Z\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--Z\r\n"
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=big.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data) + b"--Z--\r\n"
    )
    mail = parse(raw)
    assert mail.text.strip() == "see attached"
    assert len(mail.files) == 1 and len(mail.files[0].data) == len(data)


def test_quote_rules_without_a_history_keep_everything() -> None:
    assert quotes.split("Just a message.\n\n-- \nJean").new == "Just a message.\n\n-- \nJean"
    only_quote = "> quoted line\n> another"
    assert quotes.split(only_quote).new == only_quote  # never an empty comment


def test_imap_urls() -> None:
    from helpdesk.mail.imap import parse_url

    tls = parse_url("imaps://support%40example.com:p%2Fss@mail.example.com/Support%20In")
    assert (tls.host, tls.port, tls.tls, tls.starttls) == ("mail.example.com", 993, True, False)
    assert (tls.username, tls.password, tls.folder) == ("support@example.com", "p/ss", "Support In")
    plain = parse_url("imap://u:p@127.0.0.1:1143?starttls=1")
    assert (plain.port, plain.tls, plain.starttls, plain.folder) == (1143, False, True, "INBOX")
    with pytest.raises(ValueError):
        parse_url("pop3://u:p@host/")
