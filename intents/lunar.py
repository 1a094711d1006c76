"""Chinese lunar calendar dates (农历) and solar terms, computed from new moons and the principal terms.

No table is shipped: a lunar month starts on the Beijing-time day of a new moon (Meeus,
Astronomical Algorithms, ch. 49), month 11 is the one holding the winter solstice, and in a
year of 13 months the first month without a principal term (中气) is the leap month. The
solar-term days come from chinese_calendar. Valid for 1901–2099; outside, functions return None.
"""
from __future__ import annotations

import math
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

FIRST_YEAR, LAST_YEAR = 1901, 2099
_PRINCIPAL_TERMS = frozenset({"雨水", "春分", "谷雨", "小满", "夏至", "大暑", "处暑", "秋分", "霜降", "小雪", "冬至", "大寒"})
_SYNODIC_MONTH = 29.530588861
_JD_ORDINAL_OFFSET = 1721424.5  # Julian day of 0001-01-01 00:00 (proleptic Gregorian)

# Periodic terms for the true new moon: (coefficient, E power, multiples of M, M', F, Ω).
_NEW_MOON_TERMS = (
    (-0.40720, 0, 0, 1, 0, 0), (0.17241, 1, 1, 0, 0, 0), (0.01608, 0, 0, 2, 0, 0), (0.01039, 0, 0, 0, 2, 0),
    (0.00739, 1, -1, 1, 0, 0), (-0.00514, 1, 1, 1, 0, 0), (0.00208, 2, 2, 0, 0, 0), (-0.00111, 0, 0, 1, -2, 0),
    (-0.00057, 0, 0, 1, 2, 0), (0.00056, 1, 1, 2, 0, 0), (-0.00042, 0, 0, 3, 0, 0), (0.00042, 1, 1, 0, 2, 0),
    (0.00038, 1, 1, 0, -2, 0), (-0.00024, 1, -1, 2, 0, 0), (-0.00017, 0, 0, 0, 0, 1), (-0.00007, 0, 2, 1, 0, 0),
    (0.00004, 0, 0, 2, -2, 0), (0.00004, 0, 3, 0, 0, 0), (0.00003, 0, 1, 1, -2, 0), (0.00003, 0, 0, 2, 2, 0),
    (-0.00003, 0, 1, 1, 2, 0), (0.00003, 0, -1, 1, 2, 0), (-0.00002, 0, -1, 1, -2, 0), (-0.00002, 0, 1, 3, 0, 0),
    (0.00002, 0, 0, 4, 0, 0),
)
# Planetary arguments: (coefficient, A at k = 0 in degrees, degrees per lunation).
_PLANETARY_TERMS = (
    (0.000325, 299.77, 0.107408), (0.000165, 251.88, 0.016321), (0.000164, 251.83, 26.651886),
    (0.000126, 349.42, 36.412478), (0.000110, 84.66, 18.206239), (0.000062, 141.74, 53.303771),
    (0.000060, 207.14, 2.453732), (0.000056, 154.84, 7.306860), (0.000047, 34.52, 27.261239),
    (0.000042, 207.19, 0.121824), (0.000040, 291.34, 1.844379), (0.000037, 161.72, 24.198154),
    (0.000035, 239.56, 25.513099), (0.000023, 331.55, 3.592518),
)


def _new_moon_jde(k: int) -> float:
    """Julian ephemeris day of the new moon of lunation k (k = 0: 2000-01-06)."""
    t = k / 1236.85
    jde = 2451550.09766 + _SYNODIC_MONTH * k + 0.00015437 * t**2 - 0.000000150 * t**3 + 0.00000000073 * t**4
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    sun = math.radians(2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3)
    moon = math.radians(201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3 - 0.000000058 * t**4)
    lat = math.radians(160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3 + 0.000000011 * t**4)
    node = math.radians(124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3)
    for coefficient, e_power, m, mp, f, o in _NEW_MOON_TERMS:
        jde += coefficient * e**e_power * math.sin(m * sun + mp * moon + f * lat + o * node)
    for coefficient, a0, rate in _PLANETARY_TERMS:
        angle = a0 + rate * k - (0.009173 * t**2 if a0 == 299.77 else 0)
        jde += coefficient * math.sin(math.radians(angle))
    return jde


def _delta_t_days(year: float) -> float:
    """TT − UT (Espenak & Meeus polynomials), in days; a minute of error moves no new moon but one at midnight."""
    if 1986 <= year < 2005:
        t = year - 2000
        seconds = 63.86 + 0.3345 * t - 0.060374 * t**2 + 0.0017275 * t**3 + 0.000651814 * t**4 + 0.00002373599 * t**5
    elif 2005 <= year < 2050:
        t = year - 2000
        seconds = 62.92 + 0.32217 * t + 0.005589 * t**2
    elif 1961 <= year < 1986:
        t = year - 1975
        seconds = 45.45 + 1.067 * t - t**2 / 260 - t**3 / 718
    elif 1941 <= year < 1961:
        t = year - 1950
        seconds = 29.07 + 0.407 * t - t**2 / 233 + t**3 / 2547
    elif 1920 <= year < 1941:
        t = year - 1920
        seconds = 21.20 + 0.84493 * t - 0.076100 * t**2 + 0.0020936 * t**3
    elif 1900 <= year < 1920:
        t = year - 1900
        seconds = -2.79 + 1.494119 * t - 0.0598939 * t**2 + 0.0061966 * t**3 - 0.000197 * t**4
    else:
        u = (year - 1820) / 100
        seconds = -20 + 32 * u**2 - (0.5628 * (2150 - year) if year < 2150 else 0)
    return seconds / 86400


def _new_moon_day(k: int) -> date:
    """The Beijing-time calendar day of new moon k."""
    jde = _new_moon_jde(k)
    year = 2000 + k / 12.3685
    beijing = jde - _delta_t_days(year) + 8 / 24
    return date.fromordinal(int(math.floor(beijing - _JD_ORDINAL_OFFSET)))


def _lunation_on_or_before(day: date) -> int:
    k = math.floor((day.toordinal() + _JD_ORDINAL_OFFSET - 2451550.09766) / _SYNODIC_MONTH) + 1
    while _new_moon_day(k) > day:
        k -= 1
    return k


@lru_cache(maxsize=64)
def _terms(year: int) -> tuple[tuple[date, str], ...]:
    return tuple(chinese_calendar.get_solar_terms(date(year, 1, 1), date(year, 12, 31)))


def solar_term(year: int, name: str) -> date | None:
    """The day of a solar term (清明, 冬至, …) in a year."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return next((day for day, term in _terms(year) if term == name), None)


@lru_cache(maxsize=256)
def _cycle(year: int) -> tuple[tuple[int, bool, date, date], ...]:
    """Lunar months from the one holding the winter solstice of year − 1 up to the one before the
    month holding the winter solstice of `year`: (number, leap, first day, first day of the next)."""
    solstice_before = solar_term(year - 1, "冬至")
    solstice = solar_term(year, "冬至")
    assert solstice_before is not None and solstice is not None
    first_k, last_k = _lunation_on_or_before(solstice_before), _lunation_on_or_before(solstice)
    starts = [_new_moon_day(k) for k in range(first_k, last_k + 1)]
    principal = [day for y in (year - 1, year) for day, term in _terms(y) if term in _PRINCIPAL_TERMS]
    leap_index = None
    if len(starts) - 1 == 13:
        for index in range(1, 13):
            if not any(starts[index] <= day < starts[index + 1] for day in principal):
                leap_index = index
                break
    months = []
    number = 10  # the first month is number 11
    for index in range(len(starts) - 1):
        is_leap = index == leap_index
        if not is_leap:
            number = number % 12 + 1
        months.append((number, is_leap, starts[index], starts[index + 1]))
    return tuple(months)


@lru_cache(maxsize=64)
def _months_of_year(year: int) -> tuple[tuple[int, bool, date, date], ...]:
    """Lunar year `year` (whose 正月初一 falls in solar `year`): its months in order."""
    this, following = _cycle(year), _cycle(year + 1)
    after_new_year = False
    months = []
    for month in this:
        after_new_year = after_new_year or (month[0] == 1 and not month[1])
        if after_new_year:
            months.append(month)
    for month in following:
        if month[0] == 1 and not month[1]:
            break
        months.append(month)
    return tuple(months)


def to_solar(year: int, month: int, day: int, *, leap: bool = False) -> date | None:
    """The solar date of lunar year/month/day; None when that day does not exist (or out of range)."""
    if not FIRST_YEAR < year < LAST_YEAR:
        return None
    for number, is_leap, first, next_first in _months_of_year(year):
        if number == month and is_leap == leap:
            resolved = first + timedelta(days=day - 1)
            return resolved if 1 <= day and resolved < next_first else None
    return None
