"""Chat histories as other tools export them, read as replay lines: WeChatMsg / MemoTrace CSV, chatlog CSV and JSON.

Each format is recognised by its own header or fields, never by renamed columns, and each message becomes the
record of the replay contract (shared/spec/replay.md) it stands for. The formats were read from the tools' source:
WeChatMsg (github.com/LC044/WeChatMsg, app/util/exporter/exporter_csv.py and app/DataBase/msg.py, 2024-02-27
43d6792 to 2025-03-27 9d59919) and chatlog (github.com/sjzar/chatlog v0.0.28, internal/model/message.go and
internal/chatlog/http/route.go). Neither has a mention field: "@<bot name>" opening a text counts as a mention.
Non-text messages become the "[图片]"-style placeholder the handler stays silent on, as the live bot is on them.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from bot.transports.quotes import QUOTE_APP_TYPE, read_quote
from bot.transports.system_lines import PAT_APP_TYPE
from intents.dates import SHANGHAI
from intents.normalize import mentions_name

# One line of an export: its number and its cells (or decoded object); one result: a replay record or, for a line
# that cannot be one, the reason it is skipped.
Row = tuple[int, Any]
Record = dict[str, Any] | str

TEXT, IMAGE, VOICE, CARD, VIDEO, STICKER, LOCATION, APP, CALL, SYSTEM, REVOKE = (
    1, 3, 34, 42, 43, 47, 48, 49, 50, 10000, 10002)
QUOTE = QUOTE_APP_TYPE  # the sub-type of an app message (type 49) that quotes an earlier message
# WeChat's message types (as both tools write them) and what the handler gets in their place.
PLACEHOLDERS = {IMAGE: "[图片]", VOICE: "[语音]", CARD: "[名片]", VIDEO: "[视频]", STICKER: "[表情]",
                LOCATION: "[位置]", APP: "[分享]", CALL: "[语音通话]", SYSTEM: "[系统消息]", REVOKE: "[撤回]"}
APP_PLACEHOLDERS = {5: "[链接]", 6: "[文件]", 8: "[表情]", 19: "[聊天记录]", 33: "[小程序]", 36: "[小程序]",
                    51: "[视频号]", QUOTE: "[引用]", PAT_APP_TYPE: "[拍一拍]", 87: "[群公告]", 2000: "[转账]", 2001: "[红包]"}
OTHER_PLACEHOLDER = "[其他消息]"

# How many rows a WeChatMsg CSV may be read ahead to tell a group export from a private one.
LOOKAHEAD_ROWS = 1000


def placeholder(kind: int, sub_kind: int = 0) -> str:
    """The stand-in text for a non-text message of WeChat type `kind` (and app message sub-type `sub_kind`)."""
    if kind == APP:
        return APP_PLACEHOLDERS.get(sub_kind, PLACEHOLDERS[APP])
    return PLACEHOLDERS.get(kind, OTHER_PLACEHOLDER)


@dataclass(frozen=True)
class Chat:
    """What the command line says about the chat of an export: `room` (--room), `private` (--private), and the
    bot's names, by which "@name" opening a text is a mention."""

    room: str | None = None
    private: bool = False
    aliases: tuple[str, ...] = ()

    def room_for(self, guessed: str | None) -> str | None:
        """The room of a message: none with --private, else --room, else what the export says."""
        if self.private:
            return None
        return self.room or guessed

    def mentioned(self, text: str) -> bool:
        """Whether the text opens with "@<one of the bot's names>" as a whole mention (the exports have no list)."""
        return any(mentions_name(text, alias, at_start=True) for alias in self.aliases)


def _int(value: Any, what: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise _Skip(f"{what} is not a number") from None


class _Skip(Exception):
    """This line cannot be a message; the text says why (never quoting the message)."""


# -- WeChatMsg / MemoTrace CSV -------------------------------------------------------------------

# exporter_csv.py writes these nine (the database's MSG columns, StrTime formatted in the exporting computer's
# local time) and, since 2024-02, Remark, NickName and Sender (the wxid; empty for system lines of a group).
WECHATMSG_COLUMNS = ("localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status", "StrContent",
                     "StrTime")


class WeChatMsgCsv:
    """Reads the CSV export of WeChatMsg (留痕) / MemoTrace: one chat per file, with no chat-type column.

    The file is a group export when its TalkerId is a `…@chatroom` id or when its Sender column names more than
    one member besides the exporting account (read ahead up to LOOKAHEAD_ROWS rows); `Chat.room` / `Chat.private`
    override that guess. A group's room is --room, else the chatroom id, else the file's name.
    """

    name = "WeChatMsg/MemoTrace CSV"

    def __init__(self, chat: Chat, *, source: str, note: Callable[[str], None]):
        self.chat = chat
        self.source = source
        self.note = note
        self.room: str | None = None

    @staticmethod
    def recognises(header: list[str]) -> bool:
        return all(column in header for column in WECHATMSG_COLUMNS)

    def records(self, rows: Iterable[Row]) -> Iterator[tuple[int, Record]]:
        """Every row as (line, record or skip reason); `rows` are (line, {column: cell})."""
        rows = iter(rows)
        ahead = list(islice(rows, LOOKAHEAD_ROWS))
        self.room = self._decide_room(ahead)
        for line, cells in chain(ahead, rows):
            try:
                yield line, self._record(line, cells)
            except _Skip as skip:
                yield line, str(skip)

    def _decide_room(self, rows: list[Row]) -> str | None:
        talkers = {cells.get("TalkerId", "").strip() for _, cells in rows}
        chatroom = next((talker for talker in sorted(talkers) if talker.endswith("@chatroom")), None)
        members = {cells.get("Sender", "").strip() for _, cells in rows
                   if cells.get("IsSender", "").strip() != "1"} - {""}
        guessed = chatroom or (_stem(self.source) if len(members) > 1 else None)
        room = self.chat.room_for(guessed)
        if self.chat.private or self.chat.room:
            kind = "a private chat (--private)" if room is None else f"the group {room} (--room)"
        elif room is None:
            kind = "a private chat (one other speaker); --room NAME reads it as a group"
        else:
            why = "its talker is a chatroom" if chatroom else f"{len(members)} members speak in it"
            kind = f"the group {room} ({why}); --private reads it as a private chat"
        self.note(f"{self.source}: a {self.name} export of {kind}")
        return room

    def _record(self, line: int, cells: dict[str, str]) -> dict[str, Any]:
        kind = _int(cells.get("Type", ""), "Type")
        sub_kind = _int(cells.get("SubType") or 0, "SubType")
        content = cells.get("StrContent", "")
        quoted = None
        if kind == TEXT:
            text = content
        elif kind == APP and sub_kind == QUOTE:
            quote = read_quote(content)
            text, quoted = (quote.text, quote.quoted) if quote and quote.text else (placeholder(kind, sub_kind), None)
        else:
            text = placeholder(kind, sub_kind)
        own = cells.get("IsSender", "").strip() == "1"
        sender = cells.get("Sender", "").strip() or ("(self)" if own else "(other)")
        record = {"id": cells.get("localId", "").strip() or line, "time": self._time(cells), "text": text,
                  "sender": sender, "room": self.room, "mentioned": self.room is not None and self.chat.mentioned(text)}
        if quoted:
            record["quoted"] = quoted
        return record

    @staticmethod
    def _time(cells: dict[str, str]) -> str:
        """CreateTime (Unix seconds) when it is a number; else StrTime, which is the exporter's local time."""
        created = cells.get("CreateTime", "").strip()
        if created.isdigit() and int(created) > 0:
            return datetime.fromtimestamp(int(created), SHANGHAI).isoformat()
        if not cells.get("StrTime", "").strip():
            raise _Skip("missing time")
        return cells["StrTime"].strip()  # "2025-11-23 10:15:00": the replay reads a time without offset as Shanghai


def _stem(source: str) -> str:
    """The chat's name from the export's file name: WeChatMsg writes `<chat name>_utf8.csv`."""
    if source == "-":
        return "group"
    return Path(source).stem.removesuffix("_utf8") or "group"


# -- chatlog (github.com/sjzar/chatlog) ------------------------------------------------------------

CHATLOG_CSV_COLUMNS = ("Time", "SenderName", "Sender", "TalkerName", "Talker", "Content")
CHATLOG_SYSTEM_SENDER = "系统消息"  # model.Message.ParseMediaInfo sets this as the sender of type-10000 lines
# Message.PlainTextContent's spellings of what is not text, on the content's first line: "![图片](http://…)",
# "[链接|title](url)", "[转账|发送 ￥1.00](memo)", "[语音]", "[合并转发|title]" followed by the forwarded lines, …
_CHATLOG_NOT_TEXT = re.compile(r"!?\[(?P<label>[^\]|]{1,6})(?:\|.*)?\](?:\(.*\))?")
CHATLOG_LABELS = {"图片", "视频", "动画表情", "语音", "名片", "位置", "链接", "文件", "GIF表情", "小程序", "视频号", "引用",
                   "视频号直播", "音乐", "转账", "红包", "红包封面", "分享", "语音通话"}
CHATLOG_MULTILINE_LABELS = {"合并转发", "笔记", "群公告"}
_CHATLOG_OTHER_TYPE = re.compile(r"Type: \d+ Content: ")


class ChatlogCsv:
    """Reads chatlog's CSV (`/api/v1/chatlog?format=csv`): Time, SenderName, Sender, TalkerName, Talker, Content.

    There is no type column: system lines have the sender "系统消息", other non-text messages the bracketed
    spellings of Message.PlainTextContent, and a quote is the quoted message as "> " lines before the asker's words.
    A talker ending in "@chatroom" is a group, whose room is its talker id.
    """

    name = "chatlog CSV"

    def __init__(self, chat: Chat):
        self.chat = chat

    @staticmethod
    def recognises(header: list[str]) -> bool:
        return tuple(header[:len(CHATLOG_CSV_COLUMNS)]) == CHATLOG_CSV_COLUMNS

    def records(self, rows: Iterable[Row]) -> Iterator[tuple[int, Record]]:
        """Every row as (line, record or skip reason); `rows` are (line, {column: cell}). The id is the line."""
        for line, cells in rows:
            talker = cells.get("Talker", "").strip()
            room = self.chat.room_for(talker if talker.endswith("@chatroom") else None)
            text, quoted = self._content(cells)
            if not cells.get("Time", "").strip():
                yield line, "missing time"
                continue
            record = {"id": line, "time": cells["Time"].strip(), "text": text, "room": room,
                      "sender": cells.get("Sender", "").strip() or cells.get("SenderName", "").strip(),
                      "mentioned": room is not None and self.chat.mentioned(text)}
            if quoted:
                record["quoted"] = quoted
            yield line, record

    @staticmethod
    def _content(cells: dict[str, str]) -> tuple[str, str | None]:
        """(text, quoted) of one row: a placeholder for what is not text, a quote split into its two parts."""
        content = cells.get("Content", "")
        if cells.get("Sender", "").strip() == CHATLOG_SYSTEM_SENDER:
            return PLACEHOLDERS[SYSTEM], None
        first, _, more = content.strip().partition("\n")
        not_text = _CHATLOG_NOT_TEXT.fullmatch(first)
        if not_text and (not_text["label"] in CHATLOG_MULTILINE_LABELS
                         or (not_text["label"] in CHATLOG_LABELS and not more)):
            return f"[{not_text['label']}]", None
        if _CHATLOG_OTHER_TYPE.match(content):
            return OTHER_PLACEHOLDER, None
        if content.startswith("> "):
            lines = content.split("\n")
            block = [row[2:] for row in lines if row.startswith("> ")]
            asked = "\n".join(row for row in lines if not row.startswith("> ")).strip()
            # The first "> " line names the quoted message's sender and time ("> 王姐(wxid_…) 11-23 10:15:00"),
            # or is "> [引用]" when chatlog could not read the quoted message.
            quoted = "\n".join(block[1:]).strip() or None
            return asked or APP_PLACEHOLDERS[QUOTE], quoted
        return content, None


class ChatlogJson:
    """Reads one message of chatlog's JSON (`/api/v1/chatlog?format=json`: an array of model.Message objects with
    seq, time, talker, isChatRoom, sender, senderName, type, subType, content and, for a quote, contents.refer)."""

    name = "chatlog JSON"

    def __init__(self, chat: Chat):
        self.chat = chat

    @staticmethod
    def recognises(item: Any) -> bool:
        return isinstance(item, dict) and "text" not in item and {"talker", "type", "content", "time"} <= item.keys()

    def record(self, line: int, item: dict[str, Any]) -> Record:
        """The replay record of one decoded message (or why it is skipped); the id is its seq."""
        try:
            kind = _int(item.get("type"), "type")
            sub_kind = _int(item.get("subType") or 0, "subType")
        except _Skip as skip:
            return str(skip)
        content = item.get("content") if isinstance(item.get("content"), str) else ""
        quoted = None
        if kind == TEXT:
            text = content
        elif kind == APP and sub_kind == QUOTE:
            text = content.strip() or placeholder(kind, sub_kind)
            refer = (item.get("contents") or {}).get("refer") if isinstance(item.get("contents"), dict) else None
            if isinstance(refer, dict) and refer.get("type") == TEXT and isinstance(refer.get("content"), str):
                quoted = refer["content"].strip() or None
        else:
            text = placeholder(kind, sub_kind)
        talker = str(item.get("talker") or "")
        group = item.get("isChatRoom") is True or talker.endswith("@chatroom")
        room = self.chat.room_for(talker if group else None)
        seq = item.get("seq")
        record = {"id": seq if seq not in (None, "") else line, "time": item.get("time"), "text": text, "room": room,
                  "sender": str(item.get("sender") or item.get("senderName") or ""),
                  "mentioned": room is not None and self.chat.mentioned(text)}
        if quoted:
            record["quoted"] = quoted
        return record
