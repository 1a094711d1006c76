"""Issue 12, items 4, 5 and 7 through the handler: the date settles the intent, planned dates, remembered dates.
Expected values are worked by hand from domain.md (E − 30, E + 60, days = E − T, S + 60, N-th working day after S)."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import NOW  # Monday 23 November 2026, 09:30 Shanghai


def test_the_date_settles_renew_window_versus_overdue_privately_and_in_a_group(ask):
    # E = 2026-12-10: window 2026-11-10 … 2027-02-08; E − T = 17 days; inside the window.
    facts = {"expiry_date": "2026-12-10", "window_start": "2026-11-10", "window_end": "2027-02-08",
             "days_to_expiry": 17, "status": "in_window"}
    text = "我居住证12月10号到期，明天上午去社区签注来得及吗"
    for result in (ask(text, room=None), ask(text, room="g1@chatroom", mentioned=True)):
        assert result.intent == "permit.renew_window" and not result.menu and result.facts == facts
        assert "2026-11-10" in result.reply and "2027-02-08" in result.reply


def test_a_two_digit_year_is_read_and_settles_the_intent(ask):
    # 27年1月8日 = 2027-01-08: window 2026-12-09 … 2027-03-09; 46 days ahead, more than 30: too early.
    result = ask("居住证有效期到27年1月8日", room=None)
    assert not result.menu and result.facts == {
        "expiry_date": "2027-01-08", "window_start": "2026-12-09", "window_end": "2027-03-09",
        "days_to_expiry": 46, "status": "too_early"}


def test_a_planned_endorsement_date_is_used_and_said_as_a_plan(ask):
    # 下周一 from Monday 23 November = 30 November. Working days after it (no holiday in December 2026):
    # 1 Dec (1), 2 Dec (2), 3 Dec (3) → confirm from 12-03; 4, 7, 8, 9 Dec → typically by 12-09; S + 60 = 2027-01-29.
    result = ask("下周一去签注，积分啥时候能刷新", room=None)
    assert result.intent == "points.when_to_renew"
    assert result.facts == {"endorsed_date": "2026-11-30", "points_confirm_from": "2026-12-03",
                            "points_confirm_typical_by": "2026-12-09", "points_deadline": "2027-01-29",
                            "workday_calendar": "official"}
    assert result.reply.startswith("如果 2026-11-30 签注")


def test_a_newer_date_replaces_the_remembered_one_even_after_a_non_dated_answer(ask):
    chat = {"room": "g2@chatroom", "sender": "wxid_m", "mentioned": True}
    ask("我证是3月5号到的,现在还来得及吗", **chat)
    second = ask("居住证2027.1.8到期 积分也是那天到期吗", time=NOW + timedelta(minutes=1), **chat)
    assert second.replied
    third = ask("签注时间", time=NOW + timedelta(minutes=2), **chat)
    # The remembered expiry is now 2027-01-08 (46 days ahead: too early; window opens 2026-12-09).
    assert third.facts["expiry_date"] == "2027-01-08" and third.facts["window_start"] == "2026-12-09"


def test_english_month_and_day(ask):
    # Dec 2 seen on 23 November 2026: E = 2026-12-02, window 2026-11-02 … 2027-01-31, 9 days ahead: in the window.
    result = ask("my residence permit expires on Dec 2, when can I renew it?", room=None)
    assert result.intent == "permit.renew_window" and result.facts == {
        "expiry_date": "2026-12-02", "window_start": "2026-11-02", "window_end": "2027-01-31",
        "days_to_expiry": 9, "status": "in_window"}
    assert result.reply.splitlines()[0].isascii()  # the English lead line


def test_english_relative_dates(ask):
    # Asked Monday 23 November 2026. "next Tuesday" is Tuesday of next week, 1 December: E = 2026-12-01, window
    # 2026-11-01 … 2027-01-30 (30 days before, 60 after), 8 days ahead: in the window, not too late.
    result = ask("my residence permit expires next Tuesday, is it too late to do it?", room=None)
    assert result.intent == "permit.renew_window" and result.facts == {
        "expiry_date": "2026-12-01", "window_start": "2026-11-01", "window_end": "2027-01-30",
        "days_to_expiry": 8, "status": "in_window"}
    # "2 weeks ago" is 9 November: 14 days overdue, within 60 (domain.md: endorse as usual).
    result = ask("my residence permit expired 2 weeks ago, can I still renew?", room=None)
    assert result.intent == "permit.overdue" and result.facts["expiry_date"] == "2026-11-09"
    assert result.facts["days_to_expiry"] == -14


def test_a_time_of_day_between_a_planned_date_and_its_endorsement(ask):
    # 明早 = Tuesday 24 November; 9.30 is a time. Working days after it: 25, 26, 27 Nov → from 11-27; 30 Nov, 1, 2,
    # 3 Dec → typically by 12-03; S + 60 = 2027-01-23.
    result = ask("明早9.30去社区签注 签完积分多久能确认", room=None)
    assert result.facts == {"endorsed_date": "2026-11-24", "points_confirm_from": "2026-11-27",
                            "points_confirm_typical_by": "2026-12-03", "points_deadline": "2027-01-23",
                            "workday_calendar": "official"}
    assert result.reply.startswith("如果 2026-11-24 签注")


def test_just_expiring_on_a_day_ahead_is_that_days_next_occurrence(ask):
    # "3.10就到期了" asked 2026-02-16 does not say it already happened (domain.md): the nearest 10 March, 2026-03-10;
    # window 2026-02-08 … 2026-05-09, 22 days ahead.
    result = ask("@小助手 居住证3.10就到期了 还在过年 社区那边开门了冇 能不能去签", room="g@chatroom", mentioned=True,
                 time=NOW.replace(month=2, day=16))
    assert result.intent == "permit.renew_window" and result.facts == {
        "expiry_date": "2026-03-10", "window_start": "2026-02-08", "window_end": "2026-05-09",
        "days_to_expiry": 22, "status": "in_window"}


def test_the_day_a_message_came_is_not_the_expiry(ask):
    # "上个月底收到短信": when the SMS came; the expiry is 3月5号 = 2026-03-05 (asked 2026-02-03): window from 2026-02-03
    result = ask("上个月底收到短信说居住证快到期了 具体是3月5号 现在可以办了吗", room=None,
                 time=NOW.replace(month=2, day=3))
    assert result.intent == "permit.renew_window" and result.facts["expiry_date"] == "2026-03-05"
    assert result.facts["window_start"] == "2026-02-03" and result.facts["status"] == "in_window"


def test_an_expiry_month_wholly_past_is_overdue_though_how_long_is_unsettled(ask):
    # 上上个月 from 2026-05-30 is March: 60 to 90 days overdue, grace or recalculated by the day; overdue either way
    result = ask("上上个月到期的 一直拖着 现在签还来得及吗", room=None, time=NOW.replace(month=5, day=30))
    assert result.intent == "permit.overdue" and "expiry_date" not in result.facts


def test_a_submission_date_says_what_is_asked_when_the_words_do_not(ask):
    # "9.28提交的": a submission date (asked 2026-10-02: 2026-09-28), so how long the review takes is asked
    result = ask("9.28提交的 碰上国庆 是不是要等到10月中", room=None, time=NOW.replace(month=10, day=2))
    assert result.intent == "points.processing_time" and result.facts["submitted_date"] == "2026-09-28"


def test_an_english_endorsement_done_on_a_date_gives_the_points_dates(ask):
    # S = 2026-08-14 (a Friday): 3rd working day after it 2026-08-19, 7th 2026-08-25, S + 60 = 2026-10-13
    result = ask("@小助手 got my endorsement done on 2026-08-14. when should I start the points renewal?",
                 room="g@chatroom", mentioned=True, time=NOW.replace(month=8, day=20))
    assert result.intent == "points.when_to_renew"
    assert result.facts["points_confirm_from"] == "2026-08-19" and result.facts["points_confirm_typical_by"] == \
        "2026-08-25" and result.facts["points_deadline"] == "2026-10-13"
