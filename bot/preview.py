"""What an FAQ change would do before it is made: the questions the bot has seen, answered with and without it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from knowledge.redact import redact
from intents.normalize import normalize
from intents.understand import MAX_QUESTION_CHARS
from knowledge.store import KnowledgeStore, phrasing_key

REPO = Path(__file__).resolve().parent.parent
# The shipped question sets, found when the package runs from a checkout; an installed package has none.
QUESTION_SETS = (REPO / "tests" / "data" / "dev_questions.jsonl", REPO / "eval" / "holdout_questions.jsonl")
SHOWN = 5  # changed questions a preview lists; the others are counted

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """How the bot takes a question, as the live handler answers it: the intent it answers with when @-mentioned
    (None: it does not answer), whether that is a menu or the out-of-scope line, and whether it also answers
    unasked in a group."""

    intent: str | None
    unasked: bool = False
    menu: bool = False
    out_of_scope: bool = False

    def describe(self) -> str:
        if self.intent is None:
            return "不答"
        if self.out_of_scope:
            return "被@时说不在服务范围"
        if self.menu:
            return f"被@时让人从 {self.intent} 等几项中选"
        return f"答 {self.intent}" if self.unasked else f"被@时答 {self.intent}"


# How the bot over some knowledge takes one normalised question (made by the handler: bot.handler.Bot.judge).
Judge = Callable[[str], Outcome]


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
                        texts.append(normalize(redact(text[: MAX_QUESTION_CHARS])))
    return tuple(texts)


def seen_questions(store: KnowledgeStore, paths: tuple[Path, ...] = QUESTION_SETS) -> list[str]:
    """The questions the bot has seen: the (redacted) unanswered log newest first, then the shipped sets; each once."""
    seen: dict[str, str] = {}
    for text in [*store.logged_questions(), *shipped_questions(paths)]:
        seen.setdefault(phrasing_key(text), text)
    return [text for key, text in seen.items() if key]


def compare(before: Judge, after: Judge, questions: Iterable[str]) -> Preview:
    """Each question through `before` and `after`; those taken differently."""
    checked, changed = 0, []
    for text in questions:
        checked += 1
        was, now = before(text), after(text)
        if was != now:
            changed.append(Changed(text, was, now))
    return Preview(checked, tuple(changed))


def try_change(store: KnowledgeStore, change: Callable[[KnowledgeStore], T], judge: Callable[[KnowledgeStore], Judge],
               *, paths: tuple[Path, ...] = QUESTION_SETS) -> tuple[T, Preview]:
    """Make `change` on a private copy of the store (raising what the real change would raise), then compare how
    the bot over the store and the bot over the copy (`judge` makes each) take the seen questions.
    Nothing is written to the store."""
    scratch = store.copy_in_memory()
    result = change(scratch)
    return result, compare(judge(store), judge(scratch), seen_questions(store, paths))
