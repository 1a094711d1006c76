"""`permitbot faq …`: each action against a temporary database, errors as one line with exit status 2,
the audit's --by, export → import round trips in temporary directories, and help with an example each."""
from __future__ import annotations

import json
import shutil

import pytest

from bot.cli import main
from knowledge.faqfile import FAQ_DIR
from knowledge.store import KnowledgeStore, Missed, phrasing_key

SHIPPED = len(list(FAQ_DIR.glob("*.toml")))
ACTIONS = ["add", "alias", "remove", "undo", "show", "list", "disable", "enable", "unanswered", "stats", "history",
           "export", "import", "forget"]
WRITES = {"add", "alias", "remove", "undo", "disable", "enable", "import", "forget"}


@pytest.fixture()
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("PERMITBOT_FAQ_DIR", raising=False)
    monkeypatch.setenv("USER", "tester")
    return str(tmp_path / "k.db")


def faq(capsys, db, *args: str) -> tuple[int, str, str]:
    code = main(["faq", args[0], "--db", db, *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_the_new_id_last_and_the_entry_answers_with_its_phrasings(capsys, db):
    code, out, _ = faq(capsys, db, "add", "--question", "积分卡丢了怎么办", "--answer", "到受理中心补办。",
                       "--parent", "points.process", "--phrasing", "积分卡掉了", "--phrasing", "积分卡找不到了", "积分卡不见了",
                       "--yes")
    assert code == 0 and out.splitlines()[-1] == "points.process.op1"
    entry = KnowledgeStore.open(db).entry("points.process.op1")
    assert entry.phrasings == ["积分卡掉了", "积分卡找不到了", "积分卡不见了"] and entry.answer == "到受理中心补办。"
    code, out, _ = faq(capsys, db, "add", "--question", "蓝色香蕉飞船是什么", "--answer", "一种飞船。", "-y")
    assert code == 0 and out.splitlines()[-1] == "op.2"


def test_every_change_is_audited_with_by_defaulting_to_user(capsys, db):
    faq(capsys, db, "alias", "points.tax", "蓝色香蕉飞船", "--yes")
    faq(capsys, db, "disable", "points.tax", "--by", "alice", "--yes")
    faq(capsys, db, "enable", "points.tax", "--by", "bob", "--yes")
    code, out, _ = faq(capsys, db, "history", "points.tax")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert " bob 启用 points.tax：启用" in lines[0] and " alice 停用 " in lines[1]
    assert " tester 加问法 points.tax：+问法「蓝色香蕉飞船」" in lines[2]
    assert len(faq(capsys, db, "history", "-n", "1")[1].splitlines()) == 1


def test_alias_that_matches_another_intent_better_exits_2_unless_forced(capsys, db):
    code, out, err = faq(capsys, db, "alias", "points.materials", "个税零申报有影响吗")
    assert code == 2 and out == "" and err.count("\n") == 1 and "points.tax" in err and "--force" in err
    assert "个税零申报有影响吗" not in KnowledgeStore.open(db).entry("points.materials").phrasings
    code, out, _ = faq(capsys, db, "alias", "points.materials", "个税零申报有影响吗", "--force", "--yes")
    assert code == 0 and "添加问法" in out
    assert "个税零申报有影响吗" in KnowledgeStore.open(db).entry("points.materials").phrasings


def test_alias_accepts_an_unanswered_handle(capsys, db):
    store = KnowledgeStore.open(db)
    store.sync_files()
    question = "积分卡丢了需要补办吗"
    store.record_message(day="2026-11-23", counts=["missed"], keep=100, missed=Missed(
        question=question, at="2026-11-23T09:30:00+08:00", suggestion="points.process",
        score=0.3))
    code, out, _ = faq(capsys, db, "unanswered")
    assert code == 0 and f"u1 ×1「{question}」→ 建议 points.process" in out
    code, out, _ = faq(capsys, db, "alias", "u1", "--yes")
    assert code == 0 and question in store.entry("points.process").phrasings
    assert faq(capsys, db, "unanswered")[1].strip() == "未答队列是空的。"


def test_show_list_stats_and_disable_enable(capsys, db):
    code, out, _ = faq(capsys, db, "show", "points.tax")
    assert code == 0 and out.startswith("points.tax · 来自知识文件") and "答：积分续办会核对个税" in out
    code, out, _ = faq(capsys, db, "list", "个税")
    assert code == 0 and "points.tax  积分续办对个税有什么要求？" in out
    assert faq(capsys, db, "list")[1].startswith(f"共 {SHIPPED} 条")
    assert faq(capsys, db, "disable", "points.tax", "--yes")[1].splitlines()[-1] == "已停用 points.tax。"
    assert "points.tax［停用］" in faq(capsys, db, "list", "个税")[1]
    assert faq(capsys, db, "enable", "points.tax", "--yes")[1].splitlines()[-1] == "已启用 points.tax。"
    assert faq(capsys, db, "enable", "points.tax", "--yes")[1].strip() == "points.tax 本来就是启用状态，未修改。"
    assert faq(capsys, db, "stats")[1].strip() == "最近 7 天没有记录。"


@pytest.mark.parametrize("args, words", [
    (["show", "points.nope"], "no entry 'points.nope'"),
    (["alias", "points.tax", "个税"], "already a phrasing of this entry"),
    (["remove", "points.tax"], "comes from the FAQ files and cannot be removed; disable it instead"),
    (["remove", "points.tax", "--phrasing", "没有的问法"], "entry points.tax has no phrasing '没有的问法'"),
    (["undo", "7"], "no change #7 in the audit trail"),
    (["alias", "u42"], "no unanswered question 'u42'"),
    (["add", "--question", "问题", "--answer", " "], "answer is empty"),
    (["add", "--question", "问题", "--answer", "答", "--parent", "nope"], "unknown parent 'nope'"),
    (["disable", "out_of_scope"], "out_of_scope 是机器人必需的条目"),
])
def test_errors_are_one_line_on_stderr_with_exit_status_2(capsys, db, args, words):
    code, out, err = faq(capsys, db, *args)
    assert code == 2 and out == "" and err.startswith("permitbot: ") and err.count("\n") == 1 and words in err


def test_export_import_round_trip_is_byte_identical_and_changes_nothing(capsys, db, tmp_path):
    faq(capsys, db, "add", "--question", "积分卡丢了怎么办", "--answer", "到受理中心补办。", "--yes")
    faq(capsys, db, "alias", "points.tax", "蓝色香蕉飞船", "--yes")
    out_dir = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, out_dir)
    code, out, _ = faq(capsys, db, "export", "--dir", str(out_dir))
    assert code == 0 and out.startswith(f"2 written, {SHIPPED - 1} unchanged")
    assert sorted(line for line in out.splitlines() if line.startswith("written: ")) == [
        f"written: {out_dir / 'op.1.toml'}", f"written: {out_dir / 'points.tax.toml'}"]
    for path in FAQ_DIR.glob("*.toml"):
        if path.name != "points.tax.toml":
            assert (out_dir / path.name).read_bytes() == path.read_bytes(), path.name
    assert '  "蓝色香蕉飞船",\n]' in (out_dir / "points.tax.toml").read_text(encoding="utf-8")  # a one-line diff
    snapshot = {path.name: path.read_bytes() for path in out_dir.iterdir()}

    code, out, _ = faq(capsys, db, "import", str(out_dir))  # nothing to change: nothing to confirm
    assert code == 0 and out.strip() == f"0 added, 0 changed, 0 removed, {SHIPPED + 1} unchanged"
    fresh = str(tmp_path / "fresh.db")
    assert faq(capsys, fresh, "import", str(out_dir), "--replace", "--yes")[0] == 0
    again = tmp_path / "again"
    assert faq(capsys, fresh, "export", "--dir", str(again))[0] == 0
    assert {path.name: path.read_bytes() for path in again.iterdir()} == snapshot


def test_import_of_a_malformed_file_names_file_and_entry_and_writes_nothing(capsys, db, tmp_path):
    bad = tmp_path / "points.tax.toml"
    bad.write_text((FAQ_DIR / "points.tax.toml").read_text(encoding="utf-8").replace(
        'id = "points.tax"', 'id = "points.tax"\nparent = "points.nope"'), encoding="utf-8")
    faq(capsys, db, "list")
    before = KnowledgeStore.open(db).entries(include_disabled=True)
    code, out, err = faq(capsys, db, "import", str(bad), "--yes")
    assert code == 2 and str(bad) in err and "entry points.tax: unknown parent 'points.nope'" in err
    assert KnowledgeStore.open(db).entries(include_disabled=True) == before
    assert KnowledgeStore.open(db).history() == []


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_has_help_with_an_example(capsys, action):
    with pytest.raises(SystemExit) as done:
        main(["faq", action, "--help"])
    help_text = capsys.readouterr().out
    assert done.value.code == 0 and "Example: permitbot faq " + action in " ".join(help_text.split())
    assert "--db" in help_text
    assert ("--by" in help_text) == ("--yes" in help_text) == (action in WRITES)  # --by only where it is recorded


def test_export_without_dir_writes_the_configured_faq_dir(capsys, db, tmp_path, monkeypatch):
    copy = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, copy)
    monkeypatch.setenv("PERMITBOT_FAQ_DIR", str(copy))
    faq(capsys, db, "alias", "points.tax", "蓝色香蕉飞船", "--yes")
    code, out, _ = faq(capsys, db, "export")
    assert code == 0 and out.splitlines()[1] == f"written: {copy / 'points.tax.toml'}"
    assert "蓝色香蕉飞船" in (copy / "points.tax.toml").read_text(encoding="utf-8")
    assert faq(capsys, db, "list")[0] == 0  # the next start-up adopts the exported edit, without complaint
    assert KnowledgeStore.open(db).origins("points.tax")[1]["蓝色香蕉飞船"] == "file"


# -- JSON output and the version (issue 15, item 6) ------------------------------------------------------


def test_reading_actions_print_one_json_document_and_nothing_else(capsys, db):
    from datetime import datetime

    from bot.commands import SHANGHAI
    from knowledge.store import ErrorReport

    faq(capsys, db, "alias", "points.tax", "蓝色香蕉飞船", "--yes", "--by", "alice")
    store = KnowledgeStore.open(db)
    today = datetime.now(SHANGHAI).date().isoformat()
    for counts in (["questions", "answered", "intent:points.tax"], ["questions", "missed"]):
        store.record_message(day=today, counts=counts, keep=100, missed=Missed(question="积分卡丢了需要补办吗", at=f"{today}T09:30:00+08:00",
            suggestion="points.process", score=0.3) if "missed" in counts else None)
    store.record_error_report(ErrorReport(question="居住证到期前多久签注", key=phrasing_key("居住证到期前多久签注"),
                                          at=f"{today}T09:40:00+08:00", reply="签注在到期前30日内办理。",
                                          intent="permit.renew_window"), day=today)

    documents = {}
    for args in (["list", "points.tax"], ["stats"], ["unanswered"], ["history"]):
        code, out, err = faq(capsys, db, *args, "--json")
        assert code == 0 and err == ""
        documents[args[0]] = json.loads(out)  # the whole of standard output is one document
    assert [e["id"] for e in documents["list"]["entries"]] == ["points.tax"] and documents["list"]["count"] == 1
    assert "蓝色香蕉飞船" in documents["list"]["entries"][0]["phrasings"]
    assert documents["stats"]["total"] == {"questions": 2, "answered": 1, "missed": 1, "reported": 1}
    assert documents["stats"]["top_intents"] == [{"intent": "points.tax", "count": 1}]
    assert documents["stats"]["per_day"][today]["questions"] == 2
    assert [r["question"] for r in documents["unanswered"]["reported"]] == ["居住证到期前多久签注"]
    assert documents["unanswered"]["reported"][0]["intent"] == "permit.renew_window"
    assert [g["question"] for g in documents["unanswered"]["groups"]] == ["积分卡丢了需要补办吗"]
    (change,) = documents["history"]["changes"]
    assert (change["id"], change["by"], change["action"], change["entry_id"]) == (1, "alice", "alias", "points.tax")
    assert "蓝色香蕉飞船" in change["after"]["phrasings"] and "蓝色香蕉飞船" not in change["before"]["phrasings"]


def test_version(capsys):
    import tomllib

    from knowledge.faqfile import FAQ_DIR as faq_dir

    with open(faq_dir.parent.parent / "pyproject.toml", "rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"permitbot {version}\n"


def test_forget_deletes_one_members_questions_and_is_audited(capsys, db):
    store = KnowledgeStore.open(db)
    store.sync_files()
    for sender in ("wxid_alice", "wxid_alice", "wxid_bob"):
        store.record_message(day="2026-11-23", counts=["missed"], missed=Missed(
            question=f"蓝色香蕉{sender}", at="2026-11-23T09:30:00+08:00", sender=sender))
    code, out, _ = faq(capsys, db, "forget", "wxid_alice", "--by", "alice", "--yes")
    assert code == 0 and "已删除该成员的 2 条" in out
    assert store.unanswered_count() == 1
    code, out, _ = faq(capsys, db, "history", "-n", "1")
    assert " alice forget -：删除一名成员的记录（2 unanswered question(s) of sender #" in out
    assert "wxid_alice" not in out


def test_a_mistyped_faq_folder_is_one_line_exit_2_and_the_knowledge_stays(capsys, db, tmp_path, monkeypatch):
    assert faq(capsys, db, "disable", "points.archive", "--yes")[0] == 0
    before = KnowledgeStore.open(db).entries(include_disabled=True)
    monkeypatch.setenv("PERMITBOT_FAQ_DIR", str(tmp_path / "knowledge" / "fqa"))
    for argv in (["faq", "list", "--db", db], ["ask", "居住证签注要带什么材料", "--db", db]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"FAQ folder {tmp_path / 'knowledge' / 'fqa'} does not exist" in err
    assert KnowledgeStore.open(db).entries(include_disabled=True) == before
    monkeypatch.delenv("PERMITBOT_FAQ_DIR")
    assert faq(capsys, db, "show", "points.archive")[1].startswith("points.archive［已停用］")


@pytest.mark.parametrize("args, words", [
    (["add", "--question", "问" * 1_000_000, "--answer", "答案"], "问题太长（1000000 字），最多 200 字"),
    (["add", "--question", "问题", "--answer", "答" * 2001], "答案太长（2001 字），最多 2000 字"),
    (["add", "--question", "问题", "--answer", "答案", "--phrasing", "问" * 201], "问法太长（201 字），最多 200 字"),
    (["alias", "points.tax", "问" * 201], "问法太长（201 字），最多 200 字"),
])
def test_the_cli_refuses_long_questions_and_answers_in_one_line(capsys, db, args, words):
    code, out, err = faq(capsys, db, *args)
    assert code == 2 and words in err and err.count("\n") == 1 and len(err) < 200
    assert KnowledgeStore.open(db).search("问问问") == []
