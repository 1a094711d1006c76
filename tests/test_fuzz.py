"""The attack check (bench/fuzz.py, `make fuzz`) in small: it runs, sends every kind of hostile message, and finds
planted personal values again when redaction is off, so its "none leaked" means something."""
from __future__ import annotations

import pytest

from bench import fuzz

pytestmark = pytest.mark.fuzz


def test_a_small_attack_run_reports_every_figure_and_leaks_nothing():
    report = fuzz.run(count=1_400, seconds=120, seed=fuzz.SEED, huge_every=700)
    assert report["messages"] == 1_400
    assert set(report["by_kind"]) == {*fuzz.KINDS, "huge"} and report["by_kind"]["huge"] == 2
    assert report["exceptions"] == 0  # handle() never raises
    # every pii message plants one value (a huge message may carry one too)
    assert sum(report["pii_planted"].values()) >= report["by_kind"]["pii"] > 150
    assert set(report["pii_planted"]) == set(fuzz.PERSONAL)
    assert report["pii_leaked"] == {}
    assert {"tracebacks", "apologies", "latency_ms", "rss_mb"} <= set(report)
    assert report["rss_mb"]["peak"] >= report["rss_mb"]["start"] > 0


def test_the_leak_search_finds_values_when_redaction_is_off(monkeypatch):
    for where in ("knowledge.store.redact", "bot.activity.redact"):  # the store's, and the one before normalising
        monkeypatch.setattr(where, lambda text: text)
    report = fuzz.run(count=700, seconds=120, seed=fuzz.SEED, huge_every=0)
    planted, leaked = report["pii_planted"], report["pii_leaked"]
    assert set(leaked) == set(fuzz.PERSONAL) and sum(leaked.values()) >= 0.9 * sum(planted.values())
