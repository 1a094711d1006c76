"""Understand, the pipeline's first stage: one message's normalised text, words, scope verdict and dated slots."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from intents.dates import message_date
from intents.matcher import IntentIndex
from intents.normalize import normalize
from intents.roles import DateSlot, date_slots
from intents.scope import Scope

# Longer messages are read only this far (questions are short; pasted documents are not questions).
MAX_QUESTION_CHARS = 300


@dataclass
class Understanding:
    """What the text says, before any knowledge is consulted: `text` is normalised, `words` are the matcher's."""

    raw: str
    text: str
    words: tuple[str, ...]
    today: date
    outside: str | None = None  # the out-of-scope marker found, if any
    slots: list[DateSlot] = field(default_factory=list)


def understand(raw: str, now: datetime, *, index: IntentIndex, scope: Scope,
               aliases: tuple[str, ...] = ()) -> Understanding:
    """Normalise `raw` (at most MAX_QUESTION_CHARS), segment it, and find scope markers and dated slots."""
    text = normalize(raw[:MAX_QUESTION_CHARS], aliases)
    words = index.words(text)
    today = message_date(now)
    if not words:
        return Understanding(raw, text, words, today)
    tokens = index.segmenter.tokens(text)
    return Understanding(raw, text, words, today, scope.outside(tokens), date_slots(text, now, today))
