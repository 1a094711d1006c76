"""Intent matching: an inverted index retrieves candidate intents, rapidfuzz and weighted word overlap score them.

Two signals are blended. The intent profile (how typical each query word is of an intent, weighted by
how rare the word is across intents) generalises to wordings no phrasing has; the best single phrasing
(IDF-weighted overlap plus rapidfuzz similarity of the canonical word strings) rewards a close paraphrase.
Only intents sharing a word with the query are scored, so cost grows with the candidates, not the library.
"""
from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections import defaultdict
from itertools import compress, repeat
from operator import add, gt, le, neg
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from knowledge.faqfile import Entry
from intents.normalize import normalize
from intents.segment import Segmenter

PROFILE_WEIGHT = 0.5  # the rest goes to the best phrasing
UNKNOWN_WORD_IDF_SHARE = 0.5  # a word no phrasing has counts this share of the largest idf
CANDIDATES = 6  # intents passed from retrieval to phrasing scoring
_EPSILON = 1e-9  # slack on the pruning bounds, far above float rounding, far below any score difference


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
        self.exhaustive = False  # True: score every posting and phrasing (the reference the pruning must equal)
        self.intents: list[_Intent] = []
        postings: dict[str, list[int]] = defaultdict(list)
        texts: list[str] = []
        for entry in entries:
            # Phrasings are read exactly as questions are: normalised first (traditional, full-width, case).
            own = list(dict.fromkeys(normalize(p) for p in [entry.question, *entry.phrasings]))
            texts.extend(own)
            phrasings = [segmenter.words(p) for p in own]
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
        remember = getattr(segmenter, "remember", None)
        if remember is not None:  # the next process finds these phrasings already cut (intents/storedwords.py)
            remember(texts)
        total = max(len(self.intents), 1)
        self.idf = {w: math.log(1 + total / len(ids)) for w, ids in postings.items()}
        self.unknown_idf = UNKNOWN_WORD_IDF_SHARE * max(self.idf.values(), default=1.0)
        self.postings = dict(postings)
        for intent in self.intents:
            intent.masses = [sum(self.idf[w] for w in set(words)) for words in intent.phrasings]
        # Each posting list again with its contributions (idf × share), largest first, and as a dict:
        # retrieval reads a list only while it can matter (see _top_profiles).
        self._postings_by_word: dict[str, tuple[tuple[int, ...], tuple[float, ...], float, dict[int, float]]] = {}
        for word, ids in self.postings.items():
            idf = self.idf[word]
            ordered = sorted(ids, key=lambda index: -self.intents[index].profile[word])
            contributions = tuple(idf * self.intents[index].profile[word] for index in ordered)
            self._postings_by_word[word] = (tuple(ordered), contributions, contributions[0],
                                            dict(zip(ordered, contributions)))

    def words(self, text: str) -> tuple[str, ...]:
        return self.segmenter.words(text)

    def match(self, text: str, *, limit: int = 5) -> Match:
        """Rank intents for a normalised question."""
        words = tuple(dict.fromkeys(self.words(text)))
        if not words:
            return Match()
        weights = {w: self.idf.get(w, self.unknown_idf) for w in words}
        query_mass = sum(weights.values())
        if self.exhaustive:
            profile_scores, best_phrasing = self._all_profiles(words, weights), self._scan_phrasings
        else:
            profile_scores, best_phrasing = self._top_profiles(words, weights), self._best_phrasing
        if not profile_scores:
            return Match()
        query_joined = " ".join(words)
        ranked = []
        for index, profile_score in profile_scores:
            intent = self.intents[index]
            phrasing = best_phrasing(words, weights, query_mass, query_joined, intent)
            score = PROFILE_WEIGHT * profile_score / query_mass + (1 - PROFILE_WEIGHT) * phrasing
            ranked.append((intent.entry_id, score))
        ranked.sort(key=lambda pair: pair[1], reverse=True)
        return Match(ranked[:limit])

    # -- the plain scan: every posting, every phrasing. The pruned paths below must rank exactly as these
    # do; tests/test_segment_caches.py and the benchmark compare them (set `exhaustive` to use these).

    def _all_profiles(self, words: tuple[str, ...], weights: dict[str, float]) -> list[tuple[int, float]]:
        profile_scores: dict[int, float] = defaultdict(float)
        for word in words:
            weight = weights[word]
            for index in self.postings.get(word, ()):
                profile_scores[index] += weight * self.intents[index].profile[word]
        top = sorted(profile_scores, key=profile_scores.__getitem__, reverse=True)[:CANDIDATES]
        return [(index, profile_scores[index]) for index in top]

    def _scan_phrasings(self, words, weights, query_mass, query_joined, intent: _Intent) -> float:
        best = 0.0
        query_set = set(words)
        for position, phrasing in enumerate(intent.phrasings):
            shared = query_set.intersection(phrasing)
            dice = 2 * sum(weights[w] for w in shared) / (query_mass + intent.masses[position])
            fuzzy = fuzz.ratio(query_joined, intent.joined[position]) / 100.0
            best = max(best, 0.5 * dice + 0.5 * fuzzy)
        return best

    # -- the pruned paths ------------------------------------------------------------------------

    def _profile_score(self, index: int, words: tuple[str, ...], weights: dict[str, float]) -> float:
        """Sum over the query words of weight × share, added in query order (the order fixes the float)."""
        profile = self.intents[index].profile
        score = 0.0
        for word in words:
            share = profile.get(word)
            if share is not None:
                score += weights[word] * share
        return score

    def _top_profiles(self, words: tuple[str, ...], weights: dict[str, float]) -> list[tuple[int, float]]:
        """The CANDIDATES intents with the best profile score, best first, ties in first-retrieved order.

        Exact, without adding up every posting (max-score pruning). The query words' posting lists are
        read shortest first (rare words set the floor cheaply), and each list, sorted by contribution
        (idf × share), only as far as an intent first met there could still reach the floor: the
        CANDIDATES-th best partial score, less what the lists after it could add at most. Intents never
        met therefore stay under the floor. The contributions left unread are then added only to the
        intents that could still reach it, and those few are scored exactly as a full scan would, in
        query-word order. The sums run inside dict/zip/map (C loops), not a Python loop per posting.
        """
        lists = sorted((self._postings_by_word[w] for w in words if w in self._postings_by_word),
                       key=lambda posting: len(posting[0]))
        if not lists:
            return []
        after = [0.0] * len(lists)  # what the lists after each one add at most
        for position in range(len(lists) - 1, 0, -1):
            after[position - 1] = after[position] + lists[position][2]
        partial: dict[int, float] = {}
        # Any CANDIDATES intents' partial scores bound the final cut from below, and they only rise. The
        # leaders are picked among the previous ones and each list's head, without a pass over everyone.
        leaders: list[int] = []
        unread: list[tuple[float, float, dict[int, float]]] = []  # (cut, largest left, list) per list cut short
        for (ids, contributions, largest, by_intent), rest in zip(lists, after):
            need = _floor(partial, leaders) - rest
            end = len(ids) if need <= 0 else bisect_right(contributions, -need, key=neg)
            if end < len(ids):
                unread.append((need, contributions[end], by_intent))
            if end:
                read = ids[:end]
                partial.update(zip(read, map(add, map(partial.get, read, repeat(0.0)), contributions[:end])))
                leaders = sorted({*leaders, *read[:CANDIDATES]}, key=partial.__getitem__, reverse=True)[:CANDIDATES]
        slack = sum(largest for _, largest, _ in unread)  # what an intent may still lack at most
        for need, largest, by_intent in sorted(unread, key=lambda item: -item[1]):
            floor = _floor(partial, leaders) - slack
            partial = dict(compress(partial.items(), map(le, repeat(floor), partial.values())))
            slack -= largest
            if partial:
                common = list(partial.keys() & by_intent.keys())
                left = list(compress(common, map(gt, repeat(need), map(by_intent.__getitem__, common))))
                partial.update(zip(left, map(add, map(partial.__getitem__, left), map(by_intent.__getitem__, left))))
        cut = _kth_best(partial) - _EPSILON
        scores = {index: self._profile_score(index, words, weights) for index, score in partial.items() if score >= cut}
        cut = _kth_best(scores)
        first_word = {w: position for position, w in enumerate(words)}

        def retrieved_order(index: int) -> tuple[float, int, int]:
            # The order a plain scan gives: best score first, then the intent met first while reading the
            # query words in order and each posting list in index order.
            profile = self.intents[index].profile
            return -scores[index], min(first_word[w] for w in words if w in profile), index

        best = sorted((index for index, score in scores.items() if score >= cut), key=retrieved_order)
        return [(index, scores[index]) for index in best[:CANDIDATES]]

    def _best_phrasing(self, words, weights, query_mass, query_joined, intent: _Intent) -> float:
        """The best phrasing's blend of weighted word overlap (dice) and rapidfuzz ratio.

        One rapidfuzz call scores every phrasing; phrasings are then visited best ratio first, and the
        visit stops once even the largest overlap possible could not beat the best blend found.
        """
        best = 0.0
        query_set = set(words)
        masses = intent.masses
        phrasings = intent.phrasings
        weight_of = weights.__getitem__
        # The overlap with any phrasing counts only query words this intent has at all: `reach`.
        reach = sum(weights[w] for w in words if w in intent.profile)
        dice_bound = 2 * reach / (query_mass + reach) + _EPSILON
        for _, ratio, position in process.extract(query_joined, intent.joined, scorer=fuzz.ratio, limit=None):
            fuzzy = ratio / 100.0
            if 0.5 * dice_bound + 0.5 * fuzzy + _EPSILON <= best:
                break  # the phrasings left have a lower ratio still
            mass = masses[position]
            if 0.5 * (2 * min(reach, mass) / (query_mass + mass)) + 0.5 * fuzzy + 2 * _EPSILON <= best:
                continue
            shared = query_set.intersection(phrasings[position])
            dice = 2 * sum(map(weight_of, shared)) / (query_mass + masses[position])
            best = max(best, 0.5 * dice + 0.5 * fuzzy)
        return best


def _floor(partial: dict[int, float], leaders: list[int]) -> float:
    """A lower bound of the CANDIDATES-th best final score, less the rounding slack."""
    return (min(map(partial.__getitem__, leaders)) if len(leaders) == CANDIDATES else 0.0) - _EPSILON


def _kth_best(scores: dict[int, float]) -> float:
    """The CANDIDATES-th largest score (the smallest when there are fewer)."""
    if len(scores) <= 256:  # a C sort beats heapq's Python loop on small inputs
        top = sorted(scores.values(), reverse=True)[:CANDIDATES]
    else:
        top = heapq.nlargest(CANDIDATES, scores.values())
    return top[-1] if top else 0.0
