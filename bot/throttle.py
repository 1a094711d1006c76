"""How often the bot may speak in one conversation: a per-room rate limit and a cooldown on repeated answers."""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from bot.render import pointer

WINDOW = timedelta(minutes=1)

_SWEEP_ABOVE = 1000  # conversations remembered before the quiet ones are dropped
_NOT_CONTENT = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Verdict:
    """What to send for one reply: `text` is None for silence; `reason` says why (for the log)."""

    text: str | None
    reason: str  # "answer", "pointer", "repeat" (silent), "rate" (silent)

    @property
    def send(self) -> bool:
        return self.text is not None


@dataclass
class _Earlier:
    at: datetime
    pointed: bool = False


@dataclass
class _Conversation:
    sends: deque[datetime] = field(default_factory=deque)
    answers: dict[str, _Earlier] = field(default_factory=dict)


@lru_cache(maxsize=512)  # the same few answers again and again: a 300-character reply's pass is read once
def answer_key(reply: str) -> str:
    """Two questions are the same question when their answers are the same text, give or take spacing."""
    return _NOT_CONTENT.sub("", reply)


class Throttle:
    """Decides, per conversation (a room id, or a private chat's id), whether a reply goes out.

    Pure: it keeps only what it was told and takes the clock as an argument, so a flood replayed
    with a fake clock gives the same decisions as a live one.
    - at most `replies_per_minute` sends in any 60-second window, pointers included;
    - an answer already given in the last `repeat_cooldown_seconds` is not repeated: the first
      repeat gets a short pointer to it, later ones get silence, until the cooldown runs out.
    """

    def __init__(self, *, replies_per_minute: int, repeat_cooldown_seconds: float):
        if replies_per_minute < 1:
            raise ValueError("replies_per_minute must be at least 1")
        self.replies_per_minute = replies_per_minute
        self.cooldown = timedelta(seconds=max(0.0, repeat_cooldown_seconds))
        self._conversations: dict[str, _Conversation] = {}

    def check(self, conversation: str, reply: str, *, now: datetime) -> Verdict:
        """The verdict for sending `reply` into `conversation` at `now`; a sending verdict is counted as sent."""
        if len(self._conversations) > _SWEEP_ABOVE:
            self._sweep(now)
        state = self._conversations.setdefault(conversation, _Conversation())
        self._forget_old(state, now)
        key = answer_key(reply)
        earlier = state.answers.get(key)
        if earlier is not None and earlier.pointed:
            return Verdict(None, "repeat")
        if len(state.sends) >= self.replies_per_minute:
            return Verdict(None, "rate")
        state.sends.append(now)
        if earlier is not None:
            earlier.pointed = True
            return Verdict(pointer(earlier.at), "pointer")
        if self.cooldown:
            state.answers[key] = _Earlier(now)
        return Verdict(reply, "answer")

    def _forget_old(self, state: _Conversation, now: datetime) -> None:
        while state.sends and now - state.sends[0] >= WINDOW:
            state.sends.popleft()
        expired = [key for key, earlier in state.answers.items() if now - earlier.at >= self.cooldown]
        for key in expired:
            del state.answers[key]

    def _sweep(self, now: datetime) -> None:
        for conversation, state in list(self._conversations.items()):
            self._forget_old(state, now)
            if not state.sends and not state.answers:
                del self._conversations[conversation]
