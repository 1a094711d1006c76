"""The start-up caches: jieba's prefix dictionary by first character, and the stored words of phrasings."""
from __future__ import annotations

import json
import marshal
import os
import shutil
import time
from pathlib import Path

import pytest

from intents import prefixdict
from intents.cachefiles import STALE_AFTER_S, remove_stale, write_atomically
from intents.matcher import IntentIndex
from intents.segment import DATA_DIR, Segmenter
from knowledge.faqfile import load_faq_dir

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "dev_questions.jsonl"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def full() -> prefixdict.jieba.Tokenizer:
    return prefixdict.full_tokenizer(DATA_DIR / "domain_words.txt")


def texts() -> list[str]:
    out = []
    for entry in load_faq_dir():
        out += [entry.question, *entry.phrasings]
    out += [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def test_the_cached_dictionary_cuts_exactly_as_jieba_with_the_domain_words(full, cache_dir):
    lazy = prefixdict.cached_tokenizer(DATA_DIR / "domain_words.txt", cache_dir)
    assert isinstance(lazy, prefixdict.TrieTokenizer)
    assert lazy.total == full.total
    for text in texts():
        assert lazy.lcut(text, HMM=False) == full.lcut(text, HMM=False), text
        assert lazy.lcut(text) == full.lcut(text), text
    # jieba's FREQ as its methods read it: words with their frequency, prefixes of words 0, the rest absent
    for word in ("居住证", "积分", "居", "居住", "签注", "续办"):
        assert lazy.FREQ[word] == full.FREQ[word], word
    assert "居住证积分续办要" not in lazy.FREQ and lazy.FREQ.get("璐珂卡") is None


def test_text_touching_every_character_leaves_memory_and_cuts_unchanged(full, cache_dir):
    import tracemalloc
    lazy = prefixdict.cached_tokenizer(DATA_DIR / "domain_words.txt", cache_dir)
    every = "".join(chr(code) for code in range(0x4E00, 0x9FA5))  # every common CJK character
    lazy.lcut(every[:200], HMM=False)
    tracemalloc.start()
    try:
        for start in range(200, len(every), 200):
            lazy.lcut(every[start:start + 200], HMM=False)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < 100_000  # nothing loaded stays behind (a dictionary loaded by character held some 60 MB)
    for text in texts()[:300]:
        assert lazy.lcut(text, HMM=False) == full.lcut(text, HMM=False), text


def test_an_edited_word_list_builds_a_new_cache(tmp_path, cache_dir):
    words = tmp_path / "domain_words.txt"
    words.write_text("琪瑾湾 50000 n\n", encoding="utf-8")
    assert "琪瑾湾" in prefixdict.cached_tokenizer(words, cache_dir).lcut("我住在琪瑾湾", HMM=False)
    words.write_text("珂琳社 50000 n\n", encoding="utf-8")
    tokenizer = prefixdict.cached_tokenizer(words, cache_dir)
    assert "琪瑾湾" not in tokenizer.lcut("我住在琪瑾湾", HMM=False)
    assert "珂琳社" in tokenizer.lcut("珂琳社的积分", HMM=False)


def test_a_damaged_cache_file_is_rebuilt(tmp_path, full):
    words = DATA_DIR / "domain_words.txt"
    path = tmp_path / f"jieba-{prefixdict.cache_key(words)}.trie"
    path.write_bytes(b"not a cache")
    tokenizer = prefixdict.cached_tokenizer(words, tmp_path)
    assert tokenizer.lcut("居住证积分续办要什么材料", HMM=False) == full.lcut("居住证积分续办要什么材料", HMM=False)
    assert path.read_bytes().startswith(prefixdict.FORMAT)


def test_an_unwritable_cache_directory_falls_back_to_jieba(tmp_path, full):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory should be")
    tokenizer = prefixdict.cached_tokenizer(DATA_DIR / "domain_words.txt", blocked / "cache")
    assert not isinstance(tokenizer, prefixdict.TrieTokenizer)
    assert tokenizer.lcut("积分确认在哪里点", HMM=False) == full.lcut("积分确认在哪里点", HMM=False)


def test_a_word_added_later_is_cut_as_jieba_cuts_it(cache_dir):
    tokenizer = prefixdict.cached_tokenizer(DATA_DIR / "domain_words.txt", cache_dir)
    tokenizer.add_word("璐珂卡", 80000)
    assert "璐珂卡" in tokenizer.lcut("璐珂卡续办", HMM=False)
    assert "璐珂卡" in tokenizer.lcut("璐珂卡续办")  # jieba's own path (HMM) reads the same words
    assert tokenizer.FREQ["璐珂"] == 0  # a prefix of a word, as in jieba's FREQ


def test_phrasings_are_stored_for_the_next_process_and_dropped_when_the_data_change(tmp_path, monkeypatch):
    monkeypatch.setenv(prefixdict.CACHE_ENV, str(tmp_path / "cache"))
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    entries = load_faq_dir()
    first = Segmenter(data)
    index = IntentIndex(entries, first)
    second = Segmenter(data)
    assert second._stored.table  # read from the file the first index wrote
    assert second.words(entries[0].question) == first.words(entries[0].question)
    assert IntentIndex(entries, second).match("居住证积分续办要什么材料").ranked == index.match("居住证积分续办要什么材料").ranked
    with open(data / "synonyms.toml", "a", encoding="utf-8") as handle:
        handle.write('\n"琪瑾湾" = ["琪瑾"]\n')
    assert not Segmenter(data)._stored.table  # other inputs, other words: nothing stored for them yet


def test_a_new_cache_file_replaces_whole_and_sweeps_only_old_ones_of_its_kind(tmp_path):
    old, young, other_kind = tmp_path / "words-old.marshal", tmp_path / "words-young.marshal", tmp_path / "x.prefix"
    for path in (old, young, other_kind):
        path.write_bytes(b"x")
    long_ago = time.time() - STALE_AFTER_S - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(other_kind, (long_ago, long_ago))
    new = tmp_path / "words-new.marshal"
    write_atomically(new, lambda out: out.write(b"new"))
    with pytest.raises(RuntimeError):
        write_atomically(new, _half_then_fail)
    assert new.read_bytes() == b"new"
    remove_stale(new, "words-*.marshal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["words-new.marshal", "words-young.marshal", "x.prefix"]


def _half_then_fail(out) -> None:
    out.write(b"half")
    raise RuntimeError("write failed")


@pytest.mark.parametrize("damage", [b"not marshal", marshal.dumps(["a", "list"]), marshal.dumps({"permit.process": 3})])
def test_a_damaged_members_questions_cache_is_made_again(tmp_path, monkeypatch, damage):
    from intents import matcher
    from intents.segment import Segmenter
    monkeypatch.setenv(prefixdict.CACHE_ENV, str(tmp_path))
    segmenter, utterances = Segmenter(), {"permit.process": ("居住证签注在哪办",), "points.process": ("积分续办怎么弄",)}
    matcher._EXAMPLE_FEATURES.clear()
    made = matcher._example_features(segmenter, utterances)
    # 签注 and 积分 are each a word and a character bigram of their question (matcher.features)
    assert made["permit.process"]["签注"] == 2 and made["points.process"]["积分"] == 2
    (kept_file,) = tmp_path.glob("examples-*.marshal")
    kept_file.write_bytes(damage)
    matcher._EXAMPLE_FEATURES.clear()
    assert matcher._example_features(segmenter, utterances) == made
    assert marshal.loads(kept_file.read_bytes()) == made
