"""One decorator per API operation: authenticate, check the role, validate, serialise, document.

Each feature's `api.py` declares its operations with `operation(...)`; the same declaration feeds
the OpenAPI document, so the document cannot drift from what the server accepts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError

from helpdesk.auth import permissions
from helpdesk.auth.models import Role, User
from helpdesk.errors import APIError, Forbidden, Unauthorized, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

ANY_STAFF: tuple[Role, ...] = (*permissions.STAFF, Role.ADMIN)


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    roles: tuple[Role, ...] | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    path_params: dict[str, str] = field(default_factory=dict)
    # Statuses this operation answers beyond those every operation of its kind documents.
    errors: dict[int, str] = field(default_factory=dict)
    # Media types the success may come in besides JSON (a CSV export), with their schemas.
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A body the view reads itself (not a JSON model): its media types and schemas.
    raw_body: dict[str, dict[str, Any]] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


def validation_fields(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic errors as `{"field.path": "message"}`, the shape of our error format."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        out[prefix + loc] = err["msg"]
    return out


def current_api_user() -> User:
    user: User | None = g.get("api_user")
    if user is None:
        raise Unauthorized("authentication required")
    return user


def _authenticate() -> User:
    from helpdesk.auth import service as auth_service
    from helpdesk.extensions import db

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    user = auth_service.user_for_token(session=db.session, token=token.strip())
    if user is None:
        raise Unauthorized("the token is invalid, expired or revoked")
    return user


INT_LIMIT = 2**31 - 1  # every integer column is a 32-bit `integer` on PostgreSQL


def _oversized_ints(value: Any, path: str) -> dict[str, str]:
    """Integers no column can hold, and strings with a NUL character (PostgreSQL's text types
    cannot store one), by field path: refused as input rather than failing in SQL.

    Checked on the validated model, so that every operation is covered without each model
    bounding each of its integer fields.
    """
    if isinstance(value, bool):
        return {}
    if isinstance(value, str):
        return {path or "body": "must not contain NUL characters"} if "\x00" in value else {}
    if isinstance(value, int):
        if -INT_LIMIT <= value <= INT_LIMIT:
            return {}
        return {path or "body": f"must be between {-INT_LIMIT} and {INT_LIMIT}"}
    found: dict[str, str] = {}
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                found[path or "body"] = "keys must not contain NUL characters"
            found.update(_oversized_ints(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            found.update(_oversized_ints(item, f"{path}.{index}" if path else str(index)))
    return found


def _checked(parsed: BaseModel, message: str) -> BaseModel:
    bad = _oversized_ints(parsed, "")
    if bad:
        raise ValidationFailed(message, fields=bad)
    return parsed


def _parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise APIError(
            "expected a JSON body (Content-Type: application/json)",
            code="unsupported_media_type",
            status=415,
        )
    data = request.get_json(silent=True)
    if data is None:
        raise APIError("the body is not valid JSON", code="malformed_json")
    if not isinstance(data, dict):
        raise ValidationFailed(
            "the body must be a JSON object", fields={"body": "expected an object"}
        )
    return validated(model, data)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: dict[str, Any]) -> M:
    """`data` checked against an input model as the API checks a body: the one place the API's
    rules apply, also to the console's forms. Refusals raise `ValidationFailed` with the fields
    (the pydantic `ValidationError` as its cause, when it is one)."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("invalid input", fields=validation_fields(exc)) from exc
    checked = _checked(parsed, "invalid input")
    assert isinstance(checked, model)
    return checked


def _parse_query(model: type[BaseModel]) -> BaseModel:
    raw: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        info = model.model_fields.get(key)
        is_list = info is not None and "list" in str(info.annotation)
        raw[key] = values if is_list else values[-1]
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed("invalid query parameters", fields=validation_fields(exc)) from exc
    return _checked(parsed, "invalid query parameters")


def _serialise(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, BaseModel):
        response = jsonify(result.model_dump(mode="json"))
    else:
        response = jsonify(result)
    response.status_code = status
    return response


def operation(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    roles: Iterable[Role] | None = ANY_STAFF,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tag: str | None = None,
    decorators: Iterable[Callable[[Any], Any]] = (),
    errors: dict[int, str] | None = None,
    media: dict[str, dict[str, Any]] | None = None,
    raw_body: dict[str, dict[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Register an API operation. `roles=None` makes it public (only the token endpoint is).

    `errors` documents statuses the view answers beyond those the declaration implies (see
    helpdesk.api.openapi), `media` the non-JSON forms of its success, `raw_body` a body it reads
    itself: the response checks of the test suite hold every answer to the document."""
    role_tuple = tuple(roles) if roles is not None else None

    def decorator(fn: F) -> F:
        @functools.wraps(fn)
        def view(**kwargs: Any) -> Response:
            if role_tuple is not None:
                user = _authenticate()
                g.api_user = user
                if not user.has_role(*role_tuple):
                    allowed = ", ".join(r.value for r in role_tuple)
                    raise Forbidden(
                        f"the role {user.role.value} may not do this; allowed: {allowed}"
                    )
            if body is not None:
                kwargs["body"] = _parse_body(body)
            if query is not None:
                kwargs["query"] = _parse_query(query)
            return _serialise(fn(**kwargs), status)

        prefix = bp.url_prefix or ""
        endpoint = f"{fn.__name__}_{method.lower()}"
        wrapped: Any = view
        for extra in decorators:
            wrapped = extra(wrapped)
        # Read by the role-matrix test: every check names a permission of helpdesk.auth.permissions.
        wrapped.required_roles = role_tuple
        bp.add_url_rule(rule, endpoint=endpoint, view_func=wrapped, methods=[method])
        OPERATIONS.append(
            Operation(
                method=method.lower(),
                path=prefix + rule,
                summary=summary,
                tag=tag or bp.name,
                roles=role_tuple,
                body=body,
                query=query,
                response=response,
                status=status,
                errors=dict(errors or {}),
                media=dict(media or {}),
                raw_body=dict(raw_body or {}),
            )
        )
        return fn

    return decorator
