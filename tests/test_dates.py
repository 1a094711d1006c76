"""Date extraction: every form of issue 3, traditional characters, the year rule, impossible dates, speed."""
from __future__ import annotations

import json
import time
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from intents import lunar
from intents.dates import SHANGHAI, find_dates, message_date
from intents.normalize import normalize

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)  # a Monday


def found(text: str, now: datetime = NOW) -> list[dict[str, object]]:
    return [m.as_json() for m in find_dates(normalize(text), now)]


def one(text: str, now: datetime = NOW) -> dict[str, object]:
    result = found(text, now)
    assert len(result) == 1, result
    return result[0]


# (text, the one mention expected at NOW)
FORMS = [
    # absolute
    ("2026年12月5日", {"text": "2026年12月5日", "date": "2026-12-05"}),
    ("2026-12-05", {"text": "2026-12-05", "date": "2026-12-05"}),
    ("2026/12/5", {"text": "2026/12/5", "date": "2026-12-05"}),
    ("2026.12.5到期", {"text": "2026.12.5", "date": "2026-12-05"}),
    ("20261205", {"text": "20261205", "date": "2026-12-05"}),
    ("12/5到期", {"text": "12/5", "date": "2026-12-05"}),
    ("12-5到期", {"text": "12-5", "date": "2026-12-05"}),
    ("2026.12到期", {"text": "2026.12", "start": "2026-12-01", "end": "2026-12-31"}),
    ("居住证12.5到期", {"text": "12.5", "date": "2026-12-05"}),
    ("12.5号", {"text": "12.5号", "date": "2026-12-05"}),
    ("12月5号到期", {"text": "12月5号", "date": "2026-12-05"}),
    ("十二月五日", {"text": "十二月五日", "date": "2026-12-05"}),
    ("二〇二六年十一月十一日", {"text": "二〇二六年十一月十一日", "date": "2026-11-11"}),
    ("二零二七年一月三日", {"text": "二零二七年一月三日", "date": "2027-01-03"}),
    ("两千零四年八月十五", {"text": "两千零四年八月十五", "date": "2004-08-15"}),
    ("26年12月5日", {"text": "26年12月5日", "date": "2026-12-05"}),
    ("明年1月20日", {"text": "明年1月20日", "date": "2027-01-20"}),
    ("去年3月3号", {"text": "去年3月3号", "date": "2025-03-03"}),
    ("8月底到期", {"text": "8月底", "date": "2026-08-31"}),
    ("月底到期", {"text": "月底", "date": "2026-11-30"}),
    ("下个月底", {"text": "下个月底", "date": "2026-12-31"}),
    ("下个月10号", {"text": "下个月10号", "date": "2026-12-10"}),
    ("上个月10号", {"text": "上个月10号", "date": "2026-10-10"}),
    ("本月9日", {"text": "本月9日", "date": "2026-11-09"}),
    ("这个月的25号", {"text": "这个月的25号", "date": "2026-11-25"}),
    ("28号到期", {"text": "28号", "date": "2026-11-28"}),
    ("年底", {"text": "年底", "date": "2026-12-31"}),
    ("明年年底", {"text": "明年年底", "date": "2027-12-31"}),
    ("1月19日", {"text": "1月19日", "date": "2027-01-19"}),
    ("一月二十三", {"text": "一月二十三", "date": "2027-01-23"}),
    # relative days and weeks
    ("今天", {"text": "今天", "date": "2026-11-23"}),
    ("明天", {"text": "明天", "date": "2026-11-24"}),
    ("后天", {"text": "后天", "date": "2026-11-25"}),
    ("大后天", {"text": "大后天", "date": "2026-11-26"}),
    ("昨天", {"text": "昨天", "date": "2026-11-22"}),
    ("前天", {"text": "前天", "date": "2026-11-21"}),
    ("大前天", {"text": "大前天", "date": "2026-11-20"}),
    ("昨晚", {"text": "昨晚", "date": "2026-11-22"}),
    ("上周五", {"text": "上周五", "date": "2026-11-20"}),
    ("下周三", {"text": "下周三", "date": "2026-12-02"}),
    ("这周五", {"text": "这周五", "date": "2026-11-27"}),
    ("下周五到期", {"text": "下周五", "date": "2026-12-04"}),
    ("周到", None),
    ("本周", {"text": "本周", "start": "2026-11-23", "end": "2026-11-29"}),
    ("上周", {"text": "上周", "start": "2026-11-16", "end": "2026-11-22"}),
    ("下个星期一", {"text": "下个星期一", "date": "2026-11-30"}),
    ("上个礼拜天", {"text": "上个礼拜天", "date": "2026-11-22"}),
    ("下周周六", {"text": "下周周六", "date": "2026-12-05"}),
    ("星期天", {"text": "星期天", "date": "2026-11-29"}),
    ("3天前", {"text": "3天前", "date": "2026-11-20"}),
    ("两周后", {"text": "两周后", "date": "2026-12-07"}),
    ("3个月后", {"text": "3个月后", "date": "2027-02-23"}),
    ("半年后", {"text": "半年后", "date": "2027-05-23"}),
    ("一个半月后", {"text": "一个半月后", "date": "2027-01-07"}),
    ("两年前", {"text": "两年前", "date": "2024-11-23"}),
    ("20天后", {"text": "20天后", "date": "2026-12-13"}),
    ("过两天", {"text": "过两天", "date": "2026-11-25"}),
    # cue durations
    ("过期70天了", {"text": "过期70天了", "date": "2026-09-14"}),
    ("已经过期三个月", {"text": "已经过期三个月", "date": "2026-08-23"}),
    ("过期两个多月", {"text": "过期两个多月", "start": "2026-08-24", "end": "2026-09-22"}),
    ("还有两周到期", {"text": "还有两周到期", "date": "2026-12-07"}),
    ("还有45天就过期", {"text": "还有45天就过期", "date": "2027-01-07"}),
    ("离到期还有10天", {"text": "离到期还有10天", "date": "2026-12-03"}),
    ("签注两个多月了", {"text": "签注两个多月了", "start": "2026-08-24", "end": "2026-09-22"}),
    ("签注10天了", {"text": "签注10天了", "date": "2026-11-13"}),
    ("到期两天了", {"text": "到期两天了", "date": "2026-11-21"}),
    # festivals and lunar dates
    ("国庆", {"text": "国庆", "date": "2026-10-01"}),
    ("元旦", {"text": "元旦", "date": "2027-01-01"}),
    ("春节", {"text": "春节", "date": "2027-02-06"}),
    ("去年春节", {"text": "去年春节", "date": "2025-01-29"}),
    ("中秋节", {"text": "中秋节", "date": "2026-09-25"}),
    ("除夕", {"text": "除夕", "date": "2027-02-05"}),
    ("农历八月十五", {"text": "农历八月十五", "date": "2026-09-25"}),
    ("正月初八", {"text": "正月初八", "date": "2027-02-13"}),
    ("清明", {"text": "清明", "date": "2027-04-05"}),
    ("十一期间", {"text": "十一", "date": "2026-10-01"}),
    ("母亲节", {"text": "母亲节", "date": "2027-05-09"}),
    ("感恩节", {"text": "感恩节", "date": "2026-11-26"}),
    # English relative dates (Monday 2026-11-23): next Tuesday is Tuesday of next week, as 下周二
    ("expires next Tuesday", {"text": "next tuesday", "date": "2026-12-01"}),
    ("endorsed it last Friday", {"text": "last friday", "date": "2026-11-20"}),
    ("expires on friday", {"text": "friday", "date": "2026-11-27"}),
    ("expires tomorrow", {"text": "tomorrow", "date": "2026-11-24"}),
    ("expired 2 weeks ago", {"text": "2 weeks ago", "date": "2026-11-09"}),
    ("a couple of days ago", {"text": "a couple of days ago", "date": "2026-11-21"}),
    ("it expires in 10 days", {"text": "in 10 days", "date": "2026-12-03"}),
    ("a month from now", {"text": "a month from now", "date": "2026-12-23"}),
    ("expires on the 28th", {"text": "the 28th", "date": "2026-11-28"}),
    ("the 3rd of next month", {"text": "the 3rd of next month", "date": "2026-12-03"}),
    ("end of this month", {"text": "end of this month", "date": "2026-11-30"}),
    ("next month", {"text": "next month", "start": "2026-12-01", "end": "2026-12-31"}),
    ("early December", {"text": "early december", "start": "2026-12-01", "end": "2026-12-10"}),
    ("mid-January", {"text": "mid-january", "start": "2027-01-11", "end": "2027-01-20"}),
]


# More single-day forms, asked on Monday 2021-06-14.
MONDAY_2021 = datetime(2021, 6, 14, 1, 6, tzinfo=SHANGHAI)
MORE_FORMS = [
    ("2018-12-1209:03", "2018-12-12"), ("1994.01-19", "1994-01-19"), ("6·30", "2021-06-30"),
    ("2010 01 29", "2010-01-29"), ("13.5.2015", "2015-05-13"), ("05/05/89", "1989-05-05"),
    ("15年3月2日", "2015-03-02"), ("零七年八月二十九号", "2007-08-29"), ("九零年9月十号", "1990-09-10"),
    ("十二月20号", "2020-12-20"), ("下月九号", "2021-07-09"), ("去年本月十日", "2020-06-10"),
    ("当晚十时", "2021-06-14"), ("昨天9点20", "2021-06-13"), ("上月30号12:37", "2021-05-30"),
    ("6月第3个星期日", "2021-06-20"), ("八月份的第一个周二", "2021-08-03"), ("下个月最后一个周五", "2021-07-30"),
    ("明年的今天", "2022-06-14"), ("这个月最后一天", "2021-06-30"), ("29日", "2021-06-29"),
    ("教师节", "2021-09-10"), ("去年元旦", "2020-01-01"), ("零六年端午", "2006-05-31"), ("明年母亲节", "2022-05-08"),
    ("2019年感恩节", "2019-11-28"), ("农历元宵", "2021-02-26"), ("大年初十", "2021-02-21"), ("大年三十", "2021-02-11"),
    ("农历8月十五晚8点", "2021-09-21"), ("大前年七夕节半夜11点", "2018-08-17"), ("芒种", "2021-06-05"),
    ("2017年大寒", "2018-01-20"), ("二零一二年农历正月十五", "2012-02-06"), ("后年九月廿二", "2023-11-05"),
    ("2012年正月初8", "2012-01-30"), ("去年五月初五", "2020-06-25"), ("去年十一月廿九下午4点半", "2021-01-12"),
    ("农历2015年十月初一", "2015-11-12"), ("两千年八月十五", "2000-08-15"),
]


@pytest.mark.parametrize("text, day", MORE_FORMS, ids=[f[0] for f in MORE_FORMS])
def test_more_single_day_forms(text: str, day: str) -> None:
    assert one(text, MONDAY_2021)["date"] == day


@pytest.mark.parametrize("text, expected", FORMS, ids=[f[0] for f in FORMS])
def test_each_form(text: str, expected: dict[str, object] | None) -> None:
    if expected is None:
        assert found(text) == []
    else:
        assert one(text) == expected


TRADITIONAL = [
    ("居住證12月5號到期", "12月5号", "2026-12-05"),
    ("十二月五號", "十二月五号", "2026-12-05"),
    ("上週五簽注的", "上周五", "2026-11-20"),
    ("下週三", "下周三", "2026-12-02"),
    ("後天", "后天", "2026-11-25"),
    ("大後天", "大后天", "2026-11-26"),
    ("禮拜天", "礼拜天", "2026-11-29"),
    ("兩週後", "两周后", "2026-12-07"),
    ("過期70天了", "过期70天了", "2026-09-14"),
    ("還有兩週到期", "还有两周到期", "2026-12-07"),
    ("還有45天就過期", "还有45天就过期", "2027-01-07"),
    ("明年1月20日", "明年1月20日", "2027-01-20"),
    ("下個月10號", "下个月10号", "2026-12-10"),
    ("國慶", "国庆", "2026-10-01"),
]


@pytest.mark.parametrize("text, span, day", TRADITIONAL, ids=[t[0] for t in TRADITIONAL])
def test_traditional_characters(text: str, span: str, day: str) -> None:
    assert one(text) == {"text": span, "date": day}


@pytest.mark.parametrize("text", ["過期兩個多月", "簽注兩個多月了"])
def test_traditional_periods(text: str) -> None:
    assert one(text) == {"text": normalize(text), "start": "2026-08-24", "end": "2026-09-22"}


def test_cues_and_past_events() -> None:
    (overdue,) = find_dates("过期两个多月", NOW)
    assert (overdue.kind, overdue.cue, overdue.past_event) == ("duration", "overdue", True)
    (until,) = find_dates("还有两周到期", NOW)
    assert (until.kind, until.cue, until.past_event) == ("duration", "until_expiry", False)
    (since,) = find_dates("签注两个多月了", NOW)
    assert since.cue == "since_endorsed"
    (submitted,) = find_dates("提交5天了", NOW)
    assert (submitted.cue, submitted.date) == ("since_submitted", date(2026, 11, 18))
    for text in ("3月1号签注的", "3月1号提交了", "3月1号办好了", "3月1号交的", "3月1号过期的", "已于3月1号签注"):
        (mention,) = find_dates(text, NOW)
        assert mention.past_event, text
    for text in ("3月1号到期", "3月1号到期的", "3月1号要交的"):
        (mention,) = find_dates(text, NOW)
        assert not mention.past_event, text


def test_nearest_occurrence_without_a_year() -> None:
    november = datetime(2026, 11, 10, 12, tzinfo=SHANGHAI)
    assert one("9月30号到期的，现在还能补签吗", november)["date"] == "2026-09-30"
    assert one("1月3号到期", november)["date"] == "2027-01-03"


def test_year_boundaries() -> None:
    late_december = datetime(2026, 12, 28, 20, tzinfo=SHANGHAI)
    assert one("1月3号到期", late_december)["date"] == "2027-01-03"
    assert one("明天", datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI))["date"] == "2027-01-01"
    early_january = datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)
    assert one("12月28号签注的", early_january)["date"] == "2026-12-28"
    assert one("上周五", early_january)["date"] == "2027-01-01"
    assert one("上个月10号", early_january)["date"] == "2026-12-10"


def test_past_event_takes_the_latest_occurrence_not_after_today() -> None:
    # Nearest would be next month's 2nd; a past event is last month's.
    assert one("2号签注的", datetime(2026, 11, 25, tzinfo=SHANGHAI))["date"] == "2026-11-02"
    assert one("2号到期", datetime(2026, 11, 25, tzinfo=SHANGHAI))["date"] == "2026-12-02"
    # May 30 asked on Nov 23: a past endorsement is this year's, a plain date the nearest too.
    assert one("5月30号签的", NOW)["date"] == "2026-05-30"
    assert one("周五签注的", NOW)["date"] == "2026-11-20"


def test_tie_goes_to_the_future() -> None:
    # 2026-11-16: the 1st of November is 15 days back, the 1st of December 15 days ahead.
    assert one("1号", datetime(2026, 11, 16, tzinfo=SHANGHAI))["date"] == "2026-12-01"
    # 2024-07-02 (leap year): 2024-01-01 is 183 days back, 2025-01-01 183 days ahead.
    assert one("1月1日", datetime(2024, 7, 2, tzinfo=SHANGHAI))["date"] == "2025-01-01"
    # One day later in the year the past one is nearer.
    assert one("1月1日", datetime(2026, 7, 2, tzinfo=SHANGHAI))["date"] == "2026-01-01"


def test_impossible_dates_are_reported_not_moved() -> None:
    assert one("2月30日到期") == {"text": "2月30日", "invalid": True}
    assert one("2026年2月29日") == {"text": "2026年2月29日", "invalid": True}
    assert one("4月31号") == {"text": "4月31号", "invalid": True}
    assert one("2026-02-30") == {"text": "2026-02-30", "invalid": True}
    assert one("2028年2月29日") == {"text": "2028年2月29日", "date": "2028-02-29"}
    assert one("2月29日") == {"text": "2月29日", "date": "2028-02-29"}  # the nearest leap year
    assert one("下个月31号") == {"text": "下个月31号", "date": "2026-12-31"}
    assert one("下个月31号", datetime(2026, 10, 5, tzinfo=SHANGHAI)) == {"text": "下个月31号", "invalid": True}
    assert one("the 31st of next month", datetime(2026, 10, 5, tzinfo=SHANGHAI)) == {
        "text": "the 31st of next month", "invalid": True}  # November has 30 days


@pytest.mark.parametrize("text", [
    "积分12.5分", "大概2.5天", "3-5天", "3号线", "5号楼", "30日内", "逾期后60日内", "周杰伦", "一周", "三周年",
    "超过30天", "v1.2", "涨了3.5%", "120分", "3个月", "两个工作日", "社保交满6个月", "", "版本2026.1", "过了两天再去",
    "是不是要提前一个月去续", "may I ask", "my 3rd time", "late for the appointment", "it takes two weeks",
    "a day off", "30 days after expiry",
])
def test_not_dates(text: str) -> None:
    assert found(text) == []


def test_weekday_after_a_date_only_annotates_it() -> None:
    assert found("10月12号，星期一") == [{"text": "10月12号", "date": "2026-10-12"}]


def test_next_day_counts_from_the_date_before_it() -> None:
    assert found("12月5号审核，第二天交") == [{"text": "12月5号", "date": "2026-12-05"},
                                        {"text": "第二天", "date": "2026-12-06"}]


def test_several_dates_in_order_with_spans() -> None:
    text = normalize("居住证12月5号到期，上周五去签的")
    mentions = find_dates(text, NOW)
    assert [(m.text, m.start_index, m.end_index) for m in mentions] == [("12月5号", 3, 8), ("上周五", 11, 14)]
    assert all(text[m.start_index:m.end_index] == m.text for m in mentions)


def test_message_date_is_shanghai() -> None:
    assert message_date(datetime.fromisoformat("2026-11-22T17:00:00+00:00")) == date(2026, 11, 23)
    assert message_date(datetime(2026, 11, 22, 23, 30)) == date(2026, 11, 22)  # naive = Shanghai
    assert one("今天", datetime.fromisoformat("2026-11-22T17:00:00+00:00"))["date"] == "2026-11-23"


LUNAR_FACTS = [  # (year, month, day, leap, solar): published calendar facts
    (2012, 1, 15, False, "2012-02-06"), (2020, 4, 1, True, "2020-05-23"), (2020, 11, 29, False, "2021-01-12"),
    (2021, 8, 15, False, "2021-09-21"), (2022, 12, 10, False, "2023-01-01"), (2023, 9, 22, False, "2023-11-05"),
    (2024, 1, 1, False, "2024-02-10"), (2025, 1, 1, False, "2025-01-29"), (2025, 6, 1, True, "2025-07-25"),
    (2026, 1, 1, False, "2026-02-17"), (2027, 1, 1, False, "2027-02-06"), (2033, 11, 1, True, "2033-12-22"),
]


@pytest.mark.parametrize("year, month, day, leap, solar", LUNAR_FACTS)
def test_lunar_calendar(year: int, month: int, day: int, leap: bool, solar: str) -> None:
    assert lunar.to_solar(year, month, day, leap=leap) == date.fromisoformat(solar)


def test_lunar_out_of_range_or_missing_day() -> None:
    assert lunar.to_solar(9999, 1, 1) is None  # its last months would fall in year 10000
    assert lunar.to_solar(0, 1, 1) is None
    assert lunar.to_solar(2026, 4, 1, leap=True) is None  # 2026 has no leap fourth month
    assert lunar.to_solar(2026, 1, 31) is None  # no lunar month has 31 days
    # 2028 has a leap fifth month: 端午 (五月初五) is 2028-05-28, so 五月初一 is 05-24; 五月 has 30 days: 闰五月初一 06-23.
    assert lunar.to_solar(2028, 5, 1, leap=True) == date(2028, 6, 23)


@pytest.mark.parametrize("year, day", [(2025, "2025-04-04"), (2026, "2026-04-05"), (2027, "2027-04-05"),
                                       (2028, "2028-04-04")])
def test_qingming_solar_term(year: int, day: str) -> None:
    assert lunar.solar_term(year, "清明") == date.fromisoformat(day)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789年月日号天周星期前后上下本这个多半过期还有到签注了的.-/十一二三两廿农历春节初腊正 ,")) | st.characters(),
               max_size=40),
       st.datetimes(min_value=datetime(1902, 1, 1), max_value=datetime(2098, 12, 31)))
def test_find_dates_never_raises(text: str, now: datetime) -> None:
    for mention in find_dates(text, now):
        assert text[mention.start_index:mention.end_index] == mention.text
        assert mention.invalid or mention.date is not None or mention.period is not None


def test_fast_enough() -> None:
    messages = [normalize(t) for t in ("居住证12月5号到期，什么时候能签注？", "我居住证上周五签注的，积分哪天能续",
                                       "居住证过期两个多月了还能签吗", "积分通知书怎么打印", "今天天气不错")]
    find_dates(messages[0], NOW)
    start = time.perf_counter()
    rounds = 400
    for _ in range(rounds):
        for message in messages:
            find_dates(message, NOW)
    per_message_ms = (time.perf_counter() - start) / (rounds * len(messages)) * 1000
    assert per_message_ms < 0.5, per_message_ms  # the budget is 0.2 ms; slack for a loaded CI machine


# Issue 12, asked at NOW (Monday 2026-11-23). Arithmetic by hand: November has 30 days, December 31.
ISSUE_12 = [
    # 1. future durations: expiry = today + N
    ("还有40天居住证就过期了，现在能去签吗", [{"text": "还有40天居住证就过期", "date": "2027-01-02"}]),  # 7 + 31 + 2
    ("还有40天居住证就到期了", [{"text": "还有40天居住证就到期", "date": "2027-01-02"}]),
    ("还有40天就到期", [{"text": "还有40天就到期", "date": "2027-01-02"}]),
    ("还有两周就到期", [{"text": "还有两周就到期", "date": "2026-12-07"}]),  # 7 + 7
    ("还有一个月就到期", [{"text": "还有一个月就到期", "date": "2026-12-23"}]),  # one calendar month
    ("再过10天到期", [{"text": "再过10天到期", "date": "2026-12-03"}]),  # 7 + 3
    ("居住证到期还有两周", [{"text": "到期还有两周", "date": "2026-12-07"}]),
    ("下礼拜到期", [{"text": "下礼拜", "start": "2026-11-30", "end": "2026-12-06"}]),  # next Monday to Sunday
    # 2. forms not read before
    ("十二月月底到期", [{"text": "十二月月底", "date": "2026-12-31"}]),
    ("12月月末", [{"text": "12月月末", "date": "2026-12-31"}]),
    # March 2027 begins 98 days ahead, March 2026 ended 237 days back: the nearest is 2027's.
    ("三月的第一天到期", [{"text": "三月的第一天", "date": "2027-03-01"}]),
    ("三月的最后一天到期", [{"text": "三月的最后一天", "date": "2027-03-31"}]),
    ("居住证有效期到27年1月8日", [{"text": "27年1月8日", "date": "2027-01-08"}]),
    ("月初到期", [{"text": "月初", "start": "2026-11-01", "end": "2026-11-10"}]),
    ("月中到期", [{"text": "月中", "start": "2026-11-11", "end": "2026-11-20"}]),
    ("中旬到期", [{"text": "中旬", "start": "2026-11-11", "end": "2026-11-20"}]),
    ("下旬到期", [{"text": "下旬", "start": "2026-11-21", "end": "2026-11-30"}]),
    ("3个月后到期", [{"text": "3个月后", "date": "2027-02-23"}]),  # exactly three calendar months
    ("签注3个月了", [{"text": "签注3个月了", "date": "2026-08-23"}]),
    # 6. approximate months. Two months before is 09-23, 61 days (7 + 31 + 23); a tenth of it is 6 days.
    # 快 (not yet there): 55–61 days, 09-23..09-29; 左右 / 差不多: either side, 55–67 days, 09-17..09-29.
    ("过期快两个月了", [{"text": "过期快两个月了", "start": "2026-09-23", "end": "2026-09-29"}]),
    ("过期两个月左右", [{"text": "过期两个月左右", "start": "2026-09-17", "end": "2026-09-29"}]),
    ("过期差不多两个月", [{"text": "过期差不多两个月", "start": "2026-09-17", "end": "2026-09-29"}]),
    # 一个多月: more than one month (10-23 minus a day, 32 days) and less than two (09-24, 60 days).
    ("过期一个多月了", [{"text": "过期一个多月了", "start": "2026-09-24", "end": "2026-10-22"}]),
    # 3. clock times are never dates
    ("明天下午3.30去签注", [{"text": "明天", "date": "2026-11-24"}]),
    ("明早9.30", [{"text": "明早", "date": "2026-11-24"}]),
    ("明天9:30去", [{"text": "明天", "date": "2026-11-24"}]),
    ("明天十点半去", [{"text": "明天", "date": "2026-11-24"}]),
    ("下午两点去签注", []),
    ("周一 9.30去社区", [{"text": "周一", "date": "2026-11-23"}]),
    ("12月5号 3.30去", [{"text": "12月5号", "date": "2026-12-05"}]),
    ("早上9.30", []),
    ("3.30到期", [{"text": "3.30", "date": "2027-03-30"}]),  # no time word: still a date
    ("最晚3.30前要签", [{"text": "3.30", "date": "2027-03-30"}]),  # 最晚 is "at the latest", not evening
    # 9. impossible years are reported like 2月30日
    ("我居住证0001年1月1日到期", [{"text": "0001年1月1日", "invalid": True}]),
    ("我居住证9999年12月31日到期", [{"text": "9999年12月31日", "invalid": True}]),
    ("0001-01-01到期", [{"text": "0001-01-01", "invalid": True}]),
    ("9999年12月", [{"text": "9999年12月", "invalid": True}]),
]


@pytest.mark.parametrize("text, expected", ISSUE_12, ids=[f[0] for f in ISSUE_12])
def test_issue_12_forms(text: str, expected: list[dict[str, object]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text, expected", ISSUE_12, ids=[f[0] for f in ISSUE_12])
def test_issue_12_forms_on_the_command_line(text: str, expected: list[dict[str, object]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dates", text, "--now", NOW.isoformat()]) == 0
    assert json.loads(capsys.readouterr().out) == expected


def test_future_durations_are_until_expiry() -> None:
    (mention,) = find_dates(normalize("还有40天居住证就过期了"), NOW)
    assert (mention.cue, mention.past_event) == ("until_expiry", False)


def test_day_range_of_an_approximate_duration() -> None:
    (almost,) = find_dates("过期快两个月了", NOW)
    assert almost.day_range(NOW.date()) == (-61, -55)
    (more,) = find_dates("过期一个多月了", NOW)
    assert more.day_range(NOW.date()) == (-60, -32)
    (exact,) = find_dates("还有40天就到期", NOW)
    assert exact.day_range(NOW.date()) == (40, 40)
    (invalid,) = find_dates("2月30日", NOW)
    assert invalid.day_range(NOW.date()) is None


@pytest.mark.parametrize("now", [datetime.min, datetime.max, datetime(1, 1, 1, tzinfo=SHANGHAI),
                                 datetime(9999, 12, 31, 23, 59, tzinfo=SHANGHAI),
                                 datetime.fromisoformat("9999-12-31T20:00:00+00:00"),
                                 datetime.fromisoformat("0001-01-01T01:00:00+09:00")])
def test_messages_at_the_ends_of_the_calendar_never_overflow(now: datetime) -> None:
    for text in ("昨天", "明天", "过期90天了", "还有60天到期", "下个月10号", "上周五", "春节", "年底", "2026年12月5日"):
        assert find_dates(text, now) == []  # dated outside 1900–2100: no dates


def test_message_date_outside_the_calendar() -> None:
    assert message_date(datetime.fromisoformat("9999-12-31T20:00:00+00:00")) == date.max
    assert message_date(datetime.fromisoformat("0001-01-01T01:00:00+09:00")) == date.min


def test_durations_near_the_edges_of_the_years() -> None:
    edge = datetime(2100, 12, 25, 10, tzinfo=SHANGHAI)
    assert one("还有90天就到期", edge)["date"] == "2101-03-25"  # 6 + 31 + 28 + 25: arithmetic, no overflow
    assert one("过期90天了", datetime(1900, 1, 5, tzinfo=SHANGHAI))["date"] == "1899-10-07"  # 5 + 31 + 30 + 24


@pytest.mark.parametrize("text, now, day", [
    ("26.4.18到期", datetime(2026, 3, 3, tzinfo=SHANGHAI), "2026-04-18"),  # a two-digit year first
    ("12.5.26到期", datetime(2026, 3, 3, tzinfo=SHANGHAI), "2026-05-12"),  # the year last: nearer today
    ("5/6/2026到期", NOW, "2026-06-05"),  # Chinese text: the day first, as Hong Kong writes
    ("expires 5/6/2026", NOW, "2026-05-06"),  # English text: the month first
    ("expires 15/08/2026.", NOW, "2026-08-15"),  # a day over 12 comes first; a full stop ends the date
])
def test_three_number_dates(text, now, day):
    assert one(text, now)["date"] == day


def test_a_corrected_date_is_left_out_and_a_question_is_no_correction():
    from intents.roles import date_slots

    may = datetime(2026, 5, 6, tzinfo=SHANGHAI)
    assert [str(s.mention.date) for s in date_slots(normalize("到期日是上个月底 哦不对 是这个月底"), may, may.date())] \
        == ["2026-05-31"]
    assert [str(s.mention.date) for s in date_slots(normalize("12月5号到期 对不对 1月5号前签就行"), NOW, NOW.date())] \
        == ["2026-12-05", "2027-01-05"]


def test_a_date_before_its_event_is_no_version_number():
    # after a Latin letter 8.1 reads as a version ("v8.1"), unless an event follows it
    assert one("jzz 8.1到期的")["date"] == "2026-08-01"
    assert found("版本v 8.1") == []


def test_a_weekday_naming_the_day_of_the_date_before_it_annotates_it():
    april = datetime(2026, 4, 9, tzinfo=SHANGHAI)
    assert [m["date"] for m in found("2月28号那个调休周六签注的", april)] == ["2026-02-28"]  # 2026-02-28: a Saturday
    assert [m["date"] for m in found("清明放假前那个周五签的", april)] == ["2026-04-05", "2026-04-03"]  # another day
