"""What an FAQ change would do before it is made: the questions the bot has seen, answered with and without it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from bot import policy
from bot.redact import redact
from intents.matcher import IntentIndex
from intents.normalize import normalize
from intents.scope import Scope
from knowledge.faqfile import OUT_OF_SCOPE, Entry
from knowledge.store import KnowledgeStore, phrasing_key

REPO = Path(__file__).resolve().parent.parent
# The shipped question sets, found when the package runs from a checkout; an installed package has none.
QUESTION_SETS = (REPO / "tests" / "data" / "dev_questions.jsonl", REPO / "eval" / "holdout_questions.jsonl")
SHOWN = 5  # changed questions a preview lists; the others are counted

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """How the bot takes a question: the entry it answers with when asked (None: it does not answer), and
    whether it also answers unasked in a group (a confident, on-topic question)."""

    entry_id: str | None
    unasked: bool = False
    out_of_scope: bool = False  # the entry is the out-of-scope answer

    def describe(self) -> str:
        if self.entry_id is None:
            return "不答"
        if self.out_of_scope:
            return "被@时说不在服务范围"
        return f"答 {self.entry_id}" if self.unasked else f"被@时答 {self.entry_id}"


@dataclass(frozen=True)
class Changed:
    question: str
    before: Outcome
    after: Outcome


@dataclass(frozen=True)
class Preview:
    """The outcome of a change on the seen questions: how many were checked, and those answered differently."""

    checked: int
    changed: tuple[Changed, ...] = ()

    def text(self, *, done: bool = False) -> str:
        """Chinese lines for chat and the CLI; `done` words it as having happened."""
        if not self.changed:
            return f"{'没有' if done else '不会'}改变已有问题的回答（对照了 {self.checked} 个问题）。"
        lines = [f"{'改变了' if done else '会改变'} {len(self.changed)} 个已有问题的回答："]
        lines += [f"「{c.question}」{c.before.describe()} → {c.after.describe()}" for c in self.changed[:SHOWN]]
        if len(self.changed) > SHOWN:
            lines.append(f"……另有 {len(self.changed) - SHOWN} 个")
        return "\n".join(lines)


@lru_cache(maxsize=4)
def shipped_questions(paths: tuple[Path, ...] = QUESTION_SETS) -> tuple[str, ...]:
    """The `text` of every line of the question sets that exist (JSON Lines), normalised and redacted."""
    texts = []
    for path in paths:
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    text = json.loads(line).get("text")
                    if isinstance(text, str):
                        texts.append(redact(normalize(text[: policy.MAX_QUESTION_CHARS])))
    return tuple(texts)


def seen_questions(store: KnowledgeStore, paths: tuple[Path, ...] = QUESTION_SETS) -> list[str]:
    """The questions the bot has seen: the (redacted) unanswered log newest first, then the shipped sets; each once."""
    seen: dict[str, str] = {}
    for text in [*store.logged_questions(), *shipped_questions(paths)]:
        seen.setdefault(phrasing_key(text), text)
    return [text for key, text in seen.items() if key]


@lru_cache(maxsize=1)
def _scope() -> Scope:
    return Scope()


def outcome(index: IntentIndex, entries: dict[str, Entry], text: str) -> Outcome:
    """How the matcher and the policy thresholds take a normalised question (dated re-routing and the
    did-you-mean choice aside). Out-of-scope answers count as answers with the out-of-scope entry."""
    best = index.match(text).best
    if best is None or best[1] < policy.MIN_CONFIDENCE or best[0] not in entries:
        return Outcome(None)
    entry_id, score = best
    if entries[entry_id].catalog_id == OUT_OF_SCOPE:
        return Outcome(entry_id, out_of_scope=True)
    if entry_id.startswith("bot."):
        return Outcome(entry_id)  # unasked only when the bot is named
    return Outcome(entry_id, score >= policy.GROUP_CONFIDENCE and policy.looks_like_question(text))


def compare(before: IntentIndex, before_entries: list[Entry], after_entries: list[Entry],
            questions: Iterable[str]) -> Preview:
    """Each question through `before` (the matcher over `before_entries`) and through a matcher over
    `after_entries` (same segmenter); those taken differently. Questions with out-of-scope markers are skipped:
    no FAQ change alters their answer."""
    after = IntentIndex(after_entries, before.segmenter)
    was_entries = {entry.id: entry for entry in before_entries}
    now_entries = {entry.id: entry for entry in after_entries}
    scope = _scope()
    checked, changed = 0, []
    for text in questions:
        if not before.words(text) or scope.outside(text):
            continue
        checked += 1
        was, now = outcome(before, was_entries, text), outcome(after, now_entries, text)
        if was != now:
            changed.append(Changed(text, was, now))
    return Preview(checked, tuple(changed))


def try_change(store: KnowledgeStore, change: Callable[[KnowledgeStore], T], current: IntentIndex,
               *, paths: tuple[Path, ...] = QUESTION_SETS) -> tuple[T, Preview]:
    """Make `change` on a private copy of the store (raising what the real change would raise), then compare
    the seen questions under `current` (the matcher over the store's entries now) and under the copy's entries.
    Nothing is written to the store."""
    scratch = store.copy_in_memory()
    result = change(scratch)
    return result, compare(current, store.entries(), scratch.entries(), seen_questions(store, paths))
