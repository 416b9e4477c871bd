"""The OpenAPI 3.1 document, built from the operations the feature modules declared."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from helpdesk import __version__
from helpdesk.api.converters import MAX_ID
from helpdesk.api.core import OPERATIONS, Operation

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

_PARAM_RE = re.compile(r"<(?:(\w+):)?(\w+)>")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


class SchemaNameCollision(ValueError):
    """Two different models would be documented under one name: the second would silently
    replace the first, and every operation using the first would be documented wrongly."""


def _add_component(
    components: dict[str, Any], name: str, schema: dict[str, Any], where: str
) -> None:
    if name in components and components[name] != schema:
        raise SchemaNameCollision(
            f"two different models are named {name} (the second from {where}): "
            "give one a name of its own"
        )
    components[name] = schema


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    where = f"{model.__module__}.{model.__qualname__}"
    for name, sub in schema.pop("$defs", {}).items():
        _add_component(components, name, sub, where)
    _add_component(components, model.__name__, schema, where)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _inline(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without `$ref`s or the null branch of an optional value."""
    if "$ref" in prop:
        return dict(defs[prop["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in prop:
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        merged = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        if len(branches) == 1:
            merged.update(_inline(branches[0], defs))
        else:
            merged["anyOf"] = [_inline(b, defs) for b in branches]
        if prop.get("default") is not None:
            merged["default"] = prop["default"]
        return merged
    out = dict(prop)
    if out.get("default", 0) is None:
        del out["default"]
    if isinstance(out.get("items"), dict):
        out["items"] = _inline(out["items"], defs)
    return out


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    params = []
    for name, prop in schema.get("properties", {}).items():
        inlined = _inline(prop, defs)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "schema": inlined,
        }
        if inlined.get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{op.method}_{re.sub(r'[^a-zA-Z0-9]+', '_', op.path).strip('_')}",
    }
    params: list[dict[str, Any]] = []
    for kind, name in _PARAM_RE.findall(op.path):
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}
                if kind == "int"
                else {"type": "string"},
            }
        )
    if op.query is not None:
        params.extend(_query_params(op.query))
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(op.body, components)}},
        }
    elif op.raw_body:
        doc["requestBody"] = {
            "required": True,
            "content": {kind: {"schema": schema} for kind, schema in op.raw_body.items()},
        }
    responses: dict[str, Any] = {}
    if op.status == 204:
        responses["204"] = {"description": "done"}
    else:
        content = (
            {"application/json": {"schema": _schema_ref(op.response, components)}}
            if op.response is not None
            else {"application/json": {"schema": {"type": "object"}}}
        )
        content.update({kind: {"schema": schema} for kind, schema in op.media.items()})
        responses[str(op.status)] = {"description": "success", "content": content}
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if op.body is not None or op.raw_body or op.query is not None or "<" in op.path:
        responses["422"] = {
            "description": "invalid input; `fields` names each offending field",
            **err,
        }
    if op.body is not None:
        responses["400"] = {"description": "malformed JSON", **err}
    if op.body is not None or op.raw_body:
        media = "not JSON" if op.body is not None else f"not {' or '.join(op.raw_body)}"
        responses["415"] = {"description": media, **err}
    if op.roles is not None:
        responses["401"] = {"description": "missing, invalid, expired or revoked token", **err}
        responses["403"] = {"description": "the user's role may not do this", **err}
        doc["security"] = [{"bearerAuth": []}]
        doc["x-roles"] = [r.value for r in op.roles]
    else:
        doc["security"] = []
        responses["429"] = {"description": "too many failed attempts", **err}
    if "<" in op.path:
        responses["404"] = {"description": "no such resource", **err}
    if op.method in ("post", "patch"):
        responses["409"] = {"description": "conflicts with the current state", **err}
    for status, description in op.errors.items():
        responses[str(status)] = {"description": description, **err}
    doc["responses"] = dict(sorted(responses.items()))
    return doc


def build_document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(OPERATIONS, key=lambda o: (o.path, o.method)):
        path = _PARAM_RE.sub(r"{\2}", op.path)
        paths.setdefault(path, {})[op.method] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Helpdesk API",
            "version": __version__,
            "description": "Call-center helpdesk: customers, tickets, timelines, users. "
            'Errors are `{"error": {"code", "message", "fields"?}}`.',
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(build_document())
