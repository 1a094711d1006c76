"""The only jieba user: domain dictionary, synonym groups and stopwords turn a normalised question into words."""
from __future__ import annotations

import logging
import re
import tomllib
from functools import lru_cache
from pathlib import Path

import jieba

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
_KEEP = re.compile(r"[\u4e00-\u9fffa-z]")  # a word counts when it has a CJK character or a letter
jieba.setLogLevel(logging.WARNING)


def load_synonyms(path: Path = DATA_DIR / "synonyms.toml") -> dict[str, tuple[str, ...]]:
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
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.load_userdict(str(data_dir / "domain_words.txt"))
        self.words = lru_cache(maxsize=20000)(self._words)

    def _words(self, text: str) -> tuple[str, ...]:
        out: list[str] = []
        # Without HMM, unknown runs fall apart into single characters that synonyms and the index can
        # still use, instead of being glued into new words no phrasing has ("内要续", "里续").
        for token in self.tokenizer.lcut(text, HMM=False):
            token = token.strip()
            if not token or token in self.stopwords or not _KEEP.search(token):
                continue
            out.extend(self.synonyms.get(token, (token,)))
        return tuple(out)
