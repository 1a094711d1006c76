"""Speak, the pipeline's third stage: whether and what the bot says (addressed or not, thresholds, ambiguity, the
question test) and the per-conversation throttle, timed by each message's own time so replay and live agree."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.events import Incoming
from bot.resolve import Resolution
from bot.throttle import Throttle, Verdict
from intents.scope import UNRELATED
from intents.understand import Understanding

PAT_EVERY = timedelta(minutes=1)  # a pat of the bot gets the help line at most this often in a chat

# What to say (render words each one).
SILENT = "silent"
ANSWER = "answer"
MENU = "menu"  # "did you mean": numbered choices
CANNOT_HELP = "cannot_help"  # addressed, nothing recognised
DECLINE = "decline"  # addressed, out of scope: the out-of-scope entry's polite line
SMALL_TALK = "small_talk"  # addressed, unrelated chat ("今天天气怎么样"): the short what-I-can-help-with line
THANKS = "thanks"  # addressed thank-you: "不客气"

_QUESTION = re.compile(
    r"[?？]|吗|么|呢|怎|什么|啥|哪|多久|多少|几|如何|能否|能不能|可不可以|可以|是否|要不要|有没有|会不会|还能|咋|求|请问|问下|问一下"
    r"|(?:发|说|讲|介绍|解释|科普)一下|告诉我|想知道|想了解"  # a request for the answer: "签注步骤发一下"
    r"|^\s*(?:how|what|when|where|which|who|why|can|could|should|do|does|did|is|are|will|would|may)\b",  # English
    re.IGNORECASE,
)
# A shared card ("[链接] 2026年积分新政解读", "[小程序] 随申办") is its title, not a question.
_NOT_TEXT = re.compile(r"^\s*(<\?xml|<msg\b|<appmsg\b)|^\s*\[[^\]]{1,8}\]\s*$|^\s*\[(链接|小程序|文件|视频号|公众号)\]",
                       re.IGNORECASE)
# An @-mention of a member (the bot's own mentions make a message addressed, decided before this is asked).
_TO_SOMEONE = re.compile(r"@[^\s@]{1,20}(?:[\u2005 ]|$)")
# WeChat's system lines, as exports and some puppets pass them on as text.
_SYSTEM_LINE = re.compile(r"撤回了一条消息|拍了拍|邀请.{0,40}加入了群聊|加入了群聊|修改群名为|移出了群聊|"
                          r"领取了.{0,20}红包|收到红包|转账|以上是打招呼的内容|开启了朋友验证|现在可以开始聊天了")


@dataclass(frozen=True)
class Thresholds:
    """Scores in 0–1 (bot.config validates them): below `minimum` a match is no intent; an unmentioned group
    message is answered only at `group` or above; other intents within `margin` of the best make it ambiguous."""

    minimum: float
    group: float
    margin: float


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


def is_placeholder(text: str) -> bool:
    """XML app messages, "[图片]"-style placeholders and WeChat's system lines carry no question."""
    return bool(_NOT_TEXT.search(text) or _SYSTEM_LINE.search(text))


def decide(msg: Incoming, resolution: Resolution, found: Understanding, *, names_bot: bool, thresholds: Thresholds,
           chosen: bool = False) -> str:
    """What to say for one resolved message (SILENT, ANSWER, MENU, CANNOT_HELP, DECLINE, SMALL_TALK, THANKS);
    `chosen`: the answer was picked from a menu, or is the help for a bare mention."""
    if chosen:
        return ANSWER
    if found.thanks:
        return THANKS if msg.addressed else SILENT
    if resolution.outside:
        if not msg.addressed:
            return SILENT
        return SMALL_TALK if found.outside is not None and found.outside.kind == UNRELATED else DECLINE
    if resolution.entry is None:
        return CANNOT_HELP if msg.addressed else SILENT
    if resolution.rivals:
        return MENU if msg.addressed else SILENT
    if msg.addressed:
        return ANSWER
    if _TO_SOMEONE.search(msg.text or ""):  # "@小助手妈妈 你证签好了吗": one member talking to another
        return SILENT
    if resolution.entry.id.startswith("bot."):  # "小助手能查进度吗"; not "谢谢群里各位和小助手一年的帮助"
        return ANSWER if names_bot and looks_like_question(found.text) else SILENT
    # Unasked, only a real question: confident, asked as a question, and more than a one-word fragment ("签注？").
    asked = resolution.score >= thresholds.group and looks_like_question(found.text) and len(found.words) >= 2
    return ANSWER if asked else SILENT


def conversation_of(msg: Incoming) -> str:
    """The throttle's unit: a room, or one sender's private chat."""
    return msg.room if msg.room is not None else f"private:{msg.sender}"


class Gate:
    """The per-room (and per private chat) rate limit and repeat cooldown in front of every member reply."""

    def __init__(self, *, replies_per_minute: int, repeat_cooldown_seconds: float):
        self.throttle = Throttle(replies_per_minute=replies_per_minute,
                                 repeat_cooldown_seconds=repeat_cooldown_seconds)
        self._pats: dict[str, datetime] = {}

    def pat_allowed(self, msg: Incoming, *, now: datetime) -> bool:
        """Whether a pat of the bot may be answered: at most once per PAT_EVERY in a chat (then it is counted)."""
        conversation = conversation_of(msg)
        last = self._pats.get(conversation)
        if last is not None and timedelta(0) <= now - last < PAT_EVERY:
            return False
        if len(self._pats) > 1000:  # quiet chats are forgotten
            self._pats = {key: at for key, at in self._pats.items() if timedelta(0) <= now - at < PAT_EVERY}
        self._pats[conversation] = now
        return True

    def let_through(self, msg: Incoming, reply: str, *, now: datetime) -> Verdict:
        """What to post for `reply`: itself, a pointer to an earlier answer, or nothing (`text` None, with a reason)."""
        return self.throttle.check(conversation_of(msg), reply, now=now)
