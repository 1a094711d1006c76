"""The two values that cross every boundary: an incoming chat message and the handler's result."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from intents.normalize import clean_text


PAT = "pat"  # Incoming.event of a pat of the bot


@dataclass(frozen=True)
class Incoming:
    """One chat message as any transport sees it; `time` is timezone-aware.

    Whatever the transport, `text` and `quoted` arrive cleaned once here of what cannot be encoded (lone
    surrogates, see `clean_text`), so nothing after this point raises on broken text.
    """

    text: str
    time: datetime
    sender: str = "console"
    room: str | None = None  # None: a private chat
    mentioned: bool = False
    id: str = ""
    quoted: str | None = None  # the quoted message of a WeChat quote ("引用"): context, not the asker's words
    event: str | None = None  # PAT: a member patted the bot (拍一拍; `text` is then "[拍一拍]"); None: a message

    def __post_init__(self) -> None:
        for name in ("text", "quoted"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, clean_text(value))

    @property
    def is_private(self) -> bool:
        return self.room is None

    @property
    def addressed(self) -> bool:
        """Whether the asker spoke to the bot directly (private chat or @-mention)."""
        return self.room is None or self.mentioned


@dataclass
class Result:
    """What the handler decided for one message; `reply` is None when the bot stays silent."""

    intent: str | None = None
    confidence: float = 0.0
    reply: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    candidates: list[tuple[str, float]] = field(default_factory=list)
    private_reply: bool = False  # operator command answers go to the sender privately
    recognised: bool = True  # False: nothing matched well enough, reported as out of scope
    menu: bool = False  # the reply asks the member to choose between intents ("did you mean")
    entry_id: str | None = None  # the FAQ entry that answered (a finer id than `intent` for operator entries)
    held_back: str = ""  # why the throttle kept a reply back ("rate", "repeat"); empty when nothing was

    @property
    def replied(self) -> bool:
        return self.reply is not None

    def as_record(self) -> dict[str, Any]:
        """The replay contract's result fields (see shared/spec/replay.md)."""
        return {
            "replied": self.replied,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "reply": self.reply,
            "facts": self.facts,
            "menu": self.menu,
        }
