"""Out-of-scope markers (other cities, 居转户, 驾照扣分, …) kept as data: near misses must not be answered."""
from __future__ import annotations

import tomllib

from intents.segment import DATA_DIR


class Scope:
    """Says why a normalised question is out of scope, or None when nothing marks it so."""

    def __init__(self) -> None:
        with open(DATA_DIR / "scope.toml", "rb") as handle:
            data = tomllib.load(handle)
        self.places = tuple(data["other_places"])
        self.topics = tuple(data["topics"])
        self.home = tuple(data["home"])

    def outside(self, text: str) -> str | None:
        topic = next((word for word in self.topics if word in text), None)
        if topic or any(word in text for word in self.home):
            return topic
        return next((word for word in self.places if word in text), None)
