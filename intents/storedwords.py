"""The knowledge's phrasings already cut into words, kept on disk so that a fresh process builds its matcher at once.

Segmenting a thousand phrasings with jieba is most of what building the intent index costs at start.
The words of a phrasing depend only on the segmenter's inputs: jieba and its dictionary, the word
lists in intents/data/, and the segmenter's own code. The file is named by a hash of all of them, so
any change there starts a new one. Only phrasings are stored, never chat messages.
"""
from __future__ import annotations

import hashlib
import logging
import marshal
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

FORMAT = b"permitbot-stored-words-1\n"
STALE_AFTER_S = 86400


class StoredWords:
    """text → words, loaded from `path` if it holds a table, replaced by `keep` when the phrasings change."""

    def __init__(self, path: Path | None):
        self.path = path
        self.table: dict[str, tuple[str, ...]] = {}
        if path is None:
            return
        try:
            data = path.read_bytes()
            if data.startswith(FORMAT):
                table = marshal.loads(data[len(FORMAT):])
                if isinstance(table, dict):
                    self.table = table
        except FileNotFoundError:
            pass
        except (OSError, ValueError, EOFError, TypeError) as exc:
            logger.warning("stored words %s unusable (%s); segmenting afresh", path, exc)

    @classmethod
    def for_inputs(cls, directory: Path, inputs: Iterable[bytes]) -> "StoredWords":
        digest = hashlib.sha256(FORMAT)
        for part in inputs:
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        return cls(directory / f"words-{digest.hexdigest()[:20]}.marshal")

    def get(self, text: str) -> tuple[str, ...] | None:
        return self.table.get(text)

    def keep(self, table: dict[str, tuple[str, ...]]) -> None:
        """Store exactly these phrasings' words, unless the file already holds them."""
        if self.path is None or table.keys() == self.table.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(FORMAT)
                    marshal.dump(table, out)
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as exc:
            logger.warning("cannot store segmented phrasings in %s (%s)", self.path.parent, exc)
            return
        self.table = dict(table)
        now = time.time()
        for other in self.path.parent.glob("words-*.marshal"):
            try:
                if other != self.path and now - other.stat().st_mtime > STALE_AFTER_S:
                    other.unlink()
            except OSError:
                pass
