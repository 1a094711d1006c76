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
# Seen questions a preview replays, the unanswered log's newest first (issue 14, item 6): about 0.3 s of an operator's
# wait, and of the command thread, however long the log; all of them took about 1.5 s for 634 (a preview says so).
PREVIEW_QUESTIONS = 200

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
    seen: int = 0  # the seen questions, when more than were checked

    def text(self, *, done: bool = False) -> str:
        """Chinese lines for chat and the CLI; `done` words it as having happened."""
        part = f"其中 {self.checked} 个：最近未答的在先，共 {self.seen} 个" if self.seen > self.checked else ""
        if not self.changed:
            return f"{'没有' if done else '不会'}改变已有问题的回答（对照了{part or f' {self.checked} 个问题'}）。"
        lines = [f"{'改变了' if done else '会改变'} {len(self.changed)} 个已有问题的回答："]
        lines += [f"「{c.question}」{c.before.describe()} → {c.after.describe()}" for c in self.changed[:SHOWN]]
        if len(self.changed) > SHOWN:
            lines.append(f"……另有 {len(self.changed) - SHOWN} 个")
        if part:
            lines.append(f"（只对照了{part}）")
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


class Outcomes:
    """A memoised Judge: how the bot over one revision of the knowledge takes questions, each question judged once.

    `make` gives the Judge, called at the first question (a scratch bot costs a matcher build). The outcomes of
    `revision` stay right for as long as the knowledge is at that revision, so one operator's next preview does
    not judge the same questions over the same knowledge again.
    """

    def __init__(self, make: Callable[[], Judge], revision: int):
        self.revision = revision
        self._make = make
        self._judge: Judge | None = None
        self._known: dict[str, Outcome] = {}

    def __call__(self, text: str) -> Outcome:
        outcome = self._known.get(text)
        if outcome is None:
            if self._judge is None:
                self._judge = self._make()
            outcome = self._known[text] = self._judge(text)
        return outcome


def compare(before: Judge, after: Judge, questions: list[str], *, most: int = PREVIEW_QUESTIONS) -> Preview:
    """The first `most` questions through `before` and `after`; those taken differently."""
    changed = []
    for text in questions[:most]:
        was, now = before(text), after(text)
        if was != now:
            changed.append(Changed(text, was, now))
    return Preview(min(len(questions), most), tuple(changed), seen=len(questions))


def try_change(store: KnowledgeStore, change: Callable[[KnowledgeStore], T], judge: Callable[[KnowledgeStore], Judge],
               *, paths: tuple[Path, ...] = QUESTION_SETS, before: Outcomes | None = None) -> tuple[T, Preview, Outcomes]:
    """Make `change` on a private copy of the store (raising what the real change would raise), then compare how
    the bot over the store (`before`: its outcomes at the store's current revision, made with `judge` when None)
    and the bot over the copy take the seen questions. Nothing is written to the store.

    Returns the change's result, the preview, and the copy's outcomes, marked with the revision after `before`'s:
    they are the store's once the same change is made there at `before`'s revision (and bumps it once).
    """
    if before is None:
        before = Outcomes(lambda: judge(store), store.data_version())
    scratch = store.copy_in_memory()
    result = change(scratch)
    after = Outcomes(lambda: judge(scratch), before.revision + 1)
    return result, compare(before, after, seen_questions(store, paths)), after
