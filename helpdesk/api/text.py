"""Text a person must write: a name, a subject, a message.

`min_length=1` lets "   " through, and the services strip what they store, so a blank name or
subject would be saved as an empty one and shown as nothing in every list. Spaces alone are
refused at the edge, with the field named like any other validation error.
"""

from __future__ import annotations

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


def _written(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank")
    return value


Written = AfterValidator(_written)
