"""Replaying real chat exports as they are (issue 13, items 5-7): WeChatMsg / MemoTrace CSV, chatlog CSV and JSON,
encodings, broken text. The files are written here in each tool's shape (see bot/transports/exports.py for the
source they were read from), with made-up names and ids; expected dates are worked by hand from domain.md."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from bot.cli import main
from bot.events import Incoming
from bot.speak import is_placeholder
from bot.transports.exports import APP_PLACEHOLDERS, CHATLOG_LABELS, CHATLOG_MULTILINE_LABELS, OTHER_PLACEHOLDER, \
    PLACEHOLDERS, Chat
from bot.transports.replay import Message, read_messages
from intents.normalize import normalize

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOM_ID = "34567890123@chatroom"
WECHATMSG_HEADER = ["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status", "StrContent",
                    "StrTime", "Remark", "NickName", "Sender"]
ASKED = "@小助手 我居住证12月5号到期，什么时候能签注？"
QUOTING = "@小助手 我是12月25号到期，现在能签注吗"
QUOTED = "我的证10月8号到期的"
QUOTE_XML = (
    '<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>' + QUOTING + '</title><des></des>'
    '<type>57</type><refermsg><type>1</type><svrid>7001</svrid><fromusr>' + ROOM_ID + '</fromusr>'
    '<chatusr>wxid_wangjie01</chatusr><displayname>王姐</displayname><content>' + QUOTED + '</content>'
    '</refermsg></appmsg></msg>'
)
# 2026-11-23 in Shanghai (a Monday): 12月5号 is 12 days ahead, its window 2026-11-05 … 2027-02-03 (E − 30, E + 60);
# 12月25号 is 32 days ahead, its window opens 2026-11-25 and closes 2027-02-23 (6 + 31 + 23 days after E).
DEC_5 = {"expiry_date": "2026-12-05", "window_start": "2026-11-05", "window_end": "2027-02-03",
         "days_to_expiry": 12, "status": "in_window"}
DEC_25 = {"expiry_date": "2026-12-25", "window_start": "2026-11-25", "window_end": "2027-02-23",
          "days_to_expiry": 32, "status": "too_early"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("knowledge") / "knowledge.db")


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    status = main(["replay", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def results(path: Path) -> dict:
    return {row["id"]: row for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def items(path: Path, **chat) -> list:
    return list(read_messages(str(path), chat=Chat(aliases=("小助手",), **chat)))


# -- WeChatMsg / MemoTrace CSV ----------------------------------------------------------------


def wechatmsg_csv(rows: list[tuple], *, talker: str = "5") -> str:
    """The CSV as exporter_csv.py writes it: csv.writer (CRLF, quoted multi-line cells), CreateTime in seconds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(WECHATMSG_HEADER)
    for local_id, kind, sub_kind, own, when, content, name, wxid in rows:
        created = int(datetime.fromisoformat(when).replace(tzinfo=SHANGHAI).timestamp())
        writer.writerow([local_id, talker, kind, sub_kind, own, created, 2, content, when, name, name, wxid])
    return buffer.getvalue()


GROUP_ROWS = [
    (101, 10000, 0, 0, "2026-11-23 10:00:00", '"王姐"邀请"李四"加入了群聊', "", ""),  # system: no sender
    (102, 1, 0, 0, "2026-11-23 10:15:00", ASKED, "王姐", "wxid_wangjie01"),
    (103, 1, 0, 0, "2026-11-23 10:16:00", "@小助手\u2005请问\n居住证签注要带什么材料？", "李四", "wxid_lisi02"),
    (104, 3, 0, 0, "2026-11-23 10:17:00", "", "李四", "wxid_lisi02"),  # image
    (105, 47, 0, 0, "2026-11-23 10:18:00", '<msg><emoji fromusername="wxid_lisi02" md5="00aa"></emoji></msg>', "李四",
     "wxid_lisi02"),  # sticker
    (106, 49, 57, 0, "2026-11-23 10:20:00", QUOTE_XML, "赵六", "wxid_zhaoliu03"),  # quote
    (107, 49, 5, 0, "2026-11-23 10:21:00", "", "赵六", "wxid_zhaoliu03"),  # link card
    (108, 10002, 0, 0, "2026-11-23 10:22:00", '<sysmsg type="revokemsg"><revokemsg><replacemsg><![CDATA["李四" 撤回了'
     '一条消息]]></replacemsg></revokemsg></sysmsg>', "", ""),  # revoke
    (109, 1, 0, 1, "2026-11-23 10:23:00", "好的\n谢谢大家", "群主", "wxid_owner00"),  # the exporting account
    (110, 1, 0, 0, "2026-11-23 10:24:00", "@小助手妈妈 你证签好了吗", "王姐", "wxid_wangjie01"),  # another member
]


@pytest.fixture()
def group_csv(tmp_path) -> Path:
    path = tmp_path / "积分交流群_utf8.csv"  # WeChatMsg names the file after the chat
    path.write_text(wechatmsg_csv(GROUP_ROWS), encoding="utf-8-sig", newline="")
    return path


def test_a_wechatmsg_group_export_replays_as_it_is(group_csv, tmp_path, db, capsys):
    out = tmp_path / "out.jsonl"
    status, stdout, stderr = run(capsys, str(group_csv), "--out", str(out), "--db", db)

    assert status == 0, stderr
    assert "WeChatMsg/MemoTrace CSV export of the group 积分交流群 (3 members speak in it)" in stderr
    rows = results(out)
    assert list(rows) == [str(row[0]) for row in GROUP_ROWS]  # localId copied, every message, input order
    assert [key for key, row in rows.items() if row["replied"]] == ["102", "103", "106"]
    assert rows["102"]["intent"] == "permit.renew_window" and rows["102"]["facts"] == DEC_5
    assert rows["103"]["intent"] == "permit.materials"  # a multi-line cell, mentioned with U+2005
    # The quote answers the asker's own date, not the quoted member's 10月8号.
    assert rows["106"]["intent"] == "permit.renew_window" and rows["106"]["facts"] == DEC_25
    assert "10-08" not in rows["106"]["reply"] and "10月8" not in rows["106"]["reply"]
    assert "0 lines skipped" in stdout


def test_what_the_handler_gets_from_each_wechatmsg_row(group_csv):
    got = {item.id: item.incoming for item in items(group_csv)}
    assert all(msg.room == "积分交流群" for msg in got.values())
    assert got["102"].time == datetime(2026, 11, 23, 10, 15, tzinfo=SHANGHAI)
    assert got["102"].sender == "wxid_wangjie01" and got["102"].mentioned
    # The quoted message as the live gateway gives it (bot.transports.quotes): its sender's name, then its words.
    assert (got["106"].text, got["106"].quoted, got["106"].mentioned) == (QUOTING, f"王姐：{QUOTED}", True)
    assert got["110"].mentioned is False  # "@小助手妈妈" is not the bot
    assert not got["109"].mentioned and got["109"].sender == "wxid_owner00"
    for key in ("101", "104", "105", "107", "108"):
        assert is_placeholder(got[key].text), (key, got[key].text)
    assert [got[key].text for key in ("101", "104", "105", "107", "108")] == \
        ["[系统消息]", "[图片]", "[表情]", "[链接]", "[撤回]"]


def test_a_wechatmsg_time_is_its_createtime_and_else_strtime_in_shanghai(tmp_path):
    text = wechatmsg_csv([(1, 1, 0, 0, "2026-11-23 10:15:00", "签注", "王姐", "wxid_a")])
    lines = text.splitlines()
    cells = next(csv.reader([lines[1]]))
    cells[5] = ""  # no CreateTime
    cells[8] = "2026-11-23 23:30:00"
    path = tmp_path / "chat.csv"
    path.write_text(text + ",".join(cells) + "\r\n", encoding="utf-8")
    first, second = (item.incoming.time for item in items(path))
    assert first == datetime(2026, 11, 23, 10, 15, tzinfo=SHANGHAI)
    assert second == datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI) and second.utcoffset().total_seconds() == 8 * 3600


PRIVATE_ROWS = [
    (201, 1, 0, 0, "2026-11-23 10:15:00", "居住证签注要带什么材料？", "李四", "wxid_lisi02"),
    (202, 1, 0, 1, "2026-11-23 10:16:00", "您好，稍等", "群主", "wxid_owner00"),
    (203, 1, 0, 0, "2026-11-23 10:17:00", "收到谢谢", "李四", "wxid_lisi02"),
]


def test_a_wechatmsg_private_export_and_the_room_override(tmp_path, db, capsys):
    path = tmp_path / "李四_utf8.csv"
    path.write_text(wechatmsg_csv(PRIVATE_ROWS), encoding="utf-8-sig", newline="")
    assert all(item.incoming.room is None for item in items(path))
    out = tmp_path / "out.jsonl"
    status, _, stderr = run(capsys, str(path), "--out", str(out), "--db", db)
    assert status == 0 and "a private chat (one other speaker)" in stderr
    assert results(out)["201"]["replied"] is True  # a private question is always answered

    status, _, stderr = run(capsys, str(path), "--out", str(out), "--db", db, "--room", "积分交流群")
    assert status == 0 and "the group 积分交流群 (--room)" in stderr
    assert all(item.incoming.room == "积分交流群" for item in items(path, room="积分交流群"))
    assert results(out)["203"]["replied"] is False  # an unmentioned thank-you in a group


def test_a_chatroom_talker_makes_a_group_and_private_overrides_it(tmp_path):
    path = tmp_path / "chat.csv"
    path.write_text(wechatmsg_csv(PRIVATE_ROWS[:1], talker=ROOM_ID), encoding="utf-8-sig", newline="")
    notes: list[str] = []
    (item,) = read_messages(str(path), chat=Chat(aliases=("小助手",)), note=notes.append)
    assert item.incoming.room == ROOM_ID and "its talker is a chatroom" in notes[0]
    (item,) = items(path, private=True)
    assert item.incoming.room is None


def test_a_bad_wechatmsg_row_is_skipped_with_its_line(tmp_path, db, capsys):
    text = wechatmsg_csv(GROUP_ROWS[1:3]).replace("\r\n102,5,1,", "\r\n102,5,x,")
    path = tmp_path / "chat.csv"
    path.write_text(text, encoding="utf-8", newline="")
    status, _, stderr = run(capsys, str(path), "--out", str(tmp_path / "out.jsonl"), "--db", db)
    assert status == 0
    assert "line 2: Type is not a number; skipped" in stderr
    assert list(results(tmp_path / "out.jsonl")) == ["103"]


# -- chatlog (JSON and CSV) --------------------------------------------------------------------


def chatlog_message(seq: int, kind: int, content: str, *, sub_kind: int = 0, sender: str = "wxid_wangjie01",
                    talker: str = ROOM_ID, minute: int = 15, **extra) -> dict:
    """One model.Message as chatlog's JSON has it (field names from its json tags)."""
    group = talker.endswith("@chatroom")
    return {"seq": seq, "time": f"2026-11-23T10:{minute:02d}:00+08:00", "talker": talker,
            "talkerName": "积分交流群" if group else "", "isChatRoom": group, "sender": sender, "senderName": "王姐",
            "isSelf": False, "type": kind, "subType": sub_kind, "content": content, **extra}


CHATLOG_JSON = [
    chatlog_message(1763864100000, 1, ASKED),
    chatlog_message(1763864101000, 3, "", contents={"md5": "00aa"}),
    chatlog_message(1763864102000, 47, "", contents={"cdnurl": "http://example.invalid/e"}),
    chatlog_message(1763864103000, 10000, '"王姐"邀请"李四"加入了群聊', sender="系统消息"),
    chatlog_message(1763864104000, 49, "「李四」拍了拍「小助手」", sub_kind=62),
    chatlog_message(1763864105000, 49, QUOTING, sub_kind=57, minute=20, sender="wxid_zhaoliu03", contents={
        "refer": {"seq": 0, "time": "2026-11-23T10:10:00+08:00", "talker": "", "talkerName": "",
                  "isChatRoom": False, "sender": "wxid_wangjie01", "senderName": "王姐", "isSelf": False,
                  "type": 1, "subType": 0, "content": QUOTED}}),
    chatlog_message(1763864106000, 49, "", sub_kind=2001),
    chatlog_message(1763864107000, 34, "", contents={"voice": "123"}),
    chatlog_message(1763864108000, 10002, ""),
    chatlog_message(1763864109000, 1, "居住证签注要带什么材料？", talker="wxid_lisi02", sender="wxid_lisi02"),
]


def test_a_chatlog_json_export_replays_as_it_is(tmp_path, db, capsys):
    path = tmp_path / "chatlog.json"
    path.write_text(json.dumps(CHATLOG_JSON, ensure_ascii=False), encoding="utf-8")  # gin's c.JSON: one line
    got = [item.incoming for item in items(path)]
    assert [msg.text for msg in got[1:5]] == ["[图片]", "[表情]", "[系统消息]", "[拍一拍]"]
    assert [msg.text for msg in got[6:9]] == ["[红包]", "[语音]", "[撤回]"]
    assert (got[5].text, got[5].quoted, got[5].mentioned, got[5].room) == (QUOTING, QUOTED, True, ROOM_ID)
    assert got[9].room is None  # a private chat's message

    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    status, _, stderr = run(capsys, str(path), "--out", str(out), "--summary", str(summary), "--db", db)
    assert status == 0 and "a chatlog JSON export" in stderr
    rows = results(out)
    assert list(rows) == [message["seq"] for message in CHATLOG_JSON]
    assert [seq for seq, row in rows.items() if row["replied"]] == [1763864100000, 1763864105000, 1763864109000]
    assert rows[1763864100000]["facts"] == DEC_5 and rows[1763864105000]["facts"] == DEC_25
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert (data["input_format"], data["input_encoding"]) == ("chatlog JSON", "UTF-8")


CHATLOG_CSV_ROWS = [
    ["2026-11-23 10:15:00", "王姐", "wxid_wangjie01", "积分交流群", ROOM_ID, ASKED],
    ["2026-11-23 10:16:00", "李四", "wxid_lisi02", "积分交流群", ROOM_ID, "![图片](http://127.0.0.1:5030/image/00aa)"],
    ["2026-11-23 10:17:00", "", "系统消息", "积分交流群", ROOM_ID, '"王姐"邀请"李四"加入了群聊'],
    ["2026-11-23 10:20:00", "赵六", "wxid_zhaoliu03", "积分交流群", ROOM_ID,
     f"> 王姐(wxid_wangjie01) 11-23 10:10:00\n> {QUOTED}\n{QUOTING}"],
    ["2026-11-23 10:21:00", "赵六", "wxid_zhaoliu03", "积分交流群", ROOM_ID,
     "[合并转发|群聊的聊天记录]\n  王姐 2026-11-20 09:00:00\n  居住证签注要带什么材料？\n"],
    ["2026-11-23 10:22:00", "赵六", "wxid_zhaoliu03", "积分交流群", ROOM_ID, "[转账|发送 ￥1.00](谢谢)"],
    ["2026-11-23 10:23:00", "李四", "wxid_lisi02", "积分交流群", ROOM_ID, "[语音](http://127.0.0.1:5030/voice/9)"],
    ["2026-11-23 10:24:00", "李四", "wxid_lisi02", "积分交流群", ROOM_ID, "[链接|积分办理指南](https://example.invalid)"],
    ["2026-11-23 10:25:00", "李四", "wxid_lisi02", "积分交流群", ROOM_ID, "Type: 10002 Content: "],
    ["2026-11-23 10:26:00", "李四", "wxid_lisi02", "积分交流群", ROOM_ID, "[捂脸]居住证签注要带什么材料？"],
]


def test_a_chatlog_csv_export_replays_as_it_is(tmp_path, db, capsys):
    path = tmp_path / f"{ROOM_ID}_2026-11-23_2026-11-23.csv"  # the name chatlog's download gives it
    with open(path, "w", encoding="utf-8", newline="") as handle:  # Go's csv.Writer: LF, quoted multi-line cells
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["Time", "SenderName", "Sender", "TalkerName", "Talker", "Content"])
        writer.writerows(CHATLOG_CSV_ROWS)
    got = [item.incoming for item in items(path)]
    assert all(msg.room == ROOM_ID for msg in got)
    assert [msg.text for msg in got[1:3]] == ["[图片]", "[系统消息]"]
    assert (got[3].text, got[3].quoted, got[3].mentioned) == (QUOTING, QUOTED, True)
    assert [msg.text for msg in got[4:9]] == ["[合并转发]", "[转账]", "[语音]", "[链接]", "[其他消息]"]
    assert got[9].text == "[捂脸]居住证签注要带什么材料？"  # WeChat's emoji code is text

    out = tmp_path / "out.jsonl"
    status, _, stderr = run(capsys, str(path), "--out", str(out), "--db", db)
    assert status == 0 and "a chatlog CSV export" in stderr
    rows = results(out)
    assert list(rows) == [2, 3, 4, 5, 8, 12, 13, 14, 15, 16]  # no id column: the line each row starts on
    assert rows[2]["facts"] == DEC_5 and rows[5]["facts"] == DEC_25
    assert [line for line, row in rows.items() if row["replied"]][:2] == [2, 5]
    assert not any(rows[line]["replied"] for line in (3, 4, 8, 12, 13, 14, 15))


def test_every_placeholder_is_one_the_handler_stays_silent_on(ask):
    chatlog = {f"[{label}]" for label in CHATLOG_LABELS | CHATLOG_MULTILINE_LABELS}
    for text in {*PLACEHOLDERS.values(), *APP_PLACEHOLDERS.values(), OTHER_PLACEHOLDER, *chatlog}:
        assert is_placeholder(text), text
        assert ask(text, mentioned=True).reply is None, text


# -- encodings -----------------------------------------------------------------------------------


def test_a_gbk_wechatmsg_export_replays_like_the_utf8_one(group_csv, tmp_path, db, capsys):
    gbk = tmp_path / "积分交流群.csv"
    gbk.write_bytes(group_csv.read_text(encoding="utf-8-sig").replace("\u2005", " ").encode("gbk"))
    status, _, stderr = run(capsys, str(gbk), "--out", str(tmp_path / "gbk.jsonl"), "--db", db)
    assert status == 0 and "read as GB18030 (detected)" in stderr
    status, _, _ = run(capsys, str(group_csv), "--out", str(tmp_path / "utf8.jsonl"), "--db", db)
    keep = ("replied", "intent", "reply", "facts")
    assert [{key: row[key] for key in keep} for row in results(tmp_path / "gbk.jsonl").values()] == \
        [{key: row[key] for key in keep} for row in results(tmp_path / "utf8.jsonl").values()]


def test_a_gbk_json_lines_file_replays(tmp_path, db, capsys):
    lines = [{"id": "g1", "time": "2026-11-23 10:00", "text": "居住证签注要带什么材料？"},
             {"id": "g2", "time": "2026-11-23 10:01", "text": "积分续办需要多久出结果？"}]
    path = tmp_path / "gbk.jsonl"
    path.write_bytes("\r\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode("gbk"))
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    status, _, _ = run(capsys, str(path), "--out", str(out), "--summary", str(summary), "--db", db)
    assert status == 0
    rows = results(out)
    assert (rows["g1"]["intent"], rows["g2"]["intent"]) == ("permit.materials", "points.processing_time")
    assert json.loads(summary.read_text(encoding="utf-8"))["input_encoding"] == "GB18030"


@pytest.mark.parametrize("data, named", [
    ("id,time,text\n1,2026-11-23,Привет, как дела сегодня\n2,2026-11-23,Спасибо большое за ответ\n".encode("cp1251"),
     "looks like cp1251 text without Chinese"),
    (bytes(range(256)) * 8, "not UTF-8 text, and no other encoding fits it"),
])
def test_an_input_in_an_encoding_that_cannot_be_read_is_refused_in_one_line(tmp_path, db, capsys, data, named):
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    status, _, stderr = run(capsys, str(path), "--out", str(tmp_path / "out.jsonl"), "--db", db)
    assert status == 2
    assert stderr.count("\n") == 1 and named in stderr and "save it as UTF-8" in stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_a_run_where_every_line_was_skipped_exits_non_zero(tmp_path, db, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "积分续办需要多久"}\n{"text": "居住证签注要带什么材料"}\n', encoding="utf-8")
    status, _, stderr = run(capsys, str(path), "--out", str(tmp_path / "out.jsonl"), "--db", db)
    assert status == 1
    assert "every line of" in stderr and "was skipped (2)" in stderr


def test_a_few_broken_lines_in_a_utf8_file_are_skipped_not_misread(tmp_path, db, capsys):
    good = [json.dumps({"id": f"u{i}", "time": "2026-11-23 10:00", "text": "居住证签注要带什么材料？"},
                       ensure_ascii=False).encode("utf-8") for i in range(3)]
    broken = json.dumps({"id": "b", "time": "2026-11-23 10:00", "text": "积分续办"}, ensure_ascii=False).encode("gbk")
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([good[0], broken, good[1], good[2]]) + b"\n")
    status, _, stderr = run(capsys, str(path), "--out", str(tmp_path / "out.jsonl"), "--db", db)
    assert status == 0 and "line 2: not UTF-8; skipped" in stderr
    assert list(results(tmp_path / "out.jsonl")) == ["u0", "u1", "u2"]


# -- broken text (lone surrogates) ------------------------------------------------------------------


def test_a_broken_surrogate_is_answered_and_a_broken_id_survives(tmp_path, db, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "m\\ud83d1", "time": "2026-11-23T10:00:00+08:00", "text": "居住证\\ud83d签注要带什么材料？", '
        '"expect": {"intent": "points.materials"}}\n'  # a wrong label, so the message is also a miss in the report
        '{"id": "m2", "time": "2026-11-23T10:01:00+08:00", "text": "积分续办需要多久出结果？"}\n', encoding="utf-8")
    out, report = tmp_path / "out.jsonl", tmp_path / "report.html"
    status, _, stderr = run(capsys, str(path), "--out", str(out), "--report", str(report), "--db", db)
    assert status == 0, stderr
    assert "Traceback" not in stderr
    first, second = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert first["id"] == "m\ud83d1"  # the very same string, through a \u escape
    assert '"m\\ud83d1"' in out.read_text(encoding="utf-8")
    assert first["intent"] == "permit.materials" and "抱歉" not in first["reply"]
    assert second["id"] == "m2" and second["replied"]
    misses = (tmp_path / "out.errors.jsonl").read_text(encoding="utf-8")
    assert json.loads(misses)["id"] == "m\ud83d1"
    assert "m\\ud83d1" in report.read_text(encoding="utf-8")


def test_incoming_text_is_cleaned_once_at_the_edge():
    msg = Incoming(text="居住证\ud83d签注", time=datetime(2026, 11, 23, tzinfo=SHANGHAI), quoted="王姐\udc80说", id="x\ud83d")
    assert (msg.text, msg.quoted, msg.id) == ("居住证签注", "王姐说", "x\ud83d")
    msg.text.encode("utf-8")


@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=40))
def test_normalize_never_raises_on_any_text(text):
    normalize(text).encode("utf-8")


def test_read_messages_yields_messages_for_an_export_on_standard_input(group_csv):
    stream = io.BufferedReader(io.BytesIO(group_csv.read_bytes()))  # type: ignore[arg-type]
    got = list(read_messages("-", stdin=stream, chat=Chat(aliases=("小助手",))))
    assert all(isinstance(item, Message) for item in got) and len(got) == len(GROUP_ROWS)
    assert got[0].incoming.room == "group"  # no file name to name it: --room NAME gives one


def test_a_replay_line_may_carry_the_quoted_message(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "q1", "time": "2026-11-23 10:20", "room": ROOM_ID, "text": QUOTING,
                                "quoted": QUOTED, "mentioned": True}, ensure_ascii=False) + "\n"
                    + json.dumps({"id": "q2", "time": "2026-11-23 10:21", "text": "签注", "quoted": 42}) + "\n",
                    encoding="utf-8")
    first, second = read_messages(str(path))
    assert (first.incoming.text, first.incoming.quoted) == (QUOTING, QUOTED)
    assert second.reason == "quoted is not a string but int"
