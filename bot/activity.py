"""What the bot saw and missed: after each chat message, the daily counters and, for an in-scope question it
could not answer confidently, a redacted line in the unanswered queue with the nearest intent as suggestion."""
from __future__ import annotations

import logging
import sqlite3

from bot.commands import is_command
from bot.events import Incoming, Result
from intents.dates import message_date
from knowledge.faqfile import OUT_OF_SCOPE
from bot.redact import redact
from bot.speak import is_placeholder, looks_like_question
from intents.normalize import normalize
from intents.understand import MAX_QUESTION_CHARS
from knowledge.store import KnowledgeStore, Missed, phrasing_key

logger = logging.getLogger(__name__)



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
    question = redact(text)
    suggestion, score = result.candidates[0] if result.candidates else (None, 0.0)
    return counts, Missed(question=question, key=phrasing_key(question), at=msg.time.isoformat(timespec="seconds"),
                          room=msg.room, suggestion=suggestion, score=round(score, 4))


def record(store: KnowledgeStore, msg: Incoming, result: Result, *, aliases: tuple[str, ...], keep: int,
           group_confidence: float) -> None:
    """Count one handled chat message (operator commands are not counted); a full disk costs the log, not the answer."""
    if is_command(msg.text):
        return
    text = normalize((msg.text or "")[: MAX_QUESTION_CHARS], aliases)
    counts, missed = assess(msg, result, text, group_confidence=group_confidence)
    try:
        store.record_message(day=message_date(msg.time).isoformat(), counts=counts, missed=missed,
                             keep=keep)
    except sqlite3.Error:
        logger.warning("could not record message %s in the activity log", msg.id or "?", exc_info=True)
