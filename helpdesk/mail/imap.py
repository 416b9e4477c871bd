"""The IMAP worker: reads one mailbox (`MAIL_IMAP_URL`) and hands each new message to the
inbound pipeline, once.

Once, twice over: the mailbox's state (`mailbox_states`) keeps the highest UID taken under the
mailbox's current UIDVALIDITY, so a restart resumes after it (a new UIDVALIDITY, after the server
rebuilt the mailbox, starts again from the first message); and the pipeline itself knows each
Message-ID, so a message fetched again after a crash between the ticket's commit and the state's
answers `duplicate` and changes nothing. What was taken is then moved to `MAIL_IMAP_DONE_FOLDER`
(or, without one, flagged `\\Seen` and `$Helpdesk`), so the inbox shows what is left to do.

It waits with IDLE where the server offers it (a new message is picked up within a second or so)
and polls every `MAIL_IMAP_POLL_S` seconds otherwise. The client comes from `imapclient`, made by
a factory the caller can replace.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from imapclient import IMAPClient
from sqlalchemy import select

from helpdesk.db import DbSession, insert_unless_present, utcnow
from helpdesk.mail.inbound import Ingested
from helpdesk.mail.models import MailboxState

log = logging.getLogger(__name__)

TAKEN_FLAG = b"$Helpdesk"
FAILED_FLAG = b"$HelpdeskFailed"
BATCH = 25


@dataclass(frozen=True)
class ImapTarget:
    host: str
    port: int
    tls: bool
    starttls: bool
    username: str
    password: str
    folder: str

    @property
    def mailbox(self) -> str:
        """The mailbox's name in `mailbox_states`: who reads which folder where."""
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"[:255]


def parse_url(url: str) -> ImapTarget:
    """`imaps://user:pass@host[:port]/FOLDER` (TLS), or `imap://...` (`?starttls=1` for STARTTLS);
    user and password percent-encoded; the folder defaults to INBOX."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("MAIL_IMAP_URL must look like imaps://user:pass@host/INBOX")
    query = parse_qs(parts.query)
    tls = parts.scheme == "imaps"
    return ImapTarget(
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        tls=tls,
        starttls=not tls and query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def connect(target: ImapTarget, *, timeout: float = 30.0) -> IMAPClient:
    context = ssl.create_default_context()
    client = IMAPClient(
        target.host, port=target.port, ssl=target.tls, ssl_context=context, timeout=timeout
    )
    if target.starttls:
        client.starttls(context)
    client.login(target.username, target.password)
    return client


Ingest = Callable[[DbSession, bytes, str], Ingested]


class MailboxReader:
    """Takes what is new in one mailbox; `take_new` once, or `run` until stopped."""

    def __init__(
        self,
        session: DbSession,
        target: ImapTarget,
        ingest: Ingest,
        *,
        done_folder: str = "",
        client_factory: Callable[[ImapTarget], IMAPClient] = connect,
    ) -> None:
        self.session = session
        self.target = target
        self.ingest = ingest
        self.done_folder = done_folder
        self.client_factory = client_factory
        self.client: IMAPClient | None = None

    def open(self) -> IMAPClient:
        if self.client is None:
            client = self.client_factory(self.target)
            if self.done_folder and not client.folder_exists(self.done_folder):
                client.create_folder(self.done_folder)
            self.client = client
        return self.client

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.logout()
            except Exception:
                log.debug("IMAP logout failed", exc_info=True)
            self.client = None

    def _state(self, uidvalidity: int) -> MailboxState:
        name = self.target.mailbox
        insert_unless_present(
            self.session,
            MailboxState,
            {"mailbox": name, "uidvalidity": uidvalidity, "last_uid": 0, "updated_at": utcnow()},
            key=["mailbox"],
        )
        state: MailboxState | None = self.session.scalar(
            select(MailboxState).where(MailboxState.mailbox == name).with_for_update()
        )
        assert state is not None
        if state.uidvalidity != uidvalidity:
            log.warning("mailbox %s has a new UIDVALIDITY: reading it from the start", name)
            state.uidvalidity, state.last_uid = uidvalidity, 0
        return state

    def take_new(self) -> list[Ingested]:
        """Every message past the last UID taken, oldest first; returns what became of each."""
        client = self.open()
        selected = client.select_folder(self.target.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last_uid = self._state(uidvalidity).last_uid
        self.session.commit()
        # "N:*" answers the last message even when its UID is below N: filter.
        uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        results: list[Ingested] = []
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            fetched = client.fetch(batch, [b"BODY.PEEK[]"])
            for uid in batch:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is None:
                    continue  # expunged meanwhile
                results.append(self._take_one(client, uidvalidity, uid, raw))
        return results

    def _take_one(self, client: IMAPClient, uidvalidity: int, uid: int, raw: bytes) -> Ingested:
        source = f"imap:{self.target.mailbox}:{uidvalidity}:{uid}"
        try:
            result = self.ingest(self.session, raw, source)
        except Exception:
            # A message the pipeline cannot take stays in the inbox, flagged, and the worker
            # goes on: one bad message must not stop the mailbox.
            self.session.rollback()
            log.exception("IMAP message %s could not be taken in; left flagged", source)
            client.add_flags([uid], [FAILED_FLAG])
            result = Ingested("rejected", None, None, "the pipeline failed; left in the mailbox")
        state = self._state(uidvalidity)
        state.last_uid, state.updated_at = max(state.last_uid, uid), utcnow()
        self.session.commit()
        if result.reason.startswith("the pipeline failed"):
            return result
        if self.done_folder:
            client.move([uid], self.done_folder)
        else:
            client.add_flags([uid], [b"\\Seen", TAKEN_FLAG])
        return result

    def wait(self, *, idle_s: float, poll_s: float, stop: threading.Event) -> None:
        """Until the server says something changed (IDLE) or the polling interval ends."""
        client = self.open()
        if b"IDLE" not in client.capabilities():
            stop.wait(poll_s)
            return
        # A message that arrived between the last search and now is announced by the server at
        # its next answer, not inside the IDLE to come: ask once before idling.
        if _announces_new(client.noop()):
            return
        client.idle()
        try:
            deadline = time.monotonic() + idle_s
            while not stop.is_set() and time.monotonic() < deadline:
                if client.idle_check(timeout=min(1.0, idle_s)):
                    break
        finally:
            client.idle_done()

    def run(self, stop: threading.Event, *, idle_s: float = 300, poll_s: float = 30) -> None:
        """Take, wait, take again, until `stop` is set; reconnects with back-off on errors."""
        backoff = 1.0
        while not stop.is_set():
            try:
                # Again until nothing is new: what arrived while the last ones were taken in was
                # announced during that work, not in the IDLE to come.
                while self.take_new():
                    pass
                self.wait(idle_s=idle_s, poll_s=poll_s, stop=stop)
                backoff = 1.0
            except Exception:
                log.exception("IMAP worker for %s: error; reconnecting", self.target.mailbox)
                self.session.rollback()
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)
        self.close()


def _announces_new(answer: Any) -> bool:
    _text, responses = answer if isinstance(answer, tuple) else ("", answer)
    return any(
        isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT")
        for r in responses or []
    )


def reader_for_app(app: Any, session: DbSession) -> MailboxReader:
    """The reader the `helpdesk mail watch` command runs, from the app's settings."""
    from helpdesk.mail import inbound

    settings = app.config["HELPDESK_SETTINGS"]

    def ingest(sess: DbSession, raw: bytes, source: str) -> Ingested:
        return inbound.ingest(sess, raw, source=source)

    return MailboxReader(
        session,
        parse_url(settings.MAIL_IMAP_URL),
        ingest,
        done_folder=settings.MAIL_IMAP_DONE_FOLDER,
    )
