"""The fast matcher ranks exactly as the plain scan of every posting and phrasing (IntentIndex.exhaustive)."""
from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from intents.matcher import IntentIndex
from intents.normalize import normalize
from intents.segment import Segmenter
from knowledge.faqfile import load_faq_dir

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [ROOT / "tests" / "data" / "dev_questions.jsonl", ROOT.parent / "shared" / "samples" / "questions.jsonl"]


def questions() -> list[str]:
    texts = []
    for path in QUESTIONS:
        if path.exists():
            texts += [normalize(json.loads(line)["text"]) for line in path.read_text(encoding="utf-8").splitlines()
                      if line.strip()]
    return texts


def grown(entries, per_entry: int, seed: int = 7):
    """Finer intents made of subsets of each entry's phrasings: many near-duplicate candidates."""
    rng = random.Random(seed)
    out = list(entries)
    for entry in entries:
        for number in range(per_entry):
            tag = "".join(rng.choices("琪瑾璐珂琳翊煜璟", k=2))
            phrasings = rng.sample(entry.phrasings, k=min(len(entry.phrasings), rng.randint(3, 10)))
            out.append(replace(entry, id=f"{entry.id}.t{number}", parent=entry.catalog_id,
                               phrasings=[tag + text for text in phrasings]))
    return out


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


@pytest.mark.parametrize("per_entry", [0, 12])
def test_fast_rankings_equal_the_plain_scan(segmenter, per_entry):
    index = IntentIndex(grown(load_faq_dir(), per_entry), segmenter)
    texts = questions() + ["", "哈哈哈", "积分", "[图片]", "居住证" * 40]
    fast = [index.match(text).ranked for text in texts]
    index.exhaustive = True
    assert [index.match(text).ranked for text in texts] == fast
