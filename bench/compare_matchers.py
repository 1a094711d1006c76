"""Rankings before vs after a matcher change: the working tree's intents/matcher.py against a reference.

    .venv/bin/python bench/compare_matchers.py                 # vs its own plain scan (IntentIndex.exhaustive)
    .venv/bin/python bench/compare_matchers.py --rev 904d327   # vs intents/matcher.py as it was at a revision
    .venv/bin/python bench/compare_matchers.py --db /tmp/w/knowledge1000.db --messages /tmp/w/messages.jsonl

Both matchers are built from the same entries with the same Segmenter, and every question (normalised
as the handler does) is matched by both; the script prints how many top intents and whole ranked lists
(ids and scores) agree, lists the disagreements, and exits 1 when any top intent differs.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import DEV, SAMPLES, read_jsonl  # noqa: E402


def matcher_at(rev: str):
    """The intents/matcher.py module as it was at `rev`, imported under another name."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:intents/matcher.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="matcher-")) / "matcher_reference.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("matcher_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git revision whose matcher is the reference (default: the plain scan)")
    parser.add_argument("--db", type=Path, help="a knowledge database (default: the real FAQ files, in memory)")
    parser.add_argument("--messages", type=Path, action="append", default=[],
                        help="JSON Lines with a `text` field (default: the shared samples and the dev set)")
    options = parser.parse_args(argv)

    from bot.config import Config
    from intents import matcher as current
    from intents.normalize import normalize
    from intents.segment import Segmenter
    from knowledge.store import KnowledgeStore

    reference = matcher_at(options.rev) if options.rev else current
    store = KnowledgeStore.open(options.db)
    if options.db is None:
        store.sync_files()
    entries = store.entries()
    segmenter = Segmenter()
    indexes = {}
    for name, module in (("reference", reference), ("current", current)):
        started = time.perf_counter()
        indexes[name] = module.IntentIndex(entries, segmenter)
        if name == "reference" and not options.rev:
            indexes[name].exhaustive = True
        print(f"{name}: built from {len(entries)} entries in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    aliases = Config().aliases
    files = options.messages or [SAMPLES, DEV]
    texts = [normalize(record["text"], aliases) for path in files for record in read_jsonl(path)]
    results = {}
    for name, index in indexes.items():
        started = time.perf_counter()
        results[name] = [index.match(text).ranked for text in texts]
        print(f"{name}: {len(texts)} questions in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    same_top = same_list = 0
    for text, before, after in zip(texts, results["reference"], results["current"]):
        top_before = before[0][0] if before else None
        top_after = after[0][0] if after else None
        same_top += top_before == top_after
        same_list += before == after
        if top_before != top_after:
            print(json.dumps({"text": text, "before": before[:3], "after": after[:3]}, ensure_ascii=False))
    print(json.dumps({"questions": len(texts), "same_top_intent": same_top, "same_ranked_list": same_list,
                      "reference": options.rev or "plain scan", "entries": len(entries)}))
    return 0 if same_top == len(texts) else 1


if __name__ == "__main__":
    sys.exit(main())
