"""Front-end packages installed by npm, served from `agents_ui/node_modules`.

Only files named here are served: the folder also holds package sources, READMEs and build
scripts that have no business being public. Nothing from npm is copied into the repository;
`make install` runs `npm ci` against the lockfile.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_from_directory
from werkzeug.wrappers import Response

from agents_ui.blueprint import bp

NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
VENDOR_FILES = {
    "socket.io-client/dist/socket.io.min.js": "text/javascript",
    "socket.io-client/dist/socket.io.min.js.map": "application/json",
    "chart.js/dist/chart.umd.min.js": "text/javascript",
    "chart.js/dist/chart.umd.min.js.map": "application/json",
    "@twilio/voice-sdk/dist/twilio.min.js": "text/javascript",
}


@bp.get("/vendor/<path:name>")
def vendor(name: str) -> Response:
    mimetype = VENDOR_FILES.get(name)
    if mimetype is None or not (NODE_MODULES / name).is_file():
        abort(404)
    return send_from_directory(NODE_MODULES, name, mimetype=mimetype, max_age=3600)
