"""Day routes: nearest neighbour + 2-opt with time windows, and the arrival times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.dispatch.geo import Point, haversine_km, road_km, travel_seconds
from helpdesk.dispatch.routing import Stop, evaluate, nearest_neighbour, plan

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
HOME = Point(48.8566, 2.3522)  # Paris


def test_haversine_known_distance() -> None:
    lyon = Point(45.764, 4.8357)
    assert 390 < haversine_km(HOME, lyon) < 393
    assert haversine_km(HOME, HOME) == 0
    assert road_km(HOME, lyon) > haversine_km(HOME, lyon)
    # 40 km/h on 1.3 x the crow-fly distance
    assert abs(travel_seconds(HOME, lyon) - road_km(HOME, lyon) / 40 * 3600) < 1e-6


def test_empty_day() -> None:
    route = plan(HOME, T0, [])
    assert route.visits == () and route.travel_s == 0 and route.ends_at is None


def test_arrivals_add_up_and_wait_for_the_window() -> None:
    near = Stop(1, Point(48.86, 2.36), 1800)
    later = Stop(2, Point(48.87, 2.37), 3600, T0 + timedelta(hours=3), T0 + timedelta(hours=5))
    route = evaluate(HOME, T0, [near, later])
    first, second = route.visits
    assert first.arrival == T0 + timedelta(seconds=first.travel_s)
    assert first.end == first.start + timedelta(seconds=1800)
    assert second.arrival == first.end + timedelta(seconds=second.travel_s)
    assert second.start == T0 + timedelta(hours=3) and second.wait_s > 0
    assert route.late_s == 0


def test_windows_reorder_the_route() -> None:
    # The far job is promised for the morning, the near one for the afternoon: far goes first
    # although nearest-by-distance would start with the near one.
    near = Stop(1, Point(48.857, 2.353), 3600, T0 + timedelta(hours=6), T0 + timedelta(hours=8))
    far = Stop(2, Point(48.95, 2.55), 3600, T0, T0 + timedelta(hours=2))
    route = plan(HOME, T0, [near, far])
    assert route.order == [2, 1]
    assert route.late_s == 0


def test_two_opt_untangles_a_crossing() -> None:
    # Four corners of a square visited in a crossing order are straightened out.
    pts = [Point(48.80, 2.30), Point(48.80, 2.40), Point(48.90, 2.40), Point(48.90, 2.30)]
    stops = [Stop(i, p, 600) for i, p in enumerate(pts)]
    crossing = evaluate(Point(48.79, 2.29), T0, [stops[0], stops[2], stops[1], stops[3]])
    best = plan(Point(48.79, 2.29), T0, [stops[0], stops[2], stops[1], stops[3]])
    assert best.travel_s < crossing.travel_s
    assert best.order in ([0, 1, 2, 3], [0, 3, 2, 1])


def test_fixed_stops_stay_first() -> None:
    a = Stop(1, Point(49.2, 2.9), 600)  # far away, but the technician is already driving there
    b = Stop(2, Point(48.86, 2.36), 600)
    assert plan(HOME, T0, [a, b], fixed=1).order == [1, 2]
    assert plan(HOME, T0, [a, b]).order == [2, 1]


def test_impossible_window_is_reported_late() -> None:
    stop = Stop(1, Point(45.764, 4.8357), 600, T0, T0 + timedelta(minutes=30))  # Lyon in 30 min
    route = plan(HOME, T0, [stop])
    assert route.visits[0].late_s > 0 and route.late_s == route.visits[0].late_s


coords = st.tuples(st.floats(48.6, 49.1), st.floats(2.0, 2.7))
stop_specs = st.lists(
    st.tuples(coords, st.integers(10, 120), st.one_of(st.none(), st.integers(0, 9 * 60))),
    min_size=1,
    max_size=9,
)


def _stops(specs: list[tuple[tuple[float, float], int, int | None]]) -> list[Stop]:
    out = []
    for i, ((lat, lon), minutes, opens) in enumerate(specs):
        start = T0 + timedelta(minutes=opens) if opens is not None else None
        end = start + timedelta(hours=2) if start is not None else None
        out.append(Stop(i, Point(lat, lon), minutes * 60.0, start, end))
    return out


@settings(max_examples=150, deadline=None)
@given(stop_specs)
def test_two_opt_is_never_worse_than_nearest_neighbour(specs) -> None:  # type: ignore[no-untyped-def]
    stops = _stops(specs)
    nn = nearest_neighbour(HOME, T0, stops)
    best = plan(HOME, T0, stops)
    assert sorted(best.order) == sorted(s.id for s in stops)  # every job exactly once
    assert best.cost <= nn.cost + 1e-6
    assert best.late_s <= nn.late_s + 1e-6 or best.cost < nn.cost


@settings(max_examples=150, deadline=None)
@given(stop_specs)
def test_windows_are_respected_or_reported(specs) -> None:  # type: ignore[no-untyped-def]
    stops = {s.id: s for s in _stops(specs)}
    route = plan(HOME, T0, list(stops.values()))
    previous_end = T0
    for visit in route.visits:
        stop = stops[visit.stop_id]
        assert visit.arrival >= previous_end  # no time travel
        assert visit.start >= visit.arrival
        if stop.window_start is not None:
            assert visit.start >= stop.window_start  # never starts before the window opens
        if stop.window_end is not None:
            late = max(0.0, (visit.start - stop.window_end).total_seconds())
            assert abs(late - visit.late_s) < 1e-3  # lateness is exactly what is reported
        previous_end = visit.end


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(48.8, 48.9), st.floats(2.3, 2.4)), min_size=2, max_size=8))
def test_feasible_spread_windows_are_all_kept(points) -> None:  # type: ignore[no-untyped-def]
    # One job per 90-minute slot in a small area (any two sites < 30 min apart): a route
    # keeping every window exists (visit them in slot order), so the plan must keep them all.
    stops = [
        Stop(i, Point(*p), 600, T0 + timedelta(minutes=90 * i), T0 + timedelta(minutes=90 * i + 80))
        for i, p in enumerate(points)
    ]
    assert plan(HOME, T0 - timedelta(hours=2), stops).late_s == 0
