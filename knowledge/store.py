"""The knowledge base in SQLite (sqlite-utils): entries and phrasings, rebuilt from the FAQ files when they change."""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database

from knowledge.faqfile import FAQ_DIR, Entry, load_faq_dir

logger = logging.getLogger(__name__)

FILE = "file"
OPERATOR = "operator"


def files_fingerprint(directory: Path) -> str:
    """A hash of every FAQ file's name and bytes: the rebuild trigger."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.toml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class KnowledgeStore:
    """Entries and their phrasings; rows from files and rows from operators are kept apart by `origin`."""

    def __init__(self, db: Database):
        self.db = db
        self._migrate()

    @classmethod
    def open(cls, path: Path | str | None) -> "KnowledgeStore":
        """Open (creating if needed) the database at `path`; None means in memory."""
        if path is None:
            return cls(Database(memory=True))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return cls(Database(conn))

    def _migrate(self) -> None:
        self.db["entries"].create(
            {"id": str, "parent": str, "question": str, "answer": str, "sources": str,
             "reviewed": str, "enabled": int, "origin": str, "updated_at": str},
            pk="id", if_not_exists=True,
        )
        self.db["phrasings"].create(
            {"entry_id": str, "text": str, "origin": str},
            pk=("entry_id", "text"), if_not_exists=True,
        )
        self.db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)

    # -- reading ---------------------------------------------------------------------------

    def meta(self, key: str, default: str | None = None) -> str | None:
        rows = list(self.db.query("select value from meta where key = ?", [key]))
        return rows[0]["value"] if rows else default

    def _set_meta(self, key: str, value: str) -> None:
        self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    def data_version(self) -> int:
        """Changes whenever any connection commits a change; cheap enough to ask per message."""
        return self.db.execute("PRAGMA data_version").fetchone()[0] + int(self.meta("revision", "0") or 0)

    def entries(self, *, include_disabled: bool = False) -> list[Entry]:
        phrasings: dict[str, list[str]] = {}
        for row in self.db.query("select entry_id, text from phrasings order by rowid"):
            phrasings.setdefault(row["entry_id"], []).append(row["text"])
        where = "" if include_disabled else "where enabled = 1"
        return [
            Entry(
                id=row["id"], question=row["question"], answer=row["answer"],
                phrasings=phrasings.get(row["id"], []), sources=json.loads(row["sources"] or "[]"),
                reviewed=row["reviewed"] or "", parent=row["parent"], enabled=bool(row["enabled"]),
            )
            for row in self.db.query(f"select * from entries {where} order by id")
        ]

    # -- writing ---------------------------------------------------------------------------

    def bump_revision(self) -> None:
        """Mark a change so every reader (this process or another) rebuilds its matcher."""
        self._set_meta("revision", str(int(self.meta("revision", "0") or 0) + 1))

    def sync_files(self, directory: Path = FAQ_DIR, *, force: bool = False) -> bool:
        """Rebuild the file-origin rows when the FAQ files changed; operator rows are never touched.

        Validation happens before anything is written, so a bad file leaves the database as it was.
        Returns whether a rebuild happened.
        """
        fingerprint = files_fingerprint(directory)
        if not force and self.meta("files_fingerprint") == fingerprint:
            return False
        entries = load_faq_dir(directory)
        with self.db.conn:
            self._replace_file_rows(entries)
            self._set_meta("files_fingerprint", fingerprint)
            self.bump_revision()
        logger.info("knowledge rebuilt from %d FAQ files in %s", len(entries), directory)
        return True

    def _replace_file_rows(self, entries: list[Entry]) -> None:
        file_ids = {e.id for e in entries}
        existing = {row["id"]: row for row in self.db.query("select id, origin, enabled from entries")}
        self.db.execute("delete from phrasings where origin = ?", [FILE])
        for stale in [i for i, row in existing.items() if row["origin"] == FILE and i not in file_ids]:
            self.db.execute("delete from entries where id = ?", [stale])
        for entry in entries:
            row = existing.get(entry.id)
            if row is None or row["origin"] == FILE:
                self.db["entries"].upsert(
                    {"id": entry.id, "parent": entry.parent, "question": entry.question,
                     "answer": entry.answer, "sources": json.dumps(entry.sources, ensure_ascii=False),
                     "reviewed": entry.reviewed, "enabled": row["enabled"] if row else 1,
                     "origin": FILE, "updated_at": _now()},
                    pk="id",
                )
            self.db["phrasings"].insert_all(
                ({"entry_id": entry.id, "text": text, "origin": FILE} for text in [entry.question, *entry.phrasings]),
                pk=("entry_id", "text"), ignore=True,
            )
