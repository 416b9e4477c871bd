"""The console's part of the app: its blueprint, with every page module attached to it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from agents_ui.views import bp as console_bp

    app.register_blueprint(console_bp)
