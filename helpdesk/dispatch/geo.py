"""Distances and travel times between coordinates, as pure functions.

No road network is assumed (the product runs offline): travel is the great-circle distance
stretched by a detour factor, at an average speed. Both are parameters so that a site with
a better model (a routing engine behind an adapter) can replace `travel_seconds` wholesale.
"""

from __future__ import annotations

import math
from typing import NamedTuple

EARTH_RADIUS_KM = 6371.0088
# Roads are not straight lines: 1.3 is the usual ratio of road to crow-fly distance in Europe.
DETOUR_FACTOR = 1.3
AVERAGE_SPEED_KMH = 40.0


class Point(NamedTuple):
    """A named tuple rather than a dataclass: routes and rankings build thousands per call."""

    lat: float
    lon: float


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def road_km(a: Point, b: Point) -> float:
    return haversine_km(a, b) * DETOUR_FACTOR


def travel_seconds(a: Point, b: Point, speed_kmh: float = AVERAGE_SPEED_KMH) -> float:
    """Estimated driving time from a to b."""
    return road_km(a, b) / speed_kmh * 3600.0


def valid(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0
