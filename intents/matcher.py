"""Intent matching: an inverted index retrieves candidate intents, rapidfuzz and weighted word overlap score them.

Two signals are blended into the score (raised for a long message, see LONG_QUERY). The intent profile (how
typical each query word is of an intent, weighted by how rare the word is across intents) generalises to
wordings no phrasing has; the best single phrasing
(IDF-weighted overlap plus rapidfuzz similarity of the canonical word strings) rewards a close paraphrase.
Profiles are added up from per-word posting arrays in one numpy bincount (the same sums, in the same
order, as a plain loop), and only the best CANDIDATES intents go on to the per-phrasing scoring.
The candidate put first is the one whose score plus LIKELIHOOD_WEIGHT times its naive Bayes log-likelihood (over
words and character bigrams, trained on the phrasings and on members' own questions, intents/data/utterances.toml;
counted from the likeliest candidate's) is highest; scores keep their meaning for the thresholds. Chosen by
measurement on the tuning sets (replayed, menus wrong): members' questions from seven sets added to the training,
the three sets left out 1,082 → 1,095 of 1,200; the weighted sum in place of a reorder of near ties
(NEAR 0.08, DECISIVE e³): blind sets O, X, Y, Z, AA, AB (never trained on) 2,269 → 2,274 of 2,400, the older
sets 4,815 → 4,828 of 5,038.
"""
from __future__ import annotations

import hashlib
import math
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, repeat
from operator import add
from pathlib import Path

import numpy as np
import opencc
from rapidfuzz import fuzz, process

from knowledge.faqfile import Entry
from intents.cachefiles import kept
from intents.normalize import normalize
from intents.prefixdict import default_cache_dir
from intents.segment import DATA_DIR, Segmenter
from intents.storedwords import StoredWords

UTTERANCES_FILE = DATA_DIR / "utterances.toml"

PROFILE_WEIGHT = 0.5  # the rest goes to the best phrasing
UNKNOWN_WORD_IDF_SHARE = 0.5  # a word no phrasing has counts this share of the largest idf
CANDIDATES = 6  # intents passed from retrieval to phrasing scoring
QUERY_WORDS = 24  # a longer text (a pasted notice) is read by its most telling words: cost stays bounded
# A question told with its background ("去年回老家…居住证早就过期了…") shares a smaller part of its words with any
# phrasing: past LONG_QUERY words its scores are raised by (words / LONG_QUERY) ** LENGTH_LIFT, at most to 1.
LONG_QUERY, LENGTH_LIFT = 10, 0.5
_EPSILON = 1e-9  # slack on the phrasing bound, far above float rounding, far below any score difference
# A candidate e¹⁰ times less likely than the likeliest needs a score 0.1 higher to be put first.
LIKELIHOOD_WEIGHT = 0.01
DECISIVE = 3.0  # a runner-up this much less likely (natural log: e³ ≈ 20 times) than the best is no menu rival
SMOOTHING = 0.1  # the naive Bayes additive (Lidstone) smoothing of feature counts
RECENT = 500  # rankings kept, by question and limit


@dataclass(frozen=True)
class Match:
    """The ranked outcome for one question; `ranked` holds (entry id, score) best first: first the candidate with
    the highest score + LIKELIHOOD_WEIGHT × (its naive Bayes log-likelihood `likelihood` − the likeliest's), then
    the others by score."""

    ranked: list[tuple[str, float]] = field(default_factory=list)
    likelihood: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, scored: list[tuple[str, float]], likelihood: dict[str, float]) -> Match:
        """The Match of (entry id, score) pairs in any order, ranked as the class says."""
        ranked = sorted(scored, key=lambda pair: -pair[1])
        likeliest = max((likelihood.get(entry_id, -math.inf) for entry_id, _ in ranked), default=-math.inf)
        if likeliest > -math.inf:
            first = max(ranked, key=lambda pair: pair[1] + LIKELIHOOD_WEIGHT * (  # a tie keeps the score order
                likelihood.get(pair[0], -math.inf) - likeliest))
            ranked.remove(first)
            ranked.insert(0, first)
        return cls(ranked, likelihood)

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
    # feature -> log(1 + count / SMOOTHING), for its phrasings' features (counted with its members' questions')
    evidence: dict[str, float] = field(default_factory=dict)
    members: dict[str, float] = field(default_factory=dict)  # the same of its members' questions' other features
    unseen: float = 0.0  # log-probability of a feature its phrasings never have, filled once the vocabulary is known


class UtterancesError(ValueError):
    """The utterances file cannot be read or is not tables of `utterances` lists; the message names the file."""


def load_utterances(path: Path = UTTERANCES_FILE) -> dict[str, tuple[str, ...]]:
    """catalog id → members' questions of that intent (normalised), from `[<catalog id>] utterances = [...]` tables.
    Raises UtterancesError."""
    return _read_utterances(path)  # the path always passed: the start's check and the handler share one reading


@lru_cache(maxsize=4)
def _read_utterances(path: Path) -> dict[str, tuple[str, ...]]:
    try:
        raw = path.read_bytes()
        # Normalised by an earlier process from the same bytes and the same normalisation: a tenth of a second saved.
        stored = StoredWords.for_inputs(default_cache_dir(), [raw, *_normalisation()], kind="utterances")
        if stored.table:
            return dict(stored.table)
        data = tomllib.loads(raw.decode())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UtterancesError(f"{path}: cannot be read ({exc})") from None
    out = {}
    for intent, table in data.items():
        texts = table.get("utterances") if isinstance(table, dict) else None
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise UtterancesError(f"{path}: [{intent}] needs `utterances`, a list of non-empty strings")
        out[intent] = tuple(normalize(t) for t in texts)
    stored.keep(out)
    return out


def _normalisation() -> list[bytes]:
    """What normalize() gives depends on: its code, OpenCC's version and the Unicode data (the stores' key)."""
    return [Path(__file__).with_name("normalize.py").read_bytes(), opencc.__version__.encode(),
            unicodedata.unidata_version.encode()]


def _normalised(texts: Sequence[str]) -> Mapping[str, str]:
    """text → normalize(text) for each of `texts` (the knowledge's phrasings): as stored by an earlier process with
    the same normalisation, else worked out now (1,600 phrasings: some 20 ms). The store is left holding exactly
    these texts, as the segmenter's is: a larger knowledge's phrasings met before are not read at every start."""
    stored = StoredWords.for_inputs(default_cache_dir(), _normalisation(), kind="normalised")
    known = stored.table
    table = {text: known[text] if text in known else normalize(text) for text in texts}
    stored.keep(table)
    return table


def _example_features(segmenter: Segmenter, utterances: Mapping[str, Sequence[str]]) -> dict[str, dict[str, int]]:
    """catalog id → the naive Bayes feature counts of its members' questions. The same at every rebuild and start, so
    worked out once and kept in the cache directory, named by the questions and the segmenter's inputs (counting
    30,000 questions cost 0.3 s at every start)."""
    hashed = hashlib.sha256(segmenter.inputs_key.encode())
    for intent in sorted(utterances):
        hashed.update("\x00".join([intent, *utterances[intent], ""]).encode())
    digest = hashed.hexdigest()[:20]
    if digest not in _EXAMPLE_FEATURES:
        _EXAMPLE_FEATURES.clear()  # one table per process: the utterances file is read once
        _EXAMPLE_FEATURES[digest] = kept(
            default_cache_dir() / f"examples-{digest}.marshal",
            lambda: {intent: dict(_feature_counts(segmenter, texts)) for intent, texts in utterances.items()},
            _checked_counts)
    return _EXAMPLE_FEATURES[digest]


def _checked_counts(table: object) -> dict[str, dict[str, int]]:
    """A kept table of feature counts as _example_features makes it; raises ValueError on anything else (a damaged
    cache file, made again)."""
    if not isinstance(table, dict) or not all(isinstance(counts, dict) for counts in table.values()):
        raise ValueError("not a table of feature counts")
    return table


_EXAMPLE_FEATURES: dict[str, dict[str, dict[str, int]]] = {}


def _feature_counts(segmenter: Segmenter, texts: Sequence[str]) -> Counter[str]:
    """How many times each naive Bayes feature occurs in the texts, in the order features are first met."""
    words = segmenter.words
    return Counter(chain.from_iterable(features(text, words(text)) for text in texts))


class _Strengths(dict):
    """count → log(1 + count / SMOOTHING): one float per count, shared by every intent's evidence, worked out once."""

    def __missing__(self, count: int) -> float:
        self[count] = strength = math.log1p(count / SMOOTHING)
        return strength


def _distinct(words: Sequence[str]) -> tuple[str, ...]:
    """The words in their order, each once: how a question is scored, and how a phrasing worded as it is found."""
    return tuple(dict.fromkeys(words))


def features(text: str, words: tuple[str, ...]) -> list[str]:
    """A normalised text's naive Bayes features: its words and its character bigrams (spaces dropped)."""
    joined = text.replace(" ", "")
    return [*words, *map(add, joined, joined[1:])]


@lru_cache(maxsize=64)
def message_features(text: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """features() of a message, worked out once for the matcher's likelihood and the members' classifier, which read
    the same message one after the other."""
    return tuple(features(text, words))


class IntentIndex:
    """Built once from the knowledge entries; `match` is pure and thread-safe."""

    def __init__(self, entries: list[Entry], segmenter: Segmenter,
                 utterances: Mapping[str, Sequence[str]] | None = None):
        """`utterances`: catalog id → members' normalised questions the likelihood also learns from (default: the
        utterances file's, load_utterances())."""
        utterances = load_utterances() if utterances is None else utterances
        self.segmenter = segmenter
        self.exhaustive = False  # True: score every posting and phrasing (the reference the fast paths must equal)
        self._recent = lru_cache(maxsize=RECENT)(self._match)  # a question asked again ("同问", "在吗") is ranked once
        self.intents: list[_Intent] = []
        # A phrasing's words (in order, once each) → the intents that have it: a question worded exactly as a
        # phrasing is scored against that intent even when retrieval by profile would not reach it ("你会什么").
        self._exact: dict[tuple[str, ...], list[int]] = {}
        postings: dict[str, list[int]] = defaultdict(list)
        texts: list[str] = []
        feature_counts: list[int] = []  # each intent's naive Bayes feature occurrences
        # One string object per feature and one float per count, shared by every intent's evidence (34 MB less at
        # 1,000 entries); a question's words and features are mapped to these strings, so its lookups are by identity.
        self.vocabulary: dict[str, str] = {}
        strengths = _Strengths()
        # Phrasings are read exactly as questions are: normalised first (traditional, full-width, case).
        normalised = _normalised([text for entry in entries for text in [entry.question, *entry.phrasings]])
        examples = _example_features(segmenter, utterances)
        members: dict[str, dict[str, float]] = {}  # catalog id → its members' questions' evidence
        for entry in entries:
            own = list(dict.fromkeys(normalised[p] for p in [entry.question, *entry.phrasings]))
            texts.extend(own)
            phrasings = [segmenter.words(p) for p in own]
            phrasings = [p for p in phrasings if p]
            if not phrasings:
                continue
            seen = _feature_counts(segmenter, own)
            # A finer entry under a catalog intent (an operator's) learns that intent's questions too: its likelihood
            # is the intent's, so its own phrasings, not a lack of members' questions, decide against its parent.
            # The questions' evidence is held once per catalog intent (`members`), an entry's own (`evidence`) only
            # for its phrasings' features, counted with the questions': 30,000 questions would otherwise be copied
            # into each of a large knowledge's entries.
            asked = examples.get(entry.catalog_id, {})
            shared = self.vocabulary.setdefault
            if entry.catalog_id not in members:  # its features join the vocabulary (a string met before may be
                self.vocabulary.update(zip(asked, asked))  # held again as another, equal object: lookups alike)
                members[entry.catalog_id] = dict(zip(asked, map(strengths.__getitem__, asked.values())))
            evidence = {shared(f, f): strengths[c + asked.get(f, 0)] for f, c in seen.items()}
            # A phrasing's words are among its features: held as those same strings (and so are a question's words).
            phrasings = [tuple(map(self.vocabulary.__getitem__, words)) for words in phrasings]
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
                evidence=evidence,
                members=members[entry.catalog_id],
            ))
            feature_counts.append(sum(seen.values()) + sum(asked.values()))
            for word in counts:
                postings[word].append(index)
            for words in phrasings:
                self._exact.setdefault(_distinct(words), []).append(index)
        remember = getattr(segmenter, "remember", None)
        if remember is not None:  # the next process finds these phrasings already cut (intents/storedwords.py)
            remember(texts)
        for intent, count in zip(self.intents, feature_counts):
            intent.unseen = math.log(SMOOTHING / (count + SMOOTHING * len(self.vocabulary)))
        total = max(len(self.intents), 1)
        self.idf = {w: math.log(1 + total / len(ids)) for w, ids in postings.items()}
        self.unknown_idf = UNKNOWN_WORD_IDF_SHARE * max(self.idf.values(), default=1.0)
        self.postings = dict(postings)
        for intent in self.intents:
            intent.masses = [sum(self.idf[w] for w in set(words)) for words in intent.phrasings]
        # Each posting list as arrays, in intent order: intent indexes and their contributions (idf × share).
        self._posting_arrays = {
            word: (np.array(ids, dtype=np.int32),
                   np.array([self.idf[word] * self.intents[i].profile[word] for i in ids], dtype=np.float64))
            for word, ids in self.postings.items()
        }

    def words(self, text: str) -> tuple[str, ...]:
        return self.segmenter.words(text)

    def phrased_as(self, text: str) -> set[str]:
        """The entry ids with a phrasing of the very words of a normalised question (in their order, each once)."""
        return {self.intents[index].entry_id for index in self._exact.get(_distinct(self.words(text)), ())}

    def match(self, text: str, *, limit: int = 5) -> Match:
        """Rank intents for a normalised question. The Match may be shared with an earlier caller: never change it."""
        return self._recent(text, limit, self.exhaustive)

    def _match(self, text: str, limit: int, exhaustive: bool) -> Match:
        """`match`, worked out (`exhaustive`: by the plain scan)."""
        segmented = self.words(text)
        words = _distinct([self.vocabulary.get(w, w) for w in segmented])
        if not words:
            return Match()
        if len(words) > LONG_QUERY:  # a story around the question: the words no phrasing has are its background
            words = tuple(w for w in words if w in self.idf) or words
        if len(words) > QUERY_WORDS:
            telling = set(sorted(words, key=lambda w: -self.idf.get(w, self.unknown_idf))[:QUERY_WORDS])
            words = tuple(w for w in words if w in telling)
        weights = {w: self.idf.get(w, self.unknown_idf) for w in words}
        query_mass = sum(weights.values())
        if exhaustive:
            profile_scores, best_phrasing = self._all_profiles(words, weights), self._scan_phrasings
        else:
            profile_scores, best_phrasing = self._top_profiles(words, weights), self._best_phrasing
        reached = {index for index, _ in profile_scores}
        for index in self._exact.get(words, ()):
            if index not in reached:
                reached.add(index)
                profile_scores.append((index, sum(weights[w] * self.intents[index].profile.get(w, 0.0) for w in words)))
        if not profile_scores:
            return Match()
        query_joined, query_set = " ".join(words), frozenset(words)
        known = [f for f in map(self.vocabulary.get, message_features(text, segmented)) if f is not None]
        known_count, absent = len(known), repeat(0.0)
        lift = max(1.0, len(words) / LONG_QUERY) ** LENGTH_LIFT
        scored, likelihood = [], {}
        for index, profile_score in profile_scores:
            intent = self.intents[index]
            phrasing = best_phrasing(query_set, weights, query_mass, query_joined, intent)
            score = PROFILE_WEIGHT * profile_score / query_mass + (1 - PROFILE_WEIGHT) * phrasing
            scored.append((intent.entry_id, min(1.0, score * lift)))
            likelihood[intent.entry_id] = known_count * intent.unseen + sum(
                map(intent.evidence.get, known, map(intent.members.get, known, absent)))
        ranked = Match.of(scored, likelihood).ranked[:limit]
        return Match(ranked, {entry_id: likelihood[entry_id] for entry_id, _ in ranked})

    # -- the plain scan: every posting, every phrasing. The fast paths below must rank exactly as these
    # do; tests/test_segment_caches.py and the benchmark compare them (set `exhaustive` to use these).

    def _all_profiles(self, words: tuple[str, ...], weights: dict[str, float]) -> list[tuple[int, float]]:
        profile_scores: dict[int, float] = defaultdict(float)
        for word in words:
            weight = weights[word]
            for index in self.postings.get(word, ()):
                profile_scores[index] += weight * self.intents[index].profile[word]
        top = sorted(profile_scores, key=profile_scores.__getitem__, reverse=True)[:CANDIDATES]
        return [(index, profile_scores[index]) for index in top]

    def _scan_phrasings(self, query_set, weights, query_mass, query_joined, intent: _Intent) -> float:
        best = 0.0
        for position, phrasing in enumerate(intent.phrasings):
            shared = query_set.intersection(phrasing)
            dice = 2 * sum(weights[w] for w in shared) / (query_mass + intent.masses[position])
            fuzzy = fuzz.ratio(query_joined, intent.joined[position]) / 100.0
            best = max(best, 0.5 * dice + 0.5 * fuzzy)
        return best

    # -- the fast paths -------------------------------------------------------------------------------

    def _top_profiles(self, words: tuple[str, ...], weights: dict[str, float]) -> list[tuple[int, float]]:
        """The CANDIDATES intents with the best profile score, as the plain scan ranks them, ties included.

        bincount adds each intent's contributions in query-word order, as the plain loop does, so the sums
        are the same floats; ties at the cut are ordered as the scan meets them (first query word, index).
        """
        postings = self._posting_arrays
        arrays = [postings[w] for w in words if w in postings]
        if not arrays:
            return []
        if len(arrays) > 1:
            ids, contributions = np.concatenate([a[0] for a in arrays]), np.concatenate([a[1] for a in arrays])
        else:
            ids, contributions = arrays[0]
        scores = np.bincount(ids, weights=contributions, minlength=len(self.intents))
        # The intents some query word reaches (every contribution is above 0), only those at or above the CANDIDATES-th
        # score when there are more: one partition of all the scores, the zeros with them.
        last = len(scores) - CANDIDATES
        cut = np.partition(scores, last)[last] if last >= 0 else 0.0
        met = (scores >= cut).nonzero()[0] if cut > 0 else scores.nonzero()[0]
        values, met = scores[met].tolist(), met.tolist()

        def scan_order(pair: tuple[float, int]) -> tuple[float, int, int]:
            score, index = pair
            profile = self.intents[index].profile
            return -score, next(position for position, w in enumerate(words) if w in profile), index

        # Scores all different (three queries in four) are ordered by score alone: no first word to look for.
        order = scan_order if len(set(values)) < len(values) else (lambda pair: -pair[0])
        return [(index, score) for score, index in sorted(zip(values, met), key=order)[:CANDIDATES]]

    def _best_phrasing(self, query_set, weights, query_mass, query_joined, intent: _Intent) -> float:
        """The best phrasing's blend of weighted word overlap (dice) and rapidfuzz ratio.

        One rapidfuzz call scores every phrasing; phrasings are then visited best ratio first, and the
        visit stops once even the largest overlap possible could not beat the best blend found.
        """
        best = 0.0
        masses = intent.masses
        phrasings = intent.phrasings
        weight_of = weights.__getitem__
        profile = intent.profile
        # The overlap with any phrasing counts only query words this intent has at all (`reach`) and at most the
        # phrasing's own mass: a blend is at most `ceiling` (with _EPSILON to spare for rounding) plus half the ratio.
        reach = sum([weights[w] for w in query_set if w in profile])
        slack = 2 * _EPSILON
        ceiling = reach / (query_mass + reach) + slack
        for _, ratio, position in process.extract(query_joined, intent.joined, scorer=fuzz.ratio, limit=None):
            fuzzy = 0.5 * (ratio / 100.0)  # the ratio's half of the blend
            if ceiling + fuzzy <= best:
                break  # the phrasings left have a lower ratio still
            mass = masses[position]
            if (reach if reach < mass else mass) / (query_mass + mass) + fuzzy + slack <= best:
                continue
            shared = query_set.intersection(phrasings[position])
            blend = 0.5 * (2 * sum(map(weight_of, shared)) / (query_mass + mass)) + fuzzy
            if blend > best:
                best = blend
        return best
