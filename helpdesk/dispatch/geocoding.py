"""Turning a site address into coordinates, behind an adapter.

No geocoding service is assumed: the product runs offline, so the default geocoder finds nothing
and the dispatcher enters the coordinates. A deployment with a geocoding service implements
`Geocoder` and sets it on `app.extensions["geocoder"]`; code reads it with `current_geocoder`.
"""

from __future__ import annotations

from typing import Protocol, cast

from flask import current_app, has_app_context

from helpdesk.dispatch.geo import Point


class Geocoder(Protocol):
    def geocode(self, address: str) -> Point | None: ...


GEOCODER = "geocoder"


def current_geocoder() -> Geocoder | None:
    """The app's geocoder; None outside an app (scripts and pure tests find nothing)."""
    if not has_app_context():
        return None
    return cast("Geocoder | None", current_app.extensions.get(GEOCODER))


class NullGeocoder:
    """Finds nothing: coordinates are entered with the address."""

    def geocode(self, address: str) -> Point | None:
        return None


class TableGeocoder:
    """Looks addresses up in a fixed table (demo data, tests); case and spacing insensitive."""

    def __init__(self, table: dict[str, Point]) -> None:
        self._table = {self._key(k): v for k, v in table.items()}

    @staticmethod
    def _key(address: str) -> str:
        return " ".join(address.lower().split())

    def geocode(self, address: str) -> Point | None:
        return self._table.get(self._key(address))
