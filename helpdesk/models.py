"""Imports every feature's models so that the metadata is complete (Alembic, create_all)."""

from __future__ import annotations


def load_all() -> None:
    import telephony.models  # noqa: F401
