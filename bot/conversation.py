"""Per-chat memory: a sender's dates, last intent and pending "did you mean" choices, for a limited time."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from intents.roles import DateSlot

MAX_CHATS = 2000


@dataclass
class ChatState:
    """What the bot remembers of one sender in one chat."""

    updated: datetime
    last_intent: str | None = None
    last_entry: str | None = None  # the entry of the last answer, when it answered a member's question
    last_text: str = ""
    dates: dict[str, date] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)  # entry ids offered as 1, 2, 3
    slots: list[DateSlot] = field(default_factory=list)  # the dates of the question the choices answer
    last_question: str = ""  # the message last answered, and the answer (at `updated`): what "答错了" is about
    last_reply: str = ""


class Conversations:
    """Memory keyed by (room, sender): another sender's state never leaks in; old state is forgotten."""

    def __init__(self, *, carry: timedelta):
        self.carry = carry
        self._states: OrderedDict[tuple[str | None, str], ChatState] = OrderedDict()

    def get(self, room: str | None, sender: str, now: datetime) -> ChatState | None:
        key = (room, sender)
        state = self._states.get(key)
        if state is None:
            return None
        if not timedelta(0) <= now - state.updated <= self.carry:
            del self._states[key]
            return None
        return state

    def put(self, room: str | None, sender: str, state: ChatState) -> None:
        key = (room, sender)
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > MAX_CHATS:
            self._states.popitem(last=False)
