"""The gateway transport's decisions without a gateway: times, mentions, what is skipped, what is sent, retries."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from bot.config import Config
from bot.events import Incoming, Result
from bot.transports.wechaty_gateway import (
    MessageType, WechatyTransport, deliveries, is_mentioned, message_time, retry_delay,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
NOW_MS = int(NOW.timestamp() * 1000)


def test_message_time_reads_milliseconds_and_tolerates_seconds_and_zero():
    assert message_time(NOW_MS, received=NOW) == NOW
    assert message_time(NOW_MS // 1000, received=NOW) == NOW
    assert message_time(0, received=NOW) == NOW
    assert message_time(NOW_MS, received=NOW).utcoffset() == timedelta(hours=8)


def test_mentioned_by_id_or_by_any_name_typed_after_an_at():
    assert is_mentioned("hi", ["bot"], self_id="bot", names=[])
    assert is_mentioned("@小助手\u2005签注", [], self_id="bot", names=["小助手"])
    assert is_mentioned("@居住证机器人 签注", [], self_id="bot", names=["小助手", "居住证机器人"])
    assert is_mentioned("请问@小助手", [], self_id="bot", names=["小助手"])  # the end of the text ends a mention
    assert not is_mentioned("小助手真好", [], self_id="bot", names=["小助手"])
    assert not is_mentioned("@ 签注", [], self_id="bot", names=["", "小助手"])
    assert not is_mentioned("hi", ["alice"], self_id=None, names=[])


def test_a_mention_list_alone_decides_when_the_message_carries_one():
    # Issue 13, item 1: WeChat's list names the member 小助手妈妈, so the bot 小助手 was not mentioned.
    assert not is_mentioned("@小助手妈妈\u2005你证签好了吗", ["mom"], self_id="bot", names=["小助手"])
    # The list wins over the text both ways: "@小助手" typed but someone else picked is not a mention…
    assert not is_mentioned("@小助手\u2005签注", ["alice"], self_id="bot", names=["小助手"])
    # …and the bot picked from the list is one even when its displayed name is not in the text.
    assert is_mentioned("@签注小能手\u2005签注", ["alice", "bot"], self_id="bot", names=["小助手"])


def test_without_a_list_only_a_whole_name_followed_by_a_separator_mentions():
    for text in ("@小助手妈妈 你证签好了吗", "@小助手妈妈\u2005你证签好了吗", "@小助手妈妈", "@小助手签注"):
        assert not is_mentioned(text, [], self_id="bot", names=["小助手"]), text
    for text in ("@小助手 签注", "@小助手\u2005签注", "签注 @小助手", "@小助手妈妈 @小助手 签注"):
        assert is_mentioned(text, [], self_id="bot", names=["小助手"]), text


def test_retry_delay_is_short_and_jittered_however_long_the_gateway_is_away():
    assert retry_delay(2, draw=lambda: 0.0) == 1.0
    assert retry_delay(2, draw=lambda: 0.999) == pytest.approx(1.999)
    delays = [retry_delay(2) for _ in range(200)]
    assert all(1.0 <= delay < 2.0 for delay in delays)
    assert len({round(delay, 3) for delay in delays}) > 100  # random, not in step


def _msg(room: str | None = "room@chatroom") -> Incoming:
    return Incoming(text="q", time=NOW, sender="alice", room=room, mentioned=True, id="m1")


def test_a_room_reply_mentions_the_asker_by_name_and_id():
    sent = deliveries(_msg(), Result(reply="答"), talker_name="张三")
    assert [(d.conversation, d.text, d.mention_ids) for d in sent] == [("room@chatroom", "@张三 答", ("alice",))]


def test_a_private_reply_goes_to_the_talker():
    sent = deliveries(_msg(room=None), Result(reply="答"), talker_name="")
    assert [(d.conversation, d.text, d.mention_ids) for d in sent] == [("alice", "答", ())]


def test_an_operator_answer_goes_privately():
    sent = deliveries(_msg(), Result(reply="已加入", private_reply=True), talker_name="张三")
    assert [(d.conversation, d.text, d.mention_ids) for d in sent] == [("alice", "已加入", ())]


def test_silence_sends_nothing():
    # Throttling is the handler's (bot/speak.py): a held-back reply arrives here as None.
    assert deliveries(_msg(), Result(reply=None), talker_name="张三") == []


# -- converting gateway payloads --------------------------------------------------------------------


@dataclass
class FakePuppet:
    """Answers the one lookup `_incoming` may make: the bot's nickname in a room."""

    room_aliases: dict[str, str] = field(default_factory=dict)
    lookups: int = 0

    async def room_member_payload(self, room_id: str, contact_id: str):
        self.lookups += 1
        return SimpleNamespace(room_alias=self.room_aliases.get(room_id, ""), name="")


def payload(**changes):
    base = dict(id="m1", type=MessageType.MESSAGE_TYPE_TEXT, from_id="alice", room_id="room@chatroom",
                text="@小助手 签注", timestamp=NOW_MS, mention_ids=[])
    return SimpleNamespace(**{**base, **changes})


def convert(transport: WechatyTransport, puppet: FakePuppet, **changes) -> Incoming | None:
    return asyncio.run(transport._incoming(puppet, payload(**changes)))


@pytest.fixture()
def transport() -> WechatyTransport:
    config = Config(aliases=("小助手",), allowed_rooms=frozenset({"room@chatroom"}), max_message_age_seconds=600)
    gateway = WechatyTransport(config, handler=None, clock=lambda: NOW + timedelta(seconds=2))
    gateway.self_id, gateway.self_name = "bot", "居住证机器人"
    return gateway


def test_a_room_text_becomes_an_incoming_message(transport):
    msg = convert(transport, FakePuppet())
    assert msg == Incoming(text="@小助手 签注", time=NOW, sender="alice", room="room@chatroom", mentioned=True,
                           id="m1")


def test_a_private_text_has_no_room(transport):
    msg = convert(transport, FakePuppet(), room_id="", text="签注")
    assert msg.room is None and msg.is_private and not msg.mentioned


def test_the_bot_is_mentioned_by_its_room_nickname(transport):
    puppet = FakePuppet(room_aliases={"room@chatroom": "签注小能手"})
    assert convert(transport, puppet, text="@签注小能手 签注").mentioned
    assert not convert(transport, puppet, text="@别人 签注").mentioned
    assert puppet.lookups == 1  # cached
    assert not convert(transport, puppet, text="签注").mentioned


def test_a_message_with_a_mention_list_is_decided_by_it_without_a_nickname_lookup(transport):
    puppet = FakePuppet(room_aliases={"room@chatroom": "小助手"})
    assert not convert(transport, puppet, text="@小助手妈妈\u2005你证签好了吗", mention_ids=["mom"]).mentioned
    assert convert(transport, puppet, text="@签注小能手\u2005签注", mention_ids=["bot"]).mentioned
    assert puppet.lookups == 0


def test_a_failed_nickname_lookup_still_answers_by_the_other_names(transport):
    class FailingPuppet(FakePuppet):
        async def room_member_payload(self, room_id: str, contact_id: str):
            self.lookups += 1
            raise GRPCError(Status.NOT_FOUND, "no such member")

    puppet = FailingPuppet()
    assert convert(transport, puppet, text="@小助手 签注").mentioned
    assert not convert(transport, puppet, text="@别人 签注").mentioned
    assert puppet.lookups == 2  # a failure is not cached


@pytest.mark.parametrize("changes", [
    {"type": MessageType.MESSAGE_TYPE_IMAGE},
    {"from_id": "bot"},
    {"room_id": "other@chatroom"},
    {"timestamp": NOW_MS - 3_600_000},
])
def test_skipped_messages(transport, changes):
    assert convert(transport, FakePuppet(), **changes) is None


def test_a_room_reply_without_a_known_name_still_mentions_by_id():
    sent = deliveries(_msg(), Result(reply="答"), talker_name="")
    assert [(d.text, d.mention_ids) for d in sent] == [("答", ("alice",))]
