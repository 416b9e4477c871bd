"""WSGI entry point for gunicorn (`helpdesk.wsgi:app`), configured from the environment."""

from helpdesk.app import create_app

app = create_app()
