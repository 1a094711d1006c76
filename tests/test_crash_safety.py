"""Crash safety: a process making a burst of edits is killed (SIGKILL) mid-burst; every edit it acknowledged is
there afterwards, no edit is there without its audit row (or the reverse), and the database passes its integrity check."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from knowledge.store import KnowledgeStore

REPO = Path(__file__).resolve().parent.parent

# Acknowledges each edit on stdout only after the store returned, i.e. after COMMIT.
BURST = textwrap.dedent("""
    import sys
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore.open(sys.argv[1])
    start = int(sys.argv[2])
    for n in range(start, start + 100000):
        if n % 3 == 0:
            entry = store.add_entry(f"压力测试问题{n}号", f"答案{n}", by="burst", parent="points.tax" if n % 2 else None)
            print(f"add {entry.id} {n}", flush=True)
        else:
            store.add_phrasing("points.tax", f"压力测试问法{n}号", by="burst")
            print(f"alias points.tax {n}", flush=True)
""")


def _burst_and_kill(db: Path, start: int, acks_before_kill: int, delay: float) -> list[list[str]]:
    process = subprocess.Popen([sys.executable, "-c", BURST, str(db), str(start)], cwd=REPO,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True)
    acked: list[list[str]] = []
    deadline = time.monotonic() + 60
    while len(acked) < acks_before_kill and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        acked.append(line.split())
    time.sleep(delay)  # so that the kill lands anywhere in an edit, not just after an acknowledgement
    os.kill(process.pid, signal.SIGKILL)
    rest = process.stdout.read()  # acknowledged between our last read and the kill: committed as well
    process.wait()
    assert process.returncode == -signal.SIGKILL
    acked += [line.split() for line in rest.split("\n")[:-1]]  # a torn last line is not an acknowledgement
    assert len(acked) >= acks_before_kill, "the burst did not get going"
    return acked


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_mid_burst_loses_no_acknowledged_edit(tmp_path, seed):
    chance = random.Random(seed)
    db = tmp_path / "k.db"
    setup = KnowledgeStore.open(db)
    setup.sync_files()
    setup.db.conn.close()
    start, acknowledged = 0, []
    for _ in range(4):
        acked = _burst_and_kill(db, start, chance.randint(5, 60), chance.uniform(0.0, 0.03))
        acknowledged += acked
        start = int(acked[-1][2]) + 10  # the next round skips any edit that may have committed unacknowledged

        store = KnowledgeStore.open(db)
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        phrasings = set(store.entry("points.tax").phrasings)
        for kind, entry_id, n in acknowledged:
            if kind == "add":
                assert store.entry(entry_id).question == f"压力测试问题{n}号"
            else:
                assert f"压力测试问法{n}号" in phrasings
        # Each edit committed with its audit row: the same count either way, acknowledged or not.
        history = store.history(limit=1_000_000)
        added = [e for e in store.entries() if e.question.startswith("压力测试问题")]
        aliases = [p for p in phrasings if p.startswith("压力测试问法")]
        assert len([r for r in history if r.action == "add" and r.by == "burst"]) == len(added)
        assert len([r for r in history if r.action == "alias" and r.by == "burst"]) == len(aliases)
        store.add_phrasing("points.materials", f"重启后还能写{start}", by="check")  # not left locked
        store.db.conn.close()
