"""The pure parts of e-mail in the console: what an agent may attach (type sniffed from the
bytes, names made harmless, limits), which part of a message is quoted history, and the message
the mail simulator builds for a customer."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest

from agents_ui.mail_simulator import Written, compose
from agents_ui.mail_thread import quoted_part
from helpdesk.mail.uploads import Limits, Refused, Upload, check, clean_filename, sniff

PDF = b"%PDF-1.7\n..."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
ZIP = b"PK\x03\x04" + b"\x00" * 20


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PDF, "quote.pdf", "application/pdf"),
        (PDF, "quote.txt", "application/pdf"),  # the bytes decide, not the name
        (PNG, "photo.jpg", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "photo", "image/jpeg"),
        (
            ZIP,
            "report.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (ZIP, "archive.zip", "application/zip"),
        (b"name;amount\nManon;12\n", "export.csv", "text/csv"),
        ("Bonjour, voici le relevé.".encode("cp1252"), "note.txt", "text/plain"),
        (b"<!DOCTYPE html><p>hi", "page.pdf", None),
        (b"  <svg onload=alert(1)>", "logo.png", None),
        (b"<script>alert(1)</script>", "notes.txt", None),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00", "tool", None),
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.exe", None),
    ],
)
def test_the_type_is_sniffed_and_unsafe_types_are_refused(
    data: bytes, name: str, expected: str | None
) -> None:
    assert sniff(data, name) == expected


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\devis.pdf", "devis.pdf"),
        ('a"b;c\r\n.pdf', "abc.pdf"),
        ("   ", "file"),
        ("relevé.pdf", "relevé.pdf"),
    ],
)
def test_names_cannot_escape_a_folder_or_a_header(given: str, kept: str) -> None:
    assert clean_filename(given) == kept


def test_limits_on_count_size_and_emptiness() -> None:
    limits = Limits(max_bytes=100, max_files=2)
    assert [kind for _, kind in check([Upload("a.pdf", PDF)], limits)] == ["application/pdf"]
    with pytest.raises(Refused) as many:
        check([Upload("a.pdf", PDF)] * 3, limits)
    assert many.value.reason == "too_many" and many.value.status == 422
    with pytest.raises(Refused) as big:
        check([Upload("a.pdf", PDF + b"x" * 100)], limits)
    assert big.value.reason == "too_big"
    with pytest.raises(Refused) as empty:
        check([Upload("empty.txt", b"")], limits)
    assert (empty.value.reason, empty.value.filename) == ("empty", "empty.txt")
    with pytest.raises(Refused) as html:
        check([Upload("x.pdf", b"<html>")], limits)
    assert html.value.code == "attachment_type"


@pytest.mark.parametrize(
    ("new", "full", "quoted"),
    [
        ("Thanks!", "Thanks!", ""),
        (
            "Thanks!",
            "Thanks!\n\nOn Monday, Support wrote:\n> Try again",
            "On Monday, Support wrote:\n> Try again",
        ),
        ("", "", ""),
        (
            "Merci",
            "Le lundi, Support a écrit :\n> Essayez\n\nMerci",
            "Le lundi, Support a écrit :\n> Essayez\n\nMerci",
        ),
    ],
)
def test_quoted_history_is_what_follows_the_new_part(new: str, full: str, quoted: str) -> None:
    assert quoted_part(new, full) == quoted


def test_the_simulator_builds_the_reply_a_mail_program_would_send() -> None:
    raw = compose(
        Written(
            from_address="manon@example.com",
            from_name="Manon Pétit",
            subject="Re: Box down [T-10001]",
            body="Still down.\n",
            to="support@helpdesk.test",
            in_reply_to="abc@helpdesk.test",
            references=("first@example.com", "abc@helpdesk.test"),
            attachment=("photo.png", "image/png", PNG),
        )
    )
    msg = message_from_bytes(raw, policy=default)
    assert msg["From"].addresses[0].display_name == "Manon Pétit"
    assert msg["In-Reply-To"] == "<abc@helpdesk.test>"
    assert msg["References"] == "<first@example.com> <abc@helpdesk.test>"
    assert msg["Message-ID"].endswith("@simulator.invalid>")
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content() == "Still down.\n"
    [part] = list(msg.iter_attachments())
    assert part.get_filename() == "photo.png" and part.get_content() == PNG
