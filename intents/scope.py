"""Out-of-scope markers (other cities, 居转户, 驾照扣分, …) kept as data: near misses must not be answered."""
from __future__ import annotations

import tomllib
from pathlib import Path

from intents.segment import DATA_DIR

SCOPE_FILE = DATA_DIR / "scope.toml"


class ScopeError(ValueError):
    """The scope file cannot be read or lacks a list; the message names the file and the list."""


class Scope:
    """Says why a normalised question is out of scope, or None when nothing marks it so."""

    def __init__(self, path: Path = SCOPE_FILE) -> None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ScopeError(f"{path}: cannot be read ({exc})") from None
        for name in ("other_places", "topics", "home"):
            words = data.get(name)
            if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                raise ScopeError(f"{path}: `{name}` must be a list of non-empty strings")
        self.places = tuple(data["other_places"])
        self.topics = tuple(data["topics"])
        self.home = tuple(data["home"])

    def outside(self, text: str) -> str | None:
        topic = next((word for word in self.topics if word in text), None)
        if topic or any(word in text for word in self.home):
            return topic
        return next((word for word in self.places if word in text), None)
