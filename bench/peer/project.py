"""The files the side-by-side run writes at run time: the peer's Django project and the floor app.

They are generated rather than committed so that the peer stays out of the project (no Django
module is ever imported here) and so that each run states, in one place, every setting it chose.
Pure text: `python -m bench peer` writes them to a temporary directory, the unit tests compile them.
"""

from __future__ import annotations

# The peer and its version, installed by the benchmark into its own virtualenv.
PEER_PACKAGE = "django-helpdesk"
PEER_VERSION = "2.6.1"
PEER_REQUIREMENTS = (f"{PEER_PACKAGE}=={PEER_VERSION}", "gunicorn", "psycopg[binary]")

# The peer as a typical deployment serves it: gunicorn's default sync workers, two of them (one
# per core of this machine), with the same access log to stdout as our Procfile's web line.
PEER_WORKERS = 2
# Its list and fetch read every ticket: on a loaded machine one takes longer than gunicorn's
# default 30 s, and a killed worker would be measured as an error rather than as its cost.
PEER_TIMEOUT = 300

PEER_SETTINGS = '''\
"""Settings of the peer, written by `python -m bench peer` for one run."""

SECRET_KEY = "bench-only-secret-key"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
SITE_ID = 1
ROOT_URLCONF = "peer_urls"
WSGI_APPLICATION = "peer_wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STATIC_URL = "/static/"
LOGIN_URL = "/login/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Persistent connections: each worker keeps its connection, as our pool does (the default, a
# connection per request, would make the peer slower than it need be).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": {dbname!r},
        "USER": {user!r},
        "PASSWORD": {password!r},
        "HOST": {host!r},
        "PORT": {port!r},
        "CONN_MAX_AGE": 600,
    }
}

# A token per API client, read on each request (as our bearer tokens are).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
}

# Mail to submitters is dropped: ours sends none on this path either.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
HELPDESK_API_ENABLED = True
# Teams need pinax-teams, an optional extra; the ticket paths measured do not use them.
HELPDESK_TEAMS_MODE_ENABLED = False
'''

PEER_URLS = '''\
"""The peer's URLs: django-helpdesk at the root, its REST API under /api/."""

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
'''

PEER_WSGI = '''\
"""The peer's WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
application = get_wsgi_application()
'''

# Run once with the peer's interpreter: migrate, then the API user, its token and a queue. The
# last line it prints is JSON the benchmark reads.
PEER_SETUP = '''\
"""Migrate the peer's database and create what the benchmark's requests need."""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from helpdesk.models import Queue

call_command("migrate", verbosity=0, interactive=False)
user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password")
token = Token.objects.create(user=user)
queue = Queue.objects.create(title="Support", slug="support", allow_public_submission=True)
print(json.dumps({"token": token.key, "queue_id": queue.id, "user_id": user.id}))
'''

FLOOR_APP = '''\
"""The floor: the least a web process can do to create a ticket. One INSERT, one JSON answer.

Connections are kept in a last-in-first-out pool, as SQLAlchemy's pool keeps ours: a request
takes the most recently used one, so a few connections serve the whole load whatever thread runs
the request.
"""

import os
import queue

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)
_pool = queue.LifoQueue()
INSERT = (
    "INSERT INTO floor_tickets (subject, description, priority) VALUES (%s, %s, %s) "
    "RETURNING id, created_at"
)


def _take():
    try:
        return _pool.get_nowait()
    except queue.Empty:
        return psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)


@app.post("/api/v1/tickets")
def create():
    body = request.get_json()
    conn = _take()
    try:
        row = conn.execute(
            INSERT, (body["subject"], body["description"], body["priority"])
        ).fetchone()
    finally:
        _pool.put(conn)
    return jsonify(id=row[0], created_at=row[1].isoformat()), 201


@app.get("/healthz")
def healthz():
    return "ok"
'''

FLOOR_SCHEMA = """
CREATE TABLE floor_tickets (
    id bigserial PRIMARY KEY,
    subject text NOT NULL,
    description text NOT NULL,
    priority text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


def peer_files(*, dbname: str, user: str, password: str, host: str, port: str) -> dict[str, str]:
    """The peer's Django project, file name to text."""
    settings = PEER_SETTINGS.replace("{dbname!r}", repr(dbname))
    for key, value in (("user", user), ("password", password), ("host", host), ("port", port)):
        settings = settings.replace(f"{{{key}!r}}", repr(value))
    return {
        "peer_settings.py": settings,
        "peer_urls.py": PEER_URLS,
        "peer_wsgi.py": PEER_WSGI,
        "peer_setup.py": PEER_SETUP,
    }


def floor_files() -> dict[str, str]:
    """The floor's Flask app, file name to text."""
    return {"floor_app.py": FLOOR_APP}
