"""Where the bytes of attachments and of original messages live: never in the database.

`AttachmentStore` is the interface (an S3-compatible store implements the same four methods);
`LocalStore` keeps files under the instance folder, named by a random key in two levels of
directories. The type a file is served with is sniffed from its first bytes (`sniff_type`), never
taken from the sender's declaration: a page claiming to be a PDF is served as what it is.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MB = 1024 * 1024

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"{\\rtf", "application/rtf"),
)
# Office documents are zips; their declared type is believed when the bytes are a zip.
_ZIP_FAMILY = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/epub+zip",
    }
)


def sniff_type(data: bytes, declared: str = "") -> str:
    """The content type the bytes show. Never an HTML or script type: such files are served as
    text/plain or application/octet-stream, so that no browser runs them."""
    head = data[:64]
    for magic, ctype in _SIGNATURES:
        if head.startswith(magic):
            if ctype == "application/zip" and declared in _ZIP_FAMILY:
                return declared
            return ctype
    if head[8:12] == b"WEBP" and head.startswith(b"RIFF"):
        return "image/webp"
    if head[8:12] == b"WAVE" and head.startswith(b"RIFF"):
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if b"\x00" in data[:8192]:
        return "application/octet-stream"
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError:
        if not data[:8192].isascii() and declared.startswith("text/"):
            return "text/plain"
        return "application/octet-stream"
    return "message/rfc822" if declared == "message/rfc822" else "text/plain"


# Every type `sniff_type` can answer: the download's documented media types.
SNIFFED_TYPES = tuple(
    sorted(
        {ctype for _, ctype in _SIGNATURES}
        | _ZIP_FAMILY
        | {"image/webp", "audio/wav", "video/mp4", "application/octet-stream"}
        | {"text/plain", "message/rfc822"}
    )
)


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class AttachmentStore(Protocol):
    def put(self, data: bytes, *, kind: str = "file") -> Stored: ...

    def open(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class LocalStore:
    """Files under a folder (the instance's `mail/` by default); keys are random and checked,
    so no key can name a path outside the folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        kind, _, token = key.partition("-")
        if not (kind.isascii() and kind.isalnum() and len(token) == 32 and token.isalnum()):
            raise KeyError(key)
        return self.root / token[:2] / key

    def put(self, data: bytes, *, kind: str = "file") -> Stored:
        key = f"{''.join(c for c in kind if c.isalnum())[:8] or 'file'}-{secrets.token_hex(16)}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return Stored(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def open(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except KeyError:
            return

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except KeyError:
            return False


def attachment_store(app: Any) -> AttachmentStore:
    """The application's store: made once from its settings and kept on the app."""
    store: AttachmentStore | None = app.extensions.get("mail_store")
    if store is None:
        folder = app.config.get("MAIL_STORE_PATH") or os.path.join(app.instance_path, "mail")
        store = LocalStore(Path(folder))
        app.extensions["mail_store"] = store
    return store
