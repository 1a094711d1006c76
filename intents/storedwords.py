"""The knowledge's phrasings already cut into words, kept on disk so that a fresh process builds its matcher at once.

Segmenting a thousand phrasings with jieba is most of what building the intent index costs at start.
The words of a phrasing depend only on the segmenter's inputs: jieba and its dictionary, the word
lists in intents/data/, and the segmenter's own code. The file is named by a hash of all of them, so
any change there starts a new one. Only phrasings are stored, never chat messages. The members' questions of
intents/data/utterances.toml, normalised, are kept the same way (another `kind`, keyed by their own inputs).
"""
from __future__ import annotations

import hashlib
import logging
import marshal
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from intents.cachefiles import remove_stale, write_atomically

logger = logging.getLogger(__name__)

FORMAT = b"permitbot-stored-words-1\n"


class StoredWords:
    """text → words, loaded from `path` if it holds a table, replaced by `keep` when the phrasings change."""

    def __init__(self, path: Path | None, *, kind: str = "words"):
        self.path = path
        self.kind = kind  # the file name's first part: stale files of this kind alone are removed
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
    def for_inputs(cls, directory: Path, inputs: Iterable[bytes], *, kind: str = "words") -> "StoredWords":
        digest = hashlib.sha256(FORMAT)
        for part in inputs:
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        return cls(directory / f"{kind}-{digest.hexdigest()[:20]}.marshal", kind=kind)

    def get(self, text: str) -> tuple[str, ...] | None:
        return self.table.get(text)

    def keep(self, table: dict[str, tuple[str, ...]]) -> None:
        """Store exactly these phrasings' words, unless the file already holds them."""
        if self.path is None or table.keys() == self.table.keys():
            return

        def write(out: BinaryIO) -> None:
            out.write(FORMAT)
            marshal.dump(table, out)

        try:
            write_atomically(self.path, write)
        except OSError as exc:
            logger.warning("cannot store segmented phrasings in %s (%s)", self.path.parent, exc)
            return
        self.table = dict(table)
        remove_stale(self.path, f"{self.kind}-*.marshal")
