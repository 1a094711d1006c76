"""`#faq` chat commands: operators only (others get one refusal line, logged), private replies in groups, edits
answered by the very next message, the audit trail, the unanswered queue and its one-step alias, redaction."""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.commands import NOT_WRITTEN, REFUSAL, USAGE, is_command
from bot.config import Config
from bot.events import Incoming
from bot.app import build
from bot.handler import Bot
from knowledge.store import KnowledgeStore
from tests.conftest import NOW

OPERATOR = "wxid_operator"  # the conftest bot's operator
NONSENSE = "蓝色香蕉飞船"


@pytest.fixture()
def op(bot):
    """Send a command as the operator: op(text, room=..., sender=...)."""

    def send(text: str, *, room: str | None = "room@chatroom", sender: str = OPERATOR):
        return bot.handle(Incoming(text=text, time=NOW, sender=sender, room=room))

    return send


@pytest.fixture()
def confirmed(op):
    """Send an add or alias command, check that it waits for confirmation, confirm it; the confirmation's reply."""

    def send(text: str, **kwargs) -> str:
        preview = op(text, **kwargs).reply
        assert preview.endswith("确认请发 #faq confirm（10 分钟内有效），放弃请发 #faq cancel。"), preview
        return op("#faq confirm", **kwargs).reply

    return send


def _audit_rows(bot: Bot) -> int:
    return bot.store.db.execute("select count(*) from audit").fetchone()[0]


COMMANDS = [
    f"#faq add {NONSENSE}是什么 | 一种飞船。",
    "#faq add points.tax 个税补报后多久能续 | 补报后次月即可续办。",
    f"#faq alias points.tax {NONSENSE}",
    "#faq show points.tax",
    "#faq list 个税",
    "#faq disable points.tax",
    "#faq enable points.tax",
    "#faq unanswered 5",
    "#faq stats",
    "#faq history points.tax",
    "#faq",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_member_gets_one_refusal_line_and_the_attempt_is_logged(bot, op, command, caplog):
    before = bot.store.entries(include_disabled=True), _audit_rows(bot), bot.store.data_version()
    with caplog.at_level(logging.WARNING, logger="bot.commands"):
        result = op(command, sender="wxid_member")
    assert result.reply == REFUSAL and "\n" not in result.reply and not result.private_reply
    assert [r.getMessage() for r in caplog.records] == ["refused a #faq command from sender wxid_member"]
    assert (bot.store.entries(include_disabled=True), _audit_rows(bot), bot.store.data_version()) == before


@pytest.mark.parametrize("command", COMMANDS)
def test_an_operator_gets_a_private_reply_in_a_group_and_in_place_in_private(bot, op, command):
    in_group = op(command)
    assert in_group.reply and in_group.private_reply is True
    assert not in_group.reply.startswith(("未修改：", "#faq"))  # done, not an error or a usage line
    in_private = op("#faq show points.tax", room=None)
    assert in_private.reply.startswith("points.tax") and in_private.private_reply is False


def test_full_width_prefix_and_a_leading_mention_are_commands(op):
    assert op("＃faq show points.tax").reply.startswith("points.tax")
    assert op("＃ＦＡＱ show points.tax").reply.startswith("points.tax")
    assert op("@小助手\u2005#faq show points.tax").reply.startswith("points.tax")
    assert not is_command("#faqs are great") and not is_command("faq show points.tax")


def test_a_flood_of_mentions_is_read_as_a_question_without_the_command_check_holding_memory():
    import tracemalloc
    text = "@小助手\u2005" * 200_000 + "#faq list"  # 1 MB of mentions: no operator types that
    tracemalloc.start()
    try:
        assert not is_command(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # a repeated group over the whole text held ~38 MB of backtracking state
    assert is_command("@小助手\u2005@群主\u2005#faq list")


def test_an_alias_for_a_nonsense_phrase_answers_the_very_next_message(bot, op, ask, confirmed):
    assert ask(NONSENSE, mentioned=True).intent != "points.tax"
    assert "添加问法" in confirmed(f"#faq alias points.tax {NONSENSE}")
    answer = ask(NONSENSE, mentioned=True)
    assert answer.intent == "points.tax" and bot.entries["points.tax"].answer in answer.reply
    assert ask(f"{NONSENSE}?").intent == "points.tax"  # confident enough to answer in a group unasked


def test_a_new_entry_answers_the_very_next_message_and_disable_enable_take_effect_at_once(bot, op, ask, confirmed):
    reply = confirmed("#faq add points.tax 个税补报后多久能续 | 补报后次月即可续办。")
    assert reply.startswith("已添加 points.tax.op1")
    answer = ask("个税补报后多久能续？", mentioned=True)
    assert answer.intent == "points.tax" and "补报后次月即可续办。" in answer.reply  # reported as its catalog parent
    assert op("#faq disable points.tax.op1").reply.startswith("已停用 points.tax.op1。")
    assert "补报后次月即可续办" not in (ask("个税补报后多久能续？", mentioned=True).reply or "")
    assert "本来就是停用" in op("#faq disable points.tax.op1").reply
    op("#faq enable points.tax.op1")
    # Past the repeat cooldown: the same answer in the same room moments later would be a pointer.
    assert "补报后次月即可续办" in ask("个税补报后多久能续？", mentioned=True, time=NOW + timedelta(minutes=11)).reply


def test_a_new_finer_intent_without_parent(op, ask, confirmed):
    assert confirmed(f"#faq add {NONSENSE}是什么 | 一种飞船。").startswith("已添加 op.1")
    answer = ask(f"{NONSENSE}是什么", mentioned=True)
    assert answer.intent == "op.1" and answer.reply.startswith("一种飞船。")


def test_an_alias_that_matches_another_intent_better_needs_force(bot, op, ask, confirmed):
    warning = op("#faq alias points.materials 个税零申报有影响吗").reply
    assert "points.tax" in warning and "--force" in warning and "未添加" in warning
    assert "个税零申报有影响吗" not in bot.store.entry("points.materials").phrasings
    assert "#faq confirm" not in warning and op("#faq confirm").reply == "没有等待确认的修改。"
    assert "添加问法" in confirmed("#faq alias points.materials 个税零申报有影响吗 --force")
    assert bot.store.history("points.materials", limit=1)[0].note.startswith("已用 --force")


def test_edits_leave_an_audit_trail_shown_by_history(op, confirmed):
    confirmed(f"#faq alias points.tax {NONSENSE}")
    op("#faq disable points.tax")
    op("#faq enable points.tax", sender=OPERATOR)
    lines = op("#faq history points.tax").reply.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("#3 2026-") and f"{OPERATOR} 启用 points.tax：启用" in lines[0]
    assert lines[1].startswith("#2 ") and f"{OPERATOR} 停用 points.tax：停用" in lines[1]
    assert lines[2].startswith("#1 ") and f"{OPERATOR} 加问法 points.tax：+问法「{NONSENSE}」" in lines[2]
    assert op("#faq history points.tax 1").reply.count("\n") == 0
    assert "还没有修改记录" in op("#faq history points.archive").reply


def test_unanswered_queue_lists_the_most_frequent_and_one_step_alias_takes_the_suggestion(bot, op, ask, confirmed):
    question = "积分卡掉了需要补办吗"
    for minute in range(3):
        ask(question, mentioned=True, sender=f"wxid_{minute}")
    ask(NONSENSE + "?", mentioned=True)
    listing = op("#faq unanswered").reply.splitlines()
    handle, count, listed = re.match(r"^(u\d+) ×(\d+)「(.*)」→ 建议 ", listing[1]).groups()
    assert (count, listed) == ("3", question)
    suggestion = bot.store.resolve_handle(handle).suggestion
    assert suggestion
    reply = confirmed(f"#faq alias {handle}")
    assert f"已为 {suggestion} 添加问法「{question}」" in reply and "移出未答队列" in reply
    assert ask(question, mentioned=True).intent == bot.entries[suggestion].catalog_id
    assert question not in op("#faq unanswered").reply
    assert "已移出" not in op(f"#faq alias {handle}").reply  # the handle is gone


def test_one_step_alias_to_another_intent_than_suggested(bot, op, ask, confirmed):
    ask(NONSENSE + "怎么办", mentioned=True)
    (group,) = bot.store.unanswered(1)
    reply = confirmed(f"#faq alias {group.handle} points.archive")
    assert reply.startswith("已为 points.archive 添加问法")
    assert ask(NONSENSE + "怎么办", mentioned=True).intent == "points.archive"


def test_the_unanswered_log_is_redacted(bot, ask):
    ask("积分卡掉了 身份证310101199001011234 手机 138-1234-5678 怎么补办", mentioned=True)
    ask("积分卡掉了 座机 021-61234567 能补办吗？", mentioned=True)
    dump = "\n".join(bot.store.db.conn.iterdump())
    for secret in ("310101199001011234", "1234-5678", "12345678", "61234567"):
        assert secret not in dump
    questions = [group.question for group in bot.store.unanswered(10)]
    assert any("[身份证号]" in q and "[手机号]" in q for q in questions)
    assert any("[电话]" in q for q in questions)


def test_the_unanswered_log_keeps_a_bounded_history(tmp_path):
    store = KnowledgeStore.open(None)
    store.sync_files()
    bot = build(Config(db_path=Path(":memory:"), unanswered_keep=3), store=store)
    for number in range(8):
        bot.handle(Incoming(text=f"{NONSENSE}{number}号怎么办？", time=NOW + timedelta(minutes=number),
                            sender="a", room=None))
    assert store.unanswered_count() == 3
    assert {g.question for g in store.unanswered(10)} == {f"{NONSENSE}{n}号怎么办?" for n in (5, 6, 7)}


def test_confident_answers_and_chit_chat_stay_out_of_the_queue(bot, ask):
    ask("积分续办个税有什么要求", mentioned=True)
    ask("今天中午吃什么？")
    ask("[图片]", mentioned=True)
    assert bot.store.unanswered_count() == 0


def test_stats_count_questions_answers_and_top_intents(op, ask):
    ask("积分续办个税有什么要求", mentioned=True)
    ask("积分续办会查个税吗", mentioned=True)
    ask("居住证签注要带什么材料", mentioned=True)
    ask(NONSENSE + "?", mentioned=True)
    ask("#faq show points.tax", sender=OPERATOR)  # commands are not counted
    reply = op("#faq stats").reply
    # Four questions: three answered confidently, the nonsense one unanswered (issue 15: no "未答率" beside "已答").
    assert "11-23  4 / 3 / 1" in reply and "合计：问题 4，已答 3，未答或低分 1（25%）" in reply
    assert "未答率" not in reply
    assert "热门意图：points.tax 2、permit.materials 1" in reply


@pytest.mark.parametrize("command, expected", [
    ("#faq add 只有问题没有答案", USAGE["add"]),
    ("#faq add | 只有答案", USAGE["add"]),
    ("#faq add points.tax | 答案", USAGE["add"]),
    ("#faq alias", USAGE["alias"]),
    ("#faq alias points.tax", USAGE["alias"]),
    ("#faq show", USAGE["show"]),
    ("#faq show a b", USAGE["show"]),
    ("#faq unanswered lots", USAGE["unanswered"]),
    ("#faq unanswered 0", USAGE["unanswered"]),
    ("#faq history points.tax many", USAGE["history"]),
    ("#faq frobnicate", "没有 frobnicate 这个命令"),
    ("#faq show points.nope", "未修改：没有 points.nope 这个条目（#faq list 可以查）。"),
    ("#faq alias points.nope 新问法", "未修改：没有 points.nope 这个条目（#faq list 可以查）。"),
    ("#faq alias u99999", "未修改：未答队列里已经没有 u99999（#faq unanswered 重新列出）。"),
    ("#faq add points.nope 问题 | 答案", "未修改：上级意图 points.nope 不在意图目录 knowledge/catalog.toml 里。"),
    ("#faq add 积分个税要求 | 答案", "未修改：「积分个税要求」已经是 points.tax 的问法。"),
    ("#faq add 问题 | " + "长" * 2001, "答案太长（2001 字），最多 2000 字，未修改。"),
    ("#faq alias points.tax 个税", "未修改：「个税」已经是 points.tax 的问法。"),
    ("#faq alias points.tax 个税？", "未修改：「个税?」已经是 points.tax 的问法（已有的写法：「个税」）。"),
    ("#faq remove points.tax", "未修改：points.tax 来自知识文件，不能删除；不想再用它，可以停用：#faq disable points.tax"),
    ("#faq remove points.tax 个税", "未修改：「个税」是知识文件里的问法，不能在这里删除；要去掉它请改 knowledge/faq/points.tax.toml 再导入。"),
    ("#faq remove points.tax 没有这个问法", "未修改：points.tax 没有问法「没有这个问法」（#faq show points.tax 可以查）。"),
    ("#faq remove", USAGE["remove"]),
    ("#faq undo", USAGE["undo"]),
    ("#faq undo 99", "未修改：没有编号为 #99 的修改（#faq history 可以查）。"),
    ("#faq undo abc", "修改编号应是数字，例如 #faq undo 12"),
    ("#faq confirm", "没有等待确认的修改。"),
    ("#faq cancel", "没有等待确认的修改。"),
    ("#faq disable bot.help", "bot.help 是机器人必需的条目"),
])
def test_bad_commands_get_a_usage_line_or_the_reason_and_change_nothing(bot, op, command, expected):
    before = bot.store.entries(include_disabled=True), _audit_rows(bot)
    reply = op(command).reply
    assert reply.startswith(expected) if not expected.startswith("没有 ") else expected in reply
    # Chinese, but for ids, commands, file names and the operator's own words.
    latin = re.sub(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+|#faq [a-z]+|knowledge/\S+|--force", "", reply)
    assert not set(re.findall(r"[A-Za-z]{3,}", latin)) - set(re.findall(r"[A-Za-z]{3,}", command)), reply
    assert (bot.store.entries(include_disabled=True), _audit_rows(bot)) == before


def test_an_edit_from_another_process_reaches_a_running_bot_before_its_next_answer(tmp_path):
    path = tmp_path / "k.db"
    store = KnowledgeStore.open(path)
    store.sync_files()
    bot = build(Config(db_path=path), store=store)
    assert bot.handle(Incoming(text=NONSENSE, time=NOW, room=None)).intent != "points.tax"
    KnowledgeStore.open(path).add_phrasing("points.tax", NONSENSE, by="cli")  # another connection, as the CLI
    assert bot.handle(Incoming(text=NONSENSE, time=NOW, room=None)).intent == "points.tax"


# -- bounded operator input; a failing command answers privately (issue 14, item 7) ---------------------


APOLOGY = "抱歉，我这边出了点问题"


@pytest.mark.parametrize("command, expected", [
    ("#faq add " + "问" * 1_000_000 + " | 答案", "命令太长（1000014 字），最多 2300 字，未修改。"),
    ("#faq add 问题 | " + "答" * 1_000_000, "命令太长（1000014 字），最多 2300 字，未修改。"),
    ("#faq add " + "问" * 201 + " | 答案", "问题太长（201 字），最多 200 字，未修改。"),
    ("#faq add points.tax " + "问" * 201 + " | 答案", "问题太长（201 字），最多 200 字，未修改。"),
    ("#faq alias points.tax " + "问" * 201, "问法太长（201 字），最多 200 字，未修改。"),
    ("#faq show " + "x" * 1000, "未修改：没有 " + "x" * 40 + "… 这个条目"),
    ("#faq alias u999999999999999999999", "未修改：未答队列里已经没有 u999999999999999999999"),
    ("#faq alias u0", "未修改：未答队列里已经没有 u0"),
])
def test_long_or_impossible_operator_input_is_refused_privately_and_briefly(bot, op, command, expected):
    before = bot.store.entries(include_disabled=True), _audit_rows(bot)
    result = op(command)
    assert result.reply.startswith(expected) and len(result.reply) < 200 and result.private_reply
    assert APOLOGY not in result.reply
    assert (bot.store.entries(include_disabled=True), _audit_rows(bot)) == before


def test_a_command_that_fails_inside_answers_the_operator_privately_not_with_the_apology(bot, op, monkeypatch, caplog):
    import sqlite3

    def full_disk(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(bot.store, "set_enabled", full_disk)
    result = op("#faq disable points.tax")
    assert result.reply == NOT_WRITTEN and result.private_reply  # says what is wrong: nothing could be written
    assert op("#faq disable points.tax", room=None).reply == NOT_WRITTEN


# -- retention (issue 14, item 8) --------------------------------------------------------------------------


def test_the_running_bot_prunes_members_words_after_the_configured_days(tmp_path):
    store = KnowledgeStore.open(tmp_path / "k.db")
    store.sync_files()
    build(Config(db_path=tmp_path / "k.db"), store=store).handle(
        Incoming(text=f"{NONSENSE}旧的怎么办？", time=NOW, sender="a", room=None))
    store.db.execute("update unanswered set stored = '2020-01-01T00:00:00+00:00'")  # stored 31+ days ago
    bot = build(Config(db_path=tmp_path / "k.db", retention_days=30), store=KnowledgeStore.open(tmp_path / "k.db"))
    bot.handle(Incoming(text=f"{NONSENSE}新的怎么办？", time=NOW, sender="a", room=None))  # the first write prunes
    assert [group.question for group in store.unanswered(10)] == [f"{NONSENSE}新的怎么办?"]


def test_retention_is_a_setting_of_whole_days():
    from bot.config import ConfigError, load_config

    assert load_config(env={}).retention_days == 90
    assert load_config(env={"PERMITBOT_RETENTION_DAYS": "30"}).retention_days == 30
    with pytest.raises(ConfigError, match="retention_days"):
        load_config(env={"PERMITBOT_RETENTION_DAYS": "0"})


def test_a_chat_edit_on_the_command_thread_leaves_the_member_path_nothing_to_rebuild(tmp_path, monkeypatch):
    # Issue 14, item 6: the gateway runs commands on a thread of their own; the matcher is rebuilt there and
    # swapped in, and the next member's message (on the event loop, here the main thread) builds nothing itself.
    from concurrent.futures import ThreadPoolExecutor
    import threading

    import bot.handler as handler_module

    store = KnowledgeStore.open(tmp_path / "knowledge.db")
    store.sync_files()
    bot = build(Config(db_path=tmp_path / "knowledge.db", operators=frozenset({OPERATOR})), store=store)
    built_on: list[str] = []
    real = handler_module.IntentIndex

    def recording(*args, **kwargs):
        built_on.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(handler_module, "IntentIndex", recording)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="commands") as commands:
        for text in (f"#faq add {NONSENSE}是什么 | 一种飞船。", "#faq confirm"):
            reply = commands.submit(bot.handle, Incoming(text=text, time=NOW, sender=OPERATOR)).result().reply
    assert reply.startswith("已添加 op.1")
    answer = bot.handle(Incoming(text=f"{NONSENSE}是什么", time=NOW, sender="member", room="r@chatroom",
                                 mentioned=True))
    assert answer.reply is not None and "一种飞船。" in answer.reply
    assert built_on and all(name.startswith("commands") for name in built_on), built_on
