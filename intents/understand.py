"""Understand, the pipeline's first stage: one message's normalised text, words, scope verdict, topic and dated
slots; and, when asked, its two parts if it asks two things at once."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from intents.dates import HAN, LATIN_WORD, message_date
from intents.matcher import IntentIndex
from intents.normalize import normalize
from intents.roles import ENDORSED, PLANNED, DateSlot, date_slots
from intents.scope import Scope, Verdict

# Longer messages are read only this far (questions are short; pasted documents are not questions).
MAX_QUESTION_CHARS = 300
# A message asking two things is short (99 % of the tuning sets' messages are under 100 characters); a longer one is
# a story around one question, or a pasted notice, and is read whole.
MAX_TWO_PART_CHARS = 100
# Where a message asking two things is cut: a joining word, or the end of a sentence with more after it.
_JOINER = r"另外|还有就是|还想问|顺便问一下|顺便问|再问一下|再问下|还有个问题|and also|also|(?<=[\s,，])(?:还有(?!多久|几|没有)|and\b)"
_SECOND_QUESTION = re.compile(_JOINER + r"|[?？。；;!！]")
_JOINED = re.compile(_JOINER)
_AFTER_ENDORSEMENT = re.compile(r"签注(?:以后|之后|后)(?:那个|的)?\s*\d+\s*(?:天|个工作日)")  # days counted from it
# A question about what would happen: "要是拖到过期了会怎样", "万一忘了签注", "what if it expires".
_HYPOTHETICAL = re.compile(r"如果|万一|要是|假如|假设|拖到|拖过|\bif\b")


@dataclass
class Understanding:
    """What the text says, before any knowledge is consulted: `text` is normalised, `words` are the matcher's."""

    raw: str
    text: str
    words: tuple[str, ...]
    today: date
    tokens: tuple[str, ...] = ()
    outside: Verdict | None = None  # why it is out of scope, if it is
    topic: str | None = None  # "points" or "permit" when the words name just one
    slots: list[DateSlot] = field(default_factory=list)
    english: bool = False  # written in English: the reply leads with an English line
    thanks: bool = False  # a short thank-you
    hypothetical: bool = False  # asks what would happen ("要是拖到过期了会怎样"), not what has


def understand(raw: str, now: datetime, *, index: IntentIndex, scope: Scope,
               aliases: tuple[str, ...] = ()) -> Understanding:
    """Normalise `raw` (at most MAX_QUESTION_CHARS), segment it, and find scope, topic, dates and parts."""
    text = normalize(raw[:MAX_QUESTION_CHARS], aliases)
    words = index.words(text)
    today = message_date(now)
    tokens = index.segmenter.tokens(text)
    english = len(LATIN_WORD.findall(text)) >= 2 and not HAN.search(text)
    if not words:
        return Understanding(raw, text, words, today, tokens, english=english)
    slots = date_slots(text, now, today)
    # "11号签注的 积分截止哪天", "endorsed it on Mar 3, …the points", "签注后那个60天 是自然日还是工作日": the
    # endorsement is when the date happened or what the days count from; what is asked about is the points.
    dated_endorsement = any(slot.role in (ENDORSED, PLANNED) for slot in slots) or bool(
        _AFTER_ENDORSEMENT.search(text))
    topic = scope.topic([w for w in words if not (dated_endorsement and w in scope.topic_words["permit"])])
    return Understanding(raw, text, words, today, tokens, scope.outside(tokens, text), topic, slots, english,
                         scope.is_thanks([t for t in tokens if t not in aliases]),  # "感谢小助手 问题解决了"
                         _HYPOTHETICAL.search(text) is not None)


def joined(text: str) -> bool:
    """Whether a joining word (另外, 还有, 顺便问, also…) says a normalised message asks a second thing."""
    return _JOINED.search(text) is not None


def two_parts(text: str, index: IntentIndex) -> tuple[str, str] | None:
    """A normalised message asking two things, cut in two: the first cut (a joining word such as 另外, or the end
    of a sentence with more after it) that leaves at least two words on each side; None when there is none or the
    message is longer than MAX_TWO_PART_CHARS."""
    if len(text) > MAX_TWO_PART_CHARS:
        return None
    for cut in _SECOND_QUESTION.finditer(text):
        first, second = text[:cut.start()].strip(), text[cut.end():].strip()
        if len(index.words(first)) >= 2 and len(index.words(second)) >= 2:
            return first, second
    return None
