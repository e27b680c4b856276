"""The series file moved into the future for the demo: whole weeks, clear of Swedish holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import datafile
from bot.i18n import SERIES_TIMEZONE
from tests.conftest import DEMO_DATA


def _days(now: datetime) -> list[date]:
    _, sessions = datafile.load(DEMO_DATA)
    return [s.starts_at.astimezone(SERIES_TIMEZONE).date() for s in datafile.moved_to_future(sessions, now)]


def test_a_session_that_would_fall_on_christmas_day_is_put_off_a_week_and_keeps_its_weekday() -> None:
    # From this day the whole-week shift puts the first session on Friday 25 December 2026.
    now = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    _, sessions = datafile.load(DEMO_DATA)
    weeks = datafile.weeks_to_future(sessions, now)
    plain = [datafile.shifted(s, weeks).starts_at.astimezone(SERIES_TIMEZONE).date() for s in sessions]
    assert date(2026, 12, 25) in plain, "the case this test is about"
    days = _days(now)
    assert date(2026, 12, 25) not in days
    assert date(2027, 1, 1) not in days
    assert date(2027, 1, 8) in days, "Christmas Day and New Year's Day are both Fridays: two weeks on"
    assert {d.weekday() for d in days} == {4}, "still Fridays"
    _, sessions = datafile.load(DEMO_DATA)
    first = min(datafile.moved_to_future(sessions, now), key=lambda s: s.starts_at)
    deadline = first.registration_deadline.astimezone(SERIES_TIMEZONE)
    assert deadline.date() == date(2026, 12, 30), "not New Year's Day, nor its eve: the Wednesday before"
    assert (deadline.hour, deadline.minute) == (23, 59)
    assert days == sorted(days), "in order"
    assert len(set(days)) == len(days), "never two on one day"


@pytest.mark.parametrize("month", range(1, 13))
def test_no_session_of_the_demo_falls_on_a_swedish_holiday_or_eve(month: int) -> None:
    import holidays

    now = datetime(2027, month, 3, 8, 0, tzinfo=UTC)
    off = holidays.country_holidays("SE", years=range(2027, 2030), categories=("public", "de_facto"))
    assert [d for d in _days(now) if d in off] == []
    _, sessions = datafile.load(DEMO_DATA)
    deadlines = [
        s.registration_deadline.astimezone(SERIES_TIMEZONE).date() for s in datafile.moved_to_future(sessions, now)
    ]
    assert [d for d in deadlines if d in off or d.weekday() >= 5] == [], "the last day to register is a working day"
