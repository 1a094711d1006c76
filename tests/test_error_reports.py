"""Members reporting a wrong answer (issue 15, item 8): "答错了" / "不对" (alone, or replying to a quote of the
answer) within minutes of the answer puts the question and the reply in the review queue, marked, with a short
thanks; operators see these first. The handler hook calls activity.report_error; these tests call it directly."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from bot.activity import is_error_report, report_error
from bot.render import ERROR_NOT_RECORDED, ERROR_THANKS
from bot.events import Incoming
from tests.conftest import NOW

ROOM = "room@chatroom"
QUESTION = "居住证到期前多久可以签注？"
DASHES = "- - - - - - - - - - - - - - -"


@pytest.fixture()
def answered(bot):
    """The bot's real answer to QUESTION, asked with an @-mention at NOW."""
    result = bot.handle(Incoming(text="@小助手 " + QUESTION, time=NOW, sender="wxid_asker", room=ROOM, mentioned=True))
    assert result.reply
    return result


def _report(bot, answered, text: str, *, minutes: float = 1, sender: str = "wxid_asker", question: str = QUESTION,
            quoted: str | None = None):
    msg = Incoming(text=text, time=NOW + timedelta(minutes=minutes), sender=sender, room=ROOM, quoted=quoted)
    return report_error(bot.store, msg, question, answered.reply, answered_at=NOW, intent=answered.intent,
                        aliases=bot.config.aliases)


@pytest.mark.parametrize("text", ["答错了", "不对", "不对啊！", "@小助手\u2005答错了", "你答得不对吧？", "答錯了",
                                  "不对不对", "说错了。"])
def test_a_short_report_within_minutes_is_queued_marked_with_a_thanks(bot, answered, text):
    result = _report(bot, answered, text)
    assert result is not None and result.reply == ERROR_THANKS
    (report,) = bot.store.error_reports()
    assert (report.question, report.intent, report.count) == ("居住证到期前多久可以签注?", answered.intent, 1)
    assert report.reply == answered.reply
    assert bot.store.daily_counts(days=1, today=NOW.date())["2026-11-23"]["reported"] == 1


@pytest.mark.parametrize("text", ["不对劲啊", "我觉得不对，要带身份证", "对", "谢谢", "居住证答错了怎么办", ""])
def test_other_messages_are_not_reports(bot, answered, text):
    assert _report(bot, answered, text) is None
    assert bot.store.error_reports() == [] and bot.store.unanswered_count() == 0


def test_only_within_five_minutes_after_the_answer(bot, answered):
    assert _report(bot, answered, "答错了", minutes=5.5) is None
    assert _report(bot, answered, "答错了", minutes=-1) is None
    assert _report(bot, answered, "答错了", minutes=5).reply == ERROR_THANKS


def test_a_quote_of_the_answer_counts_and_a_quote_of_something_else_does_not(bot, answered):
    quoting_answer = f"「小助手：{answered.reply[:18]}…」\n{DASHES}\n不对"
    quoting_other = f"「王五：明天群里发通知」\n{DASHES}\n不对"
    assert is_error_report(quoting_answer, answered.reply)
    assert not is_error_report(quoting_other, answered.reply)
    assert not is_error_report(f"「小助手：{answered.reply[:18]}」\n{DASHES}\n谢谢", answered.reply)
    assert _report(bot, answered, quoting_other, sender="wxid_other") is None
    assert _report(bot, answered, quoting_answer, sender="wxid_other").reply == ERROR_THANKS


def test_a_quote_split_by_the_gateway_counts_only_when_it_quotes_the_answer(bot, answered):
    # The live gateway hands the handler the asker's words and the quote apart (bot.transports.quotes).
    assert _report(bot, answered, "不对", quoted="王五：明天群里发通知", sender="wxid_other") is None
    assert _report(bot, answered, "不对", quoted=f"小助手：{answered.reply[:18]}…", sender="wxid_other").reply \
        == ERROR_THANKS
    quote_xml = (f"<msg><appmsg><title>不对</title><type>57</type><refermsg><type>1</type><displayname>王五"
                 f"</displayname><content>明天群里发通知</content></refermsg></appmsg></msg>")
    assert not is_error_report(quote_xml, answered.reply)


def test_the_queued_question_and_reply_are_redacted(bot, answered):
    question = "我手机13812345678 居住证到期前多久可以签注"
    _report(bot, answered, "答错了", question=question)
    (report,) = bot.store.error_reports()
    assert report.question == "我手机[手机号] 居住证到期前多久可以签注"
    assert "13812345678" not in "\n".join(bot.store.db.conn.iterdump())


def test_operators_see_reported_errors_first(bot, answered, ask):
    for sender in ("a", "b", "c"):
        ask("积分卡掉了需要补办吗", mentioned=True, sender=sender)  # a more frequent unanswered question
    _report(bot, answered, "答错了")
    lines = bot.handle(Incoming(text="#faq unanswered", time=NOW, sender="wxid_operator", room=None)).reply.splitlines()
    assert lines[0] == "群友指出答错的（1 个问题）："
    assert lines[1].startswith("u") and f"×1「居住证到期前多久可以签注?」当时答 {answered.intent}：" in lines[1]
    assert lines[2] == "改正：#faq alias <u编号> <正确的 id>"
    assert lines[3].startswith("最常见的未答或低分问题") and "「积分卡掉了需要补办吗」" in lines[4]
    handle = lines[1].split()[0]
    reply = bot.handle(Incoming(text=f"#faq alias {handle}", time=NOW, sender="wxid_operator", room=None)).reply
    assert reply == f"{handle} 没有建议的意图，请指定：#faq alias {handle} <id>"  # never the intent reported wrong


def test_a_database_error_costs_the_record_not_the_reply(bot, answered, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(bot.store, "record_error_report", broken)
    assert _report(bot, answered, "答错了").reply == ERROR_NOT_RECORDED
    assert any("could not record the error report" in r.getMessage() for r in caplog.records)

