"""Intent matching: an inverted index retrieves candidate intents, rapidfuzz and weighted word overlap score them.

Two signals are blended. The intent profile (how typical each query word is of an intent, weighted by
how rare the word is across intents) generalises to wordings no phrasing has; the best single phrasing
(IDF-weighted overlap plus rapidfuzz similarity of the canonical word strings) rewards a close paraphrase.
Only intents sharing a word with the query are scored, so cost grows with the candidates, not the library.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from knowledge.faqfile import Entry
from intents.segment import Segmenter

PROFILE_WEIGHT = 0.5  # the rest goes to the best phrasing
UNKNOWN_WORD_IDF_SHARE = 0.5  # a word no phrasing has counts this share of the largest idf
CANDIDATES = 6  # intents passed from retrieval to phrasing scoring


@dataclass(frozen=True)
class Match:
    """The ranked outcome for one question; `ranked` holds (entry id, score) best first."""

    ranked: list[tuple[str, float]] = field(default_factory=list)

    @property
    def best(self) -> tuple[str, float] | None:
        return self.ranked[0] if self.ranked else None


@dataclass
class _Intent:
    entry_id: str
    phrasings: list[tuple[str, ...]]
    joined: list[str]
    masses: list[float]  # each phrasing's idf mass, filled once the idf is known
    profile: dict[str, float]  # word -> share of this intent's phrasings containing it


class IntentIndex:
    """Built once from the knowledge entries; `match` is pure and thread-safe."""

    def __init__(self, entries: list[Entry], segmenter: Segmenter):
        self.segmenter = segmenter
        self.intents: list[_Intent] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for entry in entries:
            phrasings = [segmenter.words(p) for p in dict.fromkeys([entry.question, *entry.phrasings])]
            phrasings = [p for p in phrasings if p]
            if not phrasings:
                continue
            counts: dict[str, int] = defaultdict(int)
            for words in phrasings:
                for word in set(words):
                    counts[word] += 1
            index = len(self.intents)
            self.intents.append(_Intent(
                entry_id=entry.id,
                phrasings=phrasings,
                joined=[" ".join(words) for words in phrasings],
                masses=[],
                profile={w: c / len(phrasings) for w, c in counts.items()},
            ))
            for word in counts:
                postings[word].append(index)
        total = max(len(self.intents), 1)
        self.idf = {w: math.log(1 + total / len(ids)) for w, ids in postings.items()}
        self.unknown_idf = UNKNOWN_WORD_IDF_SHARE * max(self.idf.values(), default=1.0)
        self.postings = dict(postings)
        for intent in self.intents:
            intent.masses = [sum(self.idf[w] for w in set(words)) for words in intent.phrasings]

    def words(self, text: str) -> tuple[str, ...]:
        return self.segmenter.words(text)

    def match(self, text: str, *, limit: int = 5) -> Match:
        """Rank intents for a normalised question."""
        words = tuple(dict.fromkeys(self.words(text)))
        if not words:
            return Match()
        weights = {w: self.idf.get(w, self.unknown_idf) for w in words}
        query_mass = sum(weights.values())
        profile_scores: dict[int, float] = defaultdict(float)
        for word in words:
            weight = weights[word]
            for index in self.postings.get(word, ()):
                profile_scores[index] += weight * self.intents[index].profile[word]
        if not profile_scores:
            return Match()
        top = sorted(profile_scores, key=profile_scores.__getitem__, reverse=True)[:CANDIDATES]
        query_joined = " ".join(words)
        ranked = []
        for index in top:
            intent = self.intents[index]
            phrasing = self._best_phrasing(words, weights, query_mass, query_joined, intent)
            score = PROFILE_WEIGHT * profile_scores[index] / query_mass + (1 - PROFILE_WEIGHT) * phrasing
            ranked.append((intent.entry_id, score))
        ranked.sort(key=lambda pair: pair[1], reverse=True)
        return Match(ranked[:limit])

    def _best_phrasing(self, words, weights, query_mass, query_joined, intent: _Intent) -> float:
        best = 0.0
        query_set = set(words)
        for position, phrasing in enumerate(intent.phrasings):
            shared = query_set.intersection(phrasing)
            dice = 2 * sum(weights[w] for w in shared) / (query_mass + intent.masses[position])
            fuzzy = fuzz.ratio(query_joined, intent.joined[position]) / 100.0
            best = max(best, 0.5 * dice + 0.5 * fuzzy)
        return best
