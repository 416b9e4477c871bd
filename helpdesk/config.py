"""Settings read from the environment, each with an embedded default.

The defaults describe the embedded deployment (`make run`): SQLite under `instance/`, tasks run
in-process, the Twilio simulator. Setting `DATABASE_URL`, `REDIS_URL` and the `TWILIO_*` variables
turns the same code into the scaled-out deployment.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"


def _instance_secret(instance: Path, name: str) -> str:
    """A random secret generated once and kept under `instance/`.

    Sessions and simulator webhook signatures must survive a restart of `make run`, yet no secret
    may ship in the repository, so the first start writes one.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    """Every setting the application reads. Field names are the environment variable names."""

    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    REDIS_URL: str = ""
    TWILIO_ACCOUNT_SID: str = ""
    TWILIO_AUTH_TOKEN: str = ""
    TWILIO_PHONE_NUMBER: str = "+15005550006"
    # Only for a stand-in of Twilio's REST API (contract mocks, load runs); empty in production.
    TWILIO_API_BASE_URL: str = ""
    # The agents' browser softphone (Twilio Voice JavaScript SDK): an API key of the account
    # signs its access tokens; the TwiML app, if set, lets it place calls too.
    TWILIO_API_KEY_SID: str = ""
    TWILIO_API_KEY_SECRET: str = ""
    TWILIO_TWIML_APP_SID: str = ""
    HELPDESK_VOICE_TOKEN_TTL_S: int = 3600
    # The port this process serves on (`make run`, `helpdesk serve`, the Procfile's web line).
    PORT: int = 5000
    # Empty: http://127.0.0.1:$PORT, so that a console served on another port still signs its
    # simulator webhooks and links with the address it really has.
    PUBLIC_BASE_URL: str = ""
    # Where the console's browser opens its live connection when the Procfile's `sockets`
    # process serves it without a proxy in front (`http://127.0.0.1:5001`). Empty: the page's own
    # origin (the embedded form, or a proxy that routes /socket.io/ to the sockets processes).
    SOCKETS_PUBLIC_URL: str = ""
    HELPDESK_TIMEZONE: str = "Europe/Paris"
    HELPDESK_DEFAULT_REGION: str = "FR"
    HELPDESK_DEFAULT_LOCALE: str = "en"
    HELPDESK_INSTANCE_PATH: str = str(DEFAULT_INSTANCE)
    HELPDESK_LOGIN_LIMIT: str = "10 per minute"
    HELPDESK_AUTO_CLOSE_DAYS: int = 4
    HELPDESK_SCHEDULER: bool = True
    HELPDESK_TOKEN_TTL_DAYS: int = 90
    HELPDESK_SMS_ACK_PERIOD_S: int = 3600
    HELPDESK_SMS_FLOOD_LIMIT: str = "10 per minute"
    # Help center, per client address: answers to "was this helpful?", and counted views of one
    # article (a visitor's session counts each article once whatever the limit).
    # Bounds on what one request may cost: the largest body accepted (an invoice export is the
    # biggest thing anyone posts), and on PostgreSQL, how long a web request's statement may run
    # and how long its transaction may sit idle holding locks (0: no limit).
    HELPDESK_MAX_REQUEST_MB: float = 16.0
    HELPDESK_STATEMENT_TIMEOUT_S: float = 30.0
    HELPDESK_IDLE_IN_TRANSACTION_S: float = 60.0
    # A pooled database connection unused for longer than this is checked with a round trip
    # before a request gets it (one used more recently is not: `db.ping_when_idle`).
    HELPDESK_POOL_PING_IDLE_S: float = 5.0
    HELPDESK_HELP_VOTE_LIMIT: str = "20 per hour"
    HELPDESK_HELP_VIEW_LIMIT: str = "20 per day"
    # Customer portal (docs/portal.md): sign-in links asked for one address or number, and from
    # one client address; contact forms sent from one client address.
    HELPDESK_PORTAL_ADDRESS_LIMIT: str = "3 per 15 minutes"
    HELPDESK_PORTAL_IP_LIMIT: str = "20 per hour"
    HELPDESK_CONTACT_LIMIT: str = "5 per hour"
    HELPDESK_ONCALL_NUMBER: str = ""
    # Seconds an agent who declined a call stays free before it may come back to them, once every
    # other free agent who can take it has declined it too (docs/telephony.md).
    HELPDESK_REOFFER_BACKOFF_S: int = 5
    # Wallboard: service-level threshold and target, and the longest wait before an alert.
    HELPDESK_SL_THRESHOLD_S: float = 20.0
    HELPDESK_SL_TARGET: float = 0.8
    HELPDESK_MAX_WAIT_S: float = 120.0
    # At most one wallboard push per agent and per queue in this many seconds (0: every change).
    HELPDESK_WALLBOARD_PUSH_S: float = 0.5
    HELPDESK_DISPATCH_ON_COMPLETION: str = "solve"  # solve | note | none
    # Knowledge-base search: "whoosh" or "postgresql"; empty picks postgresql on a PostgreSQL
    # database and whoosh otherwise (docs/kb.md).
    HELPDESK_KB_SEARCH: str = ""
    HELPDESK_KB_INDEX_PATH: str = ""  # the Whoosh directory; default instance/kb_index
    SESSION_COOKIE_SECURE: bool = False
    # How many reverse proxies stand in front of the web processes (nginx: 1). Their
    # X-Forwarded-For/-Proto/-Host are believed for that many hops and no more; 0 ignores them,
    # so that a client cannot claim another address by sending the header itself.
    HELPDESK_TRUSTED_PROXIES: int = 0
    HELPDESK_VOICE_FALLBACK_URL: str = ""  # where a call goes when the database fails
    HELPDESK_METRICS_TOKEN: str = ""  # lets Prometheus scrape /metrics from outside the network
    HELPDESK_LOG_FORMAT: str = "text"  # "json" for one JSON object per line (log shippers)
    # E-mail out (docs/email.md): the SMTP server, `smtp://user:pass@host:587?starttls=1` or
    # `smtps://user:pass@host:465`; empty sends to the local mail simulator. MAIL_FROM is the
    # address replies come from and go back to (`Support <support@example.com>`).
    MAIL_SMTP_URL: str = ""
    MAIL_FROM: str = "Helpdesk <helpdesk@localhost>"
    # Files agents attach to a reply (helpdesk.mail.uploads): at most this many, and this many
    # bytes in all; under HELPDESK_MAX_REQUEST_MB, the largest request body accepted.
    MAIL_REPLY_MAX_FILES: int = 5
    MAIL_REPLY_MAX_BYTES: int = 10 * 1024 * 1024
    # Outgoing webhooks (docs/webhooks.md): receivers on loopback or private addresses are
    # refused unless this is on (tests, the demo, a receiver on the same network); the timeout
    # bounds the connection and each read of one delivery.
    WEBHOOKS_ALLOW_PRIVATE: bool = False
    WEBHOOKS_TIMEOUT_S: float = 10.0
    # E-mail in (docs/email.md): the mailbox the IMAP worker reads
    # (`imaps://user:pass@host/INBOX`; `imap://` for plain or STARTTLS with `?starttls=1`), the
    # folder it moves what it took into (empty: flags it \Seen instead), IDLE's refresh and the
    # polling interval where the server has no IDLE; the size limit of one message's files, one
    # acknowledgement per sender and period, the per-sender flood limit, whether remote images
    # in HTML mail load (they would tell the sender who read it and when), and the attachment
    # store's folder (default instance/mail).
    MAIL_IMAP_URL: str = ""
    MAIL_IMAP_DONE_FOLDER: str = "Helpdesk"
    MAIL_IMAP_IDLE_S: int = 120
    MAIL_IMAP_POLL_S: float = 30.0
    MAIL_MAX_MESSAGE_BYTES: int = 25 * 1024 * 1024
    MAIL_ACK_PERIOD_S: int = 3600
    MAIL_FLOOD_LIMIT: str = "20 per 10 minutes"
    MAIL_REMOTE_IMAGES: bool = False
    MAIL_STORE_PATH: str = ""
    # Satisfaction surveys (docs/surveys.md): sent after a solved ticket or an answered call, by
    # text and by e-mail (each can be turned off), at most one per customer in this many days; a
    # survey can be answered for this many days; a ticket with one of these tags gets none.
    HELPDESK_SURVEY_SMS: bool = True
    HELPDESK_SURVEY_EMAIL: bool = True
    HELPDESK_SURVEY_PERIOD_DAYS: int = 7
    HELPDESK_SURVEY_OPEN_DAYS: int = 14
    HELPDESK_SURVEY_SKIP_TAGS: str = "spam,merged,duplicate"
    # The analytics warehouse (docs/analytics.md): the Parquet files' folder (default
    # instance/warehouse) and how often the periodic job exports what changed.
    WAREHOUSE_DIR: str = ""
    WAREHOUSE_EXPORT_S: int = 3600
    # Customer models (docs/customer-models.md), trained on WAREHOUSE_DIR: the monthly
    # discount rate of the 12-month lifetime value.
    HELPDESK_CLV_MONTHLY_DISCOUNT: float = 0.01
    TESTING: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    telephony_backend: str = field(default="simulator", init=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if not f.init or f.name == "extra" or f.name not in env:
                continue
            raw = env[f.name]
            if f.type in ("bool", bool):
                values[f.name] = _bool(raw, False)
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        settings = cls(**values)
        settings.fill_defaults()
        return settings

    def fill_defaults(self) -> None:
        if not self.PUBLIC_BASE_URL:
            self.PUBLIC_BASE_URL = f"http://127.0.0.1:{self.PORT}"
        if self.PUBLIC_BASE_URL.lower().startswith("https://"):
            # Served over TLS: a session cookie must never travel in clear text.
            self.SESSION_COOKIE_SECURE = True
        self.telephony_backend = (
            "twilio" if self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN else "simulator"
        )
        instance = Path(self.HELPDESK_INSTANCE_PATH)
        if not self.DATABASE_URL:
            instance.mkdir(parents=True, exist_ok=True)
            self.DATABASE_URL = f"sqlite:///{instance / 'helpdesk.sqlite3'}"
        if self.DATABASE_URL.startswith("postgres://"):
            self.DATABASE_URL = "postgresql+psycopg://" + self.DATABASE_URL[len("postgres://") :]
        elif self.DATABASE_URL.startswith("postgresql://"):
            self.DATABASE_URL = "postgresql+psycopg://" + self.DATABASE_URL[len("postgresql://") :]
        if not self.HELPDESK_KB_SEARCH:
            self.HELPDESK_KB_SEARCH = "whoosh" if self.is_sqlite else "postgresql"
        if not self.HELPDESK_KB_INDEX_PATH:
            self.HELPDESK_KB_INDEX_PATH = str(instance / "kb_index")
        if not self.WAREHOUSE_DIR:
            self.WAREHOUSE_DIR = str(instance / "warehouse")
        if not self.SECRET_KEY:
            self.SECRET_KEY = _instance_secret(instance, "secret_key")
        if not self.TWILIO_AUTH_TOKEN:
            # Simulator mode: webhooks are still signed and checked, with a token of our own.
            self.TWILIO_AUTH_TOKEN = _instance_secret(instance, "simulator_auth_token")

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")

    def request_deadlines(self) -> dict[str, Any]:
        """Connection arguments that bound a web request's work on PostgreSQL.

        A statement that runs past `HELPDESK_STATEMENT_TIMEOUT_S` is cancelled, and a transaction
        left idle (a request stuck in Python while holding row locks) is ended by the server
        after `HELPDESK_IDLE_IN_TRANSACTION_S`, so no client input holds a worker's locks for
        long. Workers run the long periodic jobs and keep no such limit.
        """
        if self.is_sqlite:
            return {}
        statement_ms = int(self.HELPDESK_STATEMENT_TIMEOUT_S * 1000)
        idle_ms = int(self.HELPDESK_IDLE_IN_TRANSACTION_S * 1000)
        options = [
            f"-c statement_timeout={statement_ms}",
            f"-c idle_in_transaction_session_timeout={idle_ms}",
        ]
        return {"connect_args": {"options": " ".join(options)}}

    def flask_config(self) -> dict[str, Any]:
        """The subset Flask and its extensions read, under the names they expect."""
        engine_options: dict[str, Any] = {}
        if not self.is_sqlite:
            engine_options.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "MAX_CONTENT_LENGTH": int(self.HELPDESK_MAX_REQUEST_MB * 1024 * 1024),
            "SQLALCHEMY_DATABASE_URI": self.DATABASE_URL,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "SQLALCHEMY_TRACK_MODIFICATIONS": False,
            "TESTING": self.TESTING,
            "WTF_CSRF_TIME_LIMIT": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.SESSION_COOKIE_SECURE,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": self.SESSION_COOKIE_SECURE,
            "BABEL_DEFAULT_LOCALE": self.HELPDESK_DEFAULT_LOCALE,
            "BABEL_DEFAULT_TIMEZONE": self.HELPDESK_TIMEZONE,
            "RATELIMIT_STORAGE_URI": self.REDIS_URL or "memory://",
            # Redis away must not lock everyone out of signing in: the sign-in throttle counts in
            # this process's memory meanwhile (Flask-Limiter logs the switch), and an error of
            # the limiter itself lets the request through rather than answering 500.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            "RATELIMIT_HEADERS_ENABLED": True,
            "JSON_SORT_KEYS": False,
            **self.extra,
        }
