"""The knowledge base in SQLite (sqlite-utils): entries and phrasings rebuilt from the FAQ files when they change,
operator edits with their audit trail, and what the bot saw (daily counters, the unanswered queue).

Rows from files and rows from operators are kept apart by `origin`: a rebuild from the files replaces file rows
only. Whether an entry is enabled lives apart from the entry (`entry_state`), so it outlives the entry leaving and
coming back with the files. Every write is one transaction (BEGIN IMMEDIATE … COMMIT) with its audit row, and every
change to the knowledge bumps the revision that running bots compare before each message.

Personal data (knowledge.redact) is redacted here, before anything is written: questions in the unanswered queue
and their grouping keys, and every entry's question and phrasings; answers are the operators' own public text and
are kept as written. The queue keeps a sender only as a keyed hash, for `forget`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlite_utils import Database

from knowledge.faqfile import (
    FAQ_DIR, OPERATOR_PREFIX, Entry, FaqError, entry_to_toml, load_catalog, load_faq_dir, load_faq_files,
    validate,
)
from knowledge.redact import REDACTION_VERSION, redact

logger = logging.getLogger(__name__)

FILE = "file"
OPERATOR = "operator"
# The activity write runs on the bot's event loop: it waits this long for the write lock (an import, say), no
# longer, and drops the message's counts when the lock stays taken. Edits keep the connection's own busy timeout.
ACTIVITY_BUSY_MS = 200

HANDLE_PREFIX = "u"  # unanswered-queue handles: u<row id>
_HANDLE = re.compile(rf"^{HANDLE_PREFIX}(\d+)$", re.I)
_MAX_ROW_ID = 2**63 - 1
# Who set an entry_state row: the FAQ files (`enabled = false` in a file) or an operator (enable, disable, import).
# A rebuild from the files changes only the files' rows: an operator's choice outlives every rebuild.
STATE_FROM_FILE = "file"
STATE_FROM_OPERATOR = "operator"
# The unanswered queue is pruned of rows older than the retention at most this often while writing.
PRUNE_EVERY = timedelta(hours=1)
# Entries with their effective enabled state; a missing entry_state row means enabled.
_ENTRIES = "(entries e left join entry_state s on s.entry_id = e.id)"
_ENABLED = "coalesce(s.enabled, 1)"

_LOG_SCHEMA = """
create table if not exists audit (
    id integer primary key autoincrement, at text not null, by text not null, action text not null,
    entry_id text not null, before text, after text, note text not null default '');
create index if not exists audit_entry on audit (entry_id, id);
create table if not exists unanswered (
    id integer primary key autoincrement, at text not null, room text, question text not null, key text not null,
    suggestion text, score real not null default 0, sender text, stored text);
create index if not exists unanswered_key on unanswered (key);
create table if not exists entry_state (
    entry_id text primary key, enabled integer not null, source text not null) without rowid;
create table if not exists daily_counts (
    day text not null, name text not null, n integer not null, primary key (day, name)) without rowid;
"""


def _database(conn: sqlite3.Connection | None = None) -> Database:
    """A sqlite-utils Database on `conn`, else in memory, without plugin loading: the store uses no plugin, and
    looking for them reads the entry points of every installed package (importlib.metadata, some 40 ms a start)."""
    if conn is None:
        return Database(memory=True, execute_plugins=False)
    return Database(conn, execute_plugins=False)


class EditError(ValueError):
    """An edit cannot be made as asked; the message says why. Raised before anything is written."""


class UnknownEntry(EditError):
    """No entry has that id."""


class InvalidEntry(EditError):
    """The entry would not pass the FAQ file validation (empty text, unknown parent, answer too long, …)."""


class DuplicatePhrasing(EditError):
    """A phrasing is already one of this or another entry's phrasings."""


class UnknownHandle(EditError):
    """An unanswered-queue handle that is not (or no longer) in the queue."""


class UnknownChange(EditError):
    """No audit row has that id."""

    def __init__(self, change_id: int):
        self.change_id = change_id
        super().__init__(f"no change #{change_id} in the audit trail (see `history`)")


class UnknownPhrasing(EditError):
    """The entry has no such phrasing."""

    def __init__(self, entry_id: str, text: str):
        self.entry_id, self.text = entry_id, text
        super().__init__(f"entry {entry_id} has no phrasing {text!r}")


class NotRemovable(EditError):
    """An entry or phrasing from the FAQ files (a rebuild would bring it back), or an entry's own question.

    `phrasing` is None for a whole entry; `reason` is FILE or QUESTION.
    """

    def __init__(self, entry_id: str, phrasing: str | None, reason: str):
        self.entry_id, self.phrasing, self.reason = entry_id, phrasing, reason
        if phrasing is None:
            text = f"entry {entry_id} comes from the FAQ files and cannot be removed; disable it instead (`disable {entry_id}`)"
        elif reason == QUESTION:
            text = f"{phrasing!r} is the question of entry {entry_id}, not a phrasing that can be removed"
        else:
            text = (f"{phrasing!r} is a phrasing of entry {entry_id} from the FAQ files; edit knowledge/faq/"
                    f"{entry_id}.toml (or export, edit, import) to drop it")
        super().__init__(text)


class UndoConflict(EditError):
    """A change cannot be undone as it stands: later changes touched what it changed.

    `reason` is one of UNDO_REASONS; `subject` the field or phrasing concerned (or ""); `later` the ids of the
    later changes to the same entry, oldest first; `undone_by` the later undo of this very change, if any.
    """

    def __init__(self, change_id: int, entry_id: str, reason: str, subject: str = "", *, later: list[int],
                 undone_by: int | None = None):
        self.change_id, self.entry_id, self.reason, self.subject = change_id, entry_id, reason, subject
        self.later, self.undone_by = later, undone_by
        what = UNDO_REASONS[reason].format(subject=subject, entry=entry_id)
        since = f"; changed since by {', '.join(f'#{n}' for n in later)}" if later else ""
        done = f"; already undone by #{undone_by}" if undone_by else ""
        super().__init__(f"cannot undo change #{change_id} of entry {entry_id}: {what}{done}{since}")


QUESTION = "question"
# Why an undo is refused (UndoConflict.reason): its English text, {subject} and {entry} filled in.
UNDO_REASONS = {
    "gone": "the entry no longer exists",
    "exists": "an entry {entry} exists again",
    "field": "its {subject} has changed since",
    "edited": "the entry has changed since it was added",
    "phrasing_gone": "the phrasing {subject!r} is no longer there",
    "phrasing_back": "the phrasing {subject!r} is there again",
    "taken": "the phrasing {subject!r} now belongs to another entry",
    "file": "the entry is in the FAQ files now",
}


def is_handle(text: str) -> bool:
    """Whether `text` is an unanswered-queue handle (u<row id>, either case, spaces around it ignored)."""
    return _HANDLE.match(text.strip()) is not None


def files_fingerprint(directory: Path) -> str:
    """A hash of every FAQ file's name and bytes: the rebuild trigger."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.toml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


_WORDS = re.compile(r"[^\W_]+")


@lru_cache(maxsize=65536)  # asked for every phrasing of the library on each edit
def phrasing_key(text: str) -> str:
    """What two phrasings must differ in to count as two: letters and digits, width- and case-folded. Digit groups
    stay apart ("138 1234" → "138 1234"), so the key never glues a spaced number back together."""
    words = _WORDS.findall(unicodedata.normalize("NFKC", text).casefold())
    return "".join(f" {word}" if index and word[0].isdigit() and words[index - 1][-1].isdigit() else word
                   for index, word in enumerate(words))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str) -> str:
    """`value` with lone UTF-16 surrogates (which SQLite cannot store) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def _quoted(text: str, most: int = 40) -> str:
    """`text` quoted for an error message, cut at `most` characters: a 1 MB id is never echoed back."""
    return repr(text if len(text) <= most else text[:most] + "…")


def redact_entry(entry: Entry) -> Entry:
    """The entry with its question and phrasings redacted (the answer is the operators' own text)."""
    return replace(entry, question=redact(entry.question), phrasings=[redact(text) for text in entry.phrasings])


def _now() -> str:
    return _iso(datetime.now(timezone.utc))


@dataclass(frozen=True)
class AuditRecord:
    """One change: who, when, what, and the entry before and after (None when it did not exist)."""

    id: int
    at: str
    by: str
    action: str
    entry_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str = ""


@dataclass(frozen=True)
class Missed:
    """A question that got no intent or a low score, as asked: the store redacts it and hashes the sender."""

    question: str
    at: str  # the message's time, ISO 8601
    room: str | None = None
    sender: str | None = None  # the member's id; stored only as a keyed hash (see KnowledgeStore.forget)
    suggestion: str | None = None  # the nearest entry id, if any
    score: float = 0.0


@dataclass(frozen=True)
class MissedGroup:
    """The unanswered queue's view: one question, how often it came, its handle and the latest suggestion."""

    handle: str
    count: int
    question: str
    key: str
    suggestion: str | None
    score: float


@dataclass(frozen=True)
class ErrorReport:
    """A member said an answer was wrong: the question and the reply, both already redacted by the caller."""

    question: str
    key: str  # phrasing_key(question), as for Missed
    at: str
    reply: str
    intent: str | None = None  # the intent the bot answered with
    room: str | None = None


@dataclass(frozen=True)
class ReportedGroup:
    """The review queue's view of one question reported wrong: its handle (u<n>, as the unanswered queue's), how
    often it was reported, and the latest report's answer."""

    handle: str
    count: int
    question: str
    key: str
    intent: str | None
    reply: str
    at: str


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # entry files with no entry in the database
    removed: list[Path] = field(default_factory=list)  # stale files deleted (with prune)
    disabled: list[str] = field(default_factory=list)  # disabled in the database: their files say `enabled = false`


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _one_thread_at_a_time(db: Database, lock: threading.RLock) -> None:
    """Every statement and query on `db` under `lock`, which write transactions hold too: the gateway's command thread
    shares the connection with the event loop, and sqlite-utils wraps each query in a savepoint that another thread's
    statement or COMMIT in between would release ("no such savepoint"). A query's rows are read before the lock goes."""
    query, execute = db.query, db.execute

    def locked_query(sql: str, params: Any = None) -> Iterator[dict]:
        with lock:
            return iter(list(query(sql, params)))

    def locked_execute(sql: str, parameters: Any = None) -> sqlite3.Cursor:
        with lock:
            return execute(sql, parameters)

    db.query, db.execute = locked_query, locked_execute


class KnowledgeStore:
    """Entries and their phrasings, the audit trail, the unanswered queue and the daily counters."""

    def __init__(self, db: Database, *, catalog: dict[str, dict] | None = None):
        self.db = db
        # Transactions are explicit (BEGIN IMMEDIATE in _transaction); sqlite3's implicit ones, and the commits
        # sqlite-utils' table methods make, would split an edit from its audit row.
        self.db.conn.isolation_level = None
        self._catalog = catalog
        self._lock = threading.RLock()
        _one_thread_at_a_time(db, self._lock)
        # Read once: what _transaction and record_message return the connection to after they change it.
        self._resting_sync = self.db.execute("PRAGMA synchronous").fetchone()[0]
        self._busy_ms = self.db.execute("PRAGMA busy_timeout").fetchone()[0]
        self._pruned_at: datetime | None = None
        self._migrate()
        self._sender_key = bytes.fromhex(self.meta("sender_key") or "")

    @classmethod
    def open(cls, path: Path | str | None) -> "KnowledgeStore":
        """Open (creating if needed) the database at `path`; None means in memory."""
        if path is None:
            return cls(_database())
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is safe under WAL: a killed process keeps every commit, a power cut may cost the last few. The
        # activity log writes at this level; edits wait for the disk (see _transaction).
        conn.execute("PRAGMA synchronous=NORMAL")
        return cls(_database(conn))

    def _migrate(self) -> None:
        self.db["entries"].create(
            {"id": str, "parent": str, "question": str, "answer": str, "sources": str,
             "reviewed": str, "origin": str, "updated_at": str},
            pk="id", if_not_exists=True,
        )
        self.db["phrasings"].create(
            {"entry_id": str, "text": str, "origin": str},
            pk=("entry_id", "text"), if_not_exists=True,
        )
        self.db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        self.db.conn.executescript(_LOG_SCHEMA)
        if self._outdated():  # checked read-only first: an up-to-date database is not locked at every start
            with self._transaction():
                if self._outdated():
                    self._upgrade()

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}

    def _outdated(self) -> bool:
        return ("enabled" in self._columns("entries") or "wordings" not in self._columns("entries")
                or not {"stored", "reported_intent", "reported_reply"} <= self._columns("unanswered")
                or self.meta("sender_key") is None or self.meta("redaction") != REDACTION_VERSION)

    def _upgrade(self) -> None:
        """Bring a database of an earlier version up to date (inside a transaction)."""
        if "enabled" in self._columns("entries"):  # the enabled flag moved to entry_state
            self.db.execute(f"insert or ignore into entry_state (entry_id, enabled, source) "
                            f"select id, 0, '{STATE_FROM_OPERATOR}' from entries where enabled = 0")
            self.db.execute("alter table entries drop column enabled")
        if "stored" not in self._columns("unanswered"):
            for column in ("sender", "stored"):
                self.db.execute(f"alter table unanswered add column {column} text")
            for row_id, at in self.db.execute("select id, at from unanswered").fetchall():
                self.db.execute("update unanswered set stored = ? where id = ?", [_utc(at), row_id])
        if "wordings" not in self._columns("entries"):  # the optional wordings (short, with_dates, lead_en)
            self.db.execute("alter table entries add column wordings text")
        for column in ("reported_intent", "reported_reply"):  # answers a member reported wrong
            if column not in self._columns("unanswered"):
                self.db.execute(f"alter table unanswered add column {column} text")
        self.db.execute("create index if not exists unanswered_stored on unanswered (stored)")
        self.db.execute("create index if not exists unanswered_sender on unanswered (sender)")
        if self.meta("sender_key") is None:
            self._set_meta("sender_key", secrets.token_hex(32))
        if self.meta("redaction") != REDACTION_VERSION:
            self._redact_stored()
            self._set_meta("redaction", REDACTION_VERSION)

    def _redact_stored(self) -> None:
        """Redact what an earlier version stored unredacted: the queue (and its keys), questions and phrasings,
        and the entries in audit snapshots."""
        for row_id, question, key in self.db.execute("select id, question, key from unanswered").fetchall():
            clean = redact(question)
            if (clean, phrasing_key(clean)) != (question, key):
                self.db.execute("update unanswered set question = ?, key = ? where id = ?",
                                [clean, phrasing_key(clean), row_id])
        changed = False
        for entry_id, question in self.db.execute("select id, question from entries").fetchall():
            if redact(question) != question:
                self.db.execute("update entries set question = ? where id = ?", [redact(question), entry_id])
                changed = True
        for entry_id, text, origin in self.db.execute("select entry_id, text, origin from phrasings").fetchall():
            if redact(text) != text:
                self._put_phrasings(entry_id, [redact(text)], origin)
                self.db.execute("delete from phrasings where entry_id = ? and text = ?", [entry_id, text])
                changed = True
        for row_id, *snapshots in self.db.execute("select id, before, after from audit").fetchall():
            clean = [_json(_redact_snapshot(json.loads(text))) if text else text for text in snapshots]
            if clean != snapshots:
                self.db.execute("update audit set before = ?, after = ? where id = ?", [*clean, row_id])
        if changed:
            self._bump()

    @property
    def catalog(self) -> dict[str, dict]:
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    @contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[None]:
        """One write transaction; BEGIN IMMEDIATE takes the write lock first, so checks made inside hold.

        A durable one (every edit) commits with synchronous=FULL, waiting for the disk; the activity log does not.
        """
        with self._lock:
            conn = self.db.conn
            if durable:
                conn.execute("PRAGMA synchronous=FULL")  # not inside the transaction: it would not apply to it
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                if durable:
                    conn.execute(f"PRAGMA synchronous={int(self._resting_sync)}")

    # -- reading ---------------------------------------------------------------------------

    def meta(self, key: str, default: str | None = None) -> str | None:
        rows = list(self.db.query("select value from meta where key = ?", [key]))
        return rows[0]["value"] if rows else default

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value",
                        [key, value])

    def commits_by_others(self) -> int:
        """SQLite's `PRAGMA data_version`: changes when another connection commits; the cheapest change check."""
        return self.db.conn.execute("PRAGMA data_version").fetchone()[0]

    def data_version(self) -> int:
        """The knowledge revision: every write to the knowledge, from any process, bumps it; cheap to ask per message.

        Only the revision counts, not `PRAGMA data_version`: the counters and the unanswered log change with every
        message, and must not make the other processes' bots rebuild their matchers.
        """
        return int(self.meta("revision", "0") or 0)

    def knowledge(self) -> tuple[int, list[Entry]]:
        """(revision, enabled entries) read together, under the store's lock: never from inside a write that another
        thread sharing this connection has begun and may yet roll back (a matcher is built from what is committed)."""
        with self._lock:
            return self.data_version(), self.entries()

    def entries(self, *, include_disabled: bool = False) -> list[Entry]:
        """Entries in id order; an entry's phrasings exclude its question, file phrasings first."""
        return self._read_entries("" if include_disabled else f"where {_ENABLED} = 1")

    def _read_entries(self, where: str = "", params: Iterable[Any] = ()) -> list[Entry]:
        """Entries (`e`, with their state `s`) matching `where`, with their phrasings."""
        params = list(params)
        phrasings: dict[str, list[str]] = {}
        for entry_id, text in self.db.execute(f"select p.entry_id, p.text from phrasings p join {_ENTRIES} "
                                              f"on e.id = p.entry_id {where} order by p.origin != '{FILE}', p.rowid",
                                              params):
            phrasings.setdefault(entry_id, []).append(text)
        return [
            Entry(
                id=row["id"], question=row["question"], answer=row["answer"],
                phrasings=[text for text in phrasings.get(row["id"], []) if text != row["question"]],
                sources=json.loads(row["sources"] or "[]"), reviewed=row["reviewed"] or "", parent=row["parent"],
                enabled=bool(row["enabled"]), **json.loads(row["wordings"] or "{}"),
            )
            for row in self.db.query(f"select e.*, {_ENABLED} as enabled from {_ENTRIES} {where} order by e.id",
                                     params)
        ]

    def entry(self, entry_id: str) -> Entry:
        """The entry with this id, enabled or not; UnknownEntry when there is none."""
        found = self._read_entries("where e.id = ?", [_text(entry_id)])
        if not found:
            raise UnknownEntry(f"no entry {_quoted(entry_id)} (try `list`)")
        return found[0]

    def origins(self, entry_id: str) -> tuple[str, dict[str, str]]:
        """Where an entry and each of its phrasings came from: FILE or OPERATOR."""
        rows = list(self.db.query("select origin from entries where id = ?", [_text(entry_id)]))
        if not rows:
            raise UnknownEntry(f"no entry {_quoted(entry_id)} (try `list`)")
        texts = {row["text"]: row["origin"]
                 for row in self.db.query("select text, origin from phrasings where entry_id = ?", [entry_id])}
        return rows[0]["origin"], texts

    def taught(self) -> frozenset[str]:
        """The ids of the entries an operator added or gave a phrasing."""
        rows = self.db.execute("select id from entries where origin = ? union select entry_id from phrasings "
                               "where origin = ?", [OPERATOR, OPERATOR]).fetchall()
        return frozenset(row[0] for row in rows)

    def search(self, text: str = "") -> list[Entry]:
        """Entries (disabled too) whose id, question or a phrasing contains `text`, case-insensitively."""
        needle = text.strip().casefold()
        return [entry for entry in self.entries(include_disabled=True)
                if not needle or any(needle in part.casefold() for part in (entry.id, entry.question, *entry.phrasings))]

    def history(self, entry_id: str | None = None, *, limit: int = 20) -> list[AuditRecord]:
        """The latest changes, newest first; of one entry when `entry_id` is given."""
        where, params = ("where entry_id = ?", [_text(entry_id)]) if entry_id else ("", [])
        rows = self.db.query(f"select * from audit {where} order by id desc limit ?", [*params, limit])
        return [_record(row) for row in rows]

    # -- rebuilding from the FAQ files ------------------------------------------------------------

    def _bump(self) -> None:
        """Mark a change so every reader (this process or another) rebuilds its matcher."""
        self.db.execute("insert into meta (key, value) values ('revision', '1') "
                        "on conflict (key) do update set value = cast(value as integer) + 1")

    def sync_files(self, directory: Path = FAQ_DIR) -> bool:
        """Rebuild the file-origin rows when the FAQ files changed; operator rows and states are never touched.

        A missing folder, or one without entry files (a mistyped PERMITBOT_FAQ_DIR), raises FaqError naming it;
        validation happens before anything is written, so either way the database stays as it was. An operator
        row the files now hold verbatim (after an export) becomes a file row, so that later edits of that file take
        effect. Returns whether a rebuild happened.
        """
        if not directory.is_dir():
            problem = "is not a folder" if directory.exists() else "does not exist"
            raise FaqError(f"FAQ folder {directory} {problem} (check faq_dir / PERMITBOT_FAQ_DIR); "
                           "the knowledge database was left as it was")
        fingerprint = files_fingerprint(directory)
        if self.meta("files_fingerprint") == fingerprint:
            return False
        entries = [redact_entry(entry) for entry in load_faq_dir(directory)]
        if not entries:
            raise FaqError(f"FAQ folder {directory} has no entry files (*.toml) (check faq_dir / PERMITBOT_FAQ_DIR); "
                           "the knowledge database was left as it was")
        with self._transaction():
            self._replace_file_rows(entries)
            self._set_meta("files_fingerprint", fingerprint)
            self._bump()
        logger.info("knowledge rebuilt from %d FAQ files in %s", len(entries), directory)
        return True

    def _replace_file_rows(self, entries: list[Entry]) -> None:
        file_ids = {e.id for e in entries}
        existing = {row["id"]: row for row in self.db.query("select * from entries")}
        self.db.execute("delete from phrasings where origin = ?", [FILE])
        for stale in [i for i, row in existing.items() if row["origin"] == FILE and i not in file_ids]:
            self.db.execute("delete from entries where id = ?", [stale])
        for entry in entries:
            row = existing.get(entry.id)
            if row is None or row["origin"] == FILE or _row_fields(row) == _fields(entry):
                self._put_entry(entry, origin=FILE)
            if entry.enabled:
                self.db.execute("delete from entry_state where entry_id = ? and source = ?",
                                [entry.id, STATE_FROM_FILE])
            else:
                self.db.execute("insert or ignore into entry_state (entry_id, enabled, source) values (?, 0, ?)",
                                [entry.id, STATE_FROM_FILE])
            # REPLACE, not IGNORE: an operator phrasing the file now holds becomes a file phrasing, in file order.
            self.db.conn.executemany(
                "insert or replace into phrasings (entry_id, text, origin) values (?, ?, ?)",
                [(entry.id, text, FILE) for text in [entry.question, *entry.phrasings]],
            )

    def salvage(self, damaged: Path) -> dict[str, int]:
        """Copy what can still be read of a damaged database's operator work into this one: operator entries and
        phrasings, disabled flags, audit rows. Table by table, row by row; unreadable parts are skipped.
        Returns how many rows of each kind were kept."""
        kept = {"entries": 0, "phrasings": 0, "disabled": 0, "audit": 0}
        try:
            old = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
            old.row_factory = sqlite3.Row
        except sqlite3.Error:
            return kept

        def rows(sql: str) -> list[sqlite3.Row]:
            found: list[sqlite3.Row] = []
            try:
                for row in old.execute(sql):
                    found.append(row)
            except sqlite3.Error:
                pass  # keep the rows read before the damage
            return found

        with self._transaction():
            known = {row["id"] for row in self.db.query("select id from entries")}
            columns = self._columns("entries")
            for row in rows("select * from entries"):
                if row["origin"] == OPERATOR and row["id"] not in known:
                    self.db["entries"].insert({name: row[name] for name in row.keys() if name in columns})
                    known.add(row["id"])
                    kept["entries"] += 1
            disabled = {row[0] for row in rows("select entry_id from entry_state where enabled = 0")}
            disabled |= {row[0] for row in rows("select id from entries where enabled = 0")}  # older databases
            for entry_id in sorted(disabled & known):
                self.db.execute("insert or replace into entry_state (entry_id, enabled, source) values (?, 0, ?)",
                                [entry_id, STATE_FROM_OPERATOR])
                kept["disabled"] += 1
            for row in rows("select * from phrasings where origin = 'operator'"):
                if row["entry_id"] in known:
                    kept["phrasings"] += self.db.execute(
                        "insert or ignore into phrasings (entry_id, text, origin) values (?, ?, ?)",
                        [row["entry_id"], row["text"], OPERATOR]).rowcount
            for row in rows("select at, by, action, entry_id, before, after, note from audit order by id"):
                self.db.execute("insert into audit (at, by, action, entry_id, before, after, note) "
                                "values (?, ?, ?, ?, ?, ?, ?)", list(row))
                kept["audit"] += 1
            self._bump()
        old.close()
        return kept

    # -- operator edits ------------------------------------------------------------------------------

    def add_entry(self, question: str, answer: str, *, by: str, parent: str | None = None,
                  phrasings: Iterable[str] = ()) -> Entry:
        """A new entry: `op.<n>`, or `<parent>.op<n>` under a catalog parent."""
        with self._transaction():
            if parent and parent not in self.catalog:
                raise InvalidEntry(f"unknown parent {_quoted(parent)} (not an id of knowledge/catalog.toml)")
            entry = redact_entry(Entry(id=self._next_operator_id(parent), question=question.strip(),
                                       answer=answer.strip(), phrasings=[p.strip() for p in phrasings],
                                       parent=parent or None))
            self._check_entry(entry, where="new entry")
            self._put_entry(entry, origin=OPERATOR)
            self._put_phrasings(entry.id, [entry.question, *entry.phrasings], OPERATOR)
            self._audit("add", entry.id, None, self._snapshot(entry.id), by=by)
            self._bump()
        return entry

    def add_phrasing(self, entry_id: str, text: str, *, by: str, note: str = "",
                     resolves: str | None = None) -> Entry:
        """One more phrasing for an entry; `resolves` names an unanswered key whose rows leave the queue."""
        return self.add_phrasings(entry_id, [text], by=by, note=note, resolves=resolves)

    def add_phrasings(self, entry_id: str, texts: Iterable[str], *, by: str, note: str = "",
                      resolves: str | None = None) -> Entry:
        """More phrasings for an entry (redacted), one change with one audit row; `resolves` as for add_phrasing.

        Raises UnknownEntry, DuplicatePhrasing (also for a text given twice) or InvalidEntry before writing.
        """
        texts = [redact(text.strip()) for text in texts]
        with self._transaction():
            before = self.entry(entry_id)
            after = replace(before, phrasings=[*before.phrasings, *texts])
            self._check_entry(after, where="alias", new_texts=texts)
            self._put_phrasings(entry_id, texts, OPERATOR)
            self._touch(entry_id)
            if resolves is not None:
                self.db.execute("delete from unanswered where key = ?", [resolves])
            self._audit("alias", entry_id, self._snapshot_of(before), self._snapshot(entry_id), by=by, note=note)
            self._bump()
        return after

    def set_enabled(self, entry_id: str, enabled: bool, *, by: str) -> bool:
        """Enable or disable an entry; returns whether anything changed (no change, no audit row)."""
        with self._transaction():
            before = self.entry(entry_id)
            if before.enabled == enabled:
                return False
            self._put_state(entry_id, enabled)
            self._touch(entry_id)
            self._audit("enable" if enabled else "disable", entry_id, self._snapshot_of(before),
                        self._snapshot(entry_id), by=by)
            self._bump()
        return True

    def remove_entry(self, entry_id: str, *, by: str) -> Entry:
        """Delete an entry an operator added (with its phrasings); returns it as it was.

        Raises UnknownEntry, or NotRemovable for an entry with anything from the FAQ files (the next rebuild
        would bring it back): such an entry is disabled instead.
        """
        with self._transaction():
            entry = self.entry(entry_id)
            origin, phrasings = self.origins(entry_id)
            if origin == FILE or FILE in phrasings.values():
                raise NotRemovable(entry_id, None, FILE)
            self._delete(entry_id)
            self._audit("remove", entry_id, self._snapshot_of(entry), None, by=by)
            self._bump()
        return entry

    def remove_phrasing(self, entry_id: str, text: str, *, by: str) -> Entry:
        """Drop one operator phrasing of an entry (found width- and case-insensitively); returns the entry after.

        Raises UnknownEntry, UnknownPhrasing, or NotRemovable for the question or a phrasing from the files.
        """
        with self._transaction():
            before = self.entry(entry_id)
            _, origins = self.origins(entry_id)
            found = next((have for have in origins if phrasing_key(have) == phrasing_key(text)), None)
            if found is None:
                raise UnknownPhrasing(entry_id, text.strip())
            if found == before.question:
                raise NotRemovable(entry_id, found, QUESTION)
            if origins[found] == FILE:
                raise NotRemovable(entry_id, found, FILE)
            self.db.execute("delete from phrasings where entry_id = ? and text = ?", [entry_id, found])
            self._touch(entry_id)
            after = self.entry(entry_id)
            self._audit("unalias", entry_id, self._snapshot_of(before), self._snapshot_of(after), by=by)
            self._bump()
        return after

    def change(self, change_id: int) -> AuditRecord:
        """One audit row by its id; UnknownChange when there is none."""
        rows = list(self.db.query("select * from audit where id = ?", [change_id]))
        if not rows:
            raise UnknownChange(change_id)
        return _record(rows[0])

    def undo(self, change_id: int, *, by: str) -> AuditRecord:
        """Revert exactly one audited change, itself audited (action "undo", note "#<id>"); returns that new row.

        Only what the change changed is put back: a field it changed must still hold the value it wrote, a
        phrasing it added must still be there (and an operator's), one it dropped must belong to no entry now;
        an entry it added must be as it was added (enabled or not) and is then deleted; an entry it removed must
        not exist again and is re-created as an operator entry. Otherwise UndoConflict, naming the later changes
        to the entry; UnknownChange for an unknown id; InvalidEntry when the restored entry no longer passes
        validation (its parent left the catalog, say). Unanswered questions an alias took out of the queue
        do not come back.
        """
        with self._transaction():
            record = self.change(change_id)
            current = self._entry_or_none(record.entry_id)
            target = self._reverted(record, current)
            origin, kept = self.origins(current.id) if current is not None else (OPERATOR, {})
            if current is not None:
                self._delete(record.entry_id)
            if target is not None:
                self._put_entry(target, origin=origin)
                if target.enabled != self._enabled(target.id):
                    self._put_state(target.id, target.enabled)
                for source in (FILE, OPERATOR):
                    self._put_phrasings(target.id, [text for text in [target.question, *target.phrasings]
                                                    if kept.get(text, OPERATOR) == source], source)
            self._audit("undo", record.entry_id, self._snapshot_of(current) if current else None,
                        self._snapshot_of(target) if target else None, by=by, note=f"#{change_id}")
            self._bump()
            return self.history(record.entry_id, limit=1)[0]

    def _entry_or_none(self, entry_id: str) -> Entry | None:
        found = self._read_entries("where e.id = ?", [entry_id])
        return found[0] if found else None

    def _reverted(self, record: AuditRecord, current: Entry | None) -> Entry | None:
        """What the entry becomes when `record` is undone, or None (deleted); raises UndoConflict."""
        later_rows = [row for row in self.db.query("select id, action, note from audit where entry_id = ? and id > ? "
                                                   "order by id", [record.entry_id, record.id])]
        later = [row["id"] for row in later_rows]
        undone_by = next((row["id"] for row in later_rows
                          if row["action"] == "undo" and row["note"] == f"#{record.id}"), None)

        def conflict(reason: str, subject: str = "") -> UndoConflict:
            return UndoConflict(record.id, record.entry_id, reason, subject, later=later, undone_by=undone_by)

        before = Entry(**record.before) if record.before else None
        after = Entry(**record.after) if record.after else None
        if after is None:  # the change removed the entry: bring it back
            if current is not None:
                raise conflict("exists")
            assert before is not None
            owners = self._phrasing_owners()
            for text in [before.question, *before.phrasings]:
                if phrasing_key(text) in owners:
                    raise conflict("taken", text)
            self._validate(before)
            return before
        if current is None:
            raise conflict("gone")
        entry_origin, origins = self.origins(current.id)
        if before is None:  # the change added the entry: delete it, if it is still as added
            if replace(current, enabled=after.enabled) != after:
                raise conflict("edited")
            if entry_origin == FILE or FILE in origins.values():
                raise conflict("file")
            return None
        changes = {}
        for name in ("parent", "question", "answer", "sources", "reviewed", "enabled"):
            if getattr(before, name) != getattr(after, name):
                if getattr(current, name) != getattr(after, name):
                    raise conflict("field", name)
                changes[name] = getattr(before, name)
        had, has = [before.question, *before.phrasings], [after.question, *after.phrasings]
        added = [text for text in has if text not in had]
        dropped = [text for text in had if text not in has]
        owners = self._phrasing_owners()
        for text in added:
            if text not in origins:
                raise conflict("phrasing_gone", text)
            if origins[text] == FILE:
                raise conflict("file")
        for text in dropped:
            owner = owners.get(phrasing_key(text))
            if owner is not None:
                raise conflict("phrasing_back" if owner[0] == current.id else "taken", text)
        texts = [text for text in [current.question, *current.phrasings] if text not in added] + dropped
        question = changes.get("question", current.question)
        target = replace(current, **changes, phrasings=[text for text in texts if text != question])
        self._validate(target)
        return target

    def _validate(self, entry: Entry) -> None:
        try:
            validate(entry, self.catalog, where="undo")
        except FaqError as exc:
            raise InvalidEntry(str(exc)) from exc

    def _delete(self, entry_id: str) -> None:
        self.db.execute("delete from phrasings where entry_id = ?", [entry_id])
        self.db.execute("delete from entries where id = ?", [entry_id])

    def copy_in_memory(self) -> "KnowledgeStore":
        """A private in-memory copy of the whole database (SQLite backup): changes tried on it touch nothing here."""
        with self._lock:
            copy = _database()
            self.db.conn.backup(copy.conn)
        return KnowledgeStore(copy, catalog=self._catalog)

    def resolve_handle(self, handle: str) -> MissedGroup:
        """The unanswered-queue group a handle (u<row id>) points to; UnknownHandle when it left the queue."""
        found = _HANDLE.match(handle.strip())
        row_id = int(found.group(1)) if found else 0
        rows = [] if not 0 < row_id <= _MAX_ROW_ID else list(
            self.db.query("select key from unanswered where id = ?", [row_id]))
        if not rows:
            raise UnknownHandle(f"no unanswered question {_quoted(handle.strip())} any more "
                                "(list them again with `unanswered`)")
        return self._group(rows[0]["key"])

    # -- export and import ---------------------------------------------------------------------

    def export_files(self, directory: Path = FAQ_DIR, *, prune: bool = False) -> ExportReport:
        """Write every entry (operator ones too) as `<id>.toml`; a file whose entry is unchanged is not touched."""
        entries = self.entries(include_disabled=True)
        if not entries:
            raise EditError("the database has no entries; nothing to export")
        directory.mkdir(parents=True, exist_ok=True)
        report = ExportReport(disabled=[entry.id for entry in entries if not entry.enabled])
        for entry in entries:
            path = directory / f"{entry.id}.toml"
            if self._file_holds(path, entry):
                report.unchanged.append(path)
                continue
            scratch = path.with_name(f".{path.name}.tmp")
            scratch.write_text(entry_to_toml(entry), encoding="utf-8")
            os.replace(scratch, path)
            report.written.append(path)
        ids = {entry.id for entry in entries}
        report.stale = [path for path in sorted(directory.glob("*.toml")) if path.stem not in ids]
        if prune:
            for path in report.stale:
                path.unlink()
            report.removed = report.stale
        return report

    def import_files(self, paths: Iterable[Path], *, by: str, replace_all: bool = False,
                     required: Iterable[str] = ()) -> ImportReport:
        """Validate entry files, then merge them in (phrasings are added, fields replaced) or, with `replace_all`,
        make the database hold exactly those entries, which must include `required`. One transaction; a bad file
        writes nothing. A file's `enabled = false` disables its entry; a file without it leaves the entry's state
        as it was (an entry new to the database is enabled)."""
        files = _entry_files(paths)
        try:
            loaded = [redact_entry(entry) for entry in load_faq_files(files, self.catalog)]
        except FaqError as exc:
            raise InvalidEntry(str(exc)) from exc
        where = {entry.id: str(path) for entry, path in zip(loaded, files)}
        report = ImportReport()
        with self._transaction():
            current = {entry.id: entry for entry in self.entries(include_disabled=True)}
            final = {} if replace_all else dict(current)
            for entry in loaded:
                old = current.get(entry.id)
                keep = [] if replace_all or old is None else [
                    text for text in old.phrasings if text not in entry.phrasings and text != entry.question]
                was = old.enabled if old else self._enabled(entry.id)  # a state outlives its entry's removal
                final[entry.id] = replace(entry, phrasings=[*entry.phrasings, *keep], enabled=entry.enabled and was)
            missing = sorted(set(required) - set(final))
            if missing:
                raise EditError(f"the files lack {', '.join(missing)}, which the bot cannot do without")
            self._check_unique(final, where)
            for entry_id, entry in final.items():
                old = current.get(entry_id)
                if old == entry:
                    report.unchanged.append(entry_id)
                    continue
                self._write_imported(old, entry)
                (report.changed if old else report.added).append(entry_id)
                self._audit("import", entry_id, self._snapshot_of(old) if old else None, self._snapshot(entry_id),
                            by=by, note=where.get(entry_id, ""))
            for entry_id in sorted(set(current) - set(final)):
                before = self._snapshot_of(current[entry_id])
                self.db.execute("delete from phrasings where entry_id = ?", [entry_id])
                self.db.execute("delete from entries where id = ?", [entry_id])
                self._audit("remove", entry_id, before, None, by=by, note="import --replace")
                report.removed.append(entry_id)
            if report.added or report.changed or report.removed:
                self._bump()
        return report

    def _write_imported(self, old: Entry | None, entry: Entry) -> None:
        _, origins = self.origins(entry.id) if old else (None, {})
        if entry.enabled != self._enabled(entry.id):
            self._put_state(entry.id, entry.enabled)
        if old is None or _fields(old) != _fields(entry):
            self._put_entry(entry, origin=OPERATOR)
        else:
            self._touch(entry.id)
        # Rewrite the phrasings in the file's order; each keeps the origin it had, new ones are the operator's.
        self.db.execute("delete from phrasings where entry_id = ?", [entry.id])
        for origin in (FILE, OPERATOR):
            self._put_phrasings(entry.id, [text for text in [entry.question, *entry.phrasings]
                                           if origins.get(text, OPERATOR) == origin], origin)

    def _file_holds(self, path: Path, entry: Entry) -> bool:
        """Whether the file at `path` already says exactly what `entry` says, enabled state too (its formatting may
        differ)."""
        try:
            (on_disk,) = load_faq_files([path], self.catalog)
        except FaqError:
            return False
        return on_disk == entry

    # -- validation ---------------------------------------------------------------------------------

    def _check_entry(self, entry: Entry, *, where: str, new_texts: list[str] | None = None) -> None:
        """No new phrasing (the question included) may belong to any entry yet; then the FAQ file validation."""
        texts = [entry.question, *entry.phrasings] if new_texts is None else new_texts
        for text in (*texts, entry.answer):
            if _text(text) != text:
                raise InvalidEntry(f"{where}: entry {entry.id}: {_quoted(_text(text))} holds a broken character "
                                   "(a lone surrogate) where U+FFFD is shown")
        owners = self._phrasing_owners()
        for text in texts:
            if (key := phrasing_key(text)) in owners:
                owner, same = owners[key]
                whose = "this entry" if owner == entry.id else f"entry {owner}"
                raise DuplicatePhrasing(f"{where}: entry {entry.id}: {text!r} is already a phrasing of {whose} ({same!r})")
        try:
            validate(entry, self.catalog, where=where)
        except FaqError as exc:
            raise InvalidEntry(str(exc)) from exc
        if entry.question in entry.phrasings:
            raise DuplicatePhrasing(f"{where}: entry {entry.id}: phrasing {entry.question!r} is the question itself")
        for text in texts:
            if not phrasing_key(text):
                raise InvalidEntry(f"{where}: entry {entry.id}: phrasing {text!r} has no letters or digits")

    def _phrasing_owners(self) -> dict[str, tuple[str, str]]:
        owners: dict[str, tuple[str, str]] = {}
        for entry_id, text in self.db.execute("select p.entry_id, p.text from phrasings p join entries e "
                                              "on e.id = p.entry_id"):
            owners.setdefault(phrasing_key(text), (entry_id, text))
        return owners

    def _check_unique(self, entries: dict[str, Entry], where: dict[str, str]) -> None:
        owners: dict[str, tuple[str, str]] = {}
        # Entries already in the database claim their phrasings first, so an error names the imported file.
        for entry in sorted(entries.values(), key=lambda entry: entry.id in where):
            for text in dict.fromkeys([entry.question, *entry.phrasings]):
                key = phrasing_key(text)
                owner, same = owners.setdefault(key, (entry.id, text))
                if owner != entry.id:
                    place = where.get(entry.id) or where.get(owner) or "import"
                    raise DuplicatePhrasing(f"{place}: entry {entry.id}: {text!r} is already a phrasing of entry "
                                            f"{owner} ({same!r})")

    # -- writing helpers (inside a transaction) ------------------------------------------------------

    def _exists(self, entry_id: str) -> bool:
        return bool(list(self.db.query("select 1 from entries where id = ?", [entry_id])))

    def _next_operator_id(self, parent: str | None) -> str:
        number = int(self.meta("operator_seq", "0") or 0)
        while True:
            number += 1
            candidate = f"{parent}.op{number}" if parent else f"{OPERATOR_PREFIX}{number}"
            if not self._exists(candidate):
                self._set_meta("operator_seq", str(number))
                return candidate

    def _put_entry(self, entry: Entry, *, origin: str) -> None:
        """Write an entry's fields; its enabled state is entry_state's (see _put_state and sync_files)."""
        self.db.execute(
            "insert into entries (id, parent, question, answer, sources, reviewed, origin, updated_at, wordings) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (id) do update set parent = excluded.parent, "
            "question = excluded.question, answer = excluded.answer, sources = excluded.sources, "
            "reviewed = excluded.reviewed, origin = excluded.origin, updated_at = excluded.updated_at, "
            "wordings = excluded.wordings",
            [entry.id, entry.parent, entry.question, entry.answer, json.dumps(entry.sources, ensure_ascii=False),
             entry.reviewed, origin, _now(), json.dumps(entry.wordings(), ensure_ascii=False) if entry.wordings() else None],
        )

    def _enabled(self, entry_id: str) -> bool:
        """The enabled state kept for an id, whether or not the entry exists now."""
        row = self.db.execute("select enabled from entry_state where entry_id = ?", [entry_id]).fetchone()
        return row is None or bool(row[0])

    def _put_state(self, entry_id: str, enabled: bool) -> None:
        """An operator's enable or disable: kept whatever the files say, and after the entry leaves them."""
        self.db.execute("insert into entry_state (entry_id, enabled, source) values (?, ?, ?) on conflict (entry_id) "
                        "do update set enabled = excluded.enabled, source = excluded.source",
                        [entry_id, int(enabled), STATE_FROM_OPERATOR])

    def _put_phrasings(self, entry_id: str, texts: list[str], origin: str) -> None:
        self.db.conn.executemany("insert or ignore into phrasings (entry_id, text, origin) values (?, ?, ?)",
                                 [(entry_id, text, origin) for text in texts])

    def _touch(self, entry_id: str) -> None:
        self.db.execute("update entries set updated_at = ? where id = ?", [_now(), entry_id])

    def _snapshot(self, entry_id: str) -> dict[str, Any]:
        return self._snapshot_of(self.entry(entry_id))

    def _snapshot_of(self, entry: Entry) -> dict[str, Any]:
        return asdict(entry)

    def _audit(self, action: str, entry_id: str, before: dict | None, after: dict | None, *, by: str,
               note: str = "") -> None:
        self.db.execute(
            "insert into audit (at, by, action, entry_id, before, after, note) values (?, ?, ?, ?, ?, ?, ?)",
            [_now(), by, action, entry_id, _json(before), _json(after), note],
        )

    # -- what the bot saw -----------------------------------------------------------------------------

    def record_message(self, *, day: str, counts: Iterable[str], missed: Missed | None = None,
                       keep: int = 5000, retention: timedelta | None = None) -> None:
        """Add one to each named daily counter, and log a missed question (redacted, its sender hashed), keeping the
        newest `keep` of them; with `retention`, questions stored longer ago than that leave the queue (checked at
        most every PRUNE_EVERY).

        Does not bump the revision: nothing the matcher uses changed. Written without waiting for the disk (the
        connection's synchronous=NORMAL): a killed process keeps every commit, a power cut may cost the last few
        counts; waiting would cost every chat message a few milliseconds. Waits at most ACTIVITY_BUSY_MS for the
        write lock: when another process holds it longer, this message's counts are dropped with a warning.
        """
        counts = list(counts)
        with self._lock:
            self.db.execute(f"PRAGMA busy_timeout={ACTIVITY_BUSY_MS}")
            try:
                self._record(day, counts, missed, keep, retention)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
                # The counter names only: never the message's text.
                logger.warning("database busy for over %d ms: this message's activity not recorded (counts: %s%s)",
                               ACTIVITY_BUSY_MS, ", ".join(counts) or "none",
                               "; an unanswered question" if missed else "")
            finally:
                self.db.execute(f"PRAGMA busy_timeout={int(self._busy_ms)}")

    def _record(self, day: str, counts: list[str], missed: Missed | None, keep: int,
                retention: timedelta | None) -> None:
        now = datetime.now(timezone.utc)
        with self._transaction(durable=False):
            self.db.conn.executemany(
                "insert into daily_counts (day, name, n) values (?, ?, 1) "
                "on conflict (day, name) do update set n = n + 1",
                [(day, name) for name in counts],
            )
            if missed is not None:
                question = _text(redact(missed.question))
                self.db.execute(
                    "insert into unanswered (at, room, question, key, suggestion, score, sender, stored) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [missed.at, missed.room and _text(missed.room), question, phrasing_key(question),
                     missed.suggestion, missed.score, self._sender_hash(missed.sender) if missed.sender else None,
                     _iso(now)],
                )
                self.db.execute("delete from unanswered where id <= (select max(id) from unanswered) - ?", [keep])
            if retention is not None and (self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY):
                self._prune(now - retention)
                self._pruned_at = now

    def prune(self, retention: timedelta) -> int:
        """Delete unanswered questions stored longer ago than `retention`; returns how many went. Writes (and takes
        the write lock) only when there is something to delete."""
        before = datetime.now(timezone.utc) - retention
        if self.db.execute("select 1 from unanswered where stored < ? limit 1", [_iso(before)]).fetchone() is None:
            return 0
        with self._transaction():
            return self._prune(before)

    def _prune(self, before: datetime) -> int:
        return self.db.execute("delete from unanswered where stored < ?", [_iso(before)]).rowcount

    def _sender_hash(self, sender: str) -> str:
        """A keyed hash (HMAC-SHA256 with this database's own random key) of a member's id: equal ids give equal
        hashes, and the id cannot be read back from it."""
        return hmac.new(self._sender_key, sender.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def forget(self, sender: str, *, by: str) -> int:
        """Delete everything stored of one member (a request under PIPL): the unanswered questions they asked. The
        daily counters hold no sender and no words. Audited with the sender's hash, never the id itself. Returns
        how many questions were deleted."""
        sender = sender.strip()
        if not sender:
            raise EditError("no sender id given")
        digest = self._sender_hash(sender)
        with self._transaction():
            deleted = self.db.execute("delete from unanswered where sender = ?", [digest]).rowcount
            self._audit("forget", "-", None, None, by=by,
                        note=f"{deleted} unanswered question(s) of sender #{digest[:12]} deleted")
        return deleted

    def record_error_report(self, report: ErrorReport, *, day: str) -> None:
        """Put a reported wrong answer in the review queue (the unanswered log, marked) and count it as `reported`.

        Bounded with the rest of the log: the next record_message keeps the newest rows only. Raises sqlite3.Error.
        """
        with self._transaction(durable=False):
            self.db.execute("insert into daily_counts (day, name, n) values (?, 'reported', 1) "
                            "on conflict (day, name) do update set n = n + 1", [day])
            self.db.execute(
                "insert into unanswered (at, room, question, key, suggestion, score, reported_intent, reported_reply) "
                "values (?, ?, ?, ?, null, 0, ?, ?)",
                [report.at, report.room, report.question, report.key, report.intent, report.reply],
            )

    def error_reports(self, limit: int = 10) -> list[ReportedGroup]:
        """Questions members reported answered wrongly, latest report first, one per question."""
        rows = self.db.execute("select key, count(*), max(id) from unanswered where reported_reply is not null "
                               "group by key order by max(id) desc limit ?", [limit]).fetchall()
        groups = []
        for key, count, last in rows:
            row = next(self.db.query("select * from unanswered where id = ?", [last]))
            groups.append(ReportedGroup(handle=f"{HANDLE_PREFIX}{last}", count=count, question=row["question"],
                                        key=key, intent=row["reported_intent"], reply=row["reported_reply"],
                                        at=row["at"]))
        return groups

    def daily_counts(self, *, days: int, today: date) -> dict[str, dict[str, int]]:
        """day (ISO) → counter name → count, for the `days` days up to `today`."""
        first = (today - timedelta(days=days - 1)).isoformat()
        counts: dict[str, dict[str, int]] = {}
        for row in self.db.query("select day, name, n from daily_counts where day between ? and ? order by day",
                                 [first, today.isoformat()]):
            counts.setdefault(row["day"], {})[row["name"]] = row["n"]
        return counts

    def unanswered(self, limit: int = 10) -> list[MissedGroup]:
        """The most frequent questions in the unanswered log, most recent first among equals."""
        rows = self.db.query("select key from unanswered group by key order by count(*) desc, max(id) desc limit ?",
                             [limit])
        return [self._group(row["key"]) for row in rows]

    def logged_questions(self) -> list[str]:
        """Each distinct question of the unanswered log (reported ones too), as last logged, newest first."""
        return [row[0] for row in self.db.execute(
            "select question from unanswered where id in (select max(id) from unanswered group by key) order by id desc")]

    def unanswered_count(self) -> int:
        return self.db.execute("select count(*) from unanswered").fetchone()[0]

    def _group(self, key: str) -> MissedGroup:
        count, last = self.db.execute("select count(*), max(id) from unanswered where key = ?", [key]).fetchone()
        row = next(self.db.query("select * from unanswered where id = ?", [last]))
        return MissedGroup(handle=f"{HANDLE_PREFIX}{last}", count=count, question=row["question"], key=key,
                           suggestion=row["suggestion"], score=row["score"])


def _record(row: dict) -> AuditRecord:
    return AuditRecord(id=row["id"], at=row["at"], by=row["by"], action=row["action"], entry_id=row["entry_id"],
                       before=json.loads(row["before"]) if row["before"] else None,
                       after=json.loads(row["after"]) if row["after"] else None, note=row["note"])


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _utc(text: str) -> str:
    """A stored ISO time as UTC ISO (comparable as text); an unreadable one as now."""
    try:
        moment = datetime.fromisoformat(text)
        return _iso(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    except (TypeError, ValueError, OverflowError):  # OverflowError: year 1 at +08:00 is before UTC's year 1
        return _now()


def _redact_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """An audit snapshot (an Entry as a dict) with its question and phrasings redacted."""
    if "question" in snapshot:
        snapshot = {**snapshot, "question": redact(snapshot["question"])}
    if "phrasings" in snapshot:
        snapshot = {**snapshot, "phrasings": list(dict.fromkeys(map(redact, snapshot["phrasings"])))}
    return snapshot


def _fields(entry: Entry) -> tuple:
    """What an entry says, phrasings and enabled state aside."""
    return entry.parent, entry.question, entry.answer, entry.sources, entry.reviewed, entry.wordings()


def _row_fields(row: dict) -> tuple:
    return (row["parent"], row["question"], row["answer"], json.loads(row["sources"] or "[]"), row["reviewed"] or "",
            json.loads(row.get("wordings") or "{}"))


def _entry_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise EditError(f"{path}: no .toml entry files in this directory")
            files.extend(found)
        else:
            files.append(path)
    if not files:
        raise EditError("no entry files given")
    return files
