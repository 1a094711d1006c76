"""jieba's prefix dictionary with the domain words, built once into a cache file and read lazily by first character.

jieba builds (or unmarshals) its whole prefix dictionary, about 500,000 entries, before the first cut:
most of a second at start and some 60 MB, for the few hundred characters a chat question uses. Every
entry that a cut at position k looks up starts with the character at k, so the dictionary splits
cleanly by first character. The cache file holds one marshalled slice per first character and an
index of where each lies; a tokenizer maps the file and loads a character's slice the first time a
sentence contains it. Cuts are the same as jieba's own with the same words: same entries, same total.
Text that touches every character (random Unicode) would load it all back; past `MAX_LOADED_ENTRIES` the least
recently used characters' slices are dropped (read again when a sentence needs them), so memory stays bounded.

The file is named by what it was built from (jieba's version and dictionary, the user dictionary's
bytes, this format), so an edited word list builds a new one; a cache directory that cannot be
written falls back to jieba's own loading.
"""
from __future__ import annotations

import hashlib
import logging
import marshal
import mmap
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from math import log
from pathlib import Path
from typing import BinaryIO

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
FORMAT = b"permitbot-jieba-prefix-1\n"
MAX_LOADED_ENTRIES = 120_000  # about 15 MB; a chat's few thousand characters need a fraction of it


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
    """Write `tokenizer`'s prefix dictionary as per-character slices; atomic, so readers never see half a file."""
    slices: dict[str, dict[str, int]] = {}
    for word, freq in tokenizer.FREQ.items():
        slices.setdefault(word[0], {})[word] = freq
    blobs, index, offset = [], {}, 0
    for char, entries in slices.items():
        blob = marshal.dumps(entries)
        index[char] = (offset, len(blob))
        blobs.append(blob)
        offset += len(blob)
    header = marshal.dumps((tokenizer.total, index))

    def write(out: BinaryIO) -> None:
        out.write(FORMAT)
        out.write(len(header).to_bytes(8, "little"))
        out.write(header)
        for blob in blobs:
            out.write(blob)

    write_atomically(path, write)


class _Prefixes(Mapping):
    """The prefix dictionary as jieba's own methods read it (`FREQ`): each lookup loads its first character."""

    def __init__(self, tokenizer: LazyTokenizer):
        self._tokenizer = tokenizer

    def __getitem__(self, word: str) -> int:
        return self._tokenizer.slices(word[:1])[word[:1]][word] if word else {}[word]

    def __iter__(self) -> Iterator[str]:
        return (word for entries in list(self._tokenizer.loaded.values()) for word in entries)

    def __len__(self) -> int:
        return sum(len(entries) for entries in list(self._tokenizer.loaded.values()))


class LazyTokenizer(jieba.Tokenizer):
    """A jieba.Tokenizer over a cache file: each first character's entries are loaded when first needed, and the
    least recently used characters' entries are dropped past MAX_LOADED_ENTRIES."""

    def __init__(self, path: Path):
        super().__init__()
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if self._map[: len(FORMAT)] != FORMAT:
            raise ValueError(f"{path}: not a prefix dictionary cache of this format")
        start = len(FORMAT) + 8
        size = int.from_bytes(self._map[len(FORMAT):start], "little")
        self.total, self._index = marshal.loads(self._map[start:start + size])
        self._base = start + size
        self.loaded: OrderedDict[str, dict[str, int]] = OrderedDict()  # first character → its entries, oldest first
        self._loaded_entries = 0
        self._added: dict[str, dict[str, int]] = {}  # add_word's words by first character
        self._load_lock = threading.Lock()
        self.FREQ = _Prefixes(self)
        self.initialized = True
        self.cache_file = str(path)

    def slices(self, text: str) -> dict[str, dict[str, int]]:
        """Each character of `text` → the entries that start with it (empty for a character the dictionary lacks)."""
        with self._load_lock:
            out = {}
            for char in set(text):
                entries = self.loaded.get(char)
                if entries is None:
                    entries = self.loaded[char] = self._read(char)
                    self._loaded_entries += len(entries)
                else:
                    self.loaded.move_to_end(char)
                out[char] = entries
            while self._loaded_entries > MAX_LOADED_ENTRIES and len(self.loaded) > len(out):
                self._loaded_entries -= len(self.loaded.popitem(last=False)[1])  # never one this text needs
            return out

    def _read(self, char: str) -> dict[str, int]:
        where = self._index.get(char)
        entries = marshal.loads(self._map[self._base + where[0]:self._base + where[0] + where[1]]) if where else {}
        for word, count in self._added.get(char, {}).items():
            entries[word] = count
            entries.update({word[:end]: 0 for end in range(1, len(word)) if word[:end] not in entries})
        return entries

    def get_DAG(self, sentence):  # noqa: N802 (jieba's name)
        slices = self.slices(sentence)
        dag = {}
        for start in range(len(sentence)):
            entries, ends, stop, fragment = slices[sentence[start]], [], start, sentence[start]
            while stop < len(sentence) and fragment in entries:
                if entries[fragment]:
                    ends.append(stop)
                stop += 1
                fragment = sentence[start:stop + 1]
            dag[start] = ends or [start]
        return dag

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
        # get_DAG and calc folded into one backward pass: the best route from each position, scored as
        # jieba scores it (log(freq) - log(total) + the rest's score; on a tie the longer word).
        slices = self.slices(sentence)
        log_total = log(self.total)
        length = len(sentence)
        score = [0.0] * (length + 1)
        end = [0] * (length + 1)
        for start in range(length - 1, -1, -1):
            best = None
            stop = start
            fragment = sentence[start]
            freq = slices[fragment]
            while stop < length and fragment in freq:
                count = freq[fragment]
                if count:
                    candidate = log(count) - log_total + score[stop + 1]
                    if best is None or candidate >= best:
                        best, end[start] = candidate, stop
                stop += 1
                fragment = sentence[start:stop + 1]
            if best is None:
                best, end[start] = log(freq.get(sentence[start]) or 1) - log_total + score[start + 1], start
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

    def add_word(self, word, freq=None, tag=None):
        word = jieba.strdecode(word)
        freq = int(freq) if freq is not None else self.suggest_freq(word, False)
        with self._load_lock:
            self._added.setdefault(word[0], {})[word] = freq
            if (entries := self.loaded.pop(word[0], None)) is not None:  # read again, with the word
                self._loaded_entries -= len(entries)
        self.total += freq
        if tag:
            self.user_word_tag_tab[word] = tag
        if freq == 0:
            jieba.finalseg.add_force_split(word)


def cached_tokenizer(user_dict: Path, cache_dir: Path | None = None) -> jieba.Tokenizer:
    """jieba with `user_dict`'s words, from the cache (built first when missing or stale)."""
    directory = cache_dir or default_cache_dir()
    path = directory / f"jieba-{cache_key(user_dict)}.prefix"
    try:
        return LazyTokenizer(path)
    except (OSError, ValueError, EOFError, TypeError) as exc:
        if not isinstance(exc, FileNotFoundError):
            logger.warning("prefix dictionary cache %s unusable (%s); rebuilding it", path, exc)
    tokenizer = full_tokenizer(user_dict)
    try:
        write_cache(tokenizer, path)
        remove_stale(path, "jieba-*.prefix")
        logger.info("prefix dictionary cache written to %s", path)
    except OSError as exc:
        logger.warning("cannot write the prefix dictionary cache in %s (%s); using jieba's own loading", directory, exc)
        return tokenizer
    return LazyTokenizer(path)
