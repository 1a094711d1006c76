"""End to end: `permitbot serve` as a subprocess against a real Wechaty puppet-service gateway on loopback.

The gateway (tests/gateway/gateway.mjs) is npm `wechaty-puppet-service`'s PuppetServer around
`wechaty-puppet-mock`; it is driven, and reports what the bot sends, over JSON lines on its stdio.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.live

REPO = Path(__file__).resolve().parent.parent
GATEWAY_DIR = REPO / "tests" / "gateway"
TOKEN = "permitbot-live-test"
SHANGHAI = ZoneInfo("Asia/Shanghai")
RATE = 5  # room_replies_per_minute in the bot's configuration below
ROOM, FLOOD_ROOM, CLOSED_ROOM = "room1@chatroom", "flood@chatroom", "other@chatroom"
REPEAT_ROOM = "repeat@chatroom"
MEMBER_NAMES = {"alice": "张三", "bob": "李四", "carol": "Carol"}  # the mock puppet's members
NAMES_ROOM = "names@chatroom"  # where the member 小助手妈妈 ("mom") is mentioned
QUIET_ROOMS = [f"q{n}@chatroom" for n in range(1, 6)]  # asked in during the flood
QUOTE_ROOM, SYSTEM_ROOM = "quote@chatroom", "system@chatroom"
# Issue 14, item 5: while one room gets FLOOD_RATE messages a second, other rooms are answered within this.
OTHER_ROOMS_WITHIN_SECONDS = 0.5
FLOOD_RATE, FLOOD_COUNT = 1000, 4000
# Issue 13, item 2: 王姐's date is quoted; the asker's is 12月25号.
QUOTED = "我的证10月8号到期的"
QUOTING = "@小助手 我是12月25号到期，现在能签注吗"
QUOTE_XML = ('<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>{title}</title><des></des><type>57</type>'
             '<refermsg><type>1</type><svrid>7001</svrid><fromusr>quote@chatroom</fromusr><chatusr>alice</chatusr>'
             '<displayname>王姐</displayname><content>' + QUOTED + '</content></refermsg></appmsg></msg>')
QUOTE_TEXT = f"「王姐：{QUOTED}」\n- - - - - - - - - - - - - - -\n{QUOTING}"
# Issue 13: the bot must answer again within this many seconds of the gateway's return…
BACK_WITHIN_SECONDS = 5.0
# …after the gateway was down this long (the 60 s; PERMITBOT_LIVE_GATEWAY_DOWN_SECONDS for a shorter wait).
GATEWAY_DOWN_SECONDS = float(os.environ.get("PERMITBOT_LIVE_GATEWAY_DOWN_SECONDS", "60"))
DATED_QUESTION = "@小助手 我居住证12月5号到期，什么时候能签注？"
TIMINGS: dict[str, float] = {}


def _unavailable(reason: str) -> None:
    """Without Node the live tests cannot run: a failure on CI, a skip on a developer's machine."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the live gateway tests must run)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate: Callable[[], object], *, timeout: float, what: str, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _kill(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


@dataclass
class Gateway:
    """The node gateway process: `say` drives mock members, `sent` lists what the bot sent."""

    port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    events: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, *, timeout: float = 30) -> float:
        node = shutil.which("node")
        assert node, "node disappeared"
        begun = time.monotonic()
        with self.lock:
            self.events = []
        log = open(self.log_path, "a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [node, "gateway.mjs", "--port", str(self.port), "--token", TOKEN],
            cwd=GATEWAY_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, encoding="utf-8",
        )
        log.close()
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        _wait(lambda: self.find(lambda e: e["event"] == "ready") or self.proc.poll() is not None,
              timeout=timeout, what="the gateway to be ready")
        assert self.proc.poll() is None, f"the gateway exited; see {self.log_path}"
        _wait(lambda: _port_open(self.port), timeout=timeout, what=f"the gateway port {self.port}")
        return time.monotonic() - begun

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            event["received"] = time.monotonic()
            with self.lock:
                if proc is self.proc:
                    self.events.append(event)

    def find(self, predicate: Callable[[dict], bool]) -> list[dict]:
        with self.lock:
            return [event for event in self.events if predicate(event)]

    def say(self, sender: str, text: str, *, room: str | None = None, mention_bot: bool = False,
            mention: list[str] | None = None, kind: str = "Text", tag: object = None) -> float:
        """A member speaks; in a room the message's mention list is `mention` (contact ids), or the bot's id.
        `kind` is the wechaty-puppet MessageType the gateway gives the message ("Url" for an app message's XML…);
        `tag` comes back in the gateway's "said" event."""
        command = {"op": "say", "from": sender, "text": text, "type": kind, "tag": tag}
        if room:
            command.update(room=room, mention=mention if mention is not None else ["bot"] if mention_bot else [])
        return self.command(command)

    def flood(self, sender: str, room: str, *, count: int, rate: int, text: str) -> float:
        """`count` messages "<text> <n>" into `room` at `rate` a second, sent by the gateway itself."""
        return self.command({"op": "flood", "from": sender, "room": room, "count": count, "rate": rate, "text": text})

    def command(self, command: dict) -> float:
        self.proc.stdin.write(json.dumps(command, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return time.monotonic()

    def sent(self, conversation: str | None = None, *, after: float = 0.0) -> list[dict]:
        return self.find(lambda e: e["event"] == "sent" and e["received"] > after
                         and (conversation is None or e["conversation"] == conversation))

    def kill(self) -> None:
        _kill(self.proc)


@dataclass
class Serve:
    """`permitbot serve` as a subprocess; its stderr (the service log) is collected line by line."""

    args: list[str]
    log_path: Path
    proc: subprocess.Popen | None = None
    lines: list[str] = field(default_factory=list)

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHATY_", "PERMITBOT_"))}
        env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", *self.args],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, encoding="utf-8",
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            for line in self.proc.stdout:
                self.lines.append(line)
                log.write(line)
                log.flush()

    def count(self, fragment: str) -> int:
        return sum(fragment in line for line in list(self.lines))

    def wait_for_log(self, fragment: str, *, count: int = 1, timeout: float) -> None:
        try:
            _wait(lambda: self.count(fragment) >= count or self.proc.poll() is not None, timeout=timeout,
                  what=f"{fragment!r} in the bot's log")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; log so far:\n{''.join(self.lines[-30:])}") from None
        assert self.proc.poll() is None, "permitbot serve exited:\n" + "".join(self.lines[-30:])

    def kill(self) -> None:
        _kill(self.proc)


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_ready() -> None:
    if shutil.which("node") is None:
        _unavailable("node is not installed: the live gateway tests need Node 18+ (and npm to install tests/gateway)")
    if not (GATEWAY_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        _unavailable("tests/gateway/node_modules is missing: run `make test`, or "
                     "`npm ci --legacy-peer-deps` in tests/gateway")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="module")
def gateway(node_ready, workdir):
    gw = Gateway(port=_free_port(), log_path=workdir / "gateway.log")
    try:
        TIMINGS["gateway start (s)"] = gw.start()
        yield gw
    finally:
        gw.kill()


@pytest.fixture(scope="module")
def config_file(workdir) -> Path:
    path = workdir / "permitbot.toml"
    allowed = [ROOM, FLOOD_ROOM, NAMES_ROOM, REPEAT_ROOM, QUOTE_ROOM, SYSTEM_ROOM, *QUIET_ROOMS]  # not CLOSED_ROOM
    path.write_text(
        'aliases = ["小助手"]\n'
        'operators = ["bob"]\n'
        f"allowed_rooms = {json.dumps(allowed)}\n"
        f"room_replies_per_minute = {RATE}\n"
        "repeat_cooldown_seconds = 600\n",  # reconnect_max_seconds: the default, as deployed
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def serve(gateway, config_file, workdir):
    bot = Serve([f"--endpoint=127.0.0.1:{gateway.port}", f"--token={TOKEN}", f"--config={config_file}",
                 f"--db={workdir / 'knowledge.db'}"], log_path=workdir / "serve.log")
    begun = time.monotonic()
    try:
        bot.start()
        bot.wait_for_log("logged in as 小助手 (bot)", timeout=60)
        TIMINGS["bot attach incl. knowledge DB build (s)"] = time.monotonic() - begun
        yield bot
    finally:
        bot.kill()
        # Shown with -s or on failure: what a reader of the report wants to know.
        print("\nlive gateway timings: " + ", ".join(f"{k} {v:.3f}" for k, v in TIMINGS.items()), file=sys.stderr)


@pytest.fixture(scope="module")
def handler(config_file, workdir):
    """The same handler in-process, to know what the bot should have said."""
    from bot.app import open_bot

    return open_bot(config_file, db_path=workdir / "reference.db")


def ask_and_wait(gateway: Gateway, sender: str, text: str, *, conversation: str, room: str | None = None,
                 mention_bot: bool = False, timeout: float = 15) -> dict:
    asked = gateway.say(sender, text, room=room, mention_bot=mention_bot)
    sent = _wait(lambda: gateway.sent(conversation, after=asked), timeout=timeout,
                 what=f"the bot's reply in {conversation}")
    TIMINGS.setdefault("round trip (s)", sent[0]["received"] - asked)
    return sent[0]


def expected_reply(handler, text: str, *, sender: str, room: str | None, mentioned: bool,
                   quoted: str | None = None) -> str:
    from bot.events import Incoming

    result = handler.handle(Incoming(text=text, time=datetime.now(SHANGHAI), sender=f"reference-{sender}",
                                     room=room, mentioned=mentioned, quoted=quoted))
    assert result.reply is not None
    return result.reply


def date_forms(day: date) -> list[str]:
    return [day.isoformat(), f"{day.month}月{day.day}日", f"{day.month}月{day.day}号", f"{day.month}/{day.day}"]


# -- the tests ------------------------------------------------------------------------------------


def test_check_prints_the_logged_in_account(gateway):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--check", f"--endpoint=127.0.0.1:{gateway.port}",
         f"--token={TOKEN}"], cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "小助手 (bot)" in proc.stdout


def test_check_fails_clearly_when_the_gateway_is_unreachable():
    port = _free_port()
    begun = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--check", f"--endpoint=127.0.0.1:{port}", "--token=x",
         "--timeout=3"], cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert f"cannot reach the gateway at 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - begun < 30


def test_a_mentioned_dated_question_is_answered_in_the_room_with_the_computed_dates(gateway, serve, handler):
    want = expected_reply(handler, DATED_QUESTION, sender="alice", room=ROOM, mentioned=True)
    sent = ask_and_wait(gateway, "alice", DATED_QUESTION, room=ROOM, mention_bot=True, conversation=ROOM)
    assert sent["mentions"] == ["alice"]
    assert sent["text"] == f"@张三 {want}"
    # The permit expires on the 5 December nearest to today; endorsement opens 30 days before, closes 60 after.
    today = datetime.now(SHANGHAI).date()
    expiry = min((date(today.year + k, 12, 5) for k in (-1, 0, 1)), key=lambda d: (abs((d - today).days), d < today))
    for day in (expiry - timedelta(days=30), expiry + timedelta(days=60)):
        assert any(form in sent["text"] for form in date_forms(day)), f"{day} missing from {sent['text']!r}"


def test_an_unmentioned_thank_you_gets_nothing(gateway, serve, handler):
    begun = gateway.say("bob", "收到谢谢", room=ROOM)
    # Messages are handled in order, so once the next question is answered the thank-you has been read.
    sentinel = "@小助手 居住证签注要带什么材料？"
    ask_and_wait(gateway, "carol", sentinel, room=ROOM, mention_bot=True, conversation=ROOM)
    replies = gateway.sent(ROOM, after=begun)
    assert [r["mentions"] for r in replies] == [["carol"]]


def test_a_private_question_is_answered_privately(gateway, serve, handler):
    question = "居住证到期了怎么续签？需要带哪些材料"
    want = expected_reply(handler, question, sender="bob", room=None, mentioned=False)
    begun = time.monotonic()
    sent = ask_and_wait(gateway, "bob", question, conversation="bob")
    assert sent["text"] == want and sent["mentions"] == []
    assert not gateway.sent(ROOM, after=begun)


def test_an_operator_command_in_a_room_is_answered_privately(gateway, serve):
    begun = time.monotonic()
    sent = ask_and_wait(gateway, "bob", "@小助手 #faq stats", room=ROOM, mention_bot=True, conversation="bob")
    assert sent["mentions"] == [] and not sent["text"].startswith("#faq")
    time.sleep(0.5)
    assert not gateway.sent(ROOM, after=begun)


def test_rooms_off_the_allow_list_are_ignored(gateway, serve):
    begun = gateway.say("alice", DATED_QUESTION, room=CLOSED_ROOM, mention_bot=True)
    ask_and_wait(gateway, "carol", "居住证怎么签注？", conversation="carol")
    assert not gateway.sent(CLOSED_ROOM, after=begun)


def test_the_bot_is_still_alive_after_a_check_while_it_serves(gateway, serve):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--check", f"--endpoint=127.0.0.1:{gateway.port}",
         f"--token={TOKEN}", "--timeout=5"], cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1 and "another client" in proc.stderr, proc.stderr
    ask_and_wait(gateway, "alice", "积分续办需要多久出结果？", conversation="alice")


def test_a_member_whose_name_starts_with_the_bots_is_not_the_bot(gateway, serve):
    # Issue 13, item 1: WeChat's mention list names 小助手妈妈; the bot 小助手 must not post a menu.
    begun = gateway.say("alice", "@小助手妈妈\u2005你证签好了吗", room=NAMES_ROOM, mention=["mom"])
    gateway.say("bob", "@小助手妈妈 你证签好了吗", room=NAMES_ROOM)  # no list: not a whole "@小助手" either
    sentinel = "@小助手\u2005积分通知书怎么打印？"
    ask_and_wait(gateway, "carol", sentinel, room=NAMES_ROOM, mention_bot=True, conversation=NAMES_ROOM)
    assert [r["mentions"] for r in gateway.sent(NAMES_ROOM, after=begun)] == [["carol"]]


def test_without_a_mention_list_the_typed_name_mentions_the_bot(gateway, serve, handler):
    question = "@小助手 居住证过期了还能签注吗？"
    want = expected_reply(handler, question, sender="bob", room=NAMES_ROOM, mentioned=True)
    sent = ask_and_wait(gateway, "bob", question, room=NAMES_ROOM, conversation=NAMES_ROOM)  # an empty list
    assert sent["mentions"] == ["bob"] and sent["text"] == f"@李四 {want}"


def nearest(month: int, day: int) -> date:
    """The date with this month and day nearest to today (as the bot reads a date without a year)."""
    today = datetime.now(SHANGHAI).date()
    return min((date(today.year + k, month, day) for k in (-1, 0, 1)),
               key=lambda d: (abs((d - today).days), d < today))


def test_a_quote_is_answered_for_the_askers_own_date_not_the_quoted_one(gateway, serve, handler):
    # Issue 13, item 2: WeChat's type-57 app message (here as a puppet gives it: a Url message with the XML) and
    # the text form some puppets render, both with a mention list naming the bot. 王姐 quoted says 10月8号.
    cases = [("Url", lambda words: QUOTE_XML.format(title=words), "carol", 25),
             ("Text", lambda words: QUOTE_TEXT.replace(QUOTING, words), "bob", 26)]
    for kind, content, asker, day in cases:
        words = QUOTING.replace("12月25号", f"12月{day}号")
        want = expected_reply(handler, words, sender=asker, room=QUOTE_ROOM, mentioned=True, quoted=f"王姐：{QUOTED}")
        asked = gateway.say(asker, content(words), room=QUOTE_ROOM, mention=["bot"], kind=kind)
        sent = _wait(lambda: gateway.sent(QUOTE_ROOM, after=asked), timeout=15, what=f"the answer to the {kind} quote")
        assert sent[0]["mentions"] == [asker] and sent[0]["text"] == f"@{MEMBER_NAMES[asker]} {want}"
        assert not any(form in sent[0]["text"] for form in ("10月8", "10-08", "10/8")), sent[0]["text"]
        # The asker's window, worked from domain.md: it opens 30 days before 12月<day>号 and closes 60 days after.
        expiry = nearest(12, day)
        for edge in (expiry - timedelta(days=30), expiry + timedelta(days=60)):
            assert any(form in sent[0]["text"] for form in date_forms(edge)), f"{edge} missing: {sent[0]['text']!r}"


def test_a_quotes_mention_is_the_lists_else_the_askers_typed_name(gateway, serve):
    begun = gateway.say("alice", QUOTE_XML.format(title="@小助手妈妈\u2005你证签好了吗"), room=QUOTE_ROOM,
                        mention=["mom"], kind="Url")
    gateway.say("bob", QUOTE_XML.format(title="我也是"), room=QUOTE_ROOM, kind="Url")  # not mentioned: no question
    sentinel = QUOTE_XML.format(title="@小助手 积分通知书怎么打印？")  # no list: the typed whole name mentions
    gateway.say("carol", sentinel, room=QUOTE_ROOM, kind="Url")
    _wait(lambda: gateway.sent(QUOTE_ROOM, after=begun), timeout=15, what="the answer to the sentinel")
    time.sleep(0.5)
    assert [r["mentions"] for r in gateway.sent(QUOTE_ROOM, after=begun)] == [["carol"]]


NOT_TEXT = [  # (wechaty-puppet MessageType, text as a puppet may give it), each sent with the bot in the mention list
    ("Text", '"王姐"邀请"李四"加入了群聊'), ("Text", '"李四"通过扫描"王姐"分享的二维码加入群聊'),
    ("Recalled", '"李四" 撤回了一条消息'), ("Text", '"李四" 撤回了一条消息'), ("Text", '"张三" 拍了拍 "李四"'),
    ("RedEnvelope", "<msg><appmsg><title>恭喜发财，大吉大利</title><type>2001</type></appmsg></msg>"),
    ("Text", "收到红包，请在手机上查看"), ("Transfer", "<msg><appmsg><title>微信转账</title><type>2000</type></appmsg></msg>"),
    ("Emoticon", '<msg><emoji md5="00aa" len="1024"/></msg>'), ("Image", ""), ("Audio", ""), ("Video", ""),
    ("Attachment", "居住证签注材料清单.pdf"), ("Location", "上海市浦东新区"), ("Contact", "李四"),
    ("MiniProgram", "<msg><appmsg><title>随申办</title><type>33</type></appmsg></msg>"),
    ("Url", "<msg><appmsg><title>居住证签注指南</title><type>5</type><url>http://example.invalid</url></appmsg></msg>"),
    ("Text", "<msg><appmsg><title>居住证签注指南</title><type>5</type></appmsg></msg>"),
    ("ChatHistory", "群聊的聊天记录"), ("Unknown", '<sysmsg type="revokemsg"><revokemsg /></sysmsg>'),
    ("Text", "<msg><appmsg><title>@小助手 签注要带什么</title><type>57</type>"),  # a quote cut off: malformed XML
]


def test_system_lines_and_what_is_not_text_get_no_answer(gateway, serve):
    # Issue 13, item 3. A pat of the bot may get the help line, at most once a minute in a room (the handler's).
    begun = time.monotonic()
    for kind, text in NOT_TEXT:
        gateway.say("alice", text, room=SYSTEM_ROOM, mention=["bot"], kind=kind)
    for _ in range(2):
        gateway.say("bob", '"李四" 拍了拍 "小助手"', room=SYSTEM_ROOM, kind="Unknown")
    asked = gateway.say("carol", "@小助手 居住证签注要带什么材料？", room=SYSTEM_ROOM, mention_bot=True)
    _wait(lambda: any(r["mentions"] == ["carol"] for r in gateway.sent(SYSTEM_ROOM, after=asked)), timeout=15,
          what="the answer to the question after them")
    time.sleep(0.5)
    replies = gateway.sent(SYSTEM_ROOM, after=begun)
    assert [r["mentions"] for r in replies if r["mentions"] != ["bob"]] == [["carol"]], [r["text"] for r in replies]
    assert len(replies) <= 2
    assert serve.count("Traceback") == 0 and serve.count("failed to answer") == 0


def _restart_and_time_the_return(gateway: Gateway, serve: Serve, *, down_seconds: float, question: str,
                                 label: str) -> tuple[float, float]:
    """Kill the gateway, keep it down, start it again; seconds from its return to the bot's login and to an answer."""
    logins, losses = serve.count("logged in as 小助手 (bot)"), serve.count("reconnecting in")
    gateway.kill()
    serve.wait_for_log("reconnecting in", count=losses + 1, timeout=15)
    time.sleep(down_seconds)
    gateway.start()
    returned = time.monotonic()  # the gateway listens again
    serve.wait_for_log("logged in as 小助手 (bot)", count=logins + 1, timeout=30)
    attached = time.monotonic() - returned
    sent = ask_and_wait(gateway, "alice", question, room=ROOM, mention_bot=True, conversation=ROOM)
    answering = sent["received"] - returned
    TIMINGS[f"{label}: attach after the gateway's return (s)"] = attached
    TIMINGS[f"{label}: answering after the gateway's return (s)"] = answering
    assert sent["mentions"] == ["alice"]
    return attached, answering


def test_the_bot_reconnects_after_the_gateway_restarts(gateway, serve):
    attached, answering = _restart_and_time_the_return(gateway, serve, down_seconds=0, label="restart",
                                                       question="@小助手 积分续办要交纸质材料吗？")
    assert answering < BACK_WITHIN_SECONDS, f"answering again {answering:.1f} s after the gateway's return"
    assert serve.count("s after the loss") == 1  # the log says the bot is back, and how long it took


def test_back_within_seconds_of_the_gateways_return_after_a_long_outage(gateway, serve):
    # Issue 13, item 8: with a back-off capped at 30 s the bot came back ~30 s late after 60 s down.
    assert GATEWAY_DOWN_SECONDS >= 20
    attempts_logged = serve.count("connecting to gateway")
    attached, answering = _restart_and_time_the_return(
        gateway, serve, down_seconds=GATEWAY_DOWN_SECONDS, label=f"down {GATEWAY_DOWN_SECONDS:.0f} s",
        question="@小助手 积分续办失败了怎么办？")
    assert answering < BACK_WITHIN_SECONDS, f"answering again {answering:.1f} s after the gateway's return"
    # It kept trying every 1-2 s, but logged an attempt at info only about once a minute (and the one that worked).
    assert serve.count("connecting to gateway") - attempts_logged <= 2 + GATEWAY_DOWN_SECONDS // 60
    # The outage is reported once a minute (RECONNECT_REPORT_SECONDS): a second report needs well over a minute.
    assert "(down for" in "".join(serve.lines) or GATEWAY_DOWN_SECONDS < 70


def dropped(serve: Serve, conversation: str) -> int:
    """Messages of `conversation` the bot dropped unread, from its drop lines (one a burst)."""
    pattern = re.compile(rf"dropped (\d+) waiting messages of {re.escape(conversation)}:")
    return sum(int(match[1]) for line in list(serve.lines) if (match := pattern.search(line)))


def test_a_burst_of_200_messages_stays_within_the_rate(gateway, serve):
    begun = time.monotonic()
    members = ["alice", "bob", "carol"]
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(200)]
    held = serve.count("held back a reply in flood@chatroom")
    for i, day in enumerate(days):  # 200 different questions: only the rate limit can hold the bot back
        gateway.say(members[i % 3], f"@小助手 我居住证{day.month}月{day.day}号到期，什么时候能签注？",
                    room=FLOOD_ROOM, mention_bot=True)
    # Another conversation is not kept waiting behind the burst…
    ask_and_wait(gateway, "carol", "积分续办失败一般是什么原因？", conversation="carol", timeout=5)

    # …and every message of the burst is accounted for: answered, held back by the rate, or dropped (and logged).
    def accounted() -> int:
        return (len(gateway.sent(FLOOD_ROOM, after=begun)) + serve.count("held back a reply in flood@chatroom")
                - held + dropped(serve, FLOOD_ROOM))

    _wait(lambda: accounted() >= 200, timeout=60, what="the burst to be read")
    TIMINGS["200-message burst read (s)"] = time.monotonic() - begun
    time.sleep(1)
    replies = gateway.sent(FLOOD_ROOM, after=begun)
    assert 1 <= len(replies) <= RATE, [r["text"][:40] for r in replies]
    assert all(r["mentions"] and r["mentions"][0] in members for r in replies)
    assert accounted() == 200


def test_other_rooms_are_answered_within_half_a_second_while_one_room_floods(gateway, serve, handler):
    # Issue 14, item 5: 1,000 messages a second into one room (questions the handler reads in full), while five
    # other rooms ask 21 questions; each must be answered within 0.5 s, two asked together in the order asked.
    held, drops = serve.count("held back a reply in flood@chatroom"), dropped(serve, FLOOD_ROOM)
    flood_begun = gateway.flood("alice", FLOOD_ROOM, count=FLOOD_COUNT, rate=FLOOD_RATE, text="请问居住证签注要带什么材料")
    time.sleep(0.3)  # 300 flood messages ahead of the first question
    assert not gateway.find(lambda e: e["event"] == "error")
    asked, askers = [], ["bob", "carol", "mom"]
    day = date(2027, 3, 1)
    for round_ in range(4):
        for n, room in enumerate(QUIET_ROOMS[:4] if round_ == 3 else QUIET_ROOMS):  # within each room's rate
            day += timedelta(days=1)
            question = f"@小助手 我居住证{day.month}月{day.day}号到期，什么时候能签注？"
            asker = askers[(round_ + n) % 3]
            gateway.say(asker, question, room=room, mention_bot=True, tag=len(asked))
            asked.append((room, asker, question))
            time.sleep(0.12)
    # Two questions asked together in one room are answered in the order asked.
    pair = ["@小助手 积分续办要交纸质材料吗？", "@小助手 居住证过期了还能签注吗？"]
    for question in pair:  # by a member who has not spoken there, so the bot remembers no date of theirs
        gateway.say("alice", question, room=QUIET_ROOMS[4], mention_bot=True, tag=len(asked))
        asked.append((QUIET_ROOMS[4], "alice", question))
    flooded = _wait(lambda: gateway.find(lambda e: e["event"] == "flooded"), timeout=30, what="the flood's end")[-1]

    def said_events() -> list[dict]:
        return gateway.find(lambda e: e["event"] == "said" and e["received"] >= flood_begun)

    _wait(lambda: len(said_events()) == len(asked), timeout=10, what="the gateway to deliver every question")
    said = {e["tag"]: e for e in said_events()}
    assert all(flooded["started"] < e["t"] < flooded["t"] for e in said.values()), "not all asked during the flood"
    _wait(lambda: all(gateway.sent(room, after=said[i]["received"] - 1) for i, (room, *_) in enumerate(asked)),
          timeout=30, what="every question's answer")

    latencies = []
    for i, (room, asker, question) in enumerate(asked[:-2]):  # the askers take turns: each reply names its asker
        reply = next(e for e in gateway.sent(room) if e["t"] >= said[i]["t"] and e["mentions"] == [asker])
        latencies.append((reply["t"] - said[i]["t"]) / 1000)
    first, second = [e for e in gateway.sent(QUIET_ROOMS[4])
                     if e["t"] >= said[len(asked) - 2]["t"] and e["mentions"] == ["alice"]][:2]
    latencies.append((first["t"] - said[len(asked) - 2]["t"]) / 1000)
    assert [first["text"], second["text"]] == [
        "@张三 " + expected_reply(handler, question, sender="alice", room=QUIET_ROOMS[4], mentioned=True)
        for question in pair]
    TIMINGS["flood: messages sent, a second"] = flooded["count"] / ((flooded["t"] - flooded["started"]) / 1000)
    TIMINGS["flood: other rooms' answer p50 (s)"] = sorted(latencies)[len(latencies) // 2]
    TIMINGS["flood: other rooms' answer max (s)"] = max(latencies)
    assert max(latencies) < OTHER_ROOMS_WITHIN_SECONDS, sorted(latencies)

    # Every flood message is read by the handler (answered, or held back by the room's rate) or dropped and logged.
    def read() -> int:
        answered = len(gateway.sent(FLOOD_ROOM, after=flood_begun))
        return serve.count("held back a reply in flood@chatroom") - held + answered

    def lost() -> int:
        return dropped(serve, FLOOD_ROOM) - drops

    _wait(lambda: read() + lost() >= FLOOD_COUNT, timeout=30, interval=0.1, what="every flood message's fate")
    TIMINGS["flood: read by the handler"], TIMINGS["flood: dropped"] = read(), lost()
    assert read() + lost() == FLOOD_COUNT and serve.count("Traceback") == 0


# Issue 14, item 6: an operator's burst of 300 chat edits among 2,000 members' questions in 20 rooms loses nothing.
BURST_ROOMS = [f"b{n}@chatroom" for n in range(1, 21)]
BURST_QUESTIONS = 2000  # members' questions, 100 a room: within the burst bot's rate below, so each is answered
BURST_RATE = 120  # room_replies_per_minute of the burst bot
BURST_SECONDS = 40.0  # the members' questions are spread over this long, while the edits are worked through
# A member's answer while the edits run: a question costs about 1 ms and the queue of its room is at most a few deep.
# The p99 read 0.71–0.75 s on this 2-vCPU guest before the members' classifier and 0.56–1.15 s with it (each edit's
# preview reads its judged questions too); 1.5 s is still far below a 0.3 s preview on the loop each edit (about 160
# of them in line).
BURST_ANSWER_P99_SECONDS = 1.5
_COLOURS = "红橙黄绿青蓝紫黑白灰金银粉"
_FRUITS = ["苹果", "香蕉", "葡萄", "西瓜", "菠萝", "芒果", "桃子", "樱桃", "柠檬", "草莓"]
BURST_ADDED = [f"{colour}{fruit}" for colour in _COLOURS for fruit in _FRUITS]  # 130 entries op.1…op.130


def burst_edits() -> list[tuple[str | None, str]]:
    """The operator's 300 commands, as (room or None for the private chat, text): 130 `#faq add` + confirm, 10
    `#faq alias` + confirm, then 10 `#faq disable` and 10 `#faq enable`; every fourth pair from room b1."""
    edits: list[tuple[str | None, str]] = []
    for k, thing in enumerate(BURST_ADDED, 1):
        room = BURST_ROOMS[0] if k % 4 == 0 else None
        edits += [(room, f"#faq add 食堂{thing}窗口几点开门 | {thing}窗口早上{k}点开门。"), (room, "#faq confirm")]
    for k in range(1, 11):
        edits += [(None, f"#faq alias op.{k} {BURST_ADDED[k - 1]}窗口开门时间 --force"), (None, "#faq confirm")]
    edits += [(None, f"#faq disable op.{k}") for k in range(11, 21)]
    edits += [(None, f"#faq enable op.{k}") for k in range(11, 21)]
    return edits


@pytest.fixture(scope="module")
def burst_gateway(node_ready, workdir):
    gw = Gateway(port=_free_port(), log_path=workdir / "burst-gateway.log")
    try:
        gw.start()
        yield gw
    finally:
        gw.kill()


@pytest.fixture(scope="module")
def burst_serve(burst_gateway, workdir):
    """A bot whose rooms' rate lets every question of the burst through (no repeat cooldown: the answers repeat)."""
    config = workdir / "burst.toml"
    config.write_text('aliases = ["小助手"]\noperators = ["bob"]\n'
                      f"room_replies_per_minute = {BURST_RATE}\nrepeat_cooldown_seconds = 0\n", encoding="utf-8")
    bot = Serve([f"--endpoint=127.0.0.1:{burst_gateway.port}", f"--token={TOKEN}", f"--config={config}",
                 f"--db={workdir / 'burst.db'}"], log_path=workdir / "burst-serve.log")
    try:
        bot.start()
        bot.wait_for_log("logged in as 小助手 (bot)", timeout=60)
        yield bot
    finally:
        bot.kill()


def test_a_burst_of_300_operator_edits_among_2000_questions_drops_nothing(burst_gateway, burst_serve, workdir):
    gateway, serve = burst_gateway, burst_serve
    edits = burst_edits()
    assert len(edits) == 300
    askers = ["alice", "carol", "mom"]
    asked: dict[str, list[str]] = {room: [] for room in BURST_ROOMS}  # the askers in each room, in order
    begun = time.monotonic()
    for n, (room, text) in enumerate(edits):  # the operator's burst: 300 commands in about 1.5 s…
        gateway.say("bob", text, room=room)
        if n % 2:
            time.sleep(0.01)
    day = date(2027, 1, 1)
    for n in range(BURST_QUESTIONS):  # …and members' questions, 50 a second over 40 s, the first ones among them
        room, asker = BURST_ROOMS[n % len(BURST_ROOMS)], askers[(n // len(BURST_ROOMS)) % len(askers)]
        asked_day = day + timedelta(days=n % 300)
        gateway.say(asker, f"@小助手 我居住证{asked_day.month}月{asked_day.day}号到期，什么时候能签注？", room=room,
                    mention_bot=True, tag=n)
        asked[room].append(asker)
        time.sleep(max(0.0, begun + (n + 1) * BURST_SECONDS / BURST_QUESTIONS - time.monotonic()))

    def settled() -> bool:  # every reply there, or nothing sent for 20 s (then the figures say what is missing)
        sent = gateway.sent(after=begun)
        done = len(sent) >= BURST_QUESTIONS + len(edits)
        return done or (sent and time.monotonic() - sent[-1]["received"] > 20)

    _wait(settled, timeout=float(os.environ.get("PERMITBOT_BURST_WAIT", "120")), interval=0.2,
          what="the burst's replies")
    operator_replies = [e for e in gateway.sent("bob", after=begun)]
    said = {e["tag"]: e for e in gateway.find(lambda e: e["event"] == "said" and e["tag"] is not None
                                              and e["received"] >= begun)}
    latencies, answered = [], 0
    for room in BURST_ROOMS:
        replies = gateway.sent(room, after=begun)
        answered += len(replies)
        tags = [n for n in range(BURST_QUESTIONS) if BURST_ROOMS[n % len(BURST_ROOMS)] == room]
        for n, reply in zip(tags, replies):  # a room's questions are answered one at a time, in order
            latencies.append((reply["t"] - said[n]["t"]) / 1000)
            assert reply["mentions"] == [asked[room][tags.index(n)]], (room, n, reply["text"][:40])
    latencies.sort()
    edits_took = (operator_replies[-1]["received"] - begun) if operator_replies else float("nan")
    drops = [line.strip() for line in serve.lines if "dropped" in line]
    TIMINGS.update({"burst: operator replies": len(operator_replies), "burst: 300 edits took (s)": edits_took,
                    "burst: members answered": answered,
                    "burst: answer p50 (s)": latencies[len(latencies) // 2] if latencies else float("nan"),
                    "burst: answer p99 (s)": latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
                    "burst: answer max (s)": latencies[-1] if latencies else float("nan"),
                    "burst: drop lines": len(drops)})
    print("\nburst figures: " + ", ".join(f"{k[7:]} {v:.3f}" if isinstance(v, float) else f"{k[7:]} {v}"
                                          for k, v in TIMINGS.items() if k.startswith("burst: ")), file=sys.stderr)
    assert not drops, drops[:5]
    assert answered == BURST_QUESTIONS
    assert len(operator_replies) == len(edits)
    # Every edit applied once, in the order sent: the store's audit trail, read as another process would.
    import sqlite3

    with sqlite3.connect(f"file:{workdir / 'burst.db'}?mode=ro", uri=True) as db:
        audit = db.execute("select action, entry_id, by from audit order by id").fetchall()
        enabled = dict(db.execute("select entry_id, enabled from entry_state").fetchall())
        phrasings = {row[0] for row in db.execute("select text from phrasings where entry_id like 'op.%'")}
    assert audit == ([("add", f"op.{k}", "bob") for k in range(1, 131)] + [("alias", f"op.{k}", "bob") for k in range(1, 11)]
                     + [("disable", f"op.{k}", "bob") for k in range(11, 21)]
                     + [("enable", f"op.{k}", "bob") for k in range(11, 21)])
    assert all(enabled.get(f"op.{k}", 1) for k in range(1, 131))
    assert {f"{thing}窗口开门时间" for thing in BURST_ADDED[:10]} <= phrasings
    confirmed = [e["text"].split("：")[0] for e in operator_replies if e["text"].startswith("已添加")]
    assert confirmed == [f"已添加 op.{k}" for k in range(1, 131)]
    assert latencies[int(len(latencies) * 0.99)] < BURST_ANSWER_P99_SECONDS, latencies[-20:]
    # The live matcher has the new entries: an added question and an alias are answered in chat.
    for question, answer in ((f"食堂{BURST_ADDED[40]}窗口几点开门", "早上41点开门"),
                             (f"{BURST_ADDED[2]}窗口开门时间", "早上3点开门")):
        reply = ask_and_wait(gateway, "carol", question, conversation="carol")
        assert answer in reply["text"], reply["text"]
    assert serve.count("Traceback") == 0


def test_replay_of_eight_identical_questions_reports_what_the_gateway_sent(gateway, serve, config_file, workdir):
    # Eight identical @-questions in one room within a few seconds. Live (rate 5/min, cooldown 600 s): the answer,
    # one pointer to it, then silence. The replay of the same messages at the same times must say the same.
    question = "@小助手 积分通知书在哪里打印？"
    begun = time.monotonic()
    lines = []
    for n in range(8):
        sent_at = datetime.now(SHANGHAI)
        asker = ("alice", "bob", "carol")[n % 3]
        gateway.say(asker, question, room=REPEAT_ROOM, mention_bot=True)
        lines.append({"id": f"r{n}", "time": sent_at.isoformat(), "room": REPEAT_ROOM, "sender": asker,
                      "text": question, "mentioned": True})
        time.sleep(0.5)
    ask_and_wait(gateway, "carol", "积分通知书怎么打印？", conversation="carol")  # the eight have been read
    live = [event["text"] for event in gateway.sent(REPEAT_ROOM, after=begun)]
    assert len(live) == 2 and "刚回答过" in live[1], live
    source, out = workdir / "repeat.jsonl", workdir / "repeat.out.jsonl"
    source.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "replay", str(source), "--out", str(out),
                           f"--config={config_file}", f"--db={workdir / 'replay.db'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    replayed = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["replied"] for r in replayed] == [True, True] + [False] * 6
    assert {r["intent"] for r in replayed} == {"points.notice_print"}  # throttling changes only what is sent
    names = {line["id"]: MEMBER_NAMES[line["sender"]] for line in lines}
    assert [f"@{names[r['id']]} {r['reply']}" for r in replayed if r["replied"]] == live


def test_sigterm_stops_the_bot_cleanly(gateway, serve):
    serve.proc.terminate()
    assert serve.proc.wait(timeout=15) == 0
    _wait(lambda: serve.count("stopped"), timeout=5, what="the bot's last log line")
    assert serve.count("Traceback") == 0


# -- what the gateway hands the handler: the transport in this process, on a gateway of its own -----------------


class Recorder:
    """A handler that keeps what it is handed and says nothing."""

    def __init__(self) -> None:
        self.seen: list = []

    def handle(self, msg):
        from bot.events import Result

        self.seen.append(msg)
        return Result()


@pytest.fixture(scope="module")
def recording(node_ready, workdir):
    """(gateway, recorder): `WechatyTransport` run in a thread of this process against its own gateway."""
    import asyncio

    from bot.config import Config
    from bot.transports.wechaty_gateway import WechatyTransport

    gw = Gateway(port=_free_port(), log_path=workdir / "gateway-recording.log")
    recorder = Recorder()
    transport = WechatyTransport(Config(aliases=("小助手",), endpoint=f"127.0.0.1:{gw.port}", token=TOKEN), recorder)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(transport.serve(stop)), daemon=True)
    try:
        gw.start()
        thread.start()
        _wait(lambda: transport.self_name, timeout=30, what="the in-process transport to log in")
        yield gw, recorder
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=15)
        gw.kill()


def handed(recording, room: str, sentinel: str, send: Callable[[], None]) -> list[tuple]:
    """(text, quoted, mentioned, event) of what the handler got in `room` from `send()`'s messages, read up to a
    message `sentinel` sent after them (a room's messages are handled in order)."""
    gw, recorder = recording
    start = len(recorder.seen)
    send()
    gw.say("carol", sentinel, room=room)
    _wait(lambda: any(m.text == sentinel for m in recorder.seen[start:]), timeout=15, what="the sentinel")
    return [(m.text, m.quoted, m.mentioned, m.event) for m in recorder.seen[start:] if m.room == room][:-1]


def test_the_gateway_hands_the_handler_the_askers_words_and_the_quote_apart(recording):
    gw, _ = recording

    def send() -> None:
        gw.say("alice", QUOTE_XML.format(title=QUOTING), room=QUOTE_ROOM, mention=["bot"], kind="Url")
        gw.say("alice", QUOTE_XML.format(title=QUOTING), room=QUOTE_ROOM, mention=["bot"], kind="Attachment")
        gw.say("bob", QUOTE_TEXT, room=QUOTE_ROOM, mention=["bot"])
        gw.say("alice", QUOTE_XML.format(title="@小助手妈妈\u2005你证签好了吗"), room=QUOTE_ROOM, mention=["mom"],
               kind="Url")
        gw.say("bob", QUOTE_XML.format(title=QUOTING), room=QUOTE_ROOM, kind="Url")  # no list: the typed name
        gw.say("bob", QUOTE_XML.format(title="同问"), room=QUOTE_ROOM, kind="Url")
        gw.say("bob", QUOTE_XML.format(title=""), room=QUOTE_ROOM, mention=["bot"], kind="Url")  # no words: dropped

    quoted = f"王姐：{QUOTED}"
    assert handed(recording, QUOTE_ROOM, "签注", send) == [
        (QUOTING, quoted, True, None), (QUOTING, quoted, True, None), (QUOTING, quoted, True, None),
        ("@小助手妈妈\u2005你证签好了吗", quoted, False, None), (QUOTING, quoted, True, None), ("同问", quoted, False, None),
    ]


def test_system_lines_and_what_is_not_text_never_reach_the_handler_and_a_pat_is_an_event(recording):
    gw, _ = recording

    def send() -> None:
        for kind, text in NOT_TEXT:
            gw.say("alice", text, room=SYSTEM_ROOM, mention=["bot"], kind=kind)
        gw.say("bob", '"李四" 拍了拍 "小助手"', room=SYSTEM_ROOM, kind="Unknown")
        gw.say("bob", '"李四" 拍了拍我', kind="Text")  # privately
        gw.say("bob", '<sysmsg type="pat"><pat><pattedusername>bot</pattedusername></pat></sysmsg>', room=SYSTEM_ROOM,
               kind="Unknown")

    assert handed(recording, SYSTEM_ROOM, "签注", send) == [("[拍一拍]", None, True, "pat")] * 2
    _, recorder = recording
    assert [(m.sender, m.event) for m in recorder.seen if m.room is None] == [("bob", "pat")]
