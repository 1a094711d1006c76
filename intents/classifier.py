"""The members' classifier: a logistic regression over catalog intents (out_of_scope included), trained with
scikit-learn on the labelled members' questions of the tuning sets and the FAQ phrasings, read with numpy alone.

It reads a message's words and character bigrams (intents.matcher.features) as present or absent, as the matcher's
likelihood does, but learns them discriminatively from about 30,000 questions people wrote without seeing the FAQ;
a message sent within CONTEXT of the sender's previous one in the same room is also read with that question's intent
("那积分呢" after the permit's materials asks the points' materials).
The handler defers to it where it is sure and the knowledge has no phrasing worded as the question (bot/handler.py).
Training needs the `train` extra (`make classifier`); answering needs only the arrays in CLASSIFIER_FILE.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from intents.cachefiles import kept, write_atomically
from intents.matcher import UTTERANCES_FILE, message_features
from intents.normalize import normalize
from intents.prefixdict import default_cache_dir
from intents.segment import DATA_DIR, Segmenter
from knowledge.faqfile import OUT_OF_SCOPE

CLASSIFIER_FILE = DATA_DIR / "classifier.npz"
REPO = Path(__file__).resolve().parent.parent
# The labelled questions it learns from: every set written to find faults or measured once (renamed from eval/fresh_*
# to eval/tuning_* after its first reading), never a fresh set still to be measured.
TRAINING_SETS = ("eval/tuning_*_questions.jsonl", "eval/holdout_questions.jsonl", "tests/data/dev_questions.jsonl")
RECENT = 2000  # readings kept, by text
MIN_COUNT = 2  # a feature seen in fewer training questions is left out (half the features, the same accuracy)
# scikit-learn's C: at TOLERANCE, 20 of 3–20 on the older fresh sets (26,292 of 26,923 answered right against 26,253 at
# 3, 26,278 at 10); trained with those sets too, HI–HL left out read 1,510 / 1,512 / 1,515 of 1,600 at 10 / 20 / 40
REGULARISATION = 20.0
# A training message this soon after its sender's previous one in the room is read with that one's label, as the
# handler reads a message with the sender's remembered intent (config carry_minutes, 30 by default).
CONTEXT = timedelta(minutes=30)
# The solver's stopping tolerance: scikit-learn's default (1e-4) stopped lbfgs some 40 iterations in, far enough from
# the optimum that four phrasings more changed 224 of 26,123 fresh readings; at 1e-6 they change 9.
TOLERANCE = 1e-6
# (normalised text, the intent of the sender's previous question when it is context, else None, catalog id)
Question = tuple[str, str | None, str]


class ClassifierError(ValueError):
    """The classifier file is missing or not the arrays this module writes; the message names the file."""


@dataclass(frozen=True)
class Reading:
    """The classifier's likeliest catalog id for a message and its probability (0–1), and that of out_of_scope."""

    intent: str
    probability: float
    outside: float = 0.0  # the probability (0–1) that the message is out of scope


class IntentClassifier:
    """The trained arrays: `columns` maps a feature to its row of `weights` (features × intents, float32)."""

    def __init__(self, path: Path = CLASSIFIER_FILE):
        """Load the arrays written by `train`. Raises ClassifierError."""
        try:
            names, self.weights, self.bias, self.intents, self.digest = _arrays(path)
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ClassifierError(f"{path}: cannot be read ({exc}); rebuild it with `make classifier`") from None
        if self.weights.shape != (len(names), len(self.intents)) or self.bias.shape != (len(self.intents),):
            raise ClassifierError(f"{path}: arrays of mismatched shapes; rebuild it with `make classifier`")
        self.columns = dict(zip(names, range(len(names))))
        self._outside = self.intents.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in self.intents else None
        # An operator's preview reads the same logged questions at every edit: each is read once.
        self.read = lru_cache(maxsize=RECENT)(self._read)

    def _read(self, text: str, words: tuple[str, ...], after: str | None = None) -> Reading:
        """The likeliest intent of a normalised text with its matcher words, asked after a question of intent `after`
        (None: no question before it), and its softmax probability (`read`)."""
        rows = list({row for row in map(self.columns.get, reading_features(text, words, after)) if row is not None})
        logits = self.bias + self.weights[rows].sum(axis=0, dtype=np.float64)
        best = int(logits.argmax())
        total = float(np.exp(logits - logits[best]).sum())
        outside = 0.0 if self._outside is None else float(np.exp(logits[self._outside] - logits[best])) / total
        return Reading(self.intents[best], 1.0 / total, outside)


def _arrays(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, list[str], str]:
    """(feature names, weights, bias, intents, digest) of the file `train` wrote.

    The file is compressed, and inflating it (2.6 MB, mostly float32 weights that barely compress) cost some 20 ms at
    every start; so the arrays are also kept uncompressed in the cache directory, in a file named by what the file's
    zip directory records of each array (name, CRC-32, size), and read from there when it is. Raises what reading the
    file raises (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile)."""
    with zipfile.ZipFile(path) as archive:
        members = sorted((member.filename, member.CRC, member.file_size) for member in archive.infolist())

    def read() -> tuple:
        with np.load(path, allow_pickle=False) as arrays:
            weights, bias = arrays["weights"], arrays["bias"]
            return (arrays["features"].tolist(), (weights.tobytes(), weights.dtype.str, weights.shape),
                    (bias.tobytes(), bias.dtype.str), arrays["intents"].tolist(), str(arrays["digest"]))

    def arrays(stored: tuple) -> tuple[list[str], np.ndarray, np.ndarray, list[str], str]:
        names, (weights, weights_type, shape), (bias, bias_type), intents, questions_digest = stored
        return (names, np.frombuffer(weights, weights_type).reshape(shape), np.frombuffer(bias, bias_type), intents,
                questions_digest)

    name = f"classifier-{hashlib.sha256(repr(members).encode()).hexdigest()[:20]}.marshal"
    return kept(default_cache_dir() / name, read, arrays)


def reading_features(text: str, words: tuple[str, ...], after: str | None) -> Sequence[str]:
    """The features of a normalised text (intents.matcher.message_features: as the matcher read them) and, asked
    after a question of intent `after`, that intent and its topic (the id's first part: "permit", "points", …)."""
    own = message_features(text, words)
    return own if after is None else [*own, f"@after:{after}", f"@after:{after.split('.')[0]}"]


def training_questions(repo: Path = REPO) -> list[Question]:
    """Every training set's message (its first label; the first label of the sender's previous message in the room
    as its context when within CONTEXT), and every FAQ phrasing and members' question (intents/data/utterances.toml)
    without context. Raises OSError, ValueError on an unreadable set."""
    from intents.matcher import load_utterances
    from knowledge.faqfile import load_faq_dir

    questions: list[Question] = []
    for messages in _training_sets(repo):
        previous: dict[tuple[str, str], tuple[datetime, str]] = {}  # (room, sender) → (time, label)
        for message, label, asker in messages:
            time = datetime.fromisoformat(message["time"])
            before = previous.get(asker)
            after = before[1] if before and timedelta(0) <= time - before[0] <= CONTEXT else None
            previous[asker] = (time, label)
            questions.append((normalize(message["text"]), after, label))
    for entry in load_faq_dir():
        questions.extend((normalize(text), None, entry.catalog_id) for text in [entry.question, *entry.phrasings])
    for intent, texts in load_utterances().items():
        questions.extend((text, None, intent) for text in texts)
    return questions


def members_questions(repo: Path = REPO, path: Path = UTTERANCES_FILE) -> dict[str, list[str]]:
    """catalog id → the members' questions the matcher's likelihood learns from (intents/data/utterances.toml): those
    in `path`, then the first question of each asker in every training set whose first label is a catalog intent
    (not out_of_scope), each text once. Raises OSError, ValueError on an unreadable file or set."""
    table: dict[str, list[str]] = {intent: list(group["utterances"])
                                   for intent, group in tomllib.loads(path.read_text(encoding="utf-8")).items()}
    seen = {text for texts in table.values() for text in texts}
    for messages in _training_sets(repo):
        askers: set[tuple[str, str]] = set()
        for message, label, asker in messages:
            if asker not in askers and label != OUT_OF_SCOPE and message["text"] not in seen:
                table.setdefault(label, []).append(message["text"])
                seen.add(message["text"])
            askers.add(asker)
    return table


def _training_sets(repo: Path) -> Iterator[list[tuple[dict, str, tuple[str, str]]]]:
    """Each training set's messages in order, a list a set: (the message, its first label, its asker as (room,
    sender)). Raises OSError, ValueError on an unreadable set."""
    for path in sorted(p for pattern in TRAINING_SETS for p in repo.glob(pattern)):
        messages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        yield [(message, labels if isinstance(labels := message["expect"]["intent"], str) else labels[0],
                (message.get("room") or "", message.get("sender") or "")) for message in messages]


def write_members_questions(table: dict[str, list[str]], path: Path = UTTERANCES_FILE) -> None:
    """Write `table` (members_questions) as the utterances file, its header kept."""
    header = "".join(line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    body = "\n".join(f'["{intent}"]\nutterances = [\n' + "".join(f"    {json.dumps(text, ensure_ascii=False)},\n"
                                                                 for text in texts) + "]\n"
                     for intent, texts in sorted(table.items()))
    write_atomically(path, lambda out: out.write((header + body).encode()))


def digest(questions: Iterable[Question]) -> str:
    """A SHA-256 of the training questions, kept with the arrays to tell a stale file."""
    return hashlib.sha256(json.dumps(list(questions), ensure_ascii=False).encode()).hexdigest()


def train(questions: list[Question], segmenter: Segmenter, path: Path = CLASSIFIER_FILE) -> None:
    """Fit the logistic regression (scikit-learn, the `train` extra) and write its arrays to `path`."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = CountVectorizer(analyzer=lambda asked: reading_features(asked[0], segmenter.words(asked[0]), asked[1]),
                                 binary=True, min_df=MIN_COUNT)
    matrix = vectorizer.fit_transform([(text, after) for text, after, _ in questions])
    model = LogisticRegression(C=REGULARISATION, max_iter=3000, tol=TOLERANCE).fit(
        matrix, [intent for *_, intent in questions])
    np.savez_compressed(path, features=vectorizer.get_feature_names_out().astype(str),
                        weights=model.coef_.T.astype(np.float32), bias=model.intercept_.astype(np.float32),
                        intents=model.classes_.astype(str), digest=np.array(digest(questions)))


if __name__ == "__main__":
    write_members_questions(members_questions())
    train(training_questions(), Segmenter())
    print(f"wrote {CLASSIFIER_FILE}")
