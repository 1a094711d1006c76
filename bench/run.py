"""The speed benchmark (`make bench`): the engine through the real handler against a naive jieba + rapidfuzz baseline.

Builds, from a seed, the real knowledge grown to 1,000 and 10,000 entries and a few thousand chat messages
(bench/workload.py), then measures in separate processes, so that one measurement's memory and warm
caches never flatter another's:

- the engine: `Bot.handle(Incoming)` per message, `time.perf_counter_ns` around each call (and the
  thread's CPU time, to tell the engine's cost from the machine's other load), at 29 (the real
  knowledge), 1,000 and 10,000 entries; peak RSS of the 1,000-entry process; intent accuracy on the
  shared samples and the dev set, checked against the same handler with the matcher's plain scan
  (`IntentIndex.exhaustive`) and against the accuracy at 29 entries (see `orchestrate`);
- the baseline on the same messages: `jieba.lcut`, then `rapidfuzz.process.extractOne` with
  `fuzz.token_set_ratio` over every phrasing of every entry, each segmented and joined with spaces;
- start to first answer: a fresh `permitbot ask` process against a database (and caches) already built,
  from spawn to the answer printed, median of several runs.

Progress goes to stderr; stdout ends with exactly one JSON line. Exit status 1 when speed cost accuracy.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLES = ROOT.parent / "shared" / "samples" / "questions.jsonl"
DEV = ROOT / "tests" / "data" / "dev_questions.jsonl"
ASK = "居住证12月5号到期什么时候能签注"
SEED = 20261123
ACTIVITY_MESSAGES = 500  # messages timed again with the activity log on


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def incoming(record: dict):
    from bot.events import Incoming

    return Incoming(text=record["text"], time=datetime.fromisoformat(record["time"]), room=record.get("room"),
                    sender=record.get("sender", "wxid"), mentioned=bool(record.get("mentioned")),
                    id=str(record.get("id", "")))


def latency_summary(nanos: list[int], wall_s: float) -> dict:
    """Percentiles of the per-message latencies; throughput over `wall_s`, the time spent in the calls."""
    millis = [n / 1e6 for n in nanos]
    return {
        "p50_ms": round(percentile(millis, 0.50), 4),
        "p90_ms": round(percentile(millis, 0.90), 4),
        "p99_ms": round(percentile(millis, 0.99), 4),
        "max_ms": round(max(millis), 3),
        "msgs_per_s": round(len(nanos) / wall_s, 1),
    }


# -- measurements, each run in its own process ----------------------------------------------------


def measure_engine(db: Path, messages: Path, warmup: Path, *, accuracy: bool) -> dict:
    """Open the handler on a built database, replay the messages, time each `handle`."""
    from bot.app import build
    from bot.config import Config
    from intents.normalize import normalize
    from intents.understand import MAX_QUESTION_CHARS
    from knowledge.store import KnowledgeStore

    started = time.perf_counter()
    config = Config(db_path=db)
    store = KnowledgeStore.open(db)
    bot = build(config, store=store)
    # The activity log (daily counters, unanswered queue) commits to SQLite per message; it is timed
    # apart below, so that these figures are the engine's.
    bot.record_activity = False
    build_s = time.perf_counter() - started
    for record in read_jsonl(warmup):
        bot.handle(incoming(record))
    batch = [incoming(record) for record in read_jsonl(messages)]
    nanos, cpu_nanos = replay(bot, batch)
    wall = sum(nanos) / 1e9
    out = {"entries": len(bot.entries), "messages": len(batch), "build_s": round(build_s, 3),
           **latency_summary(nanos, wall),
           "p99_cpu_ms": round(percentile([n / 1e6 for n in cpu_nanos], 0.99), 4),
           "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if accuracy:
        # The same handler with the matcher's plain scan (every posting, every phrasing): the pruned
        # engine must answer exactly as it does, so any accuracy it loses is not lost to speed.
        for name, path in (("accuracy", SAMPLES), ("accuracy_dev", DEV)):
            if path.exists():
                for suffix, exhaustive in (("", False), ("_exhaustive", True)):
                    fresh = build(config, store=store, segmenter=bot.segmenter)
                    fresh.record_activity = False
                    fresh.index.exhaustive = exhaustive
                    out[name + suffix] = intent_accuracy(lambda record: fresh.handle(incoming(record)).intent, path)
        texts = [normalize(msg.text[:MAX_QUESTION_CHARS], config.aliases) for msg in batch]
        pruned = [bot.index.match(text).ranked for text in texts]
        bot.index.exhaustive = True
        out["rankings_identical"] = round(sum(bot.index.match(text).ranked == ranked
                                              for text, ranked in zip(texts, pruned)) / len(texts), 4)
        bot.index.exhaustive = False
        logged = build(config, store=store, segmenter=bot.segmenter)
        logged.record_activity = True
        nanos, _ = replay(logged, batch[:ACTIVITY_MESSAGES])
        out["activity_p50_ms"] = round(percentile([n / 1e6 for n in nanos], 0.50), 4)
        out["activity_p99_ms"] = round(percentile([n / 1e6 for n in nanos], 0.99), 4)
    return out


def replay(bot, batch: list) -> tuple[list[int], list[int]]:
    """Each message's latency (time.perf_counter_ns) and the CPU time this thread spent on it."""
    nanos, cpu_nanos = [], []
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    for msg in batch:
        before, cpu_before = clock(), cpu()
        bot.handle(msg)
        cpu_nanos.append(cpu() - cpu_before)
        nanos.append(clock() - before)
    return nanos, cpu_nanos


def intent_accuracy(intent_of, path: Path) -> float:
    """Share of labelled questions whose reported intent is one of the expected ones."""
    records = read_jsonl(path)
    hits = sum(intent_of(record) in record["expect"]["intent"] for record in records)
    return round(hits / len(records), 4)


def measure_baseline(db: Path, messages: Path, *, limit: int | None) -> dict:
    """The obvious implementation: every phrasing segmented once; per message lcut + extractOne."""
    import jieba
    from rapidfuzz import fuzz, process

    from knowledge.store import KnowledgeStore

    jieba.setLogLevel(60)
    entries = KnowledgeStore.open(db).entries()
    choices, owners = [], []
    for entry in entries:
        for phrasing in [entry.question, *entry.phrasings]:
            choices.append(" ".join(jieba.lcut(phrasing)))
            owners.append(entry.catalog_id)
    records = read_jsonl(messages)
    if limit and limit < len(records):
        step = len(records) / limit
        records = [records[int(i * step)] for i in range(limit)]
    texts = [record["text"] for record in records]
    nanos = []
    clock = time.perf_counter_ns
    for text in texts:
        before = clock()
        process.extractOne(" ".join(jieba.lcut(text)), choices, scorer=fuzz.token_set_ratio)
        nanos.append(clock() - before)
    wall = sum(nanos) / 1e9

    def intent_of(record: dict) -> str | None:
        best = process.extractOne(" ".join(jieba.lcut(record["text"])), choices, scorer=fuzz.token_set_ratio)
        return owners[best[2]] if best else None

    out = {"entries": len(entries), "phrasings": len(choices), "messages": len(texts),
           **latency_summary(nanos, wall)}
    if SAMPLES.exists():
        out["accuracy"] = intent_accuracy(intent_of, SAMPLES)
    return out


def measure_start(workdir: Path, env: dict, *, runs: int) -> dict:
    """Spawn `permitbot ask` and time it until its answer is printed; the first run also builds the database."""
    script = Path(sys.executable).parent / "permitbot"
    command = [str(script) if script.exists() else shutil.which("permitbot") or "permitbot",
               "ask", ASK, "--db", str(workdir / "start" / "knowledge.db"), "--now", "2026-11-23"]

    # A user's start: bytecode compiled by an earlier run (kept in the work directory, not the tree).
    env = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")

    def once() -> float:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        rest, errors = proc.communicate()
        if proc.returncode != 0 or not line.strip():
            raise SystemExit(f"permitbot ask failed ({proc.returncode}): {errors.strip()[-800:]}")
        return elapsed

    first = once()
    timings = [once() for _ in range(runs)]
    return {"start_to_first_answer_s": round(statistics.median(timings), 3),
            "start_first_run_s": round(first, 3), "start_runs_s": [round(t, 3) for t in timings]}


# -- orchestration -------------------------------------------------------------------------------


def build_workload(workdir: Path, *, seed: int, count: int, warmup: int) -> dict[int, Path]:
    """Write the message files and build one knowledge database per size; returns size -> database."""
    from bench import workload
    from knowledge.faqfile import FAQ_DIR, load_faq_dir
    from knowledge.store import KnowledgeStore

    real = load_faq_dir()
    for name, n, s in (("messages", count, seed), ("warmup", warmup, seed + 1)):
        with open(workdir / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            for msg in workload.messages(real, n, seed=s):
                handle.write(json.dumps({"text": msg.text, "time": msg.time.isoformat(), "room": msg.room,
                                         "sender": msg.sender, "mentioned": msg.mentioned, "kind": msg.kind},
                                        ensure_ascii=False) + "\n")
    databases = {}
    for size in (len(real), 1000, 10000):
        started = time.perf_counter()
        directory = FAQ_DIR if size == len(real) else workdir / f"faq{size}"
        if size != len(real):
            workload.write_faq_dir(workload.grow(real, size, seed=seed), directory)
        databases[size] = workdir / f"knowledge{size}.db"
        KnowledgeStore.open(databases[size]).sync_files(directory)
        log(f"knowledge with {size} entries built in {time.perf_counter() - started:.1f} s")
    return databases


def child(args: list[str], env: dict) -> dict:
    """Run this script in a fresh process for one measurement and read its JSON line."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env,
                          stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench step {args[0]} failed with status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def orchestrate(options: argparse.Namespace) -> int:
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="permitbot-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PERMITBOT_CACHE_DIR=str(workdir / "cache"), PYTHONPATH=pythonpath)
    load_start = round(os.getloadavg()[0], 2)
    try:
        log(f"workload in {workdir} (seed {options.seed})")
        databases = build_workload(workdir, seed=options.seed, count=options.messages, warmup=options.warmup)
        real_size = min(databases)
        files = ["--batch-file", str(workdir / "messages.jsonl"), "--warmup-file", str(workdir / "warmup.jsonl")]
        engine = {}
        for size, db in sorted(databases.items()):
            log(f"engine at {size} entries")
            engine[size] = child(["engine", "--db", str(db), *files, *(["--accuracy"] if size <= 1000 else [])],
                                 env)
            log(f"  {engine[size]}")
        log("baseline at 1000 entries")
        base_1k = child(["baseline", "--db", str(databases[1000]), *files], env)
        log(f"  {base_1k}")
        log(f"baseline at 10000 entries ({options.baseline_10k} messages)")
        base_10k = child(["baseline", "--db", str(databases[10000]), *files,
                          "--limit", str(options.baseline_10k)], env)
        log(f"  {base_10k}")
        log("start to first answer")
        start = measure_start(workdir, env, runs=options.start_runs)
        log(f"  {start}")
    finally:
        if not options.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    e29, e1k, e10k = engine[real_size], engine[1000], engine[10000]
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "entries": e1k["entries"],
        "phrasings": base_1k["phrasings"],
        "messages": e1k["messages"],
        "p50_ms": e1k["p50_ms"],
        "p99_ms": e1k["p99_ms"],
        "msgs_per_s": e1k["msgs_per_s"],
        "baseline_p50_ms": base_1k["p50_ms"],
        "baseline_p99_ms": base_1k["p99_ms"],
        "baseline_msgs_per_s": base_1k["msgs_per_s"],
        "speedup": round(e1k["msgs_per_s"] / base_1k["msgs_per_s"], 1),
        "start_to_first_answer_s": start["start_to_first_answer_s"],
        "start_first_run_s": start["start_first_run_s"],
        "rss_mb": e1k["rss_mb"],
        "p99_cpu_ms": e1k["p99_cpu_ms"],
        "activity_p50_ms": e1k.get("activity_p50_ms"),
        "activity_p99_ms": e1k.get("activity_p99_ms"),
        "build_s": e1k["build_s"],
        "entries_10k": e10k["entries"],
        "phrasings_10k": base_10k["phrasings"],
        "p50_ms_10k": e10k["p50_ms"],
        "p99_ms_10k": e10k["p99_ms"],
        "p99_cpu_ms_10k": e10k["p99_cpu_ms"],
        "rss_mb_10k": e10k["rss_mb"],
        "msgs_per_s_10k": e10k["msgs_per_s"],
        "baseline_p99_ms_10k": base_10k["p99_ms"],
        "baseline_msgs_per_s_10k": base_10k["msgs_per_s"],
        "baseline_messages_10k": base_10k["messages"],
        "speedup_10k": round(e10k["msgs_per_s"] / base_10k["msgs_per_s"], 1),
        "build_s_10k": e10k["build_s"],
        # Cost per message from 1,000 to 10,000 entries: 10.0 would be linear growth.
        "cost_growth_10x": round(e1k["msgs_per_s"] / e10k["msgs_per_s"], 2),
        "baseline_cost_growth_10x": round(base_1k["msgs_per_s"] / base_10k["msgs_per_s"], 2),
        "p99_ms_29": e29["p99_ms"],
        "msgs_per_s_29": e29["msgs_per_s"],
        "accuracy": e1k.get("accuracy"),
        "accuracy_29": e29.get("accuracy"),
        "accuracy_dev": e1k.get("accuracy_dev"),
        "accuracy_dev_29": e29.get("accuracy_dev"),
        "accuracy_exhaustive": e1k.get("accuracy_exhaustive"),
        "rankings_identical": e1k.get("rankings_identical"),
        "rankings_identical_29": e29.get("rankings_identical"),
        "baseline_accuracy": base_1k.get("accuracy"),
        "seed": options.seed,
        "nproc": os.cpu_count(),
        "loadavg_1m": [load_start, round(os.getloadavg()[0], 2)],  # at start and end: other work on the machine
    }
    # Speed must cost no accuracy. The fast engine must answer the samples (and the dev set) as well as
    # the plain scan of the same knowledge, and rank every workload message as it does; and it must not
    # fall below its accuracy on the real knowledge, unless the plain scan of the grown knowledge falls
    # just as far (then the thousand near-duplicate intents moved the idf, not the pruning).
    problems = []
    for size, run in ((real_size, e29), (1000, e1k)):
        for name in ("accuracy", "accuracy_dev"):
            if run.get(name) is not None and run[name] < run[name + "_exhaustive"]:
                problems.append(f"{name} {run[name]} < {run[name + '_exhaustive']} (plain scan) at {size} entries")
        if run.get("rankings_identical", 1.0) < 1.0:
            problems.append(f"only {run['rankings_identical']:.2%} of the rankings equal the plain scan's at {size} entries")
    if result["accuracy"] is None or result["accuracy_29"] is None:
        problems.append(f"no accuracy measured ({SAMPLES} missing?)")
    elif result["accuracy"] < result["accuracy_29"]:
        note = (f"accuracy {result['accuracy']} at 1,000 entries < {result['accuracy_29']} at {real_size} entries")
        if result["accuracy"] < e1k["accuracy_exhaustive"]:
            problems.append(note)
        else:
            log(f"note: {note}, the same as the plain scan's at 1,000 entries: the grown knowledge, not speed")
    result["accuracy_ok"] = not problems
    for problem in problems:
        log(f"FAILED: {problem}")
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if not problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step")
    engine = sub.add_parser("engine", help="one engine measurement (internal)")
    baseline = sub.add_parser("baseline", help="one baseline measurement (internal)")
    for step in (engine, baseline):
        step.add_argument("--db", type=Path, required=True)
        step.add_argument("--batch-file", type=Path, required=True)
        step.add_argument("--warmup-file", type=Path, required=True)
    engine.add_argument("--accuracy", action="store_true")
    baseline.add_argument("--limit", type=int)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--messages", type=int, default=6000, help="messages in the timed workload")
    parser.add_argument("--warmup", type=int, default=300, help="messages replayed before timing")
    parser.add_argument("--baseline-10k", type=int, default=300,
                        help="messages for the slow 10,000-entry baseline (an evenly spaced subset)")
    parser.add_argument("--start-runs", type=int, default=5)
    parser.add_argument("--workdir", help="keep the generated workload here instead of a temporary directory")
    options = parser.parse_args(argv)
    if options.step == "engine":
        result = measure_engine(options.db, options.batch_file, options.warmup_file, accuracy=options.accuracy)
    elif options.step == "baseline":
        result = measure_baseline(options.db, options.batch_file, limit=options.limit)
    else:
        return orchestrate(options)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
