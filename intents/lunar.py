"""Chinese lunar calendar dates (农历) and solar terms (节气), from the lunar_python library.

lunar_python is imported at the first lunar date asked, not at start (some 15 ms): most messages, the first answer
of `permitbot ask` among them, name no lunar date and reach no year whose holidays are worked out from one."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

# lunar_python computes months and terms with the 寿星天文历 algorithms of the Purple Mountain Observatory's
# calendar; it reads years 1–9999 but its later lunar years run past 9999, which `date` cannot hold.
FIRST_YEAR, LAST_YEAR = 1, 9998
# Its table for a lunar year names the terms of the following winter in pinyin: 冬至 of the solar year is DONG_ZHI.
_NEXT_WINTER = {"DONG_ZHI": "冬至", "XIAO_HAN": "小寒", "DA_HAN": "大寒", "LI_CHUN": "立春", "YU_SHUI": "雨水",
                "JING_ZHE": "惊蛰", "DA_XUE": "大雪"}


@lru_cache(maxsize=512)
def to_solar(year: int, month: int, day: int, *, leap: bool = False) -> date | None:
    """The solar date of lunar year/month/day (leap: the 闰 month); None when that day does not exist in
    that lunar year (no such leap month, a 30th in a 29-day month) or the year is outside FIRST_YEAR–LAST_YEAR."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    from lunar_python import Lunar

    try:
        solar = Lunar.fromYmd(year, -month if leap else month, day).getSolar()
    except Exception:  # lunar_python raises a bare Exception ("wrong lunar year 2026 month -4") for a missing day
        return None
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=64)
def _terms(year: int) -> dict[str, date]:
    """The 24 solar terms falling in solar `year`, by Chinese name."""
    from lunar_python import Lunar

    terms: dict[str, date] = {}
    for lunar_year in (year, year + 1):
        for name, solar in Lunar.fromYmd(lunar_year, 1, 1).getJieQiTable().items():
            if solar.getYear() == year:
                terms[_NEXT_WINTER.get(name, name)] = date(year, solar.getMonth(), solar.getDay())
    return terms


def solar_term(year: int, name: str) -> date | None:
    """The day of a solar term (清明, 冬至, …) in solar `year`; None for an unknown name or a year outside
    FIRST_YEAR–LAST_YEAR."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return _terms(year).get(name)
