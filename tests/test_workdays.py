"""Working days: the official 2026 schedule with its 调休 days, operator files, the statutory holidays of later
years, the weekends-only fallback."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intents import lunar, workdays
from intents.workdays import (
    HolidayFileError, WorkdayCalendar, load_year_file, nth_workday_after, statutory_holidays, weakest,
)

EMPTY_DIR = Path(__file__).resolve().parent / "no-such-holidays-dir"


@pytest.fixture()
def library_only() -> WorkdayCalendar:
    """A calendar with no operator files: the package for 2004–2026, the statutory holidays after."""
    return WorkdayCalendar(EMPTY_DIR)


@pytest.mark.parametrize("day", ["2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"])
def test_2026_make_up_weekend_days_are_working_days(library_only: WorkdayCalendar, day: str) -> None:
    assert date.fromisoformat(day).weekday() >= 5
    assert library_only.is_workday(date.fromisoformat(day)) == (True, "official")


@pytest.mark.parametrize("day", ["2026-10-01", "2026-10-07", "2026-02-17", "2026-05-05", "2026-01-02"])
def test_2026_holidays_are_not_working_days(library_only: WorkdayCalendar, day: str) -> None:
    assert library_only.is_workday(date.fromisoformat(day)) == (False, "official")


def test_counts_strictly_after_the_start_day(library_only: WorkdayCalendar) -> None:
    # Friday 2026-11-20: Monday is the first working day after it.
    assert library_only.nth_workday_after(date(2026, 11, 20), 1) == (date(2026, 11, 23), "official")
    # A working Monday does not count itself.
    assert library_only.nth_workday_after(date(2026, 11, 23), 1) == (date(2026, 11, 24), "official")


def test_starting_on_a_holiday_is_not_off_by_one(library_only: WorkdayCalendar) -> None:
    # chinese_calendar.find_workday(1, 2026-10-03) gives 10-09: one too far. 10-08 is the first after.
    assert library_only.nth_workday_after(date(2026, 10, 3), 1) == (date(2026, 10, 8), "official")
    assert library_only.nth_workday_after(date(2026, 9, 30), 3) == (date(2026, 10, 10), "official")


# The fixed statutory holidays of 2027 and 2028 (domain.md), worked by hand from the published lunar calendar:
# 春节 2027-02-06 (Sat), so 除夕 02-05 (Fri) to 初三 02-08 (Mon); 清明 2027-04-05; 端午 (五月初五) 2027-06-09;
# 中秋 (八月十五) 2027-09-15. 春节 2028-01-26 (Wed): 01-25 to 01-28; 清明 2028-04-04; 端午 2028-05-28;
# 中秋 2028-10-03, the same day as the third day of 国庆.
STATUTORY_2027 = ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-04-05", "2027-05-01",
                  "2027-05-02", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-02", "2027-10-03"]
STATUTORY_2028 = ["2028-01-01", "2028-01-25", "2028-01-26", "2028-01-27", "2028-01-28", "2028-04-04", "2028-05-01",
                  "2028-05-02", "2028-05-28", "2028-10-01", "2028-10-02", "2028-10-03"]


@pytest.mark.parametrize("year, days", [(2027, STATUTORY_2027), (2028, STATUTORY_2028)])
def test_statutory_holidays_of_unpublished_years(year: int, days: list[str]) -> None:
    assert statutory_holidays(year) == frozenset(date.fromisoformat(d) for d in days)


def test_2027_counts_weekends_and_statutory_holidays(library_only: WorkdayCalendar) -> None:
    assert library_only.is_workday(date(2027, 1, 1)) == (False, "statutory_only")  # 元旦, a Friday
    assert library_only.is_workday(date(2027, 1, 2)) == (False, "statutory_only")  # a Saturday
    assert library_only.is_workday(date(2027, 1, 4)) == (True, "statutory_only")  # an ordinary Monday
    assert library_only.is_workday(date(2027, 6, 9)) == (False, "statutory_only")  # 端午, a Wednesday
    # Crossing into 2027 makes the whole count statutory_only: 12-31 (Thu) is the 1st, 01-01 a holiday,
    # 01-02/03 the weekend, 01-04 (Mon) the 2nd, 01-05 the 3rd.
    assert library_only.nth_workday_after(date(2026, 12, 30), 3) == (date(2027, 1, 5), "statutory_only")


def test_spring_festival_2027_is_skipped(library_only: WorkdayCalendar) -> None:
    # From Wed 2027-02-03: 02-04 (1); 02-05 除夕, 02-06/07 weekend and 初一/初二, 02-08 初三; 02-09 (2), 02-10 (3),
    # 02-11 (4), 02-12 (5); 02-13/14 weekend; 02-15 (6), 02-16 (7).
    assert library_only.nth_workday_after(date(2027, 2, 3), 7) == (date(2027, 2, 16), "statutory_only")


def test_without_lunar_dates_only_weekends_are_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lunar, "to_solar", lambda *args, **kwargs: None)
    assert statutory_holidays(2027) is None
    assert WorkdayCalendar(EMPTY_DIR).is_workday(date(2027, 1, 1)) == (True, "weekends_only")


def test_a_package_release_that_publishes_the_year_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if chinesecalendar had shipped 2027: 2027-02-14 (Sun) a make-up working day, 2027-02-09 a day off.
    monkeypatch.setattr(workdays, "_LIBRARY_YEARS", workdays._LIBRARY_YEARS | {2027})
    monkeypatch.setattr(workdays, "_LAST_LIBRARY_YEAR", 2027)
    monkeypatch.setattr(workdays, "_LIBRARY_WORKDAYS", workdays._LIBRARY_WORKDAYS | {date(2027, 2, 14)})
    monkeypatch.setattr(workdays, "_LIBRARY_HOLIDAYS", workdays._LIBRARY_HOLIDAYS | {date(2027, 2, 9)})
    calendar = WorkdayCalendar(EMPTY_DIR)
    assert calendar.is_workday(date(2027, 2, 14)) == (True, "official")
    assert calendar.is_workday(date(2027, 2, 9)) == (False, "official")
    assert calendar.is_workday(date(2028, 1, 26)) == (False, "statutory_only")


def test_weakest_calendar() -> None:
    assert weakest("official", "statutory_only") == "statutory_only"
    assert weakest("weekends_only", "official") == "weekends_only"
    assert weakest("official", "official") == "official"


# Before the package's first year (2004) other holiday rules applied: weekends only. Later years get the statutory
# holidays while lunar_python computes them (to 9998); 9999 has no lunar year after it to finish with.
@pytest.mark.parametrize("year, calendar", [(1, "weekends_only"), (1900, "weekends_only"), (2003, "weekends_only"),
                                            (2027, "statutory_only"), (2100, "statutory_only"),
                                            (8999, "statutory_only"), (9999, "weekends_only")])
def test_never_raises_for_any_year(library_only: WorkdayCalendar, year: int, calendar: str) -> None:
    day, known = library_only.nth_workday_after(date(year, 6, 1), 20)
    assert day > date(year, 6, 1)
    assert known == calendar


def test_operator_file_makes_2027_official(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text(
        'source = "test schedule"\n'
        'holidays = ["2027-01-01", "2027-02-05..2027-02-11"]\n'
        'workdays = ["2027-02-14"]\n', encoding="utf-8")
    calendar = WorkdayCalendar(tmp_path)
    assert calendar.is_workday(date(2027, 1, 1)) == (False, "official")
    assert calendar.is_workday(date(2027, 2, 8)) == (False, "official")  # inside the range
    assert calendar.is_workday(date(2027, 2, 14)) == (True, "official")  # a make-up Sunday
    assert calendar.is_workday(date(2027, 2, 13)) == (False, "official")  # an ordinary Saturday
    # 2026-12-31 (Thu) → 2027-01-01 holiday, 01-02/03 weekend, 01-04 Mon.
    assert calendar.nth_workday_after(date(2026, 12, 31), 1) == (date(2027, 1, 4), "official")
    assert calendar.nth_workday_after(date(2027, 2, 4), 2) == (date(2027, 2, 14), "official")


def test_broken_operator_file_is_ignored_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text('holidays = ["2027-13-01"]\n', encoding="utf-8")
    calendar = WorkdayCalendar(tmp_path)
    assert calendar.is_workday(date(2027, 1, 4)) == (True, "statutory_only")


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
    assert nth_workday_after(date(2026, 5, 8), 2) == (date(2026, 5, 11), "official")
    with pytest.raises(ValueError):
        nth_workday_after(date(2026, 5, 8), 0)
