"""The per-room rate limit and the repeated-answer cooldown, driven by a fake clock."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.throttle import Throttle, answer_key

T0 = datetime(2026, 11, 23, 14, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
ROOM = "room1@chatroom"


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def test_answers_up_to_the_rate_then_stays_silent_until_the_window_slides():
    throttle = Throttle(replies_per_minute=3, repeat_cooldown_seconds=600)
    verdicts = [throttle.check(ROOM, f"answer {i}", now=seconds(i)) for i in range(5)]
    assert [v.reason for v in verdicts] == ["answer"] * 3 + ["rate"] * 2
    assert [v.send for v in verdicts] == [True] * 3 + [False] * 2
    # The first send leaves the window 60 s after it was made.
    assert throttle.check(ROOM, "answer 5", now=seconds(59.9)).reason == "rate"
    assert throttle.check(ROOM, "answer 5", now=seconds(60)).text == "answer 5"


def test_rooms_are_limited_separately():
    throttle = Throttle(replies_per_minute=1, repeat_cooldown_seconds=0)
    assert throttle.check("a@chatroom", "x", now=T0).send
    assert throttle.check("b@chatroom", "x", now=T0).send
    assert not throttle.check("a@chatroom", "y", now=T0).send


def test_a_repeated_answer_gets_one_pointer_then_silence():
    throttle = Throttle(replies_per_minute=10, repeat_cooldown_seconds=600)
    first = throttle.check(ROOM, "签注在到期前30天内办理。", now=T0)
    assert first.text == "签注在到期前30天内办理。"
    pointer = throttle.check(ROOM, "签注在到期前30天内办理。", now=seconds(30))
    assert pointer.reason == "pointer"
    assert "14:05" in pointer.text and "签注" not in pointer.text
    assert throttle.check(ROOM, "签注在到期前30天内办理。", now=seconds(60)).reason == "repeat"
    # Once the cooldown has run out the answer is given in full again.
    assert throttle.check(ROOM, "签注在到期前30天内办理。", now=seconds(600)).reason == "answer"


def test_the_same_answer_in_another_room_is_not_a_repeat():
    throttle = Throttle(replies_per_minute=10, repeat_cooldown_seconds=600)
    assert throttle.check("a@chatroom", "same", now=T0).reason == "answer"
    assert throttle.check("b@chatroom", "same", now=T0).reason == "answer"


def test_answers_differing_only_in_spacing_and_punctuation_are_the_same():
    assert answer_key("请带好 居住证，身份证。") == answer_key("请带好居住证身份证")
    throttle = Throttle(replies_per_minute=10, repeat_cooldown_seconds=600)
    throttle.check(ROOM, "请带好 居住证，身份证。", now=T0)
    assert throttle.check(ROOM, "请带好居住证身份证", now=seconds(1)).reason == "pointer"


def test_a_pointer_counts_against_the_rate():
    throttle = Throttle(replies_per_minute=2, repeat_cooldown_seconds=600)
    throttle.check(ROOM, "a", now=T0)
    assert throttle.check(ROOM, "a", now=seconds(1)).reason == "pointer"
    assert throttle.check(ROOM, "b", now=seconds(2)).reason == "rate"


def test_a_pointer_refused_for_rate_is_still_owed():
    throttle = Throttle(replies_per_minute=1, repeat_cooldown_seconds=600)
    throttle.check(ROOM, "a", now=T0)
    assert throttle.check(ROOM, "a", now=seconds(1)).reason == "rate"
    assert throttle.check(ROOM, "a", now=seconds(61)).reason == "pointer"


def test_zero_cooldown_repeats_freely():
    throttle = Throttle(replies_per_minute=10, repeat_cooldown_seconds=0)
    assert [throttle.check(ROOM, "a", now=seconds(i)).reason for i in range(3)] == ["answer"] * 3


def test_rejects_a_rate_below_one():
    with pytest.raises(ValueError):
        Throttle(replies_per_minute=0, repeat_cooldown_seconds=0)


def test_quiet_conversations_are_forgotten():
    throttle = Throttle(replies_per_minute=1, repeat_cooldown_seconds=60)
    for i in range(1500):
        throttle.check(f"{i}@chatroom", "a", now=T0)
    throttle.check("late@chatroom", "a", now=seconds(3600))
    assert len(throttle._conversations) < 1000


@settings(max_examples=200, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=10),
    cooldown=st.integers(min_value=0, max_value=900),
    flood=st.lists(
        st.tuples(st.floats(min_value=0, max_value=30, allow_nan=False), st.sampled_from(["a", "b", "c", "d"])),
        max_size=300,
    ),
)
def test_a_flood_never_exceeds_the_rate_in_any_minute(rate, cooldown, flood):
    throttle = Throttle(replies_per_minute=rate, repeat_cooldown_seconds=cooldown)
    now, sent, said = T0, [], {}
    for gap, reply in flood:
        now += timedelta(seconds=gap)
        verdict = throttle.check(ROOM, reply, now=now)
        if verdict.send:
            sent.append(now)
            said.setdefault(verdict.text, []).append(now)
    for start in sent:
        assert sum(start <= t < start + timedelta(minutes=1) for t in sent) <= rate
    if cooldown:
        # A full answer is never repeated inside its cooldown.
        for text, times in said.items():
            if "刚回答过" not in text:
                assert all(b - a >= timedelta(seconds=cooldown) for a, b in zip(times, times[1:]))
