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
    Backlog, Intake, MessageType, WechatyTransport, deliveries, is_mentioned, is_operator_queue, message_time,
    queue_of, retry_delay,
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


# -- quotes, system lines and what is not text (issue 13, items 2-3) -----------------------------

QUOTE_XML = ("<msg><appmsg><title>{title}</title><type>57</type><refermsg><type>1</type><displayname>王姐</displayname>"
             "<content>我的证10月8号到期的</content></refermsg></appmsg></msg>")
ASKED = "@小助手 我是12月25号到期，现在能签注吗"


@pytest.mark.parametrize("kind", [MessageType.MESSAGE_TYPE_URL, MessageType.MESSAGE_TYPE_ATTACHMENT,
                                  MessageType.MESSAGE_TYPE_UNSPECIFIED, MessageType.MESSAGE_TYPE_TEXT])
def test_a_type_57_quote_is_the_askers_words_with_the_quoted_message_as_context(transport, kind):
    msg = convert(transport, FakePuppet(), type=kind, text=QUOTE_XML.format(title=ASKED), mention_ids=["bot"])
    assert msg == Incoming(text=ASKED, time=NOW, sender="alice", room="room@chatroom", mentioned=True, id="m1",
                           quoted="王姐：我的证10月8号到期的")


def test_a_quotes_mention_is_decided_by_the_list_else_by_the_askers_words(transport):
    puppet = FakePuppet()
    xml = QUOTE_XML.format(title="@小助手妈妈 你证签好了吗")
    assert not convert(transport, puppet, type=MessageType.MESSAGE_TYPE_URL, text=xml, mention_ids=["mom"]).mentioned
    assert convert(transport, puppet, type=MessageType.MESSAGE_TYPE_URL, text=QUOTE_XML.format(title=ASKED)).mentioned
    # Without a list the quoted words do not count: "@小助手" in 王姐's message is not this asker's mention.
    quoting = QUOTE_XML.format(title="我也是").replace("我的证10月8号到期的", "@小助手 我的证10月8号到期的")
    assert not convert(transport, puppet, type=MessageType.MESSAGE_TYPE_URL, text=quoting).mentioned


def test_the_text_form_of_a_quote_is_split_the_same_way(transport):
    text = f"「王姐：我的证10月8号到期的」\n- - - - - - - - - - - - - - -\n{ASKED}"
    msg = convert(transport, FakePuppet(), text=text)
    assert (msg.text, msg.quoted, msg.mentioned) == (ASKED, "王姐：我的证10月8号到期的", True)
    assert convert(transport, FakePuppet(), text="「王姐：我的证10月8号到期的」\n- - - - - -\n") is None  # no words


@pytest.mark.parametrize("kind", [kind for kind in MessageType if kind != MessageType.MESSAGE_TYPE_TEXT])
def test_what_is_not_text_never_reaches_the_handler(transport, kind):
    for text in ("", "@小助手 签注要带什么", "<msg><appmsg><title>@小助手 签注</title><type>5</type></appmsg></msg>"):
        assert convert(transport, FakePuppet(), type=kind, text=text, mention_ids=["bot"]) is None, (kind, text)


@pytest.mark.parametrize("text", [
    '"王姐"邀请"李四"加入了群聊', '"李四" 撤回了一条消息', '"张三" 拍了拍 "李四"', "收到红包，请在手机上查看",
    "[动画表情]", "<msg><appmsg><title>居住证签注指南</title><type>5</type><url>http://example.invalid</url></appmsg></msg>",
    "<msg><appmsg><title>@小助手 签注</title><type>57</type>",  # a quote cut off: not text, and silent
    '<sysmsg type="revokemsg"><revokemsg><replacemsg>"李四" 撤回了一条消息</replacemsg></revokemsg></sysmsg>',
])
def test_system_lines_and_app_messages_delivered_as_text_never_reach_the_handler(transport, text):
    assert convert(transport, FakePuppet(), text=text, mention_ids=["bot"]) is None


@pytest.mark.parametrize("text", ['"张三" 拍了拍 "小助手"', '"张三" 拍了拍我', '"张三" 拍了拍 "签注小能手"'])
def test_a_pat_of_the_bot_is_an_event_for_the_handler(transport, text):
    puppet = FakePuppet(room_aliases={"room@chatroom": "签注小能手"})  # the bot's nickname in the room
    msg = convert(transport, puppet, text=text)
    assert (msg.event, msg.text, msg.mentioned, msg.quoted) == ("pat", "[拍一拍]", True, None)
    pat_xml = '<sysmsg type="pat"><pat><pattedusername>bot</pattedusername></pat></sysmsg>'
    assert convert(transport, FakePuppet(), type=MessageType.MESSAGE_TYPE_UNSPECIFIED, text=pat_xml).event == "pat"


# -- the backlog: per conversation, in turn, bounded (issue 14, item 5) --------------------------


def drain(backlog: Backlog) -> list[tuple]:
    """Everything waiting, in the order one worker would get it."""
    async def run() -> list[tuple]:
        taken = []
        while len(backlog):
            conversation, item = await backlog.take()
            taken.append((conversation, item))
            backlog.done(conversation)
        return taken
    return asyncio.run(run())


def test_conversations_take_turns_and_each_keeps_its_order():
    backlog = Backlog(per_conversation=100, total=1000)
    for n in range(1, 6):
        backlog.put("flood", f"f{n}")
    backlog.put("room", "r1")
    backlog.put("room", "r2")
    backlog.put("private:alice", "p1")
    assert (backlog.waiting("flood"), backlog.waiting("room"), backlog.waiting("nobody")) == (5, 2, 0)
    assert [item for _, item in drain(backlog)] == ["f1", "r1", "p1", "f2", "r2", "f3", "f4", "f5"]


def test_a_flooding_room_drops_its_own_oldest_with_one_log_line(caplog):
    backlog = Backlog(per_conversation=10, total=1000)
    backlog.put("room", "question")
    for n in range(1000):
        backlog.put("flood", n)
    backlog.put("other", "question")
    assert len(backlog) == 12
    with caplog.at_level("WARNING", logger="bot.transports.wechaty_gateway"):
        taken = drain(backlog)
    assert [item for conversation, item in taken if conversation == "flood"] == list(range(990, 1000))
    assert {item for conversation, item in taken if conversation != "flood"} == {"question"}
    assert [r.getMessage() for r in caplog.records] == \
        ["dropped 990 waiting messages of flood: more than 10 were waiting"]


def test_beyond_the_total_the_longest_queue_loses_its_oldest():
    backlog = Backlog(per_conversation=100, total=10)
    for n in range(8):
        backlog.put("flood", n)
    for n in range(3):
        backlog.put("room", f"r{n}")
    assert len(backlog) == 10
    taken = drain(backlog)
    assert [item for conversation, item in taken if conversation == "room"] == ["r0", "r1", "r2"]
    assert [item for conversation, item in taken if conversation == "flood"] == list(range(1, 8))


def test_an_operators_commands_are_never_dropped_and_a_members_flood_still_is():
    # Issue 14, item 6: bob is an operator; his 300 commands, from his private chat and a room, wait in one queue of
    # their own, whole and in the order sent, while alice's flood (and her own "#faq", she is no operator) is cut.
    operators = frozenset({"bob"})
    backlog = Backlog(per_conversation=10, total=1000, keep=is_operator_queue)
    for n in range(300):
        room = "room" if n % 4 == 0 else None
        backlog.put(queue_of("bob", room, f"#faq disable op.{n}", operators=operators), f"bob{n}")
        backlog.put(queue_of("alice", "room", f"#faq add 刷屏 {n} | 答", operators=operators), f"alice{n}")
    backlog.put(queue_of("bob", "room", "居住证签注要带什么", operators=operators), "bob asks")  # not a command
    taken = drain(backlog)
    assert [item for conversation, item in taken if conversation == "operator:bob"] == [f"bob{n}" for n in range(300)]
    assert [item for conversation, item in taken if conversation == "room"] == [f"alice{n}" for n in range(291, 300)] + [
        "bob asks"]


def test_beyond_the_total_an_operators_queue_is_never_the_one_cut():
    backlog = Backlog(per_conversation=100, total=10, keep=is_operator_queue)
    for n in range(30):
        backlog.put("operator:bob", n)
    for n in range(5):
        backlog.put("room", f"r{n}")
    taken = drain(backlog)
    assert [item for conversation, item in taken if conversation == "operator:bob"] == list(range(30))
    assert [item for conversation, item in taken if conversation == "room"] == ["r4"]


def test_a_conversation_is_answered_one_message_at_a_time():
    async def run() -> list:
        backlog = Backlog(per_conversation=10, total=100)
        backlog.put("room", 1)
        backlog.put("room", 2)
        conversation, first = await backlog.take()
        second = asyncio.ensure_future(backlog.take())
        await asyncio.sleep(0.01)
        waiting = not second.done()  # a second worker does not get the room's next message meanwhile
        backlog.done(conversation)
        return [first, waiting, (await asyncio.wait_for(second, 1))[1]]

    assert asyncio.run(run()) == [1, True, 2]


def test_the_intake_keeps_the_newest_ids(caplog):
    intake = Intake(limit=3)
    for n in range(5):
        intake.put(f"m{n}")
    with caplog.at_level("WARNING", logger="bot.transports.wechaty_gateway"):
        taken = [intake.take() for _ in range(len(intake))]
    assert taken == ["m2", "m3", "m4"]
    assert [r.getMessage() for r in caplog.records] == \
        ["dropped 2 waiting messages of the gateway: more than 3 were waiting to be read"]


def test_answering_waits_while_more_ids_wait_to_be_read_than_the_reader_keeps_in_flight():
    async def run() -> list[bool]:
        intake = Intake(limit=100, keep_up=2)
        states = []
        for n in range(4):
            intake.put(f"m{n}")
            waiter = asyncio.ensure_future(intake.caught_up())
            await asyncio.sleep(0)
            states.append(waiter.done())
            waiter.cancel()
        intake.take()
        intake.take()
        states.append(await asyncio.wait_for(intake.caught_up(), 1) is None)
        return states

    assert asyncio.run(run()) == [True, True, False, False, True]


def test_payloads_read_in_parallel_are_queued_in_the_order_they_came(transport):
    class SlowPuppet:
        """Answers each payload request after a delay that makes later requests finish first."""

        async def message_payload(self, message_id: str):
            n = int(message_id[1:])
            await asyncio.sleep(0.001 * (n % 7))
            if n == 13:
                raise GRPCError(Status.NOT_FOUND, "gone")  # one message the gateway cannot give: skipped
            return SimpleNamespace(id=message_id, room_id=f"room{n % 3}@chatroom" if n % 4 else "", from_id="alice",
                                   text="问题")

    async def run() -> Backlog:
        intake, backlog = Intake(), Backlog(per_conversation=100, total=1000)
        for n in range(40):
            intake.put(f"m{n}")
        reader = asyncio.ensure_future(transport._read(SlowPuppet(), intake, backlog))
        while len(backlog) < 39:
            await asyncio.sleep(0.005)
        reader.cancel()
        return backlog

    taken = drain(asyncio.run(run()))
    assert sorted(int(payload.id[1:]) for _, payload in taken) == [n for n in range(40) if n != 13]
    by_conversation: dict = {}
    for conversation, payload in taken:
        by_conversation.setdefault(conversation, []).append(int(payload.id[1:]))
    assert set(by_conversation) == {"room0@chatroom", "room1@chatroom", "room2@chatroom", "private:alice"}
    assert all(ids == sorted(ids) for ids in by_conversation.values())


def test_while_reading_lags_a_busy_rooms_messages_wait_and_a_quiet_rooms_are_answered(transport, monkeypatch):
    handled = []

    async def on_message(puppet, payload) -> None:
        handled.append(payload)

    monkeypatch.setattr(transport, "_on_message", on_message)

    async def run() -> tuple[list, list]:
        intake, backlog = Intake(keep_up=2), Backlog(per_conversation=100, total=1000)
        for n in range(5):  # more ids unread than the reader keeps in flight
            intake.put(f"m{n}")
        for n in range(6):
            backlog.put("flood", f"f{n}")
        backlog.put("room", "question")
        workers = [asyncio.ensure_future(transport._work(None, intake, backlog)) for _ in range(2)]
        await asyncio.sleep(0.05)
        lagging = list(handled)
        while len(intake):
            intake.take()
        await asyncio.sleep(0.05)
        for worker in workers:
            worker.cancel()
        return lagging, list(handled)

    lagging, caught_up = asyncio.run(run())
    assert lagging == ["question"]
    assert caught_up == ["question", "f0", "f1", "f2", "f3", "f4", "f5"]
