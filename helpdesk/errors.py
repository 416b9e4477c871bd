"""The API's error type and the JSON error format: `{"error": {"code", "message", "fields"?}}`."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from helpdesk.pagination import BadCursor


class FieldReason(str):
    """Why a field was refused, in English as the API answers it, carrying a code and its values
    besides: the console says it in the reader's language from them (`agents_ui.field_reasons`).
    Being a string, it goes wherever a reason went before (JSON, logs, the command line)."""

    code: str
    values: dict[str, Any]

    def __new__(cls, english: str, code: str, **values: Any) -> FieldReason:
        reason = super().__new__(cls, english)
        reason.code = code
        reason.values = values
        return reason


class APIError(Exception):
    """A client error with a stable machine-readable code. Services raise it; the API renders it."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}


class NotFound(APIError):
    status = 404
    code = "not_found"


class ValidationFailed(APIError):
    status = 422
    code = "validation_error"


class Conflict(APIError):
    status = 409
    code = "conflict"


class Unauthorized(APIError):
    status = 401
    code = "unauthorized"


class Forbidden(APIError):
    status = 403
    code = "forbidden"


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> tuple[Response, int]:
    return jsonify(APIError(message, fields=fields, code=code).to_dict()), status


def wants_json() -> bool:
    """Whether this request's errors are answered in JSON (the API and the health report)."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def http_error_answer(exc: HTTPException) -> Any:
    """An HTTP error as the API says it (JSON naming the error), or Werkzeug's own elsewhere."""
    if not wants_json():
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    response, status = error_response(exc.code or 500, code, exc.description or exc.name)
    if exc.code == 429:
        response.headers["Retry-After"] = "60"
    return response, status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError) -> tuple[Response, int]:
        # A refused request leaves nothing half-written, whatever it had flushed before.
        from helpdesk.extensions import db

        db.session.rollback()
        response = jsonify(exc.to_dict())
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="helpdesk"'
        return response, exc.status

    @app.errorhandler(BadCursor)
    def _bad_cursor(exc: BadCursor) -> tuple[Response, int]:
        return _api_error(ValidationFailed("invalid cursor", fields={"cursor": str(exc)}))

    app.register_error_handler(HTTPException, http_error_answer)
