"""Suggestions: who qualifies for a job, in what order, and why the others do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.dispatch.geo import Point
from helpdesk.dispatch.ranking import Candidate, Job, rank
from helpdesk.dispatch.routing import Stop
from helpdesk.dispatch.workflow import (
    WorkOrderStatus,
    id_from_reference,
    reference_for,
    survey_score,
    technician_command,
)

DAY = datetime(2026, 12, 2, tzinfo=UTC)
SHIFT = ((DAY + timedelta(hours=8), DAY + timedelta(hours=17)),)
SITE = Point(48.8566, 2.3522)


def job(**kw: object) -> Job:
    values: dict[str, object] = {
        "id": 1,
        "point": SITE,
        "duration_s": 3600.0,
        "window_start": DAY + timedelta(hours=10),
        "window_end": DAY + timedelta(hours=12),
        "skills": frozenset({"fiber"}),
    }
    values.update(kw)
    return Job(**values)  # type: ignore[arg-type]


def tech(id: int, km_north: float, **kw: object) -> Candidate:
    values: dict[str, object] = {
        "id": id,
        "name": f"Tech {id}",
        "skills": frozenset({"fiber", "copper"}),
        "start": Point(SITE.lat + km_north / 111.0, SITE.lon),
        "start_time": SHIFT[0][0],
        "shift": SHIFT,
        "max_jobs": 5,
    }
    values.update(kw)
    return Candidate(**values)  # type: ignore[arg-type]


def test_nearest_first_with_reasons() -> None:
    found = rank(job(), [tech(1, 30), tech(2, 5), tech(3, 15)])
    assert [s.technician_id for s in found.suggestions] == [2, 3, 1]
    best = found.suggestions[0]
    assert "km detour" in best.reason and "0 of 5 jobs" in best.reason
    assert best.arrival == DAY + timedelta(hours=10)  # waits for the window to open
    assert not found.excluded


def test_filters_each_with_its_reason() -> None:
    busy_day = tuple(
        Stop(100 + i, SITE, 600, DAY + timedelta(hours=8 + i), DAY + timedelta(hours=9 + i))
        for i in range(5)
    )
    blocking = (
        Stop(
            200,
            Point(49.3, 2.35),
            4 * 3600,
            DAY + timedelta(hours=9),
            DAY + timedelta(hours=9, minutes=30),
        ),
    )
    found = rank(
        job(),
        [
            tech(1, 1, active=False),
            tech(2, 1, skills=frozenset({"copper"})),
            tech(3, 1, shift=((DAY + timedelta(hours=13), DAY + timedelta(hours=18)),)),
            tech(4, 1, jobs=busy_day),
            tech(5, 1, jobs=blocking),
            tech(6, 40),
        ],
    )
    codes = {e.technician_id: e.code for e in found.excluded}
    assert codes == {1: "inactive", 2: "missing_skills", 3: "off_shift", 4: "full", 5: "no_room"}
    assert next(e for e in found.excluded if e.technician_id == 2).detail == "fiber"
    assert [s.technician_id for s in found.suggestions] == [6]


def test_load_balances_close_technicians() -> None:
    one_job = (Stop(300, SITE, 600, DAY + timedelta(hours=15), DAY + timedelta(hours=16)),)
    loaded = tech(1, 2, jobs=one_job * 4, max_jobs=5)  # 4 of 5 jobs, 2 km away
    free = tech(2, 6)  # nothing planned, 6 km away
    found = rank(job(), [loaded, free])
    assert [s.technician_id for s in found.suggestions] == [2, 1]


def test_insertion_keeps_other_jobs_on_time() -> None:
    # An afternoon job at the site; our morning job fits before it.
    afternoon = (Stop(400, SITE, 3600, DAY + timedelta(hours=14), DAY + timedelta(hours=15)),)
    found = rank(job(), [tech(1, 3, jobs=afternoon)])
    assert found.suggestions[0].position == 0
    # A job already under way stays first: the new one can only come after it.
    found = rank(job(), [tech(1, 3, jobs=afternoon, fixed=1)])
    assert found.excluded[0].code == "no_room"  # after the 15:00 job the window is gone


def test_window_already_passed_for_the_day() -> None:
    late = tech(
        1,
        1,
        start_time=DAY + timedelta(hours=13),
        shift=((DAY + timedelta(hours=13), DAY + timedelta(hours=17)),),
    )
    found = rank(job(), [late])
    assert found.excluded[0].code == "off_shift"


def test_limit() -> None:
    found = rank(job(), [tech(i, i) for i in range(1, 30)], limit=3)
    assert [s.technician_id for s in found.suggestions] == [1, 2, 3]


def test_technician_words_english_and_french() -> None:
    assert technician_command("OMW") == (WorkOrderStatus.EN_ROUTE, None, "")
    assert technician_command("en route")[0] is WorkOrderStatus.EN_ROUTE  # type: ignore[index]
    assert technician_command("Arrivé")[0] is WorkOrderStatus.ON_SITE  # type: ignore[index]
    assert technician_command("arrived W-1012") == (WorkOrderStatus.ON_SITE, 12, "")
    assert technician_command("TERMINÉ box changée") == (
        WorkOrderStatus.COMPLETED,
        None,
        "box changée",
    )
    assert technician_command("fini")[0] is WorkOrderStatus.COMPLETED  # type: ignore[index]
    assert technician_command("done W-1003 replaced the router") == (
        WorkOrderStatus.COMPLETED,
        3,
        "replaced the router",
    )
    assert technician_command("hello") is None
    assert technician_command("") is None


def test_survey_answers() -> None:
    assert survey_score("5") == 5
    assert survey_score(" 4 merci !") == 4
    assert survey_score("3/5") == 3
    assert survey_score("6") is None
    assert survey_score("12") is None
    assert survey_score("ok") is None


def test_references() -> None:
    assert reference_for(12) == "W-1012"
    assert id_from_reference("w1012") == 12
    assert id_from_reference("#1012") == 12
    assert id_from_reference("999") is None


def test_reasons_give_the_start_on_the_helpdesks_clock() -> None:
    # The window opens at 10:00 UTC, 11:00 in Paris in December.
    best = rank(job(), [tech(1, 5)], timezone="Europe/Paris").suggestions[0]
    assert best.reason.endswith("can start at 11:00") and "UTC" not in best.reason
