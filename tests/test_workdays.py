"""Working days: the official 2026 schedule with its 调休 days, operator files, the weekends-only fallback."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intents.workdays import HolidayFileError, WorkdayCalendar, load_year_file, nth_workday_after

EMPTY_DIR = Path(__file__).resolve().parent / "no-such-holidays-dir"


@pytest.fixture()
def library_only() -> WorkdayCalendar:
    """A calendar with no operator files: the package for 2004–2026, weekends only after."""
    return WorkdayCalendar(EMPTY_DIR)


@pytest.mark.parametrize("day", ["2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"])
def test_2026_make_up_weekend_days_are_working_days(library_only: WorkdayCalendar, day: str) -> None:
    assert date.fromisoformat(day).weekday() >= 5
    assert library_only.is_workday(date.fromisoformat(day)) == (True, True)


@pytest.mark.parametrize("day", ["2026-10-01", "2026-10-07", "2026-02-17", "2026-05-05", "2026-01-02"])
def test_2026_holidays_are_not_working_days(library_only: WorkdayCalendar, day: str) -> None:
    assert library_only.is_workday(date.fromisoformat(day)) == (False, True)


def test_counts_strictly_after_the_start_day(library_only: WorkdayCalendar) -> None:
    # Friday 2026-11-20: Monday is the first working day after it.
    assert library_only.nth_workday_after(date(2026, 11, 20), 1) == (date(2026, 11, 23), True)
    # A working Monday does not count itself.
    assert library_only.nth_workday_after(date(2026, 11, 23), 1) == (date(2026, 11, 24), True)


def test_starting_on_a_holiday_is_not_off_by_one(library_only: WorkdayCalendar) -> None:
    # chinese_calendar.find_workday(1, 2026-10-03) gives 10-09: one too far. 10-08 is the first after.
    assert library_only.nth_workday_after(date(2026, 10, 3), 1) == (date(2026, 10, 8), True)
    assert library_only.nth_workday_after(date(2026, 9, 30), 3) == (date(2026, 10, 10), True)


def test_2027_falls_back_to_weekends_only(library_only: WorkdayCalendar) -> None:
    assert library_only.is_workday(date(2027, 1, 1)) == (True, False)  # a holiday, unknown to the package
    assert library_only.is_workday(date(2027, 1, 2)) == (False, False)  # a Saturday
    # Crossing into 2027 makes the whole count unofficial.
    assert library_only.nth_workday_after(date(2026, 12, 30), 3) == (date(2027, 1, 4), False)


@pytest.mark.parametrize("year", [1, 1900, 2003, 2027, 2100, 8999])
def test_never_raises_for_any_year(library_only: WorkdayCalendar, year: int) -> None:
    day, official = library_only.nth_workday_after(date(year, 6, 1), 20)
    assert day > date(year, 6, 1)
    assert official is False


def test_operator_file_makes_2027_official(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text(
        'source = "test schedule"\n'
        'holidays = ["2027-01-01", "2027-02-05..2027-02-11"]\n'
        'workdays = ["2027-02-14"]\n', encoding="utf-8")
    calendar = WorkdayCalendar(tmp_path)
    assert calendar.is_workday(date(2027, 1, 1)) == (False, True)
    assert calendar.is_workday(date(2027, 2, 8)) == (False, True)  # inside the range
    assert calendar.is_workday(date(2027, 2, 14)) == (True, True)  # a make-up Sunday
    assert calendar.is_workday(date(2027, 2, 13)) == (False, True)  # an ordinary Saturday
    # 2026-12-31 (Thu) → 2027-01-01 holiday, 01-02/03 weekend, 01-04 Mon.
    assert calendar.nth_workday_after(date(2026, 12, 31), 1) == (date(2027, 1, 4), True)
    assert calendar.nth_workday_after(date(2027, 2, 4), 2) == (date(2027, 2, 14), True)


def test_broken_operator_file_is_ignored_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text('holidays = ["2027-13-01"]\n', encoding="utf-8")
    calendar = WorkdayCalendar(tmp_path)
    assert calendar.is_workday(date(2027, 1, 4)) == (True, False)


@pytest.mark.parametrize("content, problem", [
    ('holidays = ["2027-01-01"]\n', "source"),
    ('source = "x"\nholidays = ["2026-12-31"]\n', "inside 2027"),
    ('source = "x"\nholidays = ["01/01/2027"]\n', "YYYY-MM-DD"),
    ('source = "x"\nworkdays = "2027-02-14"\n', "list"),
    ('source = "x"\nholidays = [', "2027.toml"),
])
def test_load_year_file_names_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HolidayFileError, match=problem):
        load_year_file(path)


def test_default_calendar_uses_the_shipped_data() -> None:
    assert nth_workday_after(date(2026, 5, 8), 2) == (date(2026, 5, 11), True)
    with pytest.raises(ValueError):
        nth_workday_after(date(2026, 5, 8), 0)
