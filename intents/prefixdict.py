"""jieba's dictionary with the domain words, built once into a cache file as a marisa trie and its frequencies.

jieba builds (or unmarshals) its whole prefix dictionary, about 500,000 entries, before the first cut:
most of a second at start and some 60 MB, for the few hundred characters a chat question uses. The cache
file holds the dictionary's words in a marisa trie (marisa-trie, about 2 MB) and their frequencies in an
array indexed by the trie's key ids; a cut asks the trie for the words that start at each position. Cuts
are the same as jieba's own with the same words: same words, frequencies and total; memory does not grow
with the characters a text touches (random Unicode included), beyond the words of the last RECENT_BLOCKS short
blocks cut.

The file is named by what it was built from (jieba's version and dictionary, the user dictionary's
bytes, this format), so an edited word list builds a new one; a cache directory that cannot be
written falls back to jieba's own loading.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
from array import array
from collections.abc import Iterator, Mapping
from functools import lru_cache
from math import inf, log
from pathlib import Path
from typing import BinaryIO

import marisa_trie

from intents.cachefiles import remove_stale, write_atomically


def _import_jieba():
    # jieba imports pkg_resources (a tenth of a second at every start) only to open its own files, and
    # opens them directly when that import fails; so it is kept out unless something already loaded it.
    if "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        if sys.modules.get("pkg_resources", False) is None:
            del sys.modules["pkg_resources"]
    return jieba


jieba = _import_jieba()

logger = logging.getLogger(__name__)

CACHE_ENV = "PERMITBOT_CACHE_DIR"
FORMAT = b"permitbot-jieba-trie-1\n"
# The words of the last RECENT_BLOCKS short blocks (a clause between punctuation) are kept: short ones recur, and a
# long one (a pasted notice, random text) would hold more memory for a smaller chance of being met again.
RECENT_BLOCKS, SHORT_BLOCK = 4096, 16


def default_cache_dir() -> Path:
    """$PERMITBOT_CACHE_DIR, else $XDG_CACHE_HOME/permitbot, else ~/.cache/permitbot."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "permitbot"


def cache_key(user_dict: Path) -> str:
    """What the prefix dictionary is built from: jieba's version and dictionary file, the user words."""
    main_dict = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    stat = main_dict.stat()
    digest = hashlib.sha256(FORMAT)
    digest.update(f"{jieba.__version__}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(user_dict.read_bytes())
    return digest.hexdigest()[:20]


def full_tokenizer(user_dict: Path) -> jieba.Tokenizer:
    """jieba's own way: the whole dictionary in memory, then the user words added."""
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(user_dict))
    return tokenizer


def write_cache(tokenizer: jieba.Tokenizer, path: Path) -> None:
    """Write `tokenizer`'s words (frequency above 0) as a trie and their frequencies; atomic, so readers never see
    half a file."""
    words = {word: freq for word, freq in tokenizer.FREQ.items() if freq > 0}
    trie = marisa_trie.Trie(words)
    frequencies = array("Q", bytes(8 * len(trie)))
    for word, freq in words.items():
        frequencies[trie.key_id(word)] = freq
    blob = trie.tobytes()

    def write(out: BinaryIO) -> None:
        out.write(FORMAT)
        for number in (tokenizer.total, max(map(len, words), default=1), len(blob)):
            out.write(number.to_bytes(8, "little"))
        out.write(blob)
        out.write(frequencies.tobytes())

    write_atomically(path, write)


class _Frequencies(Mapping):
    """jieba's FREQ as its own methods read it: a word's frequency, 0 for a prefix of a word, else KeyError."""

    def __init__(self, tokenizer: TrieTokenizer):
        self._tokenizer = tokenizer

    def __getitem__(self, word: str) -> int:
        freq = self._tokenizer.frequency(word)
        if freq is not None:
            return freq
        if word and (next(self._tokenizer.trie.iterkeys(word), None) is not None
                     or any(added.startswith(word) for added in self._tokenizer.added)):
            return 0
        raise KeyError(word)

    def __iter__(self) -> Iterator[str]:
        return iter(self._tokenizer.trie.keys())

    def __len__(self) -> int:
        return len(self._tokenizer.trie)


class TrieTokenizer(jieba.Tokenizer):
    """A jieba.Tokenizer over a cache file: the words in a marisa trie, their frequencies in an array."""

    def __init__(self, path: Path):
        super().__init__()
        data = path.read_bytes()
        if not data.startswith(FORMAT):
            raise ValueError(f"{path}: not a dictionary cache of this format")
        start = len(FORMAT)
        self.total, self._longest, size = (int.from_bytes(data[start + 8 * n:start + 8 * n + 8], "little")
                                           for n in range(3))
        start += 24
        self.trie = marisa_trie.Trie().frombytes(data[start:start + size])
        self._frequencies = memoryview(data)[start + size:].cast("Q")  # read in place, not copied (2.8 MB)
        if len(self._frequencies) != len(self.trie):
            raise ValueError(f"{path}: the frequencies do not match the words")
        self.added: dict[str, int] = {}  # add_word's words
        # A short block recurs (a greeting, a clause many questions share): its words are kept for the next time.
        self._route = lru_cache(maxsize=RECENT_BLOCKS)(self._best_route)
        self.FREQ = _Frequencies(self)
        self.initialized = True
        self.cache_file = str(path)

    def frequency(self, word: str) -> int | None:
        """A word's frequency; None for a string that is not a word."""
        if word in self.added:
            return self.added[word]
        try:
            return self._frequencies[self.trie.key_id(word)]
        except KeyError:
            return None

    def words_at(self, text: str, start: int) -> list[tuple[int, int]]:
        """(length, frequency) of the words (frequency above 0) that start at `start` in `text`, shortest first."""
        found = [(len(word), self._frequencies[key]) for word, key in
                 self.trie.iter_prefixes_with_ids(text[start:start + self._longest])]
        if self.added:
            added = {len(w): f for w, f in self.added.items() if text.startswith(w, start)}
            return [(length, freq) for length, freq in sorted({**dict(found), **added}.items()) if freq > 0]
        return found

    def get_DAG(self, sentence):  # noqa: N802 (jieba's name)
        return {start: [start + length - 1 for length, _ in self.words_at(sentence, start)] or [start]
                for start in range(len(sentence))}

    def lcut(self, sentence, cut_all=False, HMM=True, use_paddle=False):  # noqa: N803 (jieba's names)
        if cut_all or HMM or use_paddle:
            return super().lcut(sentence, cut_all, HMM, use_paddle)
        return self._lcut_exact_dag(jieba.strdecode(sentence))

    def _lcut_exact_dag(self, sentence: str) -> list[str]:
        """jieba's cut without HMM, in one list-building pass: the same blocks, routes, ties and English runs."""
        out: list[str] = []
        for block in jieba.re_han_default.split(sentence):
            if not block:
                continue
            if jieba.re_han_default.match(block):
                self._cut_block(block, out)
            else:
                for piece in jieba.re_skip_default.split(block):
                    if jieba.re_skip_default.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def _cut_block(self, sentence: str, out: list[str]) -> None:
        if self.added:  # add_word's words are not in the trie: jieba's own cut, through get_DAG and FREQ
            out.extend(self._Tokenizer__cut_DAG_NO_HMM(sentence))
        else:
            out.extend((self._route if len(sentence) <= SHORT_BLOCK else self._best_route)(sentence))

    def _best_route(self, sentence: str) -> tuple[str, ...]:
        """The words of a block jieba cuts (re_han_default: Han characters, letters, digits) on the best route."""
        out: list[str] = []
        # get_DAG and calc folded into one backward pass over the trie's words at each position: the best route
        # from each position, scored as jieba scores it (log(freq) - log(total) + the rest's score; on a tie the
        # longer word, met later as the trie yields the shortest first).
        log_total = log(self.total)
        length = len(sentence)
        score = [0.0] * (length + 1)
        end = [0] * (length + 1)
        prefixes, frequencies, longest = self.trie.iter_prefixes_with_ids, self._frequencies, self._longest
        for start in range(length - 1, -1, -1):
            best = -inf
            for word, key in prefixes(sentence[start:start + longest]):
                size = len(word)
                candidate = log(frequencies[key]) - log_total + score[start + size]
                if candidate >= best:
                    best, end[start] = candidate, start + size - 1
            if best == -inf:  # no word starts here: the character alone, which is no word either (jieba's log(1) = 0)
                best, end[start] = score[start + 1] - log_total, start
            score[start] = best
        position, english = 0, ""
        while position < length:
            following = end[position] + 1
            word = sentence[position:following]
            if following - position == 1 and jieba.re_eng.match(word):
                english += word
            else:
                if english:
                    out.append(english)
                    english = ""
                out.append(word)
            position = following
        if english:
            out.append(english)
        return tuple(out)

    def add_word(self, word, freq=None, tag=None):
        word = jieba.strdecode(word)
        freq = int(freq) if freq is not None else self.suggest_freq(word, False)
        self.added[word] = freq
        self.total += freq
        if tag:
            self.user_word_tag_tab[word] = tag
        if freq == 0:
            jieba.finalseg.add_force_split(word)


def cached_tokenizer(user_dict: Path, cache_dir: Path | None = None) -> jieba.Tokenizer:
    """jieba with `user_dict`'s words, from the cache (built first when missing or stale)."""
    directory = cache_dir or default_cache_dir()
    path = directory / f"jieba-{cache_key(user_dict)}.trie"
    try:
        return TrieTokenizer(path)
    except (OSError, ValueError, RuntimeError) as exc:
        if not isinstance(exc, FileNotFoundError):
            logger.warning("prefix dictionary cache %s unusable (%s); rebuilding it", path, exc)
    tokenizer = full_tokenizer(user_dict)
    try:
        write_cache(tokenizer, path)
        for older in ("jieba-*.trie", "jieba-*.prefix"):  # .prefix: the format before the trie, up to 10 MB
            remove_stale(path, older)
        logger.info("prefix dictionary cache written to %s", path)
    except OSError as exc:
        logger.warning("cannot write the prefix dictionary cache in %s (%s); using jieba's own loading", directory, exc)
        return tokenizer
    return TrieTokenizer(path)
