"""Segmentation: jieba (through intents/prefixdict.py) with the domain dictionary, synonyms and stopwords, to words."""
from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from intents import prefixdict
from intents.prefixdict import cache_key, cached_tokenizer, default_cache_dir, jieba
from intents.storedwords import StoredWords

DATA_DIR = Path(__file__).parent / "data"
SYNONYMS_FILE = DATA_DIR / "synonyms.toml"
WORD_FILES = ("domain_words.txt", "synonyms.toml", "stopwords.txt")  # the data files a text's words depend on
_KEEP = re.compile(r"[\u4e00-\u9fffa-z]")  # a word counts when it has a CJK character or a letter
jieba.setLogLevel(logging.WARNING)


def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, tuple[str, ...]]:
    """variant → canonical words; a canonical written with a space expands to several words."""
    with open(path, "rb") as handle:
        groups = tomllib.load(handle)
    table: dict[str, tuple[str, ...]] = {}
    for canonical, variants in groups.items():
        words = tuple(canonical.split())
        for variant in [canonical.replace(" ", ""), *variants]:
            table[variant.lower()] = words
    return table


class Segmenter:
    """jieba with the domain dictionary, then synonyms to canonical words, stopwords dropped."""

    def __init__(self, data_dir: Path = DATA_DIR):
        self.synonyms = load_synonyms(data_dir / "synonyms.toml")
        self.stopwords = frozenset((data_dir / "stopwords.txt").read_text(encoding="utf-8").split())
        # jieba's dictionary plus the domain words, from a cached trie (intents/prefixdict.py): the same cuts as
        # jieba.Tokenizer() + load_userdict, without a second of loading and 60 MB at every start.
        self.tokenizer = cached_tokenizer(data_dir / "domain_words.txt")
        self._recent = lru_cache(maxsize=500)(self._words)
        self.tokens = lru_cache(maxsize=500)(self._tokens)
        # Phrasings cut by an earlier process from the same inputs: jieba and the domain words, the synonyms and
        # stopwords, the cutting code (this module's and the prefix dictionary's). Not the other data files: hashing
        # the classifier's 2.6 MB at every start was most of what naming the store cost.
        self._stored = StoredWords.for_inputs(default_cache_dir(), [
            cache_key(data_dir / "domain_words.txt").encode(),
            *(name.encode() + (data_dir / name).read_bytes() for name in WORD_FILES),
            Path(__file__).read_bytes(), Path(prefixdict.__file__).read_bytes(),
        ])
        self.inputs_key = self._stored.path.stem  # names what a text's words depend on, for stores derived from them

    def words(self, text: str) -> tuple[str, ...]:
        """The words of a normalised text: stored, recently cut, or cut now."""
        stored = self._stored.get(text)
        return stored if stored is not None else self._recent(text)

    def remember(self, texts: Iterable[str]) -> None:
        """Store these phrasings' words for the next process (the intent index calls it; never chat messages)."""
        self._stored.keep({text: self.words(text) for text in texts})

    def _tokens(self, text: str) -> tuple[str, ...]:
        """jieba's cut of a normalised text, spaces dropped, before synonyms and stopwords."""
        # Without HMM, unknown runs fall apart into single characters that synonyms and the index can
        # still use, instead of being glued into new words no phrasing has ("内要续", "里续").
        return tuple(token for token in (t.strip() for t in self.tokenizer.lcut(text, HMM=False)) if token)

    def _words(self, text: str) -> tuple[str, ...]:
        out: list[str] = []
        for token in self.tokens(text):
            if token in self.stopwords or not _KEEP.search(token):
                continue
            out.extend(self.synonyms.get(token, (token,)))
        return tuple(out)
