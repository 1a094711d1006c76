"""The WeChat transport: `permitbot serve` answers through a Wechaty puppet-service gateway (the only Wechaty import)."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import signal
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from grpclib.const import Status
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError
from wechaty_puppet import EventType, MessageType, PuppetOptions
from wechaty_puppet.exceptions import WechatyPuppetError

with warnings.catch_warnings():
    # It imports telnetlib, deprecated in 3.11 and gone in 3.13 (hence requires-python <3.13).
    warnings.simplefilter("ignore", DeprecationWarning)
    from wechaty_puppet_service import PuppetService

from bot.app import build, load_data, load_settings
from bot.config import Config
from bot.errors import UsageError
from bot.commands import is_command
from bot.events import PAT, Incoming, Result
from bot.speak import is_placeholder
from bot.transports.exports import APP, placeholder
from bot.transports.quotes import read_quote
from bot.transports.system_lines import PAT_APP_TYPE, system_line
from intents.dates import SHANGHAI
from intents.normalize import mentions_name

logger = logging.getLogger(__name__)

# Everything a lost, refused or half-open gateway connection raises; anything else is a bug.
CONNECTION_ERRORS = (OSError, asyncio.TimeoutError, GRPCError, ProtocolError, StreamTerminatedError, WechatyPuppetError)
# The Wechaty client libraries log through these, each with its own stderr handler.
_WECHATY_LOGGERS = ("PuppetService", "WechatyPuppetServiceConfig", "WechatyPuppet.Schema.Base",
                    "WechatyPuppet.Schemas.Event", "FileBox")

RECONNECT_REPORT_SECONDS = 60.0  # while the gateway stays away, one attempt this often is logged at info
CONNECT_TIMEOUT_SECONDS = 30.0  # from connecting to the first heartbeat or login
PING_INTERVAL_SECONDS = 30.0  # a ding this often notices a half-open connection
PING_TIMEOUT_SECONDS = 10.0
ROOM_ALIAS_TTL = timedelta(minutes=10)
# Messages waiting (issue 14, item 5): ids not read yet, then each conversation's own queue; beyond each bound the
# oldest are dropped, one log line a burst.
INTAKE_LIMIT = 2000  # message ids from the event stream whose payload is not read yet
FETCH_AHEAD = 16  # payload requests in flight at once
CONVERSATION_QUEUE_LIMIT = 100  # messages of one room (or one member's private chat) waiting for the handler
BACKLOG_LIMIT = 10_000  # messages waiting in all conversations together; beyond it the longest queue loses its oldest
WORKERS = 4  # conversations answered at the same time (each one message at a time, so its replies keep their order)
BUSY_CONVERSATION = 3  # a conversation with more messages than this waiting is answered only while reading keeps up
DROP_REPORT_SECONDS = 60.0  # a drop burst that goes on is logged this often
OPERATOR_QUEUE = "operator:"  # + the operator's id: the backlog queue of one operator's commands, never dropped
PAT_TEXT = placeholder(APP, PAT_APP_TYPE)  # an Incoming for a pat of the bot carries this text ("[拍一拍]")


class Handler(Protocol):
    def handle(self, msg: Incoming) -> Result: ...


class GatewayUnavailable(Exception):
    """The gateway cannot be reached, refuses the token, or has no account logged in; the message says which."""


# -- pure parts: what a gateway message means, and what to send back ---------------------------


def message_time(timestamp: int, *, received: datetime) -> datetime:
    """A gateway timestamp as Shanghai time: milliseconds per the protocol; some puppets send seconds; 0 is unknown."""
    if timestamp <= 0:
        return received.astimezone(SHANGHAI)
    seconds = timestamp / 1000 if timestamp > 100_000_000_000 else timestamp
    return datetime.fromtimestamp(seconds, SHANGHAI)


def is_mentioned(text: str, mention_ids: list[str], *, self_id: str | None, names: list[str]) -> bool:
    """Whether a room message mentions the bot.

    A message that carries a mention list is decided by that list alone (WeChat fills it from the members
    picked after "@"); only without one does "@<one of the bot's names>" typed in the text count, as a whole
    name (`intents.normalize.mentions_name`): "@小助手妈妈 你证签好了吗" mentions 小助手妈妈, not 小助手.
    """
    if mention_ids:
        return self_id is not None and self_id in mention_ids
    return any(mentions_name(text, name) for name in names)


@dataclass(frozen=True)
class Delivery:
    """One text to send: to a room (mentioning `mention_ids`) or to a contact's private chat."""

    conversation: str
    text: str
    mention_ids: tuple[str, ...] = ()


def deliveries(msg: Incoming, result: Result, *, talker_name: str) -> list[Delivery]:
    """What to send for the handler's result (already throttled by it): operator answers privately, room replies
    @-mention the asker."""
    if result.reply is None:
        return []
    if result.private_reply or msg.room is None:  # operator command answers never go into the room
        return [Delivery(msg.sender, result.reply)]
    prefix = f"@{talker_name} " if talker_name else ""
    return [Delivery(msg.room, prefix + result.reply, (msg.sender,))]


def retry_delay(interval: float, *, draw: Callable[[], float] = random.random) -> float:
    """Seconds (float) before the next connection attempt: between half and all of `interval`, at random.

    Short and the same however long the gateway has been away, so the bot is back within about `interval` plus
    the attach time of the gateway's return (a growing back-off left it 30 s late); the jitter keeps bots that
    lost one gateway together from knocking in step. `draw` gives a number in [0, 1).
    """
    return interval * (0.5 + 0.5 * draw())


def _describe(exc: BaseException) -> str:
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


# -- messages waiting: bounded, per conversation, served in turn --------------------------------


class _DropBurst:
    """Messages dropped from one queue since the burst began: one log line when the queue empties (the burst is
    over) and, while it lasts, one every DROP_REPORT_SECONDS; never one a message."""

    def __init__(self, where: str, why: str):
        self.where = where
        self.why = why
        self.count = 0
        self.since = 0.0

    def drop(self) -> None:
        now = time.monotonic()
        if not self.count:
            self.since = now
        self.count += 1
        if now - self.since >= DROP_REPORT_SECONDS:
            self.report(ongoing=True)

    def report(self, *, ongoing: bool = False) -> None:
        if self.count:
            logger.warning("dropped %d waiting messages of %s: %s%s", self.count, self.where, self.why,
                           " (still flooding)" if ongoing else "")
            self.count = 0


class Intake:
    """Message ids from the event stream, oldest first, until their payloads are read (the event names no room, so
    this one queue comes before the per-conversation ones); beyond `limit` the oldest id is dropped.

    Reading comes first for a busy conversation: while more than `keep_up` ids wait, `caught_up` holds back the
    worker with a message of a conversation that has more waiting (`Backlog.waiting`), so the handler's time goes
    to reading, where a flood reaches its own room's queue (and drops its own), and not to a growing line of unread
    ids, where another room's question would wait behind the flood."""

    def __init__(self, limit: int = INTAKE_LIMIT, *, keep_up: int = FETCH_AHEAD):
        self._ids: deque[str] = deque()
        self._limit = limit
        self._keep_up = keep_up
        self._burst = _DropBurst("the gateway", f"more than {limit} were waiting to be read")
        self._arrived = asyncio.Event()
        self._short = asyncio.Event()
        self._short.set()

    def __len__(self) -> int:
        return len(self._ids)

    def put(self, message_id: str) -> None:
        if len(self._ids) >= self._limit:
            self._ids.popleft()
            self._burst.drop()
        self._ids.append(message_id)
        self._arrived.set()
        if len(self._ids) > self._keep_up:
            self._short.clear()

    def take(self) -> str:
        """The oldest id; only when there is one (len > 0)."""
        message_id = self._ids.popleft()
        if len(self._ids) <= self._keep_up:
            self._short.set()
        if not self._ids:
            self._burst.report()
        return message_id

    async def wait(self) -> None:
        """Returns when an id is waiting."""
        while not self._ids:
            self._arrived.clear()
            await self._arrived.wait()

    async def caught_up(self) -> None:
        """Returns when no more than `keep_up` ids wait to be read."""
        await self._short.wait()


class Backlog:
    """Messages waiting for the handler: one FIFO queue per conversation (a room, or one member's private chat),
    served in turn (round robin), one message at a time per conversation.

    A conversation beyond `per_conversation` waiting messages loses its own oldest; beyond `total` in all, the longest
    queue loses its oldest. So a flooding room can neither push out nor delay another conversation's message, which
    waits at most for one message of each other conversation with messages waiting. A conversation `keep` says yes
    to (an operator's commands, `queue_of`) loses nothing: it is neither cut at `per_conversation` nor picked to make
    room for the total. Items are opaque.
    """

    def __init__(self, *, per_conversation: int = CONVERSATION_QUEUE_LIMIT, total: int = BACKLOG_LIMIT,
                 keep: Callable[[str], bool] = lambda conversation: False):
        self.per_conversation = per_conversation
        self.total = total
        self.keep = keep
        self._queues: dict[str, deque[Any]] = {}
        self._turns: deque[str] = deque()  # conversations with a message waiting and none being handled
        self._busy: set[str] = set()
        self._bursts: dict[str, _DropBurst] = {}
        self._size = 0
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return self._size

    def waiting(self, conversation: str) -> int:
        """How many messages of the conversation wait (not counting the one being handled)."""
        queue = self._queues.get(conversation)
        return len(queue) if queue else 0

    def put(self, conversation: str, item: Any) -> None:
        """Queue `item` last in its conversation, making room by dropping the oldest as the bounds say."""
        queue = self._queues.setdefault(conversation, deque())
        kept = self.keep(conversation)
        if len(queue) >= self.per_conversation and not kept:
            self._drop_oldest(conversation, f"more than {self.per_conversation} were waiting")
        elif self._size >= self.total and (droppable := [other for other, waiting in self._queues.items()
                                                         if waiting and not self.keep(other)]):
            self._drop_oldest(max(droppable, key=lambda other: len(self._queues[other])),
                              f"more than {self.total} were waiting in all conversations, the most here")
        queue = self._queues.setdefault(conversation, queue)  # dropping may have emptied and removed it
        queue.append(item)
        self._size += 1
        if len(queue) == 1 and conversation not in self._busy:
            self._turns.append(conversation)
            self._ready.set()

    async def take(self) -> tuple[str, Any]:
        """The next conversation in turn and its oldest message; the conversation is busy until `done`."""
        while not self._turns:
            self._ready.clear()
            await self._ready.wait()
        conversation = self._turns.popleft()
        queue = self._queues[conversation]
        item = queue.popleft()
        self._size -= 1
        if not queue:
            self._forget(conversation)
        self._busy.add(conversation)
        return conversation, item

    def done(self, conversation: str) -> None:
        """The conversation's message is handled: its next one (if any) takes its turn, after the others'."""
        self._busy.discard(conversation)
        if conversation in self._queues:
            self._turns.append(conversation)
            self._ready.set()

    def _drop_oldest(self, conversation: str, why: str) -> None:
        queue = self._queues[conversation]
        queue.popleft()
        self._size -= 1
        self._bursts.setdefault(conversation, _DropBurst(str(conversation), why)).drop()
        if not queue:
            self._forget(conversation)
            if conversation in self._turns:
                self._turns.remove(conversation)

    def _forget(self, conversation: str) -> None:
        """The conversation has nothing waiting: the drop burst (if any) is over."""
        del self._queues[conversation]
        burst = self._bursts.pop(conversation, None)
        if burst:
            burst.report()


def queue_of(sender: str, room: str | None, text: str | None, *, operators: frozenset[str]) -> str:
    """The backlog queue a message waits in: a configured operator's command in that operator's own queue (kept
    whole, and in the order sent from any chat, so an `#faq add` and its `#faq confirm` stay a pair), any other
    message in its conversation's (a room, or the sender's private chat). A member typing `#faq` is no operator."""
    if sender in operators and is_command(text):
        return OPERATOR_QUEUE + sender
    return room or f"private:{sender}"


def is_operator_queue(conversation: str) -> bool:
    """Whether a backlog queue holds an operator's commands (`queue_of`): nothing in it is ever dropped."""
    return conversation.startswith(OPERATOR_QUEUE)


# -- the connection ----------------------------------------------------------------------------


class _RedactToken(logging.Filter):
    """The client logs its token at every connection; keep it out of the journal."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            record.msg = record.getMessage().replace(self.token, "***")
            record.args = None
        return True


def _tame_wechaty_logging(token: str | None, *, verbose: bool) -> None:
    """Route the client libraries' logs through ours, quiet unless --verbose, without the token."""
    for name in _WECHATY_LOGGERS:
        wechaty_logger = logging.getLogger(name)
        wechaty_logger.handlers = []
        wechaty_logger.propagate = True
        wechaty_logger.setLevel(logging.DEBUG if verbose else logging.ERROR)
        wechaty_logger.filters = [_RedactToken(token or "")]


def _new_puppet(config: Config) -> PuppetService:
    return PuppetService(PuppetOptions(end_point=config.endpoint, token=config.token))


class WechatyTransport:
    """Keeps one bot connected to one gateway for as long as it runs, and answers its messages."""

    def __init__(self, config: Config, handler: Handler, *, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.handler = handler
        self.clock = clock or (lambda: datetime.now(SHANGHAI))
        self.self_id: str | None = None
        self.self_name: str | None = None
        self._room_alias: dict[str, tuple[str, datetime]] = {}
        self._down_since: float | None = None  # monotonic time the gateway went away, while reconnecting
        # Operator commands (previews of about 0.3 s, matcher rebuilds) run here, one at a time in the order they
        # came, beside the event loop: members' questions never wait for them (issue 14, item 6).
        self._commands = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commands")

    async def serve(self, stop: asyncio.Event) -> None:
        """Connect, answer, and reconnect at short random intervals whenever the gateway goes away, until `stop` is set.

        While the gateway stays away, one attempt in RECONNECT_REPORT_SECONDS is logged at info (the rest at debug),
        so an outage of hours does not fill the journal.
        """
        attempt = 0
        down_since: float | None = None  # monotonic time of the first failure of the current outage
        reported = 0.0
        while not stop.is_set():
            attempt += 1
            now = time.monotonic()
            loud = down_since is None or now - reported >= RECONNECT_REPORT_SECONDS
            (logger.info if loud else logger.debug)("connecting to gateway %s (attempt %d)", self.config.endpoint, attempt)
            self._down_since = down_since
            logged_in, reason = await self._session(stop)
            if stop.is_set():
                break
            now = time.monotonic()
            if logged_in or down_since is None:
                down_since = reported = now
                loud = True
            delay = retry_delay(self.config.reconnect_max_seconds)
            if loud:
                reported = now
                logger.warning("gateway %s: %s; reconnecting in %.1f s%s", self.config.endpoint, reason, delay,
                               "" if now == down_since else f" (down for {now - down_since:.0f} s)")
            else:
                logger.debug("gateway %s: %s; reconnecting in %.1f s", self.config.endpoint, reason, delay)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
        self._commands.shutdown(wait=False)
        logger.info("stopped")

    async def _session(self, stop: asyncio.Event) -> tuple[bool, str]:
        """One connection, from start to loss. Returns whether the bot logged in and why the connection ended."""
        puppet = _new_puppet(self.config)
        intake, backlog = Intake(), Backlog(keep=is_operator_queue)
        connected = asyncio.Event()
        logged_in = asyncio.Event()
        self._room_alias.clear()

        def on_message(payload: Any) -> None:
            intake.put(payload.message_id)

        async def on_login(payload: Any) -> None:
            self.self_id = payload.contact_id
            connected.set()
            logged_in.set()
            try:
                contact = await puppet.contact_payload(payload.contact_id)
                self.self_name = contact.name or None
            except CONNECTION_ERRORS as exc:
                logger.warning("could not read the bot's own name: %s", _describe(exc))
            back = "" if self._down_since is None else f", {time.monotonic() - self._down_since:.1f} s after the loss"
            logger.info("logged in as %s (%s)%s", self.self_name or "?", self.self_id, back)

        def on_logout(payload: Any) -> None:
            logger.warning("logged out of WeChat (%s): %s", payload.contact_id, payload.data or "no reason given")
            self.self_id = None

        def on_scan(payload: Any) -> None:
            logger.warning("the gateway has no account logged in; it waits for a QR code scan (status %s) %s",
                           payload.status, payload.qrcode or "")

        def on_error(payload: Any) -> None:
            logger.warning("gateway error event: %s", payload)

        puppet.on("message", on_message)
        puppet.on("login", on_login)
        puppet.on("logout", on_logout)
        puppet.on("scan", on_scan)
        puppet.on("heartbeat", lambda payload: connected.set())
        puppet.on("error", on_error)

        tasks = {
            asyncio.create_task(puppet.start(), name="events"),
            asyncio.create_task(self._read(puppet, intake, backlog), name="reader"),
            *(asyncio.create_task(self._work(puppet, intake, backlog), name="worker") for _ in range(WORKERS)),
            asyncio.create_task(self._watch(puppet, connected), name="watchdog"),
            asyncio.create_task(stop.wait(), name="stop"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._close(puppet)
        # When several ended together, the one that failed says most.
        ended = sorted(done, key=lambda task: task.cancelled() or task.exception() is None)
        return logged_in.is_set(), self._why(ended[0])

    @staticmethod
    def _why(task: asyncio.Task[Any]) -> str:
        if task.cancelled():
            return "cancelled"
        exc = task.exception()
        if exc is None:
            return {"events": "the event stream ended", "watchdog": "no answer to a ping"}.get(task.get_name(), "done")
        if isinstance(exc, GRPCError) and exc.status == Status.UNAUTHENTICATED:
            return f"the gateway refused the token ({exc.message})"
        if isinstance(exc, CONNECTION_ERRORS):
            return _describe(exc)
        # Not a connection problem, but the client failed on something the gateway sent (a payload it does not
        # parse, say): keep reconnecting rather than exit, and leave the traceback in the log.
        logger.error("the gateway client failed", exc_info=exc)
        return f"unexpected {_describe(exc)}"

    @staticmethod
    def _close(puppet: PuppetService) -> None:
        """Close the connection only: `puppet.stop()` would also stop the gateway's puppet (and log the account out)."""
        if puppet.channel is not None:
            puppet.channel.close()

    async def _watch(self, puppet: PuppetService, connected: asyncio.Event) -> None:
        """Returns (ending the session) when the gateway does not say hello in time or stops answering pings."""
        try:
            await asyncio.wait_for(connected.wait(), timeout=CONNECT_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            logger.warning("no heartbeat or login within %.0f s of connecting", CONNECT_TIMEOUT_SECONDS)
            return
        while True:
            await asyncio.sleep(PING_INTERVAL_SECONDS)
            try:
                await asyncio.wait_for(puppet.ding("permitbot"), timeout=PING_TIMEOUT_SECONDS)
            except CONNECTION_ERRORS as exc:
                logger.warning("the gateway did not answer a ping: %s", _describe(exc))
                return

    async def _read(self, puppet: PuppetService, intake: Intake, backlog: Backlog) -> None:
        """Reads the payloads of the waiting message ids, FETCH_AHEAD requests at a time, and queues each message in
        its conversation's backlog in the order the ids came (the event names no room: its payload does)."""
        pending: deque[asyncio.Future[Any]] = deque()
        try:
            while True:
                while intake and len(pending) < FETCH_AHEAD:
                    pending.append(asyncio.ensure_future(self._payload(puppet, intake.take())))
                if not pending:
                    await intake.wait()
                    continue
                payload = await pending.popleft()
                if payload is not None:
                    backlog.put(queue_of(payload.from_id, payload.room_id or None, payload.text,
                                         operators=self.config.operators), payload)
        finally:
            for request in pending:
                request.cancel()

    @staticmethod
    async def _payload(puppet: PuppetService, message_id: str) -> Any:
        """The message's payload from the gateway, or None (logged) when it cannot be read."""
        try:
            return await puppet.message_payload(message_id)
        except IndexError:  # the client maps types by list index and fails on types newer than it knows
            logger.debug("skipped message %s: a message type the client does not know", message_id)
        except CONNECTION_ERRORS as exc:
            logger.warning("could not read message %s from the gateway: %s", message_id, _describe(exc))
        except Exception:  # the client failed on what the gateway sent: one message lost, never the bot
            logger.exception("could not read message %s", message_id)
        return None

    async def _work(self, puppet: PuppetService, intake: Intake, backlog: Backlog) -> None:
        """Answers the conversations' messages in turn; in each conversation one at a time, in the order they came,
        so replies keep the order of the questions. For a busy conversation, reading the waiting ids comes first
        (`Intake.caught_up`); the other workers meanwhile answer the quiet ones."""
        while True:
            conversation, payload = await backlog.take()
            if backlog.waiting(conversation) > BUSY_CONVERSATION:
                await intake.caught_up()
            try:
                await self._on_message(puppet, payload)
            except CONNECTION_ERRORS as exc:
                logger.warning("lost the gateway while answering message %s: %s", payload.id, _describe(exc))
            except Exception:  # the dispatch boundary: one bad message costs its answer, never the bot
                logger.exception("failed to answer message %s", payload.id)
            finally:
                backlog.done(conversation)
            await asyncio.sleep(0)  # the handler does not wait: let the reader and the other workers in between

    async def _on_message(self, puppet: PuppetService, payload: Any) -> None:
        msg = await self._incoming(puppet, payload)
        if msg is None:
            return
        if is_command(msg.text):  # an operator's edit (preview, rebuild) runs beside the members' questions
            result = await asyncio.get_running_loop().run_in_executor(self._commands, self.handler.handle, msg)
        else:
            result = self.handler.handle(msg)
        if result.held_back:
            logger.info("held back a reply in %s (%s)", msg.room or msg.sender, result.held_back)
        talker_name = await self._display_name(puppet, msg.room, msg.sender) if msg.room and result.reply else ""
        for delivery in deliveries(msg, result, talker_name=talker_name):
            await puppet.message_send_text(delivery.conversation, delivery.text,
                                           mention_ids=list(delivery.mention_ids) or None)
            logger.info("replied to %s in %s (intent %s)", msg.sender, delivery.conversation, result.intent)

    async def _incoming(self, puppet: PuppetService, payload: Any) -> Incoming | None:
        """The message as the handler sees it, or None when the bot must ignore it.

        A quote (`quotes.read_quote`, of any message type) is the asker's words with the quoted message as `quoted`;
        a pat of the bot (`system_lines.system_line`) is `event="pat"` with the text PAT_TEXT; other system lines,
        and whatever is not text (images, stickers, voice, files, cards, red packets, transfers, …), are ignored.
        In a room, the mention list decides whether the bot is mentioned; without one the bot's name typed in the
        asker's words (`is_mentioned`).
        """
        if payload.from_id == self.self_id:
            return None  # the bot's own message, echoed back
        room = payload.room_id or None
        if room and self.config.allowed_rooms and room not in self.config.allowed_rooms:
            logger.debug("skipped message %s: room %s is not allowed", payload.id, room)
            return None
        now = self.clock()
        sent = message_time(payload.timestamp, received=now)
        if now - sent > timedelta(seconds=self.config.max_message_age_seconds):
            logger.info("skipped message %s: sent at %s, too long ago to answer", payload.id, sent.isoformat())
            return None
        content = payload.text or ""
        quote = read_quote(content)
        text, quoted, event = content, None, None
        if quote is not None:
            text, quoted = quote.text, quote.quoted
            if not text:
                logger.debug("skipped message %s: a quote without words of its own", payload.id)
                return None
        else:
            names = await self._names(puppet, room) if "拍了拍" in content else []  # a pat names whom it pats
            kind = system_line(content, bot_id=self.self_id, bot_names=names)
            if kind == PAT:
                text, event = PAT_TEXT, PAT
            elif kind is not None or payload.type != MessageType.MESSAGE_TYPE_TEXT or is_placeholder(content):
                logger.debug("skipped message %s: %s (%s)", payload.id, "a system line" if kind else "not text",
                             payload.type)
                return None
        mentioned = event == PAT
        if room and not mentioned:
            # Without a mention list the name typed after "@" decides, perhaps the bot's nickname in this room.
            names = await self._names(puppet, room) if not payload.mention_ids and "@" in text else []
            mentioned = is_mentioned(text, payload.mention_ids, self_id=self.self_id, names=names)
        return Incoming(text=text, time=sent, sender=payload.from_id, room=room, mentioned=mentioned, id=payload.id,
                        quoted=quoted, event=event)

    async def _names(self, puppet: PuppetService, room: str | None) -> list[str]:
        """The names members call the bot by: its aliases, its WeChat name and, in a room, its nickname there."""
        names = [*self.config.aliases, self.self_name or ""]
        if room:
            names.append(await self._bot_room_alias(puppet, room))
        return names

    async def _bot_room_alias(self, puppet: PuppetService, room: str) -> str:
        """The bot's nickname in this room (what members type after "@"), cached for a while."""
        cached = self._room_alias.get(room)
        now = self.clock()
        if cached and now - cached[1] < ROOM_ALIAS_TTL:
            return cached[0]
        alias = ""
        if self.self_id:
            try:
                member = await puppet.room_member_payload(room, self.self_id)
            except GRPCError as exc:  # as in _display_name: answer by the other names, and ask again next time
                logger.debug("no room nickname for the bot in %s: %s", room, _describe(exc))
                return ""
            alias = member.room_alias or ""
        self._room_alias[room] = (alias, now)
        return alias

    async def _display_name(self, puppet: PuppetService, room: str, contact_id: str) -> str:
        """What the room shows for a member: their room nickname, else their WeChat name ("" if unknown)."""
        try:
            member = await puppet.room_member_payload(room, contact_id)
            if member.room_alias or member.name:
                return member.room_alias or member.name
            return (await puppet.contact_payload(contact_id)).name or ""
        except GRPCError as exc:  # e.g. the member left the room meanwhile: reply with the mention id alone
            logger.debug("no name for %s in %s: %s", contact_id, room, _describe(exc))
            return ""


# -- the health check --------------------------------------------------------------------------


async def check_gateway(config: Config, *, timeout: float) -> tuple[str, str]:
    """The logged-in account's (id, name), read without disturbing a bot already attached to the gateway."""
    host, _, port = (config.endpoint or "").rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout=timeout)
        writer.close()
    except (OSError, asyncio.TimeoutError) as exc:
        raise GatewayUnavailable(f"cannot reach the gateway at {config.endpoint} within {timeout:.0f} s "
                                 f"({type(exc).__name__}: {exc or 'timed out'})") from exc
    puppet = _new_puppet(config)
    # Not puppet.start(): it calls the gateway's stop() first, which would cut off a running bot's event stream.
    puppet._init_puppet()
    try:
        return await asyncio.wait_for(_read_login(puppet), timeout=timeout)
    except asyncio.TimeoutError as exc:
        raise GatewayUnavailable(f"the gateway at {config.endpoint} answered but reported no logged-in account "
                                 f"within {timeout:.0f} s") from exc
    except GRPCError as exc:
        if exc.status == Status.UNAUTHENTICATED:
            raise GatewayUnavailable(f"the gateway at {config.endpoint} refused the token ({exc.message})") from exc
        if exc.status == Status.ALREADY_EXISTS:
            raise GatewayUnavailable(f"the gateway at {config.endpoint} is up, but another client holds its event "
                                     "stream (a running `permitbot serve`?): that client's log shows the account") from exc
        raise GatewayUnavailable(f"the gateway at {config.endpoint} failed: {exc.status.name} {exc.message}") from exc
    except (OSError, ProtocolError, StreamTerminatedError) as exc:
        raise GatewayUnavailable(f"the gateway at {config.endpoint} dropped the connection: {exc}") from exc
    finally:
        WechatyTransport._close(puppet)


async def _read_login(puppet: PuppetService) -> tuple[str, str]:
    """Waits on the event stream for the login event a gateway sends a new client when an account is logged in."""
    async for event in puppet.puppet_stub.event():
        payload = json.loads(event.payload or "{}")
        if event.type == int(EventType.EVENT_TYPE_LOGIN):
            contact = await puppet.contact_payload(payload["contactId"])
            return payload["contactId"], contact.name
        if event.type == int(EventType.EVENT_TYPE_SCAN):
            logger.warning("the gateway waits for a QR code scan: %s", payload.get("qrcode"))
    raise GatewayUnavailable("the gateway closed the event stream before reporting a logged-in account")


# -- the command -------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve", help="answer in WeChat through a Wechaty gateway, until stopped",
        description="Connects to a Wechaty puppet-service gateway (TLS off) and answers group and private "
                    "messages, reconnecting whenever the gateway goes away. Logs go to stderr. "
                    "Example: permitbot serve --endpoint 127.0.0.1:8788 --token $TOKEN --config permitbot.toml")
    serve.add_argument("--endpoint", help="gateway HOST:PORT (default: WECHATY_PUPPET_SERVICE_ENDPOINT)")
    serve.add_argument("--token", help="gateway token (default: WECHATY_PUPPET_SERVICE_TOKEN)")
    serve.add_argument("--config", help="TOML configuration file")
    serve.add_argument("--db", help="knowledge database path (default: ~/.local/share/permitbot/knowledge.db)")
    serve.add_argument("--check", action="store_true",
                       help="connect, print the logged-in account and exit (0: alive, 1: not)")
    serve.add_argument("--timeout", type=float, default=10.0, help="seconds --check waits for the gateway (default 10)")
    serve.set_defaults(func=run_serve)


def _gateway_config(args: argparse.Namespace) -> Config:
    config = load_settings(args.config, db_path=args.db, endpoint=args.endpoint, token=args.token)
    load_data(config)  # a broken data file stops --check as it stops serving
    if not config.endpoint:
        raise UsageError("no gateway endpoint: pass --endpoint HOST:PORT or set WECHATY_PUPPET_SERVICE_ENDPOINT "
                       "(without it the client looks the token up on the internet)")
    if ":" not in config.endpoint or not config.endpoint.rpartition(":")[2].isdigit():
        raise UsageError(f"gateway endpoint {config.endpoint!r} is not HOST:PORT")
    if not config.token:
        raise UsageError("no gateway token: pass --token or set WECHATY_PUPPET_SERVICE_TOKEN")
    return config


def run_serve(args: argparse.Namespace) -> int:
    config = _gateway_config(args)
    verbose = bool(getattr(args, "verbose", False))
    _tame_wechaty_logging(config.token, verbose=verbose)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)  # connections and logins belong in the service log even without -v
    if args.check:
        return _run_check(config, timeout=args.timeout)
    asyncio.run(_serve_until_signalled(WechatyTransport(config, build(config))))
    return 0


def _run_check(config: Config, *, timeout: float) -> int:
    started = time.monotonic()
    try:
        contact_id, name = asyncio.run(check_gateway(config, timeout=timeout))
    except GatewayUnavailable as exc:
        print(f"permitbot: {exc}", file=sys.stderr)
        return 1
    print(f"logged in as {name} ({contact_id}) at {config.endpoint}, checked in {time.monotonic() - started:.2f} s")
    return 0


async def _serve_until_signalled(transport: WechatyTransport) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await transport.serve(stop)
