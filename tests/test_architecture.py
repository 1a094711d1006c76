"""The layers and the start-up checks: knowledge < intents < bot with no cycles, and bad data stops start-up early."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = {"knowledge": 0, "intents": 1, "bot": 2}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every project module and the project modules it imports anywhere: top level, in functions, under TYPE_CHECKING."""
    modules = {_module_name(p): p for layer in LAYERS for p in (REPO / layer).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def test_no_module_imports_a_higher_layer():
    upward = [(name, target) for name, targets in _imports().items() for target in targets
              if LAYERS[target.split(".")[0]] > LAYERS[name.split(".")[0]]]
    assert upward == []


def test_no_import_cycles():
    graph = _imports()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target):] + [target] if target in trail else [name, target])
            elif target not in state:
                visit(target, trail + [target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_walk_sees_imports_inside_functions(tmp_path):
    # The handler opens the matcher lazily inside bot.app.build: the walk must see it, or it proves nothing.
    assert "bot.handler" in _imports()["bot.app"]


# -- start-up checks: each data file and the configuration ranges ---------------------------------------------


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the three packages, so that their data files can be broken without touching the repository."""
    root = tmp_path_factory.mktemp("tree")
    for layer in LAYERS:
        shutil.copytree(REPO / layer, root / layer, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _permitbot(tree: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERMITBOT_", "WECHATY_"))}
    env.update(PYTHONPATH=str(tree), HOME=str(home), XDG_DATA_HOME=str(home / "data"))
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=120)


BREAKAGES = {
    # file (relative to the copied tree), how it is broken, the words the one-line error must contain
    "policy": ("knowledge/policy.toml", lambda t: t.replace("value = 90", "value = 0"), "reapply_after_days_overdue"),
    "policy syntax": ("knowledge/policy.toml", lambda t: t + "\n[[[", "policy.toml"),
    "scope": ("intents/data/scope.toml", lambda t: t.replace("documents = [", "documents = 3\nold_documents = [", 1), "documents"),
    "scope gap": ("intents/data/scope.toml", lambda t: t.replace("eligibility_gap = 4", "eligibility_gap = 0"),
                  "eligibility_gap"),
    "synonyms": ("intents/data/synonyms.toml", lambda t: "= broken\n" + t, "synonyms.toml"),
    "catalog": ("knowledge/catalog.toml", lambda t: "[[[\n" + t, "catalog.toml"),
    "sources": ("knowledge/sources.toml", lambda t: t.replace('title = ', 'titel = ', 1), "sources.toml"),
    "holidays": ("knowledge/holidays/2031.toml", lambda t: 'holidays = ["2031-13-01"]\nsource = "x"\n', "2031.toml"),
}


@pytest.mark.parametrize("kind", sorted(BREAKAGES))
def test_a_broken_data_file_stops_ask_and_check_with_one_line(tree, tmp_path, kind):
    relative, breakage, words = BREAKAGES[kind]
    path = tree / relative
    original = path.read_text(encoding="utf-8") if path.exists() else None
    path.write_text(breakage(original or ""), encoding="utf-8")
    try:
        for args in (["ask", "居住证签注要带什么材料"], ["serve", "--check", "--endpoint=127.0.0.1:9", "--token=t"]):
            proc = _permitbot(tree, *args, "--db", str(tmp_path / "k.db"), home=tmp_path)
            assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
            assert proc.stdout == ""
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
            assert words in lines[0] and Path(relative).name in lines[0], lines[0]
    finally:
        if original is None:
            path.unlink()
        else:
            path.write_text(original, encoding="utf-8")


@pytest.mark.parametrize("setting, value, words", [
    ("room_replies_per_minute", "0", "room_replies_per_minute"),
    ("carry_minutes", "-5", "carry_minutes"),
    ("group_confidence", "1.5", "group_confidence"),
    ("min_confidence", "-0.1", "min_confidence"),
])
def test_a_setting_out_of_range_stops_ask_and_check(tree, tmp_path, setting, value, words):
    config = tmp_path / "permitbot.toml"
    config.write_text(f"{setting} = {value}\n", encoding="utf-8")
    for args in (["ask", "居住证签注要带什么材料"], ["serve", "--check", "--endpoint=127.0.0.1:9", "--token=t"]):
        proc = _permitbot(tree, *args, f"--config={config}", "--db", str(tmp_path / "k.db"), home=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr


def test_a_corrupt_database_stops_start_up_and_rebuild_keeps_operator_edits(tree, tmp_path):
    db = tmp_path / "k.db"
    added = _permitbot(tree, "faq", "add", "--question", "积分卡丢了怎么办", "--answer", "到受理中心补办。",
                       "--parent", "points.process", "--yes", "--db", str(db), home=tmp_path)
    assert added.returncode == 0, added.stderr
    new_id = added.stdout.strip().splitlines()[-1]
    data = bytearray(db.read_bytes())
    data[: 16] = b"not a database!!"  # the header: sqlite refuses the file
    db.write_bytes(bytes(data))
    proc = _permitbot(tree, "ask", "居住证签注要带什么材料", "--db", str(db), home=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"permitbot faq rebuild --db {db}" in proc.stderr
    rebuilt = _permitbot(tree, "faq", "rebuild", "--db", str(db), home=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert list(tmp_path.glob("k.db.damaged-*")), "the damaged file is kept for inspection"
    answer = _permitbot(tree, "ask", "居住证签注要带什么材料", "--db", str(db), home=tmp_path)
    assert answer.returncode == 0 and "居住证" in answer.stdout


def test_an_empty_database_file_is_reported_not_silently_replaced(tree, tmp_path):
    db = tmp_path / "k.db"
    db.write_bytes(b"")
    proc = _permitbot(tree, "ask", "居住证签注要带什么材料", "--db", str(db), home=tmp_path)
    assert proc.returncode == 2 and "empty" in proc.stderr and "faq rebuild" in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_database_answers_from_memory_with_one_warning(tree, tmp_path):
    db = tmp_path / "k.db"
    assert _permitbot(tree, "ask", "居住证签注要带什么材料", "--db", str(db), home=tmp_path).returncode == 0
    db.chmod(0o444)
    proc = _permitbot(tree, "ask", "居住证签注要带什么材料", "--db", str(db), home=tmp_path)
    assert proc.returncode == 0 and "居住证" in proc.stdout
    assert proc.stderr.count("answering from memory") == 1 and "Traceback" not in proc.stderr
