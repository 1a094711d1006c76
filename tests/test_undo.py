"""Removing and undoing (issue 15, item 2): `faq remove` takes out an operator's phrasing or entry and refuses the
files' ones; `faq undo` reverts exactly one audited change from its before/after snapshot, is audited itself, and
refuses when later changes to the entry stand in the way. In the store, in chat and on the command line."""
from __future__ import annotations

import pytest

from bot.cli import main
from knowledge.store import (
    FILE, KnowledgeStore, NotRemovable, UndoConflict, UnknownChange, UnknownPhrasing,
)
from tests.conftest import NOW

OPERATOR = "wxid_operator"
NONSENSE = "蓝色香蕉飞船"


@pytest.fixture()
def store() -> KnowledgeStore:
    store = KnowledgeStore.open(None)
    store.sync_files()
    return store


def _state(store: KnowledgeStore):
    return store.entries(include_disabled=True), {e.id: store.origins(e.id) for e in store.entries(include_disabled=True)}


# -- undo in the store -----------------------------------------------------------------------------


def test_undo_of_an_add_deletes_the_entry_and_is_itself_audited_and_undoable(store):
    before = _state(store)
    entry = store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="alice", parent="points.process",
                            phrasings=["积分卡掉了"])
    added = store.history(limit=1)[0]
    undo = store.undo(added.id, by="bob")
    assert _state(store) == before
    assert (undo.action, undo.by, undo.entry_id, undo.note, undo.after) == ("undo", "bob", entry.id, f"#{added.id}", None)
    assert undo.before == added.after
    again = store.undo(undo.id, by="bob")  # undoing the undo brings the entry back as it was added
    assert store.entry(entry.id) == entry and again.after == added.after


def test_undo_of_an_alias_removes_that_phrasing_only(store):
    store.add_phrasing("points.tax", NONSENSE, by="alice")
    first = store.history(limit=1)[0].id
    store.add_phrasing("points.tax", "个税补报了积分还能续吗", by="alice")
    store.undo(first, by="bob")
    phrasings = store.entry("points.tax").phrasings
    assert NONSENSE not in phrasings and "个税补报了积分还能续吗" in phrasings
    assert store.origins("points.tax")[1]["个税"] == FILE  # the file's phrasings keep their origin


def test_undo_of_a_disable_enables_again(store):
    store.set_enabled("points.tax", False, by="alice")
    change = store.history(limit=1)[0].id
    store.undo(change, by="bob")
    assert store.entry("points.tax").enabled
    with pytest.raises(UndoConflict) as refused:  # a second time: it was undone already
        store.undo(change, by="bob")
    assert refused.value.reason == "field" and refused.value.subject == "enabled"
    assert refused.value.undone_by == change + 1 and refused.value.later == [change + 1]


def test_undo_refuses_when_a_later_change_touched_what_it_changed(store):
    entry = store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="alice")
    added = store.history(limit=1)[0].id
    store.add_phrasing(entry.id, "积分卡掉了", by="alice")
    aliased = store.history(limit=1)[0].id
    with pytest.raises(UndoConflict) as refused:
        store.undo(added, by="bob")  # deleting the entry would take the later phrasing with it
    assert (refused.value.reason, refused.value.later) == ("edited", [aliased])
    assert "changed since by #2" in str(refused.value)
    store.remove_phrasing(entry.id, "积分卡掉了", by="alice")
    with pytest.raises(UndoConflict) as gone:
        store.undo(aliased, by="bob")
    assert (gone.value.reason, gone.value.subject) == ("phrasing_gone", "积分卡掉了")
    assert [record.action for record in store.history(limit=50)] == ["unalias", "alias", "add"]


def test_refusals_write_nothing(store):
    store.set_enabled("points.tax", False, by="alice")
    store.set_enabled("points.tax", True, by="alice")
    snapshot, audit, version = _state(store), store.history(limit=50), store.data_version()
    with pytest.raises(UndoConflict):
        store.undo(1, by="bob")  # the disable: points.tax is enabled again already
    with pytest.raises(UnknownChange):
        store.undo(99, by="bob")
    assert (_state(store), store.history(limit=50), store.data_version()) == (snapshot, audit, version)


def test_undo_of_a_remove_recreates_the_entry_and_of_an_import_reverts_the_fields(store, tmp_path):
    entry = store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="alice", phrasings=["积分卡掉了"])
    store.remove_entry(entry.id, by="alice")
    store.undo(store.history(limit=1)[0].id, by="bob")
    assert store.entry(entry.id) == entry and set(store.origins(entry.id)[1].values()) == {"operator"}

    changed = tmp_path / "points.tax.toml"
    store.export_files(tmp_path)
    changed.write_text(changed.read_text(encoding="utf-8").replace("积分续办会核对个税", "积分续办要看个税"),
                       encoding="utf-8")
    original = store.entry("points.tax").answer
    store.import_files([changed], by="alice")
    assert store.entry("points.tax").answer != original
    store.undo(store.history(limit=1)[0].id, by="bob")
    assert store.entry("points.tax").answer == original


def test_an_entry_recreated_by_undo_must_not_collide_with_a_phrasing_taken_since(store):
    entry = store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="alice")
    store.remove_entry(entry.id, by="alice")
    removed = store.history(limit=1)[0].id
    store.add_phrasing("points.process", "积分卡丢了怎么办", by="alice")
    with pytest.raises(UndoConflict) as refused:
        store.undo(removed, by="bob")
    assert (refused.value.reason, refused.value.subject) == ("taken", "积分卡丢了怎么办")


# -- remove in the store ---------------------------------------------------------------------------


def test_remove_takes_operator_phrasings_and_entries_and_refuses_the_files(store):
    entry = store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="alice")
    store.add_phrasing("points.tax", NONSENSE, by="alice")
    after = store.remove_phrasing("points.tax", NONSENSE.replace("船", "船 "), by="bob")  # found width/space-folded
    assert NONSENSE not in after.phrasings and store.history(limit=1)[0].action == "unalias"
    store.remove_entry(entry.id, by="bob")
    assert entry.id not in {e.id for e in store.entries(include_disabled=True)}
    with pytest.raises(NotRemovable) as whole:
        store.remove_entry("points.tax", by="bob")
    with pytest.raises(NotRemovable) as from_file:
        store.remove_phrasing("points.tax", "个税", by="bob")
    with pytest.raises(NotRemovable) as question:
        store.remove_phrasing("points.tax", store.entry("points.tax").question, by="bob")
    with pytest.raises(UnknownPhrasing):
        store.remove_phrasing("points.tax", "没有这个问法", by="bob")
    assert (whole.value.phrasing, from_file.value.reason, question.value.reason) == (None, "file", "question")
    assert "disable it instead (`disable points.tax`)" in str(whole.value)


# -- in chat -------------------------------------------------------------------------------------


@pytest.fixture()
def op(bot):
    from bot.events import Incoming

    def send(text: str, *, room: str | None = None):
        return bot.handle(Incoming(text=text, time=NOW, sender=OPERATOR, room=room)).reply

    return send


def test_chat_undo_of_an_add_an_alias_and_a_disable(bot, op, ask):
    op(f"#faq add {NONSENSE}是什么 | 一种飞船。")
    op("#faq confirm")
    assert ask(f"{NONSENSE}是什么", mentioned=True).intent == "op.1"
    op("#faq alias points.tax 积分续办个税断了一个月要紧吗")
    op("#faq confirm")
    op("#faq disable points.archive")
    history = op("#faq history 3").splitlines()
    assert [line.split()[0] for line in history] == ["#3", "#2", "#1"]

    reply = op("#faq undo #3")
    assert reply.startswith("已撤销 #3（这次撤销记为 #4，可以再撤销）。")
    assert bot.store.entry("points.archive").enabled
    assert op("#faq undo 2").startswith("已撤销 #2")
    assert "积分续办个税断了一个月要紧吗" not in bot.store.entry("points.tax").phrasings
    assert op("#faq undo 2") == "未修改：不能撤销 #2（points.tax）：问法「积分续办个税断了一个月要紧吗」已经不在了；#5 已经撤销过它。"
    history = op("#faq history 2").splitlines()
    assert " 撤销 points.tax：-问法「积分续办个税断了一个月要紧吗」（#2）" in history[0]


def test_chat_undo_of_an_add_without_later_changes(bot, op, ask):
    op(f"#faq add {NONSENSE}是什么 | 一种飞船。")
    op("#faq confirm")
    reply = op("#faq undo 1")
    assert reply.startswith("已撤销 #1（这次撤销记为 #2，可以再撤销）。")
    assert ask(f"{NONSENSE}是什么", mentioned=True).intent != "op.1"


def test_chat_undo_refused_names_the_later_changes(op):
    op(f"#faq add {NONSENSE}是什么 | 一种飞船。")
    op("#faq confirm")
    op(f"#faq alias op.1 {NONSENSE}是啥东西")
    op("#faq confirm")
    assert op("#faq undo 1") == "未修改：不能撤销 #1（op.1）：这个条目加上以后又改过；之后的修改：#2，可以先撤销它们。"


def test_chat_remove_a_phrasing_and_an_entry(bot, op):
    op(f"#faq alias points.tax {NONSENSE}")
    op("#faq confirm")
    assert op(f"#faq remove points.tax {NONSENSE}").startswith(f"已删除 points.tax 的问法「{NONSENSE}」。")
    op(f"#faq add {NONSENSE}是什么 | 一种飞船。")
    op("#faq confirm")
    assert op("#faq remove op.1").startswith("已删除条目 op.1。")
    assert op("#faq remove bot.help") == ("未修改：bot.help 来自知识文件，不能删除；不想再用它，可以停用："
                                          "#faq disable bot.help")


# -- on the command line ---------------------------------------------------------------------------


def test_cli_remove_and_undo(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("PERMITBOT_FAQ_DIR", raising=False)
    db = str(tmp_path / "k.db")

    def faq(*args: str) -> tuple[int, str, str]:
        code = main(["faq", *args, "--db", db])
        out, err = capsys.readouterr()
        return code, out, err

    assert faq("alias", "points.tax", NONSENSE, "--yes", "--by", "alice")[0] == 0
    code, out, err = faq("remove", "points.tax", "--phrasing", NONSENSE)  # not a terminal, no --yes
    assert code == 2 and "nothing written" in err and out.startswith(f"将删除 points.tax 的问法「{NONSENSE}」")
    assert NONSENSE in KnowledgeStore.open(db).entry("points.tax").phrasings
    code, out, _ = faq("remove", "points.tax", "--phrasing", NONSENSE, "--yes", "--by", "bob")
    assert code == 0 and out.splitlines()[-1] == f"已删除 points.tax 的问法「{NONSENSE}」。"
    code, out, _ = faq("undo", "#2", "--yes", "--by", "carol")
    assert code == 0 and out.splitlines()[-1].startswith("已撤销 #2")
    assert NONSENSE in KnowledgeStore.open(db).entry("points.tax").phrasings
    (latest,) = KnowledgeStore.open(db).history(limit=1)
    assert (latest.id, latest.action, latest.by, latest.note) == (3, "undo", "carol", "#2")
    code, _, err = faq("undo", "2", "--yes")
    assert code == 2 and err.startswith("permitbot: cannot undo change #2 of entry points.tax: ")
