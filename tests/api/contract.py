"""Every answer of /api/v1 checked against the project's own OpenAPI document.

The API tests' client (`CheckedClient`, installed by tests/api/conftest.py) hands each response
to `ResponseContract.errors`: the status must be one the operation documents, and a JSON body
must fit the schema documented for that status (formats included: a `date-time` must be RFC 3339,
an `email` an address). A path or method the document does not name may only answer an error in
the documented error shape. A test's own assertions say what the answer means; this says that
the document tells clients the truth about it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:helpdesk:openapi"
API_PREFIX = "/api/v1/"
UNDOCUMENTED = {"/api/v1/openapi.json"}  # the document itself


class ResponseContract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(DOCUMENT_URI, resource)
        routes = []
        for template, operations in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", template) + "$")
            routes.append((template.count("{"), template, pattern, operations))
        # A literal segment wins over a parameter: /customers/lookup before /customers/{id}.
        self.routes = sorted(routes, key=lambda r: r[0])

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for _, template, pattern, operations in self.routes:
            if pattern.match(path) and method.lower() in operations:
                return template, operations[method.lower()]
        return None

    def _schema_errors(self, pointer: str, body: Any) -> list[str]:
        validator = OAS31Validator(
            {"$ref": f"{DOCUMENT_URI}#{pointer}"},
            registry=self.registry,
            format_checker=OAS31Validator.FORMAT_CHECKER,
        )
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        ]

    def errors(
        self, method: str, path: str, status: int, content_type: str, raw: bytes
    ) -> list[str]:
        """What in this answer the document does not say; empty when it fits."""
        found = self.operation(method, path)
        if found is None:
            if status < 400:
                return [f"{method} {path} is not in the document, yet answered {status}"]
            return self._body_errors("/components/schemas/Error", content_type, raw)
        template, op = found
        documented = op["responses"]
        key = str(status) if str(status) in documented else f"{str(status)[0]}XX"
        if key not in documented:
            return [f"{method} {template} answered {status}; documented: {sorted(documented)}"]
        content = documented[key].get("content")
        if not content:
            return [f"{method} {template} answered {status} with a body"] if raw else []
        media = content_type.split(";")[0].strip()
        if media not in content:
            return [f"Content-Type {content_type!r}; documented: {sorted(content)}"]
        if media != "application/json":
            return []  # a CSV export and the like: documented, not parsed here
        escaped = template.replace("~", "~0").replace("/", "~1")
        pointer = (
            f"/paths/{escaped}/{method.lower()}/responses/{key}/content/application~1json/schema"
        )
        return self._body_errors(pointer, content_type, raw)

    def _body_errors(self, pointer: str, content_type: str, raw: bytes) -> list[str]:
        if content_type.split(";")[0].strip() != "application/json":
            return [f"Content-Type {content_type!r}, documented application/json"]
        try:
            body = json.loads(raw)
        except ValueError:
            return ["the body is not JSON"]
        return self._schema_errors(pointer, body)


@cache
def contract() -> ResponseContract:
    """The contract of the document the application serves (built from the registered
    operations, the same for every app of the session)."""
    from helpdesk.api.openapi import build_document

    return ResponseContract(build_document())


class CheckedClient(FlaskClient):
    """Flask's test client, which fails a test whose /api/v1 answer the document does not
    describe."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        path = request.path
        if path.startswith(API_PREFIX) and path not in UNDOCUMENTED:
            errors = contract().errors(
                request.method,
                path,
                response.status_code,
                response.headers.get("Content-Type", ""),
                response.get_data(),
            )
            if errors:
                raise AssertionError(
                    f"{request.method} {path} -> {response.status_code}, not as documented in "
                    f"/api/v1/openapi.json:\n  " + "\n  ".join(errors[:10])
                )
        return response
