"""Replay at scale: generate N chat messages to a temporary file, replay them in this process, print messages/s and memory.

    .venv/bin/python bench/replay_scale.py              # 100,000 messages
    .venv/bin/python bench/replay_scale.py -n 10000 --keep /tmp/replay-bench

Messages are the shared samples' and the dev set's questions (with their labels), spread over
rooms, senders and months in time order, with a few follow-ups, personal numbers and bad lines
mixed in. The resident set size is sampled while the replay runs: flat memory means the RSS at
the end is about the RSS shortly after the start, whatever N is.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import main  # noqa: E402
from intents.dates import SHANGHAI  # noqa: E402

TEMPLATE_FILES = [Path("/work/shared/samples/questions.jsonl"), ROOT / "tests" / "data" / "dev_questions.jsonl"]
ROOMS = [f"上海居住证互助群{n}" for n in range(1, 21)]
FOLLOW_UPS = ["那我什么时候能去签注？", "那积分呢", "还有别的要注意吗", "1", "2"]


def templates() -> list[dict]:
    rows = []
    for path in TEMPLATE_FILES:
        if path.exists():
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise SystemExit("no template questions found")
    return rows


def generate(path: Path, count: int, *, seed: int = 7) -> None:
    """Write `count` lines (about 0.1 % of them malformed) in time order."""
    rng = random.Random(seed)
    pool = templates()
    moment = datetime(2025, 6, 1, 8, 0, tzinfo=SHANGHAI)
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(1, count + 1):
            moment += timedelta(seconds=rng.randint(1, 40))
            if rng.random() < 0.001:
                handle.write('{"id": "broken", "text": "积分\n' if rng.random() < 0.5 else
                             json.dumps({"id": f"b{number}", "time": "昨天", "text": "积分"}) + "\n")
                continue
            row = {"id": f"g{number}", "time": moment.isoformat(), "room": rng.choice(ROOMS),
                   "sender": f"wxid_{rng.randrange(5000):04d}", "mentioned": rng.random() < 0.3}
            if rng.random() < 0.05:
                row["text"] = rng.choice(FOLLOW_UPS)
            else:
                template = rng.choice(pool)
                row["text"] = template["text"]
                expected = (template.get("expect") or {}).get("intent")
                if expected:  # only the intent label: dated facts depend on the template's own time
                    row["expect"] = {"intent": expected}
            if rng.random() < 0.01:
                row["text"] += f" 我电话13{rng.randrange(10**9):09d}"
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


class RssSampler(threading.Thread):
    """Reads VmRSS from /proc every `interval` seconds while the replay runs."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._done = threading.Event()
        self.started_at = time.perf_counter()

    @staticmethod
    def rss_kib() -> int:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.samples.append((time.perf_counter() - self.started_at, self.rss_kib()))

    def stop(self) -> None:
        self._done.set()
        self.join()


def main_bench() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000, help="messages to generate (default 100000)")
    parser.add_argument("--keep", metavar="DIR", help="keep the input, output and summary in DIR")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="replay-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source, out, summary = work / "messages.jsonl", work / "out.jsonl", work / "summary.json"
    started = time.perf_counter()
    generate(source, args.n)
    print(f"generated {args.n:,} lines ({source.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")

    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    status = main(["replay", str(source), "--out", str(out), "--summary", str(summary), "--db", str(work / "k.db")])
    wall = time.perf_counter() - started
    sampler.stop()
    if status not in (0, 1):
        return status

    data = json.loads(summary.read_text(encoding="utf-8"))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    samples = sampler.samples
    print()
    print(f"messages: {data['messages']:,} replayed, {data['skipped']} skipped, wall {wall:.1f} s "
          "(including the knowledge base load)")
    print(f"throughput: {data['messages_per_second']:,.0f} messages/s "
          f"(latency p50 {data['latency_ms']['p50']} ms, p99 {data['latency_ms']['p99']} ms)")
    print(f"peak RSS (getrusage): {peak_mib:.1f} MiB")
    if len(samples) >= 4:
        tenth = samples[len(samples) // 10]
        print(f"RSS while running: {tenth[1] / 1024:.1f} MiB at {tenth[0]:.0f} s, "
              f"{samples[-1][1] / 1024:.1f} MiB at {samples[-1][0]:.0f} s (end); "
              f"max {max(kib for _, kib in samples) / 1024:.1f} MiB")
    if "evaluation" in data:
        print(f"intent accuracy on the labelled lines: {data['evaluation']['accuracy']}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
