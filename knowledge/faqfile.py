"""FAQ entries as reviewable TOML files: one file per entry, validated on load, written back on export."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import tomli_w

FAQ_DIR = Path(__file__).parent / "faq"
CATALOG_FILE = Path(__file__).parent / "catalog.toml"
SOURCES_FILE = Path(__file__).parent / "sources.toml"
OUT_OF_SCOPE = "out_of_scope"  # catalog ids the code itself relies on
HELP = "bot.help"
HANDOFF = "bot.handoff"
MAX_ANSWER_CHARS = 2000
MAX_PHRASING_CHARS = 200  # the question too: it is the entry's first phrasing
OPERATOR_PREFIX = "op."  # finer intents added by operators without a catalog parent: op.1, op.2, …
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
# Optional wordings beside the answer: `short` (one sentence, for a two-part reply), `with_dates` (what a dated
# answer adds after the computed sentence), `lead_en` (the English lead line for an English question).
WORDINGS = ("short", "with_dates", "lead_en")
_KEYS = {"id", "parent", "question", "phrasings", "answer", "sources", "reviewed", "enabled", *WORDINGS}


class FaqError(ValueError):
    """An FAQ entry is invalid; the message names the file (or origin), the entry and the problem."""


@dataclass
class Entry:
    """One FAQ entry: an intent (catalog id or a finer id with its catalog parent) and its answer."""

    id: str
    question: str
    answer: str
    phrasings: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    reviewed: str = ""
    parent: str | None = None
    enabled: bool = True
    short: str = ""
    with_dates: str = ""
    lead_en: str = ""

    def wordings(self) -> dict[str, str]:
        """The optional wordings that are set, by name."""
        return {name: getattr(self, name) for name in WORDINGS if getattr(self, name)}

    @property
    def catalog_id(self) -> str:
        """The catalog id this entry reports as (its own id, or its declared parent's)."""
        return self.parent or self.id


def load_sources(path: Path = SOURCES_FILE) -> dict[str, dict]:
    """The articles FAQ entries cite, by number: {"000": {"title", "site", "date"}}; FaqError when unusable."""
    try:
        with open(path, "rb") as handle:
            sources = tomllib.load(handle)["sources"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise FaqError(f"{path}: cannot be read ({exc})") from None
    for label, source in sources.items():
        if not isinstance(source, dict) or not all(isinstance(source.get(k), str) for k in ("title", "date")):
            raise FaqError(f"{path}: [sources.\"{label}\"] needs `title` and `date`")
    return sources


def load_catalog(path: Path = CATALOG_FILE) -> dict[str, dict]:
    """The intents of the catalog file by id, each a dict (`what`, and for some `points_follow_up` or `last_day`: an
    id of the catalog, with `last_day_words` and `first_day_words`); FaqError names the file and the intent when a
    follow-up names no catalog intent or its words are not lists of words."""
    with open(path, "rb") as handle:
        intents = tomllib.load(handle)["intents"]
    for intent_id, intent in intents.items():
        for key in ("points_follow_up", "last_day"):
            if intent.get(key, intent_id) not in intents:
                raise FaqError(f"{path}: intent {intent_id}: {key} {intent[key]!r} is not in the catalog")
        for key in ("last_day_words", "first_day_words"):
            words = intent.get(key, [])
            if not isinstance(words, list) or not all(isinstance(word, str) and word for word in words):
                raise FaqError(f"{path}: intent {intent_id}: {key} must be a list of words")
    return intents


def validate(entry: Entry, catalog: dict[str, dict], *, where: str) -> None:
    """Raise FaqError naming `where` and the entry when the entry cannot be served."""

    def fail(problem: str) -> None:
        raise FaqError(f"{where}: entry {entry.id or '?'}: {problem}")

    if not _ID.match(entry.id or ""):
        fail("id must be lower-case words separated by dots, e.g. points.materials.job_change")
    if entry.parent is not None and entry.parent not in catalog:
        fail(f"unknown parent {entry.parent!r} (not an id of knowledge/catalog.toml)")
    if entry.parent is None and entry.id not in catalog and not entry.id.startswith(OPERATOR_PREFIX):
        fail(f"id is not in the catalog; a finer intent must declare `parent` (or be an {OPERATOR_PREFIX}… id)")
    if not entry.question.strip():
        fail("question is empty")
    if len(entry.question) > MAX_PHRASING_CHARS:
        fail(f"question is {len(entry.question)} characters, more than {MAX_PHRASING_CHARS}")
    if not entry.answer.strip():
        fail("answer is empty")
    if len(entry.answer) > MAX_ANSWER_CHARS:
        fail(f"answer is {len(entry.answer)} characters, more than {MAX_ANSWER_CHARS}")
    seen: set[str] = set()
    for phrasing in entry.phrasings:
        if not phrasing.strip():
            fail("a phrasing is empty")
        if len(phrasing) > MAX_PHRASING_CHARS:
            fail(f"phrasing {phrasing[:20]!r}… is longer than {MAX_PHRASING_CHARS} characters")
        if phrasing in seen:
            fail(f"phrasing {phrasing!r} appears twice")
        seen.add(phrasing)


def parse_entry(data: dict, *, where: str) -> Entry:
    """Build an Entry from a TOML table, with a clear error for missing or mistyped keys."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise FaqError(f"{where}: entry {data.get('id', '?')}: unknown key(s) {', '.join(unknown)}")
    for key, kind in (("id", str), ("question", str), ("answer", str)):
        if not isinstance(data.get(key), kind):
            raise FaqError(f"{where}: entry {data.get('id', '?')}: `{key}` must be a string")
    for key in WORDINGS:
        if not isinstance(data.get(key, ""), str):
            raise FaqError(f"{where}: entry {data['id']}: `{key}` must be a string")
    for key in ("phrasings", "sources"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FaqError(f"{where}: entry {data['id']}: `{key}` must be a list of strings")
    if not isinstance(data.get("enabled", True), bool):
        raise FaqError(f"{where}: entry {data['id']}: `enabled` must be true or false")
    reviewed = data.get("reviewed", "")
    return Entry(
        id=data["id"],
        question=data["question"].strip(),
        answer=data["answer"].strip(),
        phrasings=[p.strip() for p in data.get("phrasings", [])],
        sources=list(data.get("sources", [])),
        reviewed=str(reviewed),
        parent=data.get("parent"),
        **{key: data[key].strip() for key in WORDINGS if key in data},
        enabled=data.get("enabled", True),
    )


def load_faq_dir(directory: Path = FAQ_DIR, catalog: dict[str, dict] | None = None) -> list[Entry]:
    """Load and validate every `*.toml` entry file; the first problem stops loading with FaqError."""
    return load_faq_files(sorted(directory.glob("*.toml")), catalog)


def load_faq_files(paths: Iterable[Path], catalog: dict[str, dict] | None = None) -> list[Entry]:
    """Load and validate entry files, each named after its id; the first problem stops loading with FaqError."""
    catalog = load_catalog() if catalog is None else catalog
    entries: list[Entry] = []
    ids: dict[str, Path] = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise FaqError(f"{path}: not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise FaqError(f"{path}: not UTF-8 text") from exc
        except OSError as exc:
            raise FaqError(f"{path}: cannot read: {exc.strerror}") from exc
        entry = parse_entry(data, where=str(path))
        if entry.id != path.stem:
            raise FaqError(f"{path}: entry {entry.id}: the file must be named {entry.id}.toml")
        if entry.id in ids:
            raise FaqError(f"{path}: entry {entry.id}: id already defined in {ids[entry.id]}")
        validate(entry, catalog, where=str(path))
        ids[entry.id] = path
        entries.append(entry)
    return entries


def entry_to_toml(entry: Entry) -> str:
    """The entry's reviewable file text in the house style of knowledge/faq: keys in a stable order,
    one phrasing per line, the answer as a multi-line string, the sources on one line, and `enabled = false`
    last for a disabled entry only (an enabled one's file is as it always was)."""
    data: dict = {"id": entry.id}
    if entry.parent:
        data["parent"] = entry.parent
    data.update(question=entry.question, phrasings=entry.phrasings, answer=entry.answer + "\n", **entry.wordings())
    sources = ", ".join(_toml_value(source) for source in entry.sources)
    return (tomli_w.dumps(data, multiline_strings=True, indent=2) + f"sources = [{sources}]\n"
            + tomli_w.dumps({"reviewed": entry.reviewed} | ({} if entry.enabled else {"enabled": False})))


def _toml_value(value: str) -> str:
    return tomli_w.dumps({"v": value}).partition(" = ")[2].rstrip("\n")
