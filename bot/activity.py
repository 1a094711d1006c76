"""What the bot saw and missed: after each chat message, the daily counters and, for an in-scope question it
could not answer confidently, a line in the unanswered queue (redacted by the store) with the nearest intent as
suggestion."""
from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

from bot import policy
from bot.commands import is_command
from bot.events import Incoming, Result
from intents.dates import message_date
from knowledge.faqfile import OUT_OF_SCOPE
from intents.normalize import normalize
from knowledge.store import KnowledgeStore, Missed

logger = logging.getLogger(__name__)



def assess(msg: Incoming, result: Result, text: str) -> tuple[list[str], Missed | None]:
    """The counters one handled message adds to, and the missed question to log, if any.

    An unrecognised question (reported as out of scope) may be a miss; a real out-of-scope verdict (scope
    marker, the out-of-scope entry) is not. A question is
    in scope when it was addressed to the bot, or looks like a question and shares words with the library (the
    matcher found candidates). It is missed when unrecognised or scored below the group threshold.
    """
    counts = ["messages"]
    unrecognised = not result.recognised
    if not text or policy.is_placeholder(msg.text or "") or (result.intent == OUT_OF_SCOPE and not unrecognised):
        return counts, None
    if not (msg.addressed or (policy.looks_like_question(text) and (result.candidates or not unrecognised))):
        return counts, None
    counts.append("questions")
    if result.replied and not unrecognised:
        counts += ["answered", f"intent:{result.intent}"]
    if not unrecognised and result.confidence >= policy.GROUP_CONFIDENCE:
        return counts, None
    counts.append("missed")
    suggestion, score = result.candidates[0] if result.candidates else (None, 0.0)
    return counts, Missed(question=text, at=msg.time.isoformat(timespec="seconds"), room=msg.room,
                          sender=msg.sender, suggestion=suggestion, score=round(score, 4))


def record(store: KnowledgeStore, msg: Incoming, result: Result, *, aliases: tuple[str, ...], keep: int,
           retention_days: int | None = None) -> None:
    """Count one handled chat message (operator commands are not counted); a full disk costs the log, not the answer.
    The store redacts the question and hashes the sender; with `retention_days`, older questions leave the queue."""
    if is_command(msg.text):
        return
    text = normalize((msg.text or "")[: policy.MAX_QUESTION_CHARS], aliases)
    counts, missed = assess(msg, result, text)
    try:
        store.record_message(day=message_date(msg.time).isoformat(), counts=counts, missed=missed, keep=keep,
                             retention=timedelta(days=retention_days) if retention_days else None)
    except sqlite3.Error:
        logger.warning("could not record message %s in the activity log", msg.id or "?", exc_info=True)
