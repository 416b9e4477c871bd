"""Console pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")


@bp.get("/login")
def login() -> str:
    return "login"
