"""What the bot saw and missed: after each chat message, the daily counters and, for an in-scope question it
could not answer confidently, a line in the unanswered queue (redacted by the store) with the nearest intent as
suggestion; and members' reports that an answer was wrong ("答错了"), which go to the same queue, marked."""
from __future__ import annotations

import logging
import re
import sqlite3
from datetime import datetime, timedelta

from bot import render
from bot.commands import is_command
from bot.events import Incoming, Result
from intents.dates import message_date
from knowledge.faqfile import OUT_OF_SCOPE
from bot.speak import is_placeholder, looks_like_question
from bot.transports.quotes import quoted_words, read_quote
from knowledge.redact import redact
from intents.normalize import normalize
from intents.understand import MAX_QUESTION_CHARS
from knowledge.store import ErrorReport, KnowledgeStore, Missed, phrasing_key

logger = logging.getLogger(__name__)

# A report counts only this soon after the answer it is about.
ERROR_REPORT_WINDOW = timedelta(minutes=5)
MAX_REPORTED_REPLY_CHARS = 500
# The whole message (punctuation, spaces and mentions removed) says the answer was wrong, and no more.
_WRONG = re.compile(r"^(?:你|你这|这个?|机器人|小助手)?(?:回?答错了?|回?答得?不对|回答有误|不对(?:不对)?|错了|说错了|搞错了|"
                    r"弄错了|不是这个|答非所问)[啊呀吧哦哈啦喔嘛呢哎唉]*$")
_NOT_WORD = re.compile(r"[\W_]+")


def is_error_report(text: str, previous_reply: str | None = None, *, quoted: str | None = None,
                    aliases: tuple[str, ...] = ()) -> bool:
    """Whether a chat message says the bot's answer was wrong: "答错了", "不对", "你答得不对吧" … on their own
    (mentions, spaces and punctuation aside), or as the reply to a quote, which must then quote `previous_reply`
    (WeChat may shorten a quote: its start is enough). The quote is `quoted` ("name：words", as transports split
    it, `bot.transports.quotes`), or still in `text`."""
    if quoted is None and (quote := read_quote(text or "")) is not None:
        text, quoted = quote.text, quote.quoted or ""
    if quoted is not None:
        quoted_key = phrasing_key(quoted_words(quoted))
        if not previous_reply or not quoted_key or quoted_key[:40] not in phrasing_key(previous_reply):
            return False
    return bool(_WRONG.match(_NOT_WORD.sub("", normalize(text or "", aliases))))


def report_error(store: KnowledgeStore, msg: Incoming, previous_question: str, previous_reply: str, *,
                 answered_at: datetime, intent: str | None = None, aliases: tuple[str, ...] = ()) -> Result | None:
    """When `msg` reports the bot's answer wrong (is_error_report) within ERROR_REPORT_WINDOW of `answered_at`,
    put the question and the reply (both redacted) in the review queue marked as a reported error, and return
    the short thanks to send; otherwise None, and the message is handled as any other.

    `previous_question` / `previous_reply` / `intent` / `answered_at`: the answer the message is about, the last
    one the bot gave in that chat (times timezone-aware). A database error is logged and answered with a thanks
    that asks the member to tell an operator instead.
    """
    if not previous_question or not previous_reply:
        return None
    if not timedelta(0) <= msg.time - answered_at <= ERROR_REPORT_WINDOW:
        return None
    if not is_error_report(msg.text, previous_reply, quoted=msg.quoted, aliases=aliases):
        return None
    question = normalize(redact(previous_question[:MAX_QUESTION_CHARS]), aliases)
    report = ErrorReport(question=question, key=phrasing_key(question), at=msg.time.isoformat(timespec="seconds"),
                         reply=redact(previous_reply)[:MAX_REPORTED_REPLY_CHARS], intent=intent, room=msg.room)
    try:
        store.record_error_report(report, day=message_date(msg.time).isoformat())
    except sqlite3.Error as exc:
        logger.warning("could not record the error report in message %s: %s", msg.id or "?", exc)
        return Result(reply=render.ERROR_NOT_RECORDED)
    return Result(reply=render.ERROR_THANKS)



def assess(msg: Incoming, result: Result, text: str, *, group_confidence: float) -> tuple[list[str], Missed | None]:
    """The counters one handled message adds to, and the missed question to log, if any.

    An unrecognised question (reported as out of scope) may be a miss; a real out-of-scope verdict (scope
    marker, the out-of-scope entry) is not. A question is
    in scope when it was addressed to the bot, or looks like a question and shares words with the library (the
    matcher found candidates). It is missed when unrecognised or scored below the group threshold.
    """
    counts = ["messages"]
    unrecognised = not result.recognised
    if not text or is_placeholder(msg.text or "") or (result.intent == OUT_OF_SCOPE and not unrecognised):
        return counts, None
    if not (msg.addressed or (looks_like_question(text) and (result.candidates or not unrecognised))):
        return counts, None
    counts.append("questions")
    if result.replied and not unrecognised:
        counts += ["answered", f"intent:{result.intent}"]
    if not unrecognised and result.confidence >= group_confidence:
        return counts, None
    counts.append("missed")
    # The suggestion is what the bot answers now (its entry, dated sibling included), else the nearest candidate:
    # never one that contradicts how the question was resolved.
    nearest = next(((entry_id, score) for entry_id, score in result.candidates if entry_id != OUT_OF_SCOPE), None)
    suggestion = result.entry_id if result.recognised and result.entry_id else (nearest[0] if nearest else None)
    score = result.confidence if result.entry_id else (nearest[1] if nearest else 0.0)
    return counts, Missed(question=text, at=msg.time.isoformat(timespec="seconds"), room=msg.room,
                          sender=msg.sender, suggestion=suggestion, score=round(score, 4))


def review(msg: Incoming, result: Result, *, aliases: tuple[str, ...],
           group_confidence: float) -> tuple[list[str], Missed | None]:
    """assess() of a message as the handler read it (its first MAX_QUESTION_CHARS, normalised)."""
    return assess(msg, result, normalize(redact((msg.text or "")[:MAX_QUESTION_CHARS]), aliases),
                  group_confidence=group_confidence)


def record(store: KnowledgeStore, msg: Incoming, result: Result, *, aliases: tuple[str, ...], keep: int,
           group_confidence: float, retention_days: int | None = None) -> None:
    """Count one handled chat message (operator commands are not counted); a full disk costs the log, not the answer.
    The store redacts the question and hashes the sender; with `retention_days`, older questions leave the queue."""
    if is_command(msg.text):
        return
    counts, missed = review(msg, result, aliases=aliases, group_confidence=group_confidence)
    try:
        store.record_message(day=message_date(msg.time).isoformat(), counts=counts, missed=missed, keep=keep,
                             retention=timedelta(days=retention_days) if retention_days else None)
    except sqlite3.Error as exc:
        _warn_once(f"the activity log cannot be written ({exc}); questions are still answered, but counted and "
                   "queued for review only once the database can be written again")


_warned: set[str] = set()


def _warn_once(text: str) -> None:
    """A storage problem is said once per process, not once per message."""
    if text not in _warned:
        _warned.add(text)
        logger.warning("%s", text)
