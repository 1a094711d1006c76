"""Working-day calendar: operator holiday files, the official PRC schedule, the fixed statutory holidays, else weekends only."""
from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar

from intents import lunar

logger = logging.getLogger(__name__)

HOLIDAYS_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "holidays"
# The package's schedule, read once: its own is_workday scans every date it knows on each call.
_LIBRARY_HOLIDAYS = frozenset(chinese_calendar.holidays)
_LIBRARY_WORKDAYS = frozenset(chinese_calendar.workdays)
_LIBRARY_YEARS = frozenset(d.year for d in _LIBRARY_HOLIDAYS) & frozenset(d.year for d in _LIBRARY_WORKDAYS)
_LAST_LIBRARY_YEAR = max(_LIBRARY_YEARS)

# How a working day was decided (replay.md's workday_calendar), from the best to the weakest.
OFFICIAL = "official"  # a published schedule: an operator file or the chinesecalendar package
STATUTORY_ONLY = "statutory_only"  # a later year: weekends and the fixed statutory holidays, make-up days unknown
WEEKENDS_ONLY = "weekends_only"  # weekends only: no lunar dates, or a year before the package's schedule
_CALENDARS = (OFFICIAL, STATUTORY_ONLY, WEEKENDS_ONLY)


def weakest(*calendars: str) -> str:
    """The least certain of some workday_calendar values (official < statutory_only < weekends_only)."""
    return max(calendars, key=_CALENDARS.index)


def statutory_holidays(year: int) -> frozenset[date] | None:
    """The fixed statutory holidays of a year (domain.md, from the national holiday rules as revised in 2025):
    元旦 1 Jan; 春节 除夕 and 正月初一–初三; 清明 on its solar term; 劳动节 1–2 May; 端午 (农历五月初五);
    中秋 (农历八月十五); 国庆 1–3 Oct. None when the lunar dates or the solar term cannot be computed."""
    new_year = lunar.to_solar(year, 1, 1)
    dragon_boat = lunar.to_solar(year, 5, 5)
    mid_autumn = lunar.to_solar(year, 8, 15)
    qingming = lunar.solar_term(year, "清明")
    if new_year is None or dragon_boat is None or mid_autumn is None or qingming is None:
        return None
    spring = {new_year + timedelta(days=offset) for offset in range(-1, 3)}  # 除夕 to 初三
    fixed = {date(year, month, day) for month, day in ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))}
    return frozenset(spring | fixed | {qingming, dragon_boat, mid_autumn})


def official_years() -> frozenset[int]:
    """The years the chinesecalendar package has the State Council's full schedule for (holidays and 调休)."""
    return _LIBRARY_YEARS


class HolidayFileError(ValueError):
    """An operator holiday file that cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's departures from the Monday-to-Friday week, from an operator file."""

    year: int
    holidays: frozenset[date]  # days off, weekend or not
    workdays: frozenset[date]  # make-up working days (调休)
    source: str

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5


def _parse_days(entries: object, year: int, field: str, path: Path) -> frozenset[date]:
    if not isinstance(entries, list):
        raise HolidayFileError(f"{path}: `{field}` must be a list of dates")
    days: set[date] = set()
    for entry in entries:
        text = str(entry)
        first_text, _, last_text = text.partition("..")
        try:
            first = date.fromisoformat(first_text.strip())
            last = date.fromisoformat(last_text.strip()) if last_text else first
        except ValueError:
            raise HolidayFileError(f"{path}: `{field}` has {text!r}, not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from None
        if first.year != year or last.year != year or last < first:
            raise HolidayFileError(f"{path}: `{field}` entry {text!r} is not an ordered range inside {year}")
        days.update(first + timedelta(days=i) for i in range((last - first).days + 1))
    return frozenset(days)


def load_year_file(path: Path) -> YearSchedule:
    """Read one `<year>.toml` holiday file; raises HolidayFileError when it cannot be used."""
    try:
        year = int(path.stem)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:  # a bad name, unreadable file or TOML syntax
        raise HolidayFileError(f"{path}: {exc}") from None
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise HolidayFileError(f"{path}: `source` (where the schedule was published) is required")
    return YearSchedule(
        year=year,
        holidays=_parse_days(data.get("holidays", []), year, "holidays", path),
        workdays=_parse_days(data.get("workdays", []), year, "workdays", path),
        source=source.strip(),
    )


class WorkdayCalendar:
    """Answers "is this a working day, and how do we know?" for any date."""

    def __init__(self, holidays_dir: Path = HOLIDAYS_DIR) -> None:
        self.holidays_dir = holidays_dir
        self._years: dict[int, YearSchedule | None] = {}
        self._statutory: dict[int, frozenset[date] | None] = {}

    def _operator_year(self, year: int) -> YearSchedule | None:
        if year not in self._years:
            path = self.holidays_dir / f"{year}.toml"
            schedule = None
            if path.is_file():
                try:
                    schedule = load_year_file(path)
                except HolidayFileError as exc:
                    logger.error("ignoring holiday file: %s", exc)
            self._years[year] = schedule
        return self._years[year]

    def _statutory_year(self, year: int) -> frozenset[date] | None:
        if year not in self._statutory:
            self._statutory[year] = statutory_holidays(year) if year > _LAST_LIBRARY_YEAR else None
        return self._statutory[year]

    def is_workday(self, day: date) -> tuple[bool, str]:
        """(working day?, workday_calendar): an operator file for the year wins, then the package's published
        schedule, then for a later year the fixed statutory holidays (domain.md), else weekends only."""
        schedule = self._operator_year(day.year)
        if schedule is not None:
            return schedule.is_workday(day), OFFICIAL
        if day.year in _LIBRARY_YEARS:
            return day in _LIBRARY_WORKDAYS or (day.weekday() < 5 and day not in _LIBRARY_HOLIDAYS), OFFICIAL
        statutory = self._statutory_year(day.year)
        if statutory is not None:
            return day.weekday() < 5 and day not in statutory, STATUTORY_ONLY
        return day.weekday() < 5, WEEKENDS_ONLY

    def nth_workday_after(self, day: date, n: int) -> tuple[date, str]:
        """The n-th working day strictly after `day` (domain.md), and the weakest workday_calendar of the days
        looked at. ValueError for n < 1; OverflowError only past 9999-12-31."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        calendar = OFFICIAL
        found = 0
        current = day
        while found < n:
            current += timedelta(days=1)
            working, known = self.is_workday(current)
            calendar = weakest(calendar, known)
            found += working
        return current, calendar


@lru_cache(maxsize=1)
def default_calendar() -> WorkdayCalendar:
    """The calendar over knowledge/holidays, shared by the process."""
    return WorkdayCalendar()


def nth_workday_after(day: date, n: int, *, calendar: WorkdayCalendar | None = None) -> tuple[date, str]:
    """The n-th working day strictly after `day` and its workday_calendar (never raises for a year nobody knows)."""
    return (calendar or default_calendar()).nth_workday_after(day, n)
