"""Issue 15, item 1: the unanswered queue suggests what the bot answers now, never an intent that contradicts how
the question was resolved; adopting the suggestion does not make the sibling question wrong."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.events import Incoming
from tests.conftest import NOW

QUESTION = "我证是3月5号到的,现在还来得及吗"


@pytest.fixture()
def op(bot):
    def send(text: str):
        return bot.handle(Incoming(text=text, time=NOW, sender="wxid_operator", room=None))

    return send


def test_the_suggestion_is_the_answer_the_bot_gave(bot, ask, op):
    answered = ask(QUESTION, room=None, sender="wxid_m")
    assert answered.intent == "permit.renew_window" and answered.replied
    (group,) = bot.store.unanswered(5)  # answered with a low score: queued for review
    assert group.suggestion == answered.entry_id == "permit.renew_window"
    reply = op(f"#faq alias {group.handle}").reply
    assert "permit.renew_window" in reply and "permit.overdue" not in reply.splitlines()[0]
    op("#faq confirm")
    # The sibling question, a month ahead, is still a renew-window question with its dates.
    later = ask("我证是下个月到的，现在还来得及吗", room=None, sender="wxid_n", time=NOW + timedelta(minutes=1))
    assert later.intent == "permit.renew_window"


def test_a_storage_fault_costs_the_log_with_one_warning_and_an_edit_gets_a_clear_refusal(bot, ask, op, caplog,
                                                                                      monkeypatch):
    import sqlite3

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(bot.store, "record_message", full)
    monkeypatch.setattr(bot.store, "add_phrasings", full)
    answers = [ask(f"居住证签注要带什么材料{'？' * n}", room=None, sender=f"wxid_{n}") for n in range(5)]
    assert all(a.replied and a.intent == "permit.materials" for a in answers)  # answered from memory
    logged = [r for r in caplog.records if "activity log cannot be written" in r.getMessage()]
    assert len(logged) <= 1 and not any(r.exc_info for r in caplog.records)
    held = op("#faq alias points.tax 个税断缴一个月积分还能续吗 --force").reply
    assert held.startswith("将为 points.tax 添加问法"), held
    refused = op("#faq confirm").reply
    assert refused.startswith("未修改：知识库现在写不进去")
