"""Dated answers: the samples' facts exactly, roles, follow-ups, missing and impossible dates, the CLI."""
from __future__ import annotations

import json
import logging
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot import render
from bot.resolve import DATED_INTENTS, resolve_dates
from intents.dates import message_date
from intents.roles import date_slots
from knowledge.policy import load_policy
from intents.dates import SHANGHAI
from intents.normalize import normalize

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)


def answer_with_dates(intent: str, text: str, now: datetime, remembered: dict[str, date] | None = None):
    """The dated part of an answer as the pipeline computes it (resolve) and words it (render)."""
    today = message_date(now)
    dated = resolve_dates(intent, date_slots(text, now, today), today, remembered, policy=load_policy())
    if dated is not None:
        dated.text = render.dated_text(dated)
    return dated
SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples" / "questions.jsonl"


def dated_samples() -> list[dict]:
    if not SAMPLES.exists():
        return []
    records = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in records if r["expect"].get("facts")]


@pytest.mark.skipif(not SAMPLES.exists(), reason=f"the labelled samples are not at {SAMPLES}")
@pytest.mark.parametrize("record", dated_samples(), ids=lambda r: r["id"])
def test_sample_facts_exactly(record: dict) -> None:
    expect = record["expect"]
    answer = answer_with_dates(expect["intent"][0], normalize(record["text"]), datetime.fromisoformat(record["time"]))
    assert answer is not None
    assert answer.facts == expect["facts"]
    assert answer.intent in expect["intent"]


@pytest.mark.skipif(not SAMPLES.exists(), reason=f"the labelled samples are not at {SAMPLES}")
def test_the_ten_dated_samples_are_there() -> None:
    assert [r["id"] for r in dated_samples()] == [f"s{n:03d}" for n in range(1, 11)]


def ask(intent: str, text: str, now: datetime = NOW, remembered: dict[str, date] | None = None):
    answer = answer_with_dates(intent, normalize(text), now, remembered)
    assert answer is not None
    return answer


def test_not_dated_intent() -> None:
    assert answer_with_dates("points.materials", "积分续办要什么材料", NOW) is None
    assert "permit.renew_window" in DATED_INTENTS


def test_answer_states_the_date_and_how_it_relates_to_today() -> None:
    answer = ask("permit.renew_window", "居住证12月5号到期，什么时候能签注？")
    assert answer.text.startswith("按 2026-12-05 到期计算，还有 12 天到期，签注窗口 2026-11-05 至 2027-02-03")
    assert answer.remembered == {"expiry": date(2026, 12, 5)}
    assert "一网通办" in answer.text  # what to do
    assert "12333" not in answer.text  # the handler adds the official-sites reminder


def test_intent_follows_the_sign_of_days_to_expiry() -> None:
    assert ask("permit.renew_window", "居住证11月1号到期").intent == "permit.overdue"
    assert ask("permit.overdue", "居住证12月5号到期，过期了吗").intent == "permit.renew_window"


def test_too_early() -> None:
    answer = ask("permit.renew_window", "居住证明年3月1日到期，现在能签吗")
    assert answer.facts["status"] == "too_early"
    assert "2027-01-30" in answer.text and "还要等 68 天" in answer.text


@pytest.mark.parametrize("text, status, words", [
    ("居住证过期40天了还能签吗", "grace", ["60 天内", "还剩 20 天"]),
    ("居住证过期80天怎么办", "recalculated", ["重新计算", "有的指南说超过 60 天", "确认"]),
    ("居住证过期100天了", "reapply", ["重新申领", "有的指南说超过 60 天", "6 个月", "确认"]),
])
def test_overdue_answers_explain_the_thresholds(text: str, status: str, words: list[str]) -> None:
    answer = ask("permit.overdue", text)
    assert answer.facts["status"] == status
    assert set(answer.facts) == {"days_to_expiry", "status"}
    for word in words:
        assert word in answer.text


def test_overdue_period_across_90_days_gives_both_cases() -> None:
    # 两个多月 before 2026-11-23: more than two months (09-22, 62 days) and less than three (08-24, 91 days):
    # 62–91 days, across the 90-day line.
    answer = ask("permit.overdue", "居住证已经过期两个多月了，还能签吗")
    assert answer.facts == {}
    assert "约 62–91 天" in answer.text
    assert "如果过期 61–90 天，指南说还能签注但居住年限重新计算" in answer.text
    assert "如果过期超过 90 天，指南说要重新申领居住证" in answer.text
    assert "告诉我确切的到期日" in answer.text


def test_until_expiry_duration() -> None:
    # E = 2026-11-23 + 45 = 2027-01-07 (7 + 31 + 7); E − 30 = 2026-12-08; E + 60 = 2027-03-08 (24 + 28 + 8).
    answer = ask("permit.renew_window", "居住证还有45天就过期")
    assert answer.facts == {"expiry_date": "2027-01-07", "window_start": "2026-12-08", "window_end": "2027-03-08",
                            "days_to_expiry": 45, "status": "too_early"}
    assert "还要等 15 天" in answer.text


def test_endorsement_date_in_a_permit_question() -> None:
    answer = ask("permit.renew_window", "居住证上周五签注的，下次什么时候签")
    assert answer.facts == {"endorsed_date": "2026-11-20"}
    assert answer.remembered == {"endorsed": date(2026, 11, 20)}


def test_today_as_the_day_they_act_is_not_the_expiry() -> None:
    answer = ask("permit.renew_window", "居住证今天能去签注吗")
    assert answer.facts == {}
    assert "告诉我你的到期日" in answer.text


@pytest.mark.parametrize("intent, text, asks", [
    ("permit.renew_window", "居住证什么时候可以签注", "到期日"),
    ("permit.overdue", "居住证过期了还能签吗", "到期日"),
    ("points.when_to_renew", "签注后积分什么时候续", "签注日期"),
    ("points.deadline_after_permit", "签注了积分多久内要续", "签注日期"),
    ("points.paper_materials", "积分续签要交纸质材料吗", "审核的日期"),
    ("points.processing_time", "积分续办需要多久", "提交日期"),
])
def test_missing_date_gives_the_rule_and_asks(intent: str, text: str, asks: str) -> None:
    answer = ask(intent, text)
    assert answer.facts == {}
    assert asks in answer.text and "告诉我" in answer.text


def test_impossible_date_is_said_clearly() -> None:
    answer = ask("permit.renew_window", "居住证2月30日到期")
    assert answer.facts == {}
    assert "2月30日" in answer.text and "不存在" in answer.text


def test_follow_up_uses_remembered_dates() -> None:
    first = ask("points.when_to_renew", "我昨天刚签注的，积分什么时候能确认")
    assert first.remembered == {"endorsed": date(2026, 11, 22)}
    follow = ask("points.deadline_after_permit", "那最晚哪天要续", remembered=first.remembered)
    assert follow.facts == {"endorsed_date": "2026-11-22", "points_deadline": "2027-01-21"}
    expiry = ask("permit.renew_window", "居住证12月5号到期").remembered
    window = ask("permit.overdue", "那最晚哪天必须签注", remembered=expiry)
    assert window.facts["window_end"] == "2027-02-03"
    points = ask("points.when_to_renew", "那积分呢", remembered=expiry)
    assert points.facts["expiry_date"] == "2026-12-05" and "签注日期" in points.text
    assert ask("points.when_to_renew", "那积分呢", remembered={}).facts == {}


def test_a_date_in_the_message_beats_a_remembered_one() -> None:
    answer = ask("permit.renew_window", "居住证1月10号到期", remembered={"expiry": date(2026, 12, 5)})
    assert answer.facts["expiry_date"] == "2027-01-10"


def test_statutory_only_is_said() -> None:
    # Submitted Mon 2026-12-28: 12-29..31 (1-3), 01-01 元旦 off, weekend, 01-04..07 (4-7).
    answer = ask("points.processing_time", "积分12月28号提交的，什么时候出结果", now=datetime(2026, 12, 30, tzinfo=SHANGHAI))
    assert answer.facts["workday_calendar"] == "statutory_only"
    assert answer.facts["result_typical_by"] == "2027-01-07"
    assert "2027 年的放假安排还没公布：已跳过周末和元旦、春节等法定节假日，调休上班日还不知道" in answer.text
    assert "只跳过了周末" not in answer.text


def test_paper_is_not_due_on_new_year_2027() -> None:
    # Issue 12, item 8: reviewed Wed 2026-12-30; the 1st working day after is Thu 12-31, 2027-01-01 is 元旦,
    # 01-02/03 the weekend, so the 2nd working day is Mon 2027-01-04 (weekends only gave 2027-01-01).
    answer = ask("points.paper_materials", "单位12月30号审核通过了，什么时候去交书面材料",
                 now=datetime(2026, 12, 30, 15, tzinfo=SHANGHAI))
    assert answer.facts == {"review_date": "2026-12-30", "paper_submit_from": "2027-01-04",
                            "workday_calendar": "statutory_only"}
    assert "调休上班日还不知道" in answer.text


def test_weekends_only_is_said_before_the_package_years() -> None:
    # 2003 predates chinesecalendar's schedule (2004 on) and today's holiday rules: weekends only.
    # From Mon 2003-12-01: 12-02..05 (1-4), 12-08..10 (5-7); 12-11, 12 (8, 9), 12-15..19 (10-14),
    # 12-22..26 (15-19), 12-29 (20).
    answer = ask("points.processing_time", "积分2003年12月1日提交的，什么时候出结果", now=datetime(2003, 12, 3, tzinfo=SHANGHAI))
    assert answer.facts["workday_calendar"] == "weekends_only"
    assert (answer.facts["result_typical_by"], answer.facts["result_expected_by"]) == ("2003-12-10", "2003-12-29")
    assert "2003 年的法定节假日安排还没有收录进日历，这里只跳过了周末" in answer.text


def test_year_boundary_in_a_dated_answer() -> None:
    late_december = datetime(2026, 12, 28, 20, tzinfo=SHANGHAI)
    assert ask("permit.renew_window", "居住证1月3号到期", late_december).facts["expiry_date"] == "2027-01-03"
    early_january = datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)
    assert ask("points.deadline_after_permit", "12月28号签注的", early_january).facts["endorsed_date"] == "2026-12-28"


def test_traditional_message() -> None:
    answer = ask("points.when_to_renew", "我居住證上週五簽注的，積分哪天能續")
    assert answer.facts["points_confirm_from"] == "2026-11-25"


def test_endorsed_period_for_the_deadline() -> None:
    answer = ask("points.deadline_after_permit", "居住证签注两个多月了，积分还能续吗")
    assert answer.facts == {}
    assert "已超过签注后 60 天" in answer.text


def test_cli_single_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dates", "居住證12月5號到期，2月30日，本周", "--now", "2026-11-23T10:15:00"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"text": "12月5号", "date": "2026-12-05"}, {"text": "2月30日", "invalid": True},
        {"text": "本周", "start": "2026-11-23", "end": "2026-11-29"}]


def test_cli_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([
        json.dumps({"text": "明天", "now": "2026-12-31T23:30:00+08:00"}, ensure_ascii=False),
        json.dumps({"text": "明天", "now": "2026-12-31T16:30:00+00:00"}, ensure_ascii=False),
        "not json",
        json.dumps({"text": "没有日期", "now": "2026-11-23"}, ensure_ascii=False),
    ]) + "\n", encoding="utf-8")
    assert main(["dates", "--jsonl", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [[{"text": "明天", "date": "2027-01-01"}], [{"text": "明天", "date": "2027-01-02"}], [], []]


def test_cli_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dates", "明天", "--now", "yesterday"]) == 2
    assert "ISO" in capsys.readouterr().err
    assert main(["dates"]) == 2
    assert main(["dates", "--jsonl", "/no/such/file.jsonl"]) == 2


def test_a_month_is_enough_only_when_the_status_is_the_same_all_month() -> None:
    november = datetime(2026, 11, 4, 10, tzinfo=SHANGHAI)
    unsure = ask("permit.renew_window", "居住证12月到期", november)
    assert unsure.facts == {} and "告诉我你的到期日" in unsure.text
    sure = ask("permit.overdue", "居住证今年3月到期的", datetime(2026, 7, 25, tzinfo=SHANGHAI))
    assert sure.facts == {"status": "reapply"}


def test_elapsed_time_counts_from_the_event_named_before() -> None:
    answer = ask("points.deadline_after_permit", "签注完忘了续积分 过了一个月还来得及吗", datetime(2026, 6, 11, tzinfo=SHANGHAI))
    assert answer.facts == {"endorsed_date": "2026-05-11", "points_deadline": "2026-07-10"}
    overdue = ask("permit.overdue", "居住证到期忘记续了，昨天刚发现已经过了40天", datetime(2026, 9, 14, tzinfo=SHANGHAI))
    assert overdue.facts == {"days_to_expiry": -40, "status": "grace"}


def test_role_found_later_in_the_clause() -> None:
    answer = ask("points.when_to_renew", "我今天上午已经在随申办签好了 积分什么时候能续", datetime(2026, 6, 8, tzinfo=SHANGHAI))
    assert answer.facts["endorsed_date"] == "2026-06-08"


def test_approximate_overdue_gives_no_day_counts() -> None:
    answer = ask("permit.overdue", "居住证过期一个多月了", datetime(2026, 7, 25, tzinfo=SHANGHAI))
    assert answer.facts == {"status": "grace"}
    assert "还剩" not in answer.text
    almost = ask("permit.overdue", "居住證過期快半年了", datetime(2026, 10, 12, tzinfo=SHANGHAI))
    assert almost.facts == {"status": "reapply"}


def test_day_words_without_a_verb_are_not_an_expiry() -> None:
    assert ask("permit.renew_window", "昨天问了hr，居住证什么时候签").facts == {}
    assert ask("permit.renew_window", "居住证下个月10号，能签吗").facts["expiry_date"] == "2026-12-10"
    assert ask("permit.renew_window", "居住证下周五到期").facts["expiry_date"] == "2026-12-04"


def _window(expiry: str, start: str, end: str, days: int, status: str) -> dict[str, object]:
    return {"expiry_date": expiry, "window_start": start, "window_end": end, "days_to_expiry": days, "status": status}


# Issue 12 at NOW (2026-11-23): the facts, worked by hand from domain.md (window E − 30 … E + 60; too_early when
# E − T > 30, in_window 0–30, grace 1–60 days overdue).
ISSUE_12_PERMIT = [
    # 1. E = T + 40 = 2027-01-02 (7 + 31 + 2); E − 30 = 2026-12-03; E + 60 = 2027-03-03 (29 + 28 + 3); 40 > 30.
    ("permit.overdue", "还有40天居住证就过期了，现在能去签吗", "permit.renew_window",
     _window("2027-01-02", "2026-12-03", "2027-03-03", 40, "too_early")),
    ("permit.renew_window", "还有40天居住证就到期了", "permit.renew_window",
     _window("2027-01-02", "2026-12-03", "2027-03-03", 40, "too_early")),
    # E = T + 14 = 2026-12-07; E − 30 = 11-07; E + 60 = 2027-02-05 (24 + 31 + 5).
    ("permit.renew_window", "居住证还有两周就到期", "permit.renew_window",
     _window("2026-12-07", "2026-11-07", "2027-02-05", 14, "in_window")),
    # E = T + one calendar month = 2026-12-23 (30 days); E − 30 = 11-23; E + 60 = 2027-02-21 (8 + 31 + 21).
    ("permit.renew_window", "居住证还有一个月就到期", "permit.renew_window",
     _window("2026-12-23", "2026-11-23", "2027-02-21", 30, "in_window")),
    # E = T + 10 = 2026-12-03; E − 30 = 11-03; E + 60 = 2027-02-01 (28 + 31 + 1).
    ("permit.renew_window", "居住证再过10天到期", "permit.renew_window",
     _window("2026-12-03", "2026-11-03", "2027-02-01", 10, "in_window")),
    # 2. E = 2026-12-31 (38 days); E − 30 = 12-01; E + 60 = 2027-03-01 (31 + 28 + 1).
    ("permit.renew_window", "居住证十二月月底到期", "permit.renew_window",
     _window("2026-12-31", "2026-12-01", "2027-03-01", 38, "too_early")),
    # E = 2027-03-01: 7 + 31 + 31 + 28 + 1 = 98 days; E − 30 = 01-30; E + 60 = 04-30 (30 + 30).
    ("permit.renew_window", "居住证三月的第一天到期", "permit.renew_window",
     _window("2027-03-01", "2027-01-30", "2027-04-30", 98, "too_early")),
    # E = 2027-03-31: 98 + 30 = 128 days; E − 30 = 03-01; E + 60 = 05-30 (30 + 30).
    ("permit.renew_window", "居住证三月的最后一天到期", "permit.renew_window",
     _window("2027-03-31", "2027-03-01", "2027-05-30", 128, "too_early")),
    # E = 2027-01-08: 7 + 31 + 8 = 46 days; E − 30 = 2026-12-09; E + 60 = 2027-03-09 (23 + 28 + 9).
    ("permit.renew_window", "居住证有效期到27年1月8日", "permit.renew_window",
     _window("2027-01-08", "2026-12-09", "2027-03-09", 46, "too_early")),
    # E = 2026-09-24: 6 + 31 + 23 = 60 days overdue, the last day of grace; E + 60 = today.
    ("permit.overdue", "居住证9月24号到期的，还能签吗", "permit.overdue",
     _window("2026-09-24", "2026-08-25", "2026-11-23", -60, "grace")),
    # E = 2026-08-25: 6 + 30 + 31 + 23 = 90 days overdue, the last day of recalculated; E + 60 = 10-24.
    ("permit.overdue", "居住证8月25号到期的", "permit.overdue",
     _window("2026-08-25", "2026-07-26", "2026-10-24", -90, "recalculated")),
]


@pytest.mark.parametrize("intent, text, answered_as, facts", ISSUE_12_PERMIT, ids=[c[1] for c in ISSUE_12_PERMIT])
def test_issue_12_permit_facts(intent: str, text: str, answered_as: str, facts: dict[str, object]) -> None:
    answer = ask(intent, text)
    assert answer.intent == answered_as
    assert answer.facts == facts


@pytest.mark.parametrize("intent, text, answered_as, facts", ISSUE_12_PERMIT, ids=[c[1] for c in ISSUE_12_PERMIT])
def test_issue_12_dates_command_agrees_with_the_facts(intent: str, text: str, answered_as: str, facts: dict[str, object],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dates", text, "--now", NOW.isoformat()]) == 0
    (mention,) = json.loads(capsys.readouterr().out)
    assert mention["date"] == facts["expiry_date"]


@pytest.mark.parametrize("text, intent, status", [
    ("居住证下礼拜到期", "permit.renew_window", "in_window"),  # 2026-11-30..12-06: 7–13 days, in the window throughout
    ("居住证月初到期", "permit.overdue", "grace"),  # 11-01..11-10: 13–22 days overdue
    ("居住证中旬到期的", "permit.overdue", "grace"),  # 11-11..11-20: 3–12 days overdue
    ("居住证过期一个多月了", "permit.overdue", "grace"),  # 32–60 days, all inside the 60
])
def test_periods_with_one_status(text: str, intent: str, status: str) -> None:
    answer = ask("permit.renew_window", text)
    assert (answer.intent, answer.facts) == (intent, {"status": status})


def test_a_period_across_expiry_asks_for_the_day() -> None:
    # 下旬 = 11-21..11-30: from 2 days overdue to 7 days ahead, so grace or in_window: which day matters.
    answer = ask("permit.renew_window", "居住证下旬到期")
    assert answer.facts == {}
    assert "只知道是下旬到期" in answer.text and "告诉我你的到期日" in answer.text


def test_almost_two_months_overdue_says_both_cases() -> None:
    # 快两个月 = 55–61 days (two months is 61 days, 09-23): either side of the 60-day line.
    answer = ask("permit.overdue", "居住证过期快两个月了")
    assert answer.facts == {}
    assert "约 55–61 天" in answer.text
    assert "如果过期没超过 60 天，仍可签注，居住年限连续计算" in answer.text
    assert "如果过期 61–90 天，指南说还能签注但居住年限重新计算" in answer.text
    assert "告诉我确切的到期日" in answer.text
    assert "已超过到期后 60 天" not in answer.text


def test_almost_three_months_overdue_says_both_cases() -> None:
    # Three months before is 08-23, 92 days (8 + 30 + 31 + 23); a tenth is 9: 83–92 days, across 90.
    answer = ask("permit.overdue", "居住证过期快三个月了")
    assert answer.facts == {}
    assert "如果过期 61–90 天" in answer.text and "如果过期超过 90 天" in answer.text


def test_the_last_day_of_grace_and_of_recalculation_is_said() -> None:
    assert "今天是逾期第 60 天，今天办年限仍连续" in ask("permit.overdue", "居住证9月24号到期的，还能签吗").text
    assert "今天是逾期第 60 天，今天办年限仍连续" in ask("permit.overdue", "居住证过期60天了").text
    assert "还剩 0 天" not in ask("permit.overdue", "居住证过期60天了").text
    assert "今天是逾期第 90 天" in ask("permit.overdue", "居住证过期90天了").text
    assert "今天是逾期第" not in ask("permit.overdue", "居住证过期59天了").text


@pytest.mark.parametrize("text", ["我居住证0001年1月1日到期", "我居住证9999年12月31日到期", "居住证0001-01-01到期"])
def test_impossible_years_are_said_clearly(text: str) -> None:
    for intent in sorted(DATED_INTENTS):
        answer = ask(intent, text)
        assert answer.facts == {}, intent
        assert "不存在" in answer.text, intent


def test_clock_time_is_not_an_expiry() -> None:
    answer = ask("permit.renew_window", "居住证快到期了，明天下午3.30去签注")
    assert "expiry_date" not in answer.facts
    assert "2027-03-30" not in answer.text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789年月日号天周前后上下过期还有到签注了的.-/十一二两快多个"))
               | st.characters(), max_size=30),
       st.datetimes(timezones=st.none() | st.just(SHANGHAI)),
       st.sampled_from(sorted(DATED_INTENTS)))
def test_dated_answers_never_raise(text: str, now: datetime, intent: str) -> None:
    answer_with_dates(intent, text, now)


@pytest.mark.parametrize("text, time", [
    ("@小助手 我居住证0001年1月1日到期", NOW),
    ("@小助手 我居住证9999年12月31日到期，什么时候签注", NOW),
    ("@小助手 居住证还有60天到期", datetime(9999, 12, 31, 23, 59, tzinfo=SHANGHAI)),
    ("@小助手 居住证过期90天了", datetime(1, 1, 1, 0, 1, tzinfo=SHANGHAI)),
    ("@小助手 积分昨天提交的，多久出结果", datetime.fromisoformat("9999-12-31T20:00:00+00:00")),
])
def test_the_handler_never_overflows(bot, caplog: pytest.LogCaptureFixture, text: str, time: datetime) -> None:
    from bot.events import Incoming

    result = bot.handle(Incoming(text=text, time=time, sender="wxid_member", room="room@chatroom", mentioned=True))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert result.reply and "抱歉，我这边出了点问题" not in result.reply
    if "0001" in text or "9999年" in text:
        assert "不存在" in result.reply  # as for 2月30日
