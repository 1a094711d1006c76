"""Replay bookkeeping in bounded memory: latency percentiles, scoring against `expect` labels, diffs between runs."""
from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from intents.normalize import normalize
from intents.understand import MAX_QUESTION_CHARS
from knowledge.faqfile import OUT_OF_SCOPE
from knowledge.redact import redact
from knowledge.store import Missed, phrasing_key

logger = logging.getLogger(__name__)

NONE_LABEL = "(none)"  # how an unrecognised message (intent null) is shown in per-intent tables and confusions
MENU_LABEL = "(menu)"  # a "did you mean" reply in confusions: never counted right


def percent(value: float | None) -> str:
    """A rate as the summary and the report show it: one decimal, or n/a when nothing was measured."""
    return "n/a" if value is None else f"{value * 100:.1f} %"


# -- latency ---------------------------------------------------------------------------------


class LatencyHistogram:
    """Percentiles of millions of samples in a few kilobytes: log-spaced buckets, about 1 % apart.

    A reported percentile is the geometric middle of its bucket, so it is within 0.5 % of the true
    value for anything between 1 µs and 1000 s; a replay needs p50 / p99, not the last nanosecond.
    """

    _RATIO = 1.01
    _FLOOR_MS = 0.001

    def __init__(self) -> None:
        self._buckets: Counter[int] = Counter()
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        self._buckets[self._bucket(ms)] += 1
        self.count += 1
        self.total_ms += ms
        self.max_ms = max(self.max_ms, ms)

    def _bucket(self, ms: float) -> int:
        if ms <= self._FLOOR_MS:
            return 0
        return 1 + int(math.log(ms / self._FLOOR_MS, self._RATIO))

    def _value(self, bucket: int) -> float:
        if bucket == 0:
            return self._FLOOR_MS
        low = self._FLOOR_MS * self._RATIO ** (bucket - 1)
        return low * math.sqrt(self._RATIO)

    def percentile(self, p: float) -> float | None:
        """The p-th percentile (0–100) by the nearest-rank rule; None when there are no samples."""
        if not self.count:
            return None
        rank = max(1, math.ceil(p / 100 * self.count))
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                return min(self._value(bucket), self.max_ms)
        return self.max_ms

    def as_dict(self) -> dict[str, float | None]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "p50": ms(self.percentile(50)),
            "p99": ms(self.percentile(99)),
            "mean": ms(self.total_ms / self.count if self.count else None),
            "max": ms(self.max_ms if self.count else None),
        }


# -- expectations ----------------------------------------------------------------------------


class LabelError(ValueError):
    """An `expect` label that cannot be read; the message is still replayed, just not scored."""


@dataclass(frozen=True)
class Expectation:
    """What a labelled line says the bot should do; None / empty means "not labelled"."""

    intents: tuple[str, ...] = ()
    replied: bool | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.intents and self.replied is None and not self.facts


def parse_bool(value: Any) -> bool | None:
    """JSON booleans and the usual spellings in CSV exports; None when absent; ValueError for anything else."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("", "null", "none"):
            return None
        if word in ("true", "t", "yes", "y", "1", "是", "真"):
            return True
        if word in ("false", "f", "no", "n", "0", "否", "假"):
            return False
    raise ValueError(f"{value!r} is not true or false")


def parse_expectation(raw: Any) -> Expectation:
    """`expect` as JSON Lines carry it: {"intent": [ids] or "id", "replied": bool, "facts": {...}}."""
    if raw is None or raw == "":
        return Expectation()
    if not isinstance(raw, dict):
        raise LabelError("`expect` is not an object")
    intents = raw.get("intent")
    if intents is None:
        accepted: tuple[str, ...] = ()
    elif isinstance(intents, str):
        accepted = tuple(part for part in _split_ids(intents))
    elif isinstance(intents, list) and all(isinstance(item, str) for item in intents):
        accepted = tuple(item.strip() for item in intents if item.strip())
    else:
        raise LabelError("`expect.intent` is neither an id nor a list of ids")
    try:
        replied = parse_bool(raw.get("replied"))
    except ValueError as exc:
        raise LabelError(f"`expect.replied`: {exc}") from None
    facts = raw.get("facts") or {}
    if not isinstance(facts, dict):
        raise LabelError("`expect.facts` is not an object")
    return Expectation(accepted, replied, facts)


def _split_ids(text: str) -> list[str]:
    """A plain-string label may list several accepted ids separated by | , ; or spaces (handy in CSV)."""
    for separator in "|,;":
        text = text.replace(separator, " ")
    return [part for part in text.split() if part]


# -- for a group owner ------------------------------------------------------------------------

KEEP_GROUP_QUESTIONS = 30  # distinct questions kept per likely intent; the others are only counted
KEEP_SAMPLES = 8  # sample replies in the report: one per intent, the most frequent intents first


class OwnerView:
    """What a group owner wants from a replay of history nobody labelled, in bounded memory: how many questions,
    how many answered, the questions missed (unanswered, or answered below the group threshold) grouped by the
    likely intent (the matcher's best candidate), and one sample reply per intent."""

    def __init__(self, aliases: tuple[str, ...] = ()) -> None:
        self.aliases = aliases  # the bot's names, taken out of sample questions as the handler does
        self.questions = self.answered = self.missed = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.groups: dict[str | None, dict[str, Any]] = {}
        self.samples: dict[str, dict[str, Any]] = {}

    def add(self, when: datetime, counts: list[str], missed: Missed | None, *, intent: str | None, text: str,
            reply: str | None) -> None:
        """One replayed message: `counts` and `missed` as bot.activity.assess gives them, the message's `text`,
        the `reply` (already redacted)."""
        self.first = when if self.first is None else min(self.first, when)
        self.last = when if self.last is None else max(self.last, when)
        if "questions" not in counts:
            return
        self.questions += 1
        answered = "answered" in counts
        self.answered += answered
        if answered and intent and reply:
            sample = self.samples.setdefault(intent, {"count": 0, "question": None, "reply": None})
            sample["count"] += 1
            if missed is None and sample["question"] is None:  # a confident answer shows the bot at its best
                sample.update(question=normalize(redact(text[:MAX_QUESTION_CHARS]), self.aliases), reply=reply)
        if missed is None:
            return
        self.missed += 1
        group = self.groups.setdefault(missed.suggestion, {"count": 0, "answered": 0, "questions": {}})
        group["count"] += 1
        group["answered"] += answered
        question = redact(missed.question)  # as the store would keep it
        key = phrasing_key(question)
        kept = group["questions"].get(key)
        if kept is not None:
            kept["count"] += 1
        elif len(group["questions"]) < KEEP_GROUP_QUESTIONS:
            group["questions"][key] = {"text": question, "count": 1, "answered": answered}

    def as_dict(self) -> dict[str, Any]:
        groups = sorted(self.groups.items(), key=lambda item: (-item[1]["count"], item[0] or "~"))
        samples = sorted(((intent, s) for intent, s in self.samples.items() if s["question"] is not None),
                         key=lambda item: (-item[1]["count"], item[0]))[:KEEP_SAMPLES]
        return {
            "questions": self.questions, "answered": self.answered, "missed": self.missed,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "groups": [{"intent": intent, "count": group["count"], "answered": group["answered"],
                        "questions": sorted(group["questions"].values(), key=lambda q: -q["count"])}
                       for intent, group in groups],
            "samples": [{"intent": intent, "count": s["count"], "question": s["question"], "reply": s["reply"]}
                        for intent, s in samples],
        }


# -- scoring ---------------------------------------------------------------------------------


@dataclass
class _IntentCounts:
    expected: int = 0
    predicted: int = 0
    correct: int = 0


class Scorer:
    """Accuracy, per-intent precision / recall and confusions over the labelled messages.

    Memory is bounded by the number of intents, not messages. Rules:
    - a message is correct when its intent is one of the accepted ids; an unrecognised message
      (intent null) counts as `out_of_scope`, the catalog's "anything else";
    - recall of X = correct answers among messages whose (first) accepted id is X;
      precision of X = correct answers among messages the bot labelled X.
    """

    def __init__(self) -> None:
        self.labelled = 0
        self.correct = 0
        self.per_intent: dict[str, _IntentCounts] = {}
        self.confusions: Counter[tuple[str, str]] = Counter()
        self.replied_labelled = 0
        self.replied_mismatches = 0
        self.facts_labelled = 0
        self.facts_mismatches = 0

    def _counts(self, intent: str) -> _IntentCounts:
        return self.per_intent.setdefault(intent, _IntentCounts())

    def score(self, expect: Expectation, record: dict[str, Any]) -> list[str]:
        """Count one message; returns what was wrong with it ("intent", "replied", "facts"), empty when nothing."""
        problems = []
        if expect.intents:
            if not self._score_intent(expect.intents, record.get("intent"), menu=bool(record.get("menu"))):
                problems.append("intent")
        if expect.replied is not None:
            self.replied_labelled += 1
            if bool(record.get("replied")) != expect.replied:
                self.replied_mismatches += 1
                problems.append("replied")
        if expect.facts:
            self.facts_labelled += 1
            got = record.get("facts") or {}
            if any(got.get(name) != value for name, value in expect.facts.items()):
                self.facts_mismatches += 1
                problems.append("facts")
        return problems

    def _score_intent(self, accepted: tuple[str, ...], intent: str | None, *, menu: bool) -> bool:
        """A "did you mean" menu is never a right answer, whatever intent it leads with (replay.md)."""
        self.labelled += 1
        credited = intent if intent is not None else OUT_OF_SCOPE
        if credited in accepted and not menu:
            self.correct += 1
            counts = self._counts(credited)
            counts.expected += 1
            counts.predicted += 1
            counts.correct += 1
            return True
        shown = MENU_LABEL if menu else (intent if intent is not None else NONE_LABEL)
        self._counts(accepted[0]).expected += 1
        self._counts(shown).predicted += 1
        self.confusions[(accepted[0], shown)] += 1
        return False

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    def as_dict(self) -> dict[str, Any]:
        def ratio(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        per_intent = {
            intent: {
                "expected": counts.expected,
                "predicted": counts.predicted,
                "correct": counts.correct,
                "precision": ratio(counts.correct, counts.predicted),
                "recall": ratio(counts.correct, counts.expected),
            }
            for intent, counts in sorted(self.per_intent.items())
        }
        return {
            "labelled": self.labelled,
            "correct": self.correct,
            "accuracy": ratio(self.correct, self.labelled),
            "per_intent": per_intent,
            "confusions": [
                {"expected": expected, "predicted": predicted, "count": count}
                for (expected, predicted), count in sorted(self.confusions.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "replied_labelled": self.replied_labelled,
            "replied_mismatches": self.replied_mismatches,
            "facts_labelled": self.facts_labelled,
            "facts_mismatches": self.facts_mismatches,
        }


# -- comparing two runs ----------------------------------------------------------------------


def reply_digest(reply: Any) -> bytes:
    """A short fingerprint of a reply, so a previous run of 100,000 answers fits in a few megabytes."""
    return hashlib.blake2b(json.dumps(reply, ensure_ascii=False).encode(), digest_size=12).digest()


def id_key(value: Any) -> str:
    """Ids are joined as text: 7 and "7" are the same message."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class _Before:
    intent: str | None
    replied: bool
    reply: bytes


class PreviousRun:
    """The index of an earlier replay output: id → (intent, replied, reply fingerprint)."""

    def __init__(self, path: Path):
        self.path = path
        self.bad_lines = 0
        self._rows: dict[str, _Before] = {}
        self._seen: set[str] = set()
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    key = id_key(row["id"])
                    self._rows[key] = _Before(row.get("intent"), bool(row.get("replied")), reply_digest(row.get("reply")))
                except (ValueError, KeyError, TypeError):
                    self.bad_lines += 1
                    logger.warning("%s line %d: not a replay result, ignored", path, number)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, message_id: object) -> bool:
        return id_key(message_id) in self._rows

    def diff(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """What changed for this result against the previous run; None when nothing (or when it is new)."""
        key = id_key(record["id"])
        before = self._rows.get(key)
        if before is None:
            return None
        self._seen.add(key)
        changed = []
        if before.intent != record.get("intent"):
            changed.append("intent")
        if before.replied != bool(record.get("replied")):
            changed.append("replied")
        if before.reply != reply_digest(record.get("reply")):
            changed.append("reply")
        if not changed:
            return None
        return {
            "id": record["id"],
            "changed": changed,
            "intent": [before.intent, record.get("intent")],
            "replied": [before.replied, bool(record.get("replied"))],
        }

    def unmatched(self) -> int:
        """Messages of the previous run that this run did not produce (call after the run)."""
        return len(self._rows) - len(self._seen)


class Comparison:
    """Changes against a previous run, grouped by intent (the new one; the old one when it became null)."""

    def __init__(self, previous: PreviousRun):
        self.previous = previous
        self.compared = 0
        self.new = 0
        self.groups: dict[str, list[dict[str, Any]]] = {}

    def add(self, record: dict[str, Any]) -> None:
        if record["id"] not in self.previous:
            self.new += 1
            return
        self.compared += 1
        change = self.previous.diff(record)
        if change is None:
            return
        before, after = change["intent"]
        group = after or before or NONE_LABEL
        self.groups.setdefault(group, []).append(change)

    @property
    def changed(self) -> int:
        return sum(len(changes) for changes in self.groups.values())

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return {
            "previous": str(self.previous.path),
            "compared": self.compared,
            "changed": self.changed,
            "only_in_previous": self.previous.unmatched(),
            "only_in_current": self.new,
            "by_intent": {intent: {"count": len(changes), "changes": changes} for intent, changes in ordered},
        }

    def lines(self) -> Iterator[str]:
        """The human-readable listing printed at the end of a run."""
        data = self.as_dict()
        yield (f"changes against {data['previous']}: {data['changed']} of {data['compared']} messages changed"
               f" ({data['only_in_current']} new, {data['only_in_previous']} gone)")
        for intent, group in data["by_intent"].items():
            yield f"  {intent}: {group['count']}"
            for change in group["changes"]:
                parts = []
                if "intent" in change["changed"]:
                    parts.append("intent {} → {}".format(*(value or "null" for value in change["intent"])))
                if "replied" in change["changed"]:
                    parts.append("replied {} → {}".format(*(str(value).lower() for value in change["replied"])))
                if "reply" in change["changed"]:
                    parts.append("reply text")
                yield f"    {change['id']}: {'; '.join(parts)}"
