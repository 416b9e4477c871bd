"""Raw RFC 5322 bytes to a `ParsedMail`: addresses, decoded headers, text, HTML and files.

Mail from the outside is whatever a sender's software produced, so nothing here raises on bad
input: a header that does not decode is read as Latin-1, a body in an unknown charset as UTF-8 with
replacement characters, and a structure too deep or too wide to walk is read as far as the limits
allow, with what was left out named in `defects`. The caller keeps the raw bytes, so the original
is never lost whatever this module made of it.

ISO-8859-1 is decoded as Windows-1252, its superset, as browsers do: mail programs routinely
label cp1252 text (curly quotes, the euro sign) as Latin-1.
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

# Beyond these a message is read in part: the walk stops and says so.
MAX_PARTS = 500
MAX_DEPTH = 40
# Longest text kept from one body part (the original keeps the rest).
MAX_TEXT_CHARS = 200_000

_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    # Undeclared 8-bit text is UTF-8 more often than not; Windows-1252 is the fallback.
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}
_LEAF_TYPES = ("message/rfc822", "message/delivery-status", "message/global-delivery-status")
_ID_RE = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class FilePart:
    """A file carried by the message (or an inline image), decoded."""

    filename: str
    declared_type: str
    data: bytes
    inline: bool = False
    content_id: str = ""


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    message_id_derived: bool
    from_address: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]
    # Lower-cased header names to their decoded values (the first of each; enough for the loop
    # rules, which read Auto-Submitted, Precedence, List-Id and the like).
    headers: dict[str, str]
    content_type: str
    text: str = ""
    html: str = ""
    files: tuple[FilePart, ...] = ()
    # Machine-readable parts of a delivery report (message/delivery-status), decoded as text.
    delivery_status: str = ""
    defects: tuple[str, ...] = field(default_factory=tuple)


def decode_words(value: object) -> str:
    """An RFC 2047 header (`=?utf-8?q?...?=`) as text, each word in its own charset; raw 8-bit
    bytes (RFC 6532, or a careless mailer) as UTF-8, else Windows-1252."""
    if value is None or value == "":
        return ""
    try:
        chunks = decode_header(value if isinstance(value, Header) else str(value))
    except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
        return " ".join(str(value).split())
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            if any("\udc80" <= c <= "\udcff" for c in chunk):
                chunk = decode_bytes(chunk.encode("ascii", "surrogateescape"), "utf-8")
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset or "utf-8"))
    # Plain runs keep their own spaces; adjacent encoded words of one charset come merged.
    joined = " ".join(out).replace("\x00", "")
    return " ".join(joined.split())


def _charset(name: str | None) -> str:
    name = (name or "").strip().strip('"').lower()
    return _CHARSET_ALIASES.get(name, name) or "utf-8"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in the declared charset; an unknown or wrong charset falls back to UTF-8, then
    Windows-1252, so that text always comes out (with replacement characters at worst)."""
    name = _charset(charset)
    for candidate in (name, "utf-8"):
        try:
            text = data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
        return _text(text)
    return _text(data.decode("cp1252", errors="replace"))


def _text(value: str) -> str:
    """Line ends as one newline, and no NUL character (PostgreSQL's text types refuse it)."""
    return value.replace("\r\n", "\n").replace("\x00", "")


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    raw = [decode_words(v) if not str(v).isascii() or "=?" in str(v) else str(v)
           for v in msg.get_all(name, [])]  # fmt: skip
    out: list[tuple[str, str]] = []
    for display, address in email.utils.getaddresses(raw):
        address = address.strip().lower()
        if "@" in address and len(address) <= 254 and not set(address) & {" ", "\x00"}:
            out.append((display.strip(), address))
    return out


def _ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = _ID_RE.findall(value)
    if not found and value.strip():
        found = [value.strip().strip("<>")]
    return tuple(dict.fromkeys(i[:255] for i in found if i and "\x00" not in i))


def derived_message_id(raw: bytes) -> str:
    """A stable id for a message that came without one: a retry of the same bytes finds it."""
    return f"{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid"


def _walk(msg: Message, defects: list[str]) -> Iterator[tuple[Message, int]]:
    """Every leaf part, depth first and without recursion, within the limits."""
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            defects.append(f"more than {MAX_PARTS} parts: the rest was not read")
            return
        payload = part.get_payload()
        # A forwarded message and a delivery report are leaves: one file, one report.
        leaf = depth > 0 and part.get_content_type().lower() in _LEAF_TYPES
        if part.is_multipart() and isinstance(payload, list) and not leaf:
            if depth >= MAX_DEPTH:
                defects.append(f"parts nested deeper than {MAX_DEPTH}: the inner ones not read")
                continue
            stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, Message))
            continue
        yield part, depth


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except (ValueError, TypeError, LookupError):
        name = None
    name = decode_words(name) if name else ""
    return name.replace("/", "_").replace("\\", "_").replace("\x00", "")[:200]


@dataclass
class _Bodies:
    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    files: list[FilePart] = field(default_factory=list)
    delivery_status: list[str] = field(default_factory=list)


def _take(part: Message, bodies: _Bodies) -> None:
    ctype = part.get_content_type().lower()
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    filename = _filename(part)
    data = _payload_bytes(part)
    if ctype in ("message/delivery-status", "message/global-delivery-status"):
        bodies.delivery_status.append(_inner_text(part, data))
        return
    is_body = disposition != "attachment" and not filename
    if is_body and ctype == "text/plain":
        bodies.text.append(decode_bytes(data, part.get_content_charset())[:MAX_TEXT_CHARS])
    elif is_body and ctype == "text/html":
        bodies.html.append(decode_bytes(data, part.get_content_charset())[:MAX_TEXT_CHARS])
    elif ctype == "message/rfc822" and not data:
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        blob = first.as_bytes() if isinstance(first, Message) else b""
        bodies.files.append(FilePart(filename or "message.eml", ctype, blob))
    else:
        bodies.files.append(
            FilePart(
                filename=filename or f"part-{len(bodies.files) + 1}",
                declared_type=ctype,
                data=data,
                inline=disposition == "inline" or (not filename and ctype.startswith("image/")),
                content_id=(part.get("Content-ID") or "").strip().strip("<>")[:255],
            )
        )


def _inner_text(part: Message, data: bytes) -> str:
    if data:
        return decode_bytes(data, "utf-8")
    inner = part.get_payload()
    if isinstance(inner, list):
        return "\n".join(str(p) for p in inner)
    return str(inner or "")


def _headers(msg: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in msg.items():
        key = name.lower()
        if key not in out:
            out[key] = decode_words(str(value))[:998]
    return out


def parse(raw: bytes) -> ParsedMail:
    """Read a message; never raises on malformed input (see the module's docstring)."""
    defects: list[str] = []
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
        bodies = _Bodies()
        for part, _depth in _walk(msg, defects):
            _take(part, bodies)
    except (RecursionError, MemoryError, IndexError, ValueError, TypeError) as exc:
        # Python's parser recurses once per nesting level: a message of thousands of nested
        # parts cannot be read as a tree. Its headers still can, and the original is kept.
        defects.append(f"the message's structure could not be read ({type(exc).__name__})")
        msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
        bodies = _Bodies()
    defects.extend(type(d).__name__ for d in getattr(msg, "defects", [])[:5])
    return _assemble(raw, msg, bodies, defects)


def _assemble(raw: bytes, msg: Message, bodies: _Bodies, defects: list[str]) -> ParsedMail:
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    from_name, from_address = senders[0] if senders else ("", "")
    if not from_address:
        defects.append("no sender address (From)")
    ids = _ids(msg.get("Message-ID"))
    message_id = ids[0] if ids else derived_message_id(raw)
    in_reply_to = _ids(msg.get("In-Reply-To"))
    return ParsedMail(
        message_id=message_id,
        message_id_derived=not ids,
        from_address=from_address,
        from_name=decode_words(from_name)[:200],
        to=tuple(a for _, a in _addresses(msg, "To")),
        cc=tuple(a for _, a in _addresses(msg, "Cc")),
        subject=decode_words(msg.get("Subject")).replace("\r", " ").replace("\n", " ")[:998],
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_ids(msg.get("References"))[-50:],
        headers=_headers(msg),
        content_type=msg.get_content_type().lower(),
        text="\n\n".join(t for t in bodies.text if t.strip()),
        html="\n".join(bodies.html),
        files=tuple(bodies.files),
        delivery_status="\n".join(bodies.delivery_status),
        defects=tuple(dict.fromkeys(defects)),
    )
