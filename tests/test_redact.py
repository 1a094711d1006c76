"""Redaction by shape (issue 14, item 2): every kind of personal value, in the ways people write it, is gone from
everything stored or written (the unanswered queue and its key, aliases taken from it, audit rows, exported FAQ
files, replay error files and HTML reports), while dates, durations and amounts the bot needs stay."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.app import build
from bot.config import Config
from bot.events import Incoming
from bot.handler import Bot
from knowledge.faqfile import load_faq_dir
from knowledge.redact import redact
from knowledge.store import KnowledgeStore, phrasing_key
from tests.conftest import NOW

# Made-up values, by kind, written as members write them. A wrong check digit or Luhn sum is still personal.
PERSONAL = {
    "id": ["310101199003074514", "3101 0119 9003 0745 14", "310101 19900307 4514", "310101-19900307-4514",
           "ID310101199003074514", "id:310101199003074518", "３１０１０１１９９００３０７４５１４", "31010119900307451X",
           "31010119900307451x", "310101199013074514", "310101900307451"],
    "mobile": ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
               "8613812345678", "１３８１２３４５６７８", "199 8765 4321"],
    "landline": ["(021)61234567", "（021）6123 4567", "(021) 6123-4567", "021-61234567", "021 6123 4567",
                 "02161234567", "0571-87654321", "057187654321", "+86 21 6123 4567"],
    "card": ["6222021234567890123", "6222 0212 3456 7890 123", "6222-0212-3456-7890", "4111111111111112",
             "6228 4800 1234 5678", "6222021234567", "６２２２０２１２３４５６７８９０"],
    "email": ["zhang.san@qq.com", "13812345678@163.com", "li_si+permit@example.com.cn", "ＷＡＮＧ＠ＱＱ．ＣＯＭ",
              "Wang.Wu@Company.CN", "li7.15@qq.com", "cq30qemcu7.15@example.com.cn"],
    "plate": ["沪A12345", "沪AD12345", "沪A12345D", "沪A·12345", "沪a12345", "沪B 6789F", "苏E12345", "滬A12345"],
    "address": ["1234弄56号789室", "5号楼302室", "3栋2单元501室", "3栋2单元501", "88号1202室", "12号楼 3单元 601", "8号-1202"],
}
VALUES = [(kind, value) for kind, values in PERSONAL.items() for value in values]
# An address is a house number after a road: the road may stay, the numbers go.
TEMPLATE = {"address": "我住张杨路{}，{}", "email": "我的邮箱 {} ，{}"}
NONSENSE = "蓝色香蕉飞船积分怎么申请"  # no entry answers it surely (at most a weak points reading): it lands in the unanswered queue

# What the bot needs from a message, and must find unchanged wherever it is kept.
KEPT = ["2026年12月10日", "12月10号", "12月10日到期", "12.10", "12-10", "2026-12-10", "2026.12.10", "2026/12/10",
        "过期40天", "60天内", "12号到期", "10:30", "积分120分", "社保基数12000元", "2025-2026年度", "12333",
        "12345热线", "第3次", "2026-12-10 2027-01-05", "12月10号3楼", "居住证2027年1月5日到期", "100分", "2026年"]


def _forms(value: str) -> set[str]:
    """The value as written, half-width, and its digits (letters) run together."""
    halfwidth = value.translate({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)})
    return {value, halfwidth, halfwidth.lower(), re.sub(r"[\s\-.()·]", "", halfwidth).lower()}


def _leaks(text: str, value: str) -> bool:
    text = text.lower()
    return any(form.lower() in text for form in _forms(value) if len(form) >= 4)


def sentence(kind: str, value: str) -> str:
    return TEMPLATE.get(kind, "我的号码是{}，{}").format(value, NONSENSE)


@pytest.mark.parametrize("kind, value", VALUES)
def test_each_personal_value_is_redacted(kind, value):
    text = sentence(kind, value)
    redacted = redact(text)
    assert not _leaks(redacted, value), redacted
    assert "[" in redacted and NONSENSE in redacted


@pytest.mark.parametrize("text", KEPT)
def test_dates_durations_and_amounts_are_kept(text):
    assert redact(text) == text
    assert redact(f"我的居住证{text}，手机13812345678") == f"我的居住证{text}，手机[手机号]"


@pytest.mark.parametrize("text, expected", [
    ("身份证310101199003074514", "身份证[身份证号]"),
    ("电话138 1234 5678", "电话[手机号]"),
    ("座机(021)61234567", "座机[电话]"),
    ("卡号6222 0212 3456 7890 123", "卡号[银行卡号]"),
    ("邮箱zhang.san@qq.com谢谢", "邮箱[邮箱]谢谢"),
    ("车牌沪AD12345", "车牌[车牌号]"),
    ("张杨路1234弄56号789室", "张杨路[地址]"),
    ("2026-12-10 13812345678", "2026-12-10 [手机号]"),
    ("310101199003074514 13812345678", "[号码]"),  # two numbers typed together: one placeholder, nothing left
])
def test_placeholders_name_the_kind(text, expected):
    assert redact(text) == expected


def test_the_shipped_knowledge_and_question_sets_have_nothing_to_redact():
    for entry in load_faq_dir():
        for text in (entry.question, *entry.phrasings, entry.answer):
            assert redact(text) == text, (entry.id, text)
    for path in (Path(__file__).parent / "data" / "dev_questions.jsonl",
                 Path(__file__).parent.parent / "eval" / "holdout_questions.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            assert redact(text) == text, text


def test_the_dedup_key_never_glues_digit_groups_together():
    assert phrasing_key("138 1234 5678") == "138 1234 5678"
    assert phrasing_key("签注 12 月 10 日") == "签注12月10日"
    assert phrasing_key("ＡＢＣ 积分，续办？") == "abc积分续办"


# -- everywhere it could be stored or written ------------------------------------------------------


@pytest.fixture()
def store(tmp_path) -> KnowledgeStore:
    store = KnowledgeStore.open(tmp_path / "k.db")
    store.sync_files()
    return store


def _everything(store: KnowledgeStore, *folders: Path) -> str:
    dump = "\n".join(store.db.conn.iterdump())
    files = [path.read_text(encoding="utf-8") for folder in folders for path in sorted(folder.glob("*"))]
    return "\n".join([dump, *files])


def test_no_value_reaches_the_queue_aliases_audit_rows_or_exported_files(store, tmp_path):
    bot = build(Config(db_path=tmp_path / "k.db", operators=frozenset({"wxid_op"})), store=store)
    for number, (kind, value) in enumerate(VALUES):
        bot.handle(Incoming(text="@小助手 " + sentence(kind, value), time=NOW, sender=f"wxid_{number}",
                            room="room@chatroom", mentioned=True))
    groups = store.unanswered(len(VALUES))
    assert len(groups) >= len(PERSONAL)
    for group in groups:  # each adopted as an alias: its phrasing, audit snapshots and exported file
        bot.handle(Incoming(text=f"#faq alias {group.handle} points.tax --force", time=NOW, sender="wxid_op",
                            room="room@chatroom"))
        reply = bot.handle(Incoming(text="#faq confirm", time=NOW, sender="wxid_op", room="room@chatroom")).reply
        assert reply.startswith("已为 points.tax 添加问法"), reply
    for text in ("一网通办的账号是 zhang.san@qq.com 怎么办", "打电话021-61234567问签注"):  # an operator's own alias
        bot.handle(Incoming(text=f"#faq alias points.tax {text} --force", time=NOW, sender="wxid_op", room=None))
        bot.handle(Incoming(text="#faq confirm", time=NOW, sender="wxid_op", room=None))
    exported = tmp_path / "export"
    store.export_files(exported)
    everything = _everything(store, exported)
    leaked = [(kind, value) for kind, value in VALUES + [("email", "zhang.san@qq.com"), ("landline", "021-61234567")]
              if _leaks(everything, value)]
    assert leaked == []
    phrasings = store.entry("points.tax").phrasings
    assert any("[身份证号]" in text for text in phrasings) and any("[地址]" in text for text in phrasings)
    assert store.history("points.tax", limit=1)[0].after["phrasings"] == phrasings


def test_the_queue_keeps_the_dates_it_needs(store, tmp_path):
    bot = build(Config(db_path=tmp_path / "k.db"), store=store)
    # No date said to be an expiry, an endorsement, a review or a submission: such a date says what is asked
    # (a renew-window or processing-time question), answered, not queued.
    bot.handle(Incoming(text=f"@小助手 {NONSENSE} 2026年12月10日 等了40天 12.10 电话 138 1234 5678", time=NOW,
                        sender="wxid_a", room="room@chatroom", mentioned=True))
    (group,) = store.unanswered(5)
    assert group.question == f"{NONSENSE} 2026年12月10日 等了40天 12.10 电话 [手机号]"
    assert "138" not in group.key


def test_a_database_written_before_this_redaction_is_redacted_when_opened(tmp_path):
    path = tmp_path / "k.db"
    store = KnowledgeStore.open(path)
    store.sync_files()
    store.add_phrasing("points.tax", "个税问题问蓝色香蕉", by="op")
    leaky = "车牌沪A12345 电话 138 1234 5678 蓝色香蕉"
    # As an earlier version left them: an unredacted queue row with a glued key, phrasing and audit snapshot.
    store.db.execute("insert into unanswered (at, question, key, stored) values (?, ?, ?, ?)",
                     ["2026-11-23T09:30:00+08:00", leaky, "车牌沪a12345电话13812345678蓝色香蕉", "2026-11-23T01:30:00+00:00"])
    store.db.execute("update phrasings set text = ? where text = ?", [leaky, "个税问题问蓝色香蕉"])
    store.db.execute("update audit set after = replace(after, '个税问题问蓝色香蕉', ?)", [leaky])
    store.db.execute("update meta set value = '1' where key = 'redaction'")
    reopened = KnowledgeStore.open(path)
    assert not _leaks(_everything(reopened), "沪A12345") and not _leaks(_everything(reopened), "138 1234 5678")
    assert "[车牌号]" in reopened.unanswered(1)[0].question


def test_replay_error_files_and_reports_hold_no_value(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PERMITBOT_FAQ_DIR", raising=False)
    rows = [{"id": f"p{number}", "time": "2026-11-23T10:00:00+08:00", "room": "积分群", "sender": "wxid_a",
             "text": "@小助手 " + sentence(kind, value), "mentioned": True, "expect": {"intent": "points.tax"}}
            for number, (kind, value) in enumerate(VALUES)]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    outputs = tmp_path / "outputs"
    status = main(["replay", str(source), "--out", str(outputs / "out.jsonl"), "--summary", str(outputs / "s.json"),
                   "--report", str(outputs / "r.html"), "--db", str(tmp_path / "k.db")])
    captured = capsys.readouterr()
    assert status == 0
    assert len((outputs / "out.errors.jsonl").read_text(encoding="utf-8").splitlines()) == len(VALUES)
    everything = "\n".join([*(path.read_text(encoding="utf-8") for path in outputs.iterdir()), captured.out,
                            captured.err])
    assert [(kind, value) for kind, value in VALUES if _leaks(everything, value)] == []
