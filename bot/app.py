"""The application builder: loads and validates the configuration and every data file once, at start, then opens
the knowledge database and returns the running bot. Every command opens through here."""
from __future__ import annotations

import gc
import logging
import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from bot.config import Config, ConfigError, load_config
from bot.errors import StartupError
from intents.classifier import CLASSIFIER_FILE, ClassifierError, IntentClassifier
from intents.dates import SHANGHAI
from intents.matcher import UTTERANCES_FILE, UtterancesError, load_utterances
from intents.scope import SCOPE_FILE, Scope, ScopeError
from intents.segment import SYNONYMS_FILE, Segmenter, load_synonyms
from intents.workdays import HOLIDAYS_DIR, HolidayFileError, load_year_file
from knowledge.faqfile import CATALOG_FILE, SOURCES_FILE, FaqError, load_catalog, load_sources
from knowledge.policy import POLICY_PATH, Policy, PolicyError, load_policy
from knowledge.store import KnowledgeStore

logger = logging.getLogger(__name__)

REBUILD_HINT = "permitbot faq rebuild --db {path}"


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Config:
    """The configuration (file, environment, then `overrides`), range-checked; StartupError names the setting."""
    try:
        return load_config(Path(config_file) if config_file else None, **overrides)
    except ConfigError as exc:
        raise StartupError(str(exc)) from None


def data_files(segment: Callable[[str], Any] | None = None) -> list[tuple[str, Path, Callable[[Path], Any]]]:
    """Every data file the answers depend on, in the order they are checked: (what it is, path, loader).
    `segment` cuts the scope markers as questions are cut (without it, on spaces: enough to check the file)."""
    return [
        ("intent catalog", CATALOG_FILE, load_catalog),
        ("sources", SOURCES_FILE, load_sources),
        ("policy figures", POLICY_PATH, load_policy),
        ("synonyms", SYNONYMS_FILE, load_synonyms),
        ("scope markers", SCOPE_FILE, lambda path: Scope(path, segment=segment)),
        ("members' questions", UTTERANCES_FILE, load_utterances),
        ("members' classifier", CLASSIFIER_FILE, IntentClassifier),
        *(("holidays", path, load_year_file) for path in sorted(HOLIDAYS_DIR.glob("*.toml"))),
    ]


def load_data(config: Config,
              segmenter: Segmenter | None = None) -> tuple[Policy, Scope, Segmenter, IntentClassifier]:
    """Read and check every data file (data_files()); StartupError names the file and what is wrong.
    Returns what the handler keeps."""
    made: list[Segmenter] = [segmenter] if segmenter else []

    def segment(text: str) -> Any:
        if not made:
            made.append(Segmenter())  # after the synonyms were checked: it reads them
        return made[0].tokens(text)

    loaded = {subject: checked(path, load) for subject, path, load in data_files(segment)}
    return (loaded["policy figures"], loaded["scope markers"], made[0] if made else Segmenter(),
            loaded["members' classifier"])


def checked(path: Path, load: Callable[[Path], Any]) -> Any:
    """load(path), with any problem turned into one StartupError line that names the file."""
    try:
        return load(path)
    except (FaqError, PolicyError, ScopeError, UtterancesError, ClassifierError, HolidayFileError) as exc:
        raise StartupError(str(exc)) from None  # these name the file
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StartupError(f"{path}: cannot be used ({exc})") from None


def _corrupt(path: Path, detail: str) -> StartupError:
    return StartupError(f"the knowledge database {path} is damaged ({detail}); rebuild it from the FAQ files, keeping "
                        f"what can be read of operator edits, with: {REBUILD_HINT.format(path=path)}")


def open_store(config: Config) -> KnowledgeStore:
    """The knowledge database, brought up to date with the FAQ files.

    A damaged database stops start-up (StartupError naming the rebuild command); a read-only database, folder or
    a full disk start with one warning, answering from an in-memory copy (nothing is written back).
    """
    path = Path(config.db_path)
    if path.is_file() and path.stat().st_size == 0:
        raise _corrupt(path, "the file is empty")
    try:
        store = KnowledgeStore.open(path)
        store.sync_files(config.faq_dir)
        return store
    except FaqError as exc:
        raise StartupError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        if not isinstance(exc, sqlite3.OperationalError) or "malformed" in str(exc) or "not a database" in str(exc):
            raise _corrupt(path, str(exc)) from None
        reason = str(exc)
    except OSError as exc:  # the folder cannot be created
        reason = exc.strerror or str(exc)
    logger.warning("cannot write the knowledge database %s (%s): answering from memory; operator edits and the "
                   "activity log are not saved until this is fixed", path, reason)
    return _memory_copy(path, config)


def rebuild_store(config: Config) -> str:
    """Move a damaged database aside, build a new one from the FAQ files, and keep what can be read of the old
    one's operator edits. Returns a one-line report; StartupError when the FAQ files or the folder are unusable."""
    path = Path(config.db_path)
    aside = path.with_name(f"{path.name}.damaged-{datetime.now(SHANGHAI):%Y%m%d-%H%M%S}")
    try:
        if path.exists():
            os.replace(path, aside)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{aside}{suffix}"))
        store = KnowledgeStore.open(path)
        store.sync_files(config.faq_dir)
    except FaqError as exc:
        raise StartupError(str(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        raise StartupError(f"cannot rebuild {path}: {exc}") from None
    kept = store.salvage(aside) if aside.exists() else {}
    saved = ", ".join(f"{n} {kind}" for kind, n in kept.items()) or "nothing (no old file)"
    return f"rebuilt {path} from {config.faq_dir}; kept from the old file: {saved}; the old file is at {aside}"


def _memory_copy(path: Path, config: Config) -> KnowledgeStore:
    memory = KnowledgeStore.open(None)
    if path.is_file() and os.access(path, os.R_OK):
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            source.backup(memory.db.conn)
            source.close()
            memory = KnowledgeStore(memory.db)  # the copied schema, migrated if older
        except sqlite3.DatabaseError as exc:
            raise _corrupt(path, str(exc)) from None
    try:
        memory.sync_files(config.faq_dir)
    except FaqError as exc:
        raise StartupError(str(exc)) from None
    return memory


def build(config: Config, *, store: KnowledgeStore | None = None, segmenter: Segmenter | None = None,
          utterances: Mapping[str, Sequence[str]] | None = None):
    """The running bot for checked settings: data checked, database opened (or `store`, already open, as tests and
    the benchmark pass); `utterances` replace the members' questions file's (a test's own small library); StartupError
    (one line) otherwise."""
    from bot.handler import Bot  # the handler pulls in the matcher; `faq` and `dates` do not need it

    policy, scope, segmenter, classifier = load_data(config, segmenter)
    _collect_less_often()
    return Bot(store or open_store(config), config=config, policy=policy, scope=scope, segmenter=segmenter,
               utterances=utterances, classifier=classifier)


# Python collects its young objects every 700 container allocations. Answering a message leaves no garbage cycles (none
# found in the benchmark's 6,000 messages), yet each such collection cost 0.1-1.7 ms, most of it reading what the young
# tuples of words point to, and it fell inside a message: 38 of the 6,000, nine of them among the 60 slowest (the p99).
# Every GC_YOUNG allocations instead: one collection of some 3 ms in 6,000 messages, and older generations in step.
GC_YOUNG = 20_000


def _collect_less_often() -> None:
    """The garbage collector's young generation threshold raised to GC_YOUNG (never lowered), for the whole process."""
    young, *older = gc.get_threshold()
    if 0 < young < GC_YOUNG:  # 0: collection turned off, left so
        gc.set_threshold(GC_YOUNG, *older)


def open_bot(config_file: str | Path | None = None, **overrides: Any):
    """build() for a configuration file and overrides (command-line flags)."""
    return build(load_settings(config_file, **overrides))
