"""The knowledge store's operator side: edits with their audit rows, validation before any write, the rebuild from
files keeping operator edits, export/import round trips, the bounded unanswered log and the daily counters."""
from __future__ import annotations

import hashlib
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from knowledge.faqfile import FAQ_DIR, MAX_ANSWER_CHARS, FaqError, load_faq_dir
from knowledge.store import (
    DuplicatePhrasing, EditError, InvalidEntry, KnowledgeStore, Missed, UnknownEntry, UnknownHandle, is_handle,
    phrasing_key,
)

MATERIALS = ('id = "permit.materials"\nquestion = "签注带什么"\nphrasings = ["签注材料", "签注要带啥"]\n'
             'answer = """\n带居住证。\n"""\nsources = ["004"]\nreviewed = "2026-11-23"\n')
PROCESS = ('id = "permit.process"\nquestion = "签注在哪里办"\nphrasings = ["签注去哪办"]\n'
           'answer = """\n社区事务受理中心。\n"""\nsources = ["004"]\nreviewed = "2026-11-23"\n')


@pytest.fixture()
def store() -> KnowledgeStore:
    store = KnowledgeStore.open(None)
    store.sync_files()
    return store


@pytest.fixture()
def faq(tmp_path) -> Path:
    directory = tmp_path / "faq"
    directory.mkdir()
    (directory / "permit.materials.toml").write_text(MATERIALS, encoding="utf-8")
    (directory / "permit.process.toml").write_text(PROCESS, encoding="utf-8")
    return directory


def _counts(store: KnowledgeStore) -> tuple[int, int, int, int]:
    one = lambda sql: store.db.execute(sql).fetchone()[0]  # noqa: E731
    return (one("select count(*) from entries"), one("select count(*) from phrasings"),
            one("select count(*) from audit"), store.data_version())


# -- edits and their audit rows ---------------------------------------------------------------------


def test_add_entry_gets_an_operator_id_and_an_audit_row(store):
    version = store.data_version()
    plain = store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="alice")
    child = store.add_entry("个税补报后多久能续", "次月即可。", by="bob", parent="points.tax", phrasings=["个税补报"])
    assert plain.id == "op.1" and child.id == "points.tax.op2" and child.catalog_id == "points.tax"
    assert store.entry("points.tax.op2").phrasings == ["个税补报"]
    assert store.data_version() == version + 2
    latest, first = store.history(limit=2)
    assert (first.by, first.action, first.entry_id, first.before) == ("alice", "add", "op.1", None)
    assert first.after["answer"] == "到受理中心补办。" and latest.after["parent"] == "points.tax"


def test_alias_disable_enable_are_audited_with_before_and_after(store):
    store.add_phrasing("points.tax", "蓝色香蕉飞船", by="alice")
    assert store.set_enabled("points.tax", False, by="bob") is True
    assert store.set_enabled("points.tax", False, by="bob") is False  # no change, no audit row
    assert store.set_enabled("points.tax", True, by="carol") is True
    enable, disable, alias = store.history("points.tax")
    assert "蓝色香蕉飞船" not in alias.before["phrasings"] and "蓝色香蕉飞船" in alias.after["phrasings"]
    assert (disable.before["enabled"], disable.after["enabled"], disable.by) == (True, False, "bob")
    assert (enable.action, enable.after["enabled"]) == ("enable", True)
    assert store.history("points.tax", limit=1) == [enable]


@pytest.mark.parametrize("edit, error, words", [
    (lambda s: s.add_entry("", "答案", by="x"), InvalidEntry, "question is empty"),
    (lambda s: s.add_entry("问题", "  ", by="x"), InvalidEntry, "answer is empty"),
    (lambda s: s.add_entry("问题", "长" * (MAX_ANSWER_CHARS + 1), by="x"), InvalidEntry, "more than"),
    (lambda s: s.add_entry("问题", "答案", by="x", parent="points.nope"), InvalidEntry, "unknown parent"),
    (lambda s: s.add_entry("积分个税要求？", "答案", by="x"), DuplicatePhrasing, "entry points.tax"),
    (lambda s: s.add_phrasing("points.materials", "社保是Ａ公司交的 个税是ｂ公司报的，积分能续吗？", by="x"), DuplicatePhrasing, "points.tax"),
    (lambda s: s.add_entry("新问题", "答案", by="x", phrasings=["新问题"]), DuplicatePhrasing, "question itself"),
    (lambda s: s.add_phrasing("points.tax", "个税 零申报!", by="x"), DuplicatePhrasing, "this entry"),
    (lambda s: s.add_phrasing("points.materials", "积分个税要求", by="x"), DuplicatePhrasing, "points.tax"),
    (lambda s: s.add_phrasing("points.tax", "？！", by="x"), InvalidEntry, "no letters or digits"),
    (lambda s: s.add_phrasing("points.tax", "长" * 300, by="x"), InvalidEntry, "longer than"),
    (lambda s: s.add_phrasing("points.nope", "问法", by="x"), UnknownEntry, "points.nope"),
    (lambda s: s.set_enabled("points.nope", False, by="x"), UnknownEntry, "points.nope"),
])
def test_invalid_edits_raise_a_named_error_and_write_nothing(store, edit, error, words):
    before = _counts(store)
    with pytest.raises(error) as raised:
        edit(store)
    assert isinstance(raised.value, EditError) and words in str(raised.value)
    assert _counts(store) == before


def test_an_edit_and_its_audit_row_commit_together(store, monkeypatch):
    def broken_audit(*args, **kwargs):
        raise RuntimeError("disk gone")

    before = _counts(store)
    monkeypatch.setattr(store, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        store.add_phrasing("points.tax", "蓝色香蕉飞船", by="x")
    with pytest.raises(RuntimeError):
        store.add_entry("积分卡丢了怎么办", "补办。", by="x")
    assert _counts(store) == before
    assert store.db.conn.in_transaction is False


def test_phrasing_key_ignores_width_case_spaces_and_punctuation():
    assert phrasing_key("ＡＢＣ 积分，续办？") == phrasing_key("abc积分续办") == "abc积分续办"


def test_writes_in_one_process_reach_another_connection(tmp_path):
    writer, reader = KnowledgeStore.open(tmp_path / "k.db"), KnowledgeStore.open(tmp_path / "k.db")
    writer.sync_files()
    version = reader.data_version()
    writer.add_phrasing("points.tax", "蓝色香蕉飞船", by="x")
    assert reader.data_version() > version
    assert "蓝色香蕉飞船" in reader.entry("points.tax").phrasings
    version = reader.data_version()
    writer.record_message(day="2026-11-23", counts=["messages"], keep=10)
    assert reader.data_version() == version  # the logs do not make bots rebuild their matchers


# -- the rebuild from files never loses operator edits ---------------------------------------------------


def test_rebuild_from_changed_files_keeps_operator_edits(faq):
    store = KnowledgeStore.open(None)
    store.sync_files(faq)
    store.add_phrasing("permit.materials", "签注得拿哪些东西", by="op")
    store.set_enabled("permit.process", False, by="op")
    added = store.add_entry("签注能代办吗", "可以，带委托书。", by="op", parent="permit.proxy")
    (faq / "permit.materials.toml").write_text(MATERIALS.replace("带居住证。", "带居住证和身份证。"), encoding="utf-8")
    (faq / "permit.process.toml").write_text(PROCESS.replace('["签注去哪办"]', '["签注去哪办", "签注地点"]'),
                                             encoding="utf-8")
    assert store.sync_files(faq) is True
    materials, process = store.entry("permit.materials"), store.entry("permit.process")
    assert materials.answer == "带居住证和身份证。"  # the file's change arrived
    assert materials.phrasings == ["签注材料", "签注要带啥", "签注得拿哪些东西"]  # and the operator's alias stayed
    assert process.enabled is False and process.phrasings == ["签注去哪办", "签注地点"]
    assert store.entry(added.id).answer == "可以，带委托书。"
    assert [e.id for e in store.entries()] == ["permit.materials", added.id]


def test_operator_edits_exported_into_the_files_become_file_rows(faq):
    store = KnowledgeStore.open(None)
    store.sync_files(faq)
    store.add_phrasing("permit.materials", "签注得拿哪些东西", by="op")
    added = store.add_entry("签注能代办吗", "可以，带委托书。", by="op", parent="permit.proxy")
    store.export_files(faq)
    assert store.sync_files(faq) is True
    assert store.origins(added.id)[0] == "file"
    assert store.origins("permit.materials")[1]["签注得拿哪些东西"] == "file"
    assert store.export_files(faq).written == []  # stable: the order of phrasings survived the adoption
    path = faq / f"{added.id}.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("带委托书", "带委托书和身份证"), encoding="utf-8")
    store.sync_files(faq)
    assert store.entry(added.id).answer == "可以，带委托书和身份证。"  # a reviewer's later edit takes effect


def test_a_malformed_file_stops_the_rebuild_and_keeps_everything(faq):
    store = KnowledgeStore.open(None)
    store.sync_files(faq)
    store.add_phrasing("permit.materials", "签注得拿哪些东西", by="op")
    before = store.entries(include_disabled=True)
    (faq / "permit.process.toml").write_text(PROCESS.replace('"""\n社区事务受理中心。\n"""', '""'), encoding="utf-8")
    with pytest.raises(Exception) as raised:
        store.sync_files(faq)
    assert "permit.process.toml" in str(raised.value) and "entry permit.process: answer is empty" in str(raised.value)
    assert store.entries(include_disabled=True) == before


# -- export and import ----------------------------------------------------------------------------------


def test_exporting_the_shipped_knowledge_rewrites_nothing(store, tmp_path):
    copy = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, copy)
    report = store.export_files(copy)
    assert report.written == [] and len(report.unchanged) == len(list(FAQ_DIR.glob("*.toml")))
    fresh = tmp_path / "fresh"
    store.export_files(fresh)
    for path in FAQ_DIR.glob("*.toml"):
        assert (fresh / path.name).read_bytes() == path.read_bytes(), path.name


def test_export_import_round_trip_changes_nothing(store, tmp_path):
    store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="op", phrasings=["积分卡掉了"])
    store.add_phrasing("points.tax", "蓝色香蕉飞船", by="op")
    store.set_enabled("points.archive", False, by="op")
    first = tmp_path / "first"
    report = store.export_files(first)
    assert "points.archive" in report.disabled and (first / "op.1.toml").exists()
    load_faq_dir(first)  # what export writes passes the file validation

    audit_rows, version = len(store.history(limit=1000)), store.data_version()
    merged = store.import_files([first], by="op")
    assert merged.added == merged.changed == merged.removed == [] and len(merged.unchanged) == len(report.written)
    assert len(store.history(limit=1000)) == audit_rows and store.data_version() == version

    other = KnowledgeStore.open(None)
    other.import_files([first], by="op", replace_all=True)
    second = tmp_path / "second"
    other.export_files(second)
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    for path in first.glob("*.toml"):
        assert (second / path.name).read_bytes() == path.read_bytes(), path.name


def test_import_merges_or_replaces_with_audit_rows(faq, tmp_path):
    store = KnowledgeStore.open(None)
    store.sync_files(faq)
    store.add_phrasing("permit.materials", "签注得拿哪些东西", by="op")
    directory = tmp_path / "in"
    directory.mkdir()
    (directory / "permit.materials.toml").write_text(
        MATERIALS.replace("带居住证。", "带居住证和照片。").replace('["签注材料", "签注要带啥"]', '["签注材料", "签注带啥材料"]'),
        encoding="utf-8")
    report = store.import_files([directory / "permit.materials.toml"], by="importer")
    assert (report.changed, report.added, report.removed) == (["permit.materials"], [], [])
    entry = store.entry("permit.materials")
    assert entry.answer == "带居住证和照片。"
    # merged, nothing lost; the phrasings from the FAQ files come first, then those operators added
    assert entry.phrasings == ["签注材料", "签注要带啥", "签注带啥材料", "签注得拿哪些东西"]
    record = store.history("permit.materials", limit=1)[0]
    assert (record.action, record.by, record.before["answer"]) == ("import", "importer", "带居住证。")
    assert [e.id for e in store.entries()] == ["permit.materials", "permit.process"]

    shutil.copy(FAQ_DIR / "bot.help.toml", directory)
    report = store.import_files([directory], by="importer", replace_all=True, required=["bot.help"])
    assert (report.added, report.changed, report.removed) == (["bot.help"], ["permit.materials"], ["permit.process"])
    assert store.entry("permit.materials").phrasings == ["签注材料", "签注带啥材料"]  # replaced: exactly the file
    assert [r.action for r in store.history(limit=3)] == ["remove", "import", "import"]


@pytest.mark.parametrize("text, words", [
    (MATERIALS.replace('"""\n带居住证。\n"""', '""'), "entry permit.materials: answer is empty"),
    (MATERIALS.replace('["签注材料", "签注要带啥"]', '["积分个税要求"]'), "entry permit.materials: '积分个税要求'"),
    (MATERIALS.replace('id = "permit.materials"', 'id = "permit.materials"\nparent = "nope"'), "unknown parent"),
    (MATERIALS.replace("answer = ", "answer = \n"), "not valid TOML"),
])
def test_import_of_a_malformed_file_names_file_and_entry_and_writes_nothing(store, tmp_path, text, words):
    path = tmp_path / "permit.materials.toml"
    path.write_text(text, encoding="utf-8")
    before = _counts(store), store.entries(include_disabled=True)
    with pytest.raises(EditError) as raised:
        store.import_files([tmp_path], by="op")
    assert str(path) in str(raised.value) and words in str(raised.value)
    assert (_counts(store), store.entries(include_disabled=True)) == before


def test_replace_import_refuses_to_drop_required_entries(store, tmp_path):
    (tmp_path / "permit.materials.toml").write_text(MATERIALS, encoding="utf-8")
    before = _counts(store)
    with pytest.raises(EditError, match="bot.help"):
        store.import_files([tmp_path], by="op", replace_all=True, required=["bot.help"])
    assert _counts(store) == before


def test_export_of_an_empty_database_is_refused(tmp_path):
    with pytest.raises(EditError):
        KnowledgeStore.open(None).export_files(tmp_path)


def test_export_prune_deletes_files_of_entries_the_database_lacks(store, tmp_path):
    (tmp_path / "permit.gone.toml").write_text("x", encoding="utf-8")
    assert [p.name for p in store.export_files(tmp_path).stale] == ["permit.gone.toml"]
    assert (tmp_path / "permit.gone.toml").exists()
    assert [p.name for p in store.export_files(tmp_path, prune=True).removed] == ["permit.gone.toml"]
    assert not (tmp_path / "permit.gone.toml").exists()


# -- what the bot saw -----------------------------------------------------------------------------------


def _missed(question: str, at: str = "2026-11-23T09:30:00+08:00", **kw) -> Missed:
    return Missed(question=question, at=at, **kw)


def test_unanswered_log_keeps_only_the_newest_rows(store):
    for number in range(12):
        store.record_message(day="2026-11-23", counts=["missed"], missed=_missed(f"问题{number}"), keep=5)
    assert store.unanswered_count() == 5
    assert {g.question for g in store.unanswered(50)} == {f"问题{n}" for n in range(7, 12)}


def test_unanswered_groups_by_key_most_frequent_first_and_handles_resolve(store):
    store.record_message(day="d", counts=[], missed=_missed("积分卡丢了?", suggestion="points.process", score=0.3))
    for _ in range(2):
        store.record_message(day="d", counts=[], missed=_missed("蓝色香蕉", suggestion="points.tax", score=0.2))
    store.record_message(day="d", counts=[], missed=_missed("积分卡丢了！", suggestion="points.process", score=0.31))
    first, second = store.unanswered(10)
    assert (first.count, second.count) == (2, 2) and first.question == "积分卡丢了！"  # most recent among equals
    assert store.resolve_handle(second.handle) == second
    store.add_phrasing("points.tax", second.question, by="op", resolves=second.key)
    assert [g.key for g in store.unanswered(10)] == [first.key]
    with pytest.raises(UnknownHandle):
        store.resolve_handle(second.handle)
    with pytest.raises(UnknownHandle):
        store.resolve_handle("x7")


def test_a_handle_is_u_and_a_row_id_in_either_case():
    assert is_handle("u12") and is_handle("U12") and is_handle(" u3 ")
    assert not is_handle("u") and not is_handle("x7") and not is_handle("u1a") and not is_handle("points.tax")


def test_daily_counts_add_up_per_day(store):
    for day, names in (("2026-11-22", ["questions", "answered", "intent:points.tax"]),
                       ("2026-11-23", ["questions", "missed"]), ("2026-11-23", ["questions"]),
                       ("2026-11-01", ["questions"])):
        store.record_message(day=day, counts=names)
    counts = store.daily_counts(days=7, today=date(2026, 11, 23))
    assert counts == {"2026-11-22": {"questions": 1, "answered": 1, "intent:points.tax": 1},
                      "2026-11-23": {"questions": 2, "missed": 1}}


def test_a_locked_database_costs_the_activity_write_its_counts_not_a_long_wait(tmp_path, caplog):
    bot, importer = KnowledgeStore.open(tmp_path / "k.db"), KnowledgeStore.open(tmp_path / "k.db")
    importer.db.execute("BEGIN IMMEDIATE")  # as a long `faq import` would hold the write lock
    started = time.monotonic()
    bot.record_message(day="2026-11-23", counts=["messages"], missed=_missed("蓝色香蕉"))
    assert time.monotonic() - started < 2
    importer.db.execute("ROLLBACK")
    assert bot.daily_counts(days=1, today=date(2026, 11, 23)) == {} and bot.unanswered_count() == 0
    assert "activity not recorded" in caplog.text and "蓝色香蕉" not in caplog.text
    # The connection is as it was: edits wait the full busy timeout and commit at full sync.
    assert bot.db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    assert bot.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    bot.record_message(day="2026-11-23", counts=["messages"])
    assert bot.daily_counts(days=1, today=date(2026, 11, 23)) == {"2026-11-23": {"messages": 1}}


# -- a missing or empty FAQ folder never costs the knowledge; operator state outlives every rebuild (issue 14) --


@pytest.mark.parametrize("make, words", [
    (lambda tmp: tmp / "fqa", "does not exist"),  # PERMITBOT_FAQ_DIR with a typo
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "has no entry files"),
    (lambda tmp: (tmp / "notes").mkdir() or (tmp / "notes" / "README.md").write_text("x") and tmp / "notes",
     "has no entry files"),
    (lambda tmp: (tmp / "file.toml").write_text("x") and tmp / "file.toml", "is not a folder"),
])
def test_a_missing_or_entryless_faq_folder_is_an_error_naming_it_and_changes_nothing(store, tmp_path, make, words):
    store.set_enabled("points.archive", False, by="op")
    store.add_phrasing("points.tax", "蓝色香蕉飞船", by="op")
    store.add_entry("积分卡丢了怎么办", "到受理中心补办。", by="op")
    before = _counts(store), store.entries(include_disabled=True), store.meta("files_fingerprint")
    folder = make(tmp_path)
    with pytest.raises(FaqError) as raised:
        store.sync_files(folder)
    assert str(folder) in str(raised.value) and words in str(raised.value)
    assert (_counts(store), store.entries(include_disabled=True), store.meta("files_fingerprint")) == before


def test_operator_state_survives_entries_leaving_the_files_and_coming_back(faq):
    store = KnowledgeStore.open(None)
    store.sync_files(faq)
    store.set_enabled("permit.process", False, by="op")
    store.add_phrasing("permit.process", "签注得去哪里", by="op")
    added = store.add_entry("签注能代办吗", "可以，带委托书。", by="op", parent="permit.proxy")
    process = (faq / "permit.process.toml").read_text(encoding="utf-8")
    (faq / "permit.process.toml").unlink()  # a checkout without it, say
    store.sync_files(faq)
    assert [e.id for e in store.entries(include_disabled=True)] == ["permit.materials", added.id]
    (faq / "permit.process.toml").write_text(process, encoding="utf-8")
    store.sync_files(faq)
    back = store.entry("permit.process")
    assert back.enabled is False and back.phrasings == ["签注去哪办", "签注得去哪里"]
    assert store.entry(added.id).answer == "可以，带委托书。"


def test_the_disabled_state_travels_in_the_exported_file_and_back(store, tmp_path):
    store.set_enabled("points.archive", False, by="op")
    report = store.export_files(tmp_path / "out")
    text = (tmp_path / "out" / "points.archive.toml").read_text(encoding="utf-8")
    assert text.endswith("enabled = false\n") and report.disabled == ["points.archive"]
    assert "enabled" not in (tmp_path / "out" / "points.tax.toml").read_text(encoding="utf-8")
    other = KnowledgeStore.open(None)
    other.sync_files()
    other.import_files([tmp_path / "out" / "points.archive.toml"], by="importer")
    assert other.entry("points.archive").enabled is False
    assert other.history("points.archive", limit=1)[0].after["enabled"] is False
    store.set_enabled("points.archive", True, by="op")
    assert store.export_files(tmp_path / "out").written == [tmp_path / "out" / "points.archive.toml"]
    assert "enabled" not in (tmp_path / "out" / "points.archive.toml").read_text(encoding="utf-8")


def test_a_file_saying_enabled_false_disables_but_an_operator_choice_wins(faq):
    store = KnowledgeStore.open(None)
    store.sync_files(faq)
    (faq / "permit.process.toml").write_text(PROCESS + "enabled = false\n", encoding="utf-8")
    store.sync_files(faq)
    assert store.entry("permit.process").enabled is False
    store.set_enabled("permit.process", True, by="op")
    (faq / "permit.materials.toml").write_text(MATERIALS.replace("带居住证。", "带居住证和照片。"), encoding="utf-8")
    store.sync_files(faq)  # the files changed again; the process file still says false
    assert store.entry("permit.process").enabled is True
    (faq / "permit.materials.toml").write_text(MATERIALS + "enabled = false\n", encoding="utf-8")
    store.sync_files(faq)
    assert store.entry("permit.materials").enabled is False
    (faq / "permit.materials.toml").write_text(MATERIALS, encoding="utf-8")
    store.sync_files(faq)  # the file's own false goes with the file
    assert store.entry("permit.materials").enabled is True


def test_a_database_of_the_earlier_layout_keeps_its_disabled_entries(tmp_path):
    path = tmp_path / "k.db"
    store = KnowledgeStore.open(path)
    store.sync_files()
    store.db.execute("drop table entry_state")
    store.db.execute("alter table entries add column enabled integer")
    store.db.execute("update entries set enabled = (id != 'points.archive')")
    store.db.execute("update meta set value = '0' where key = 'redaction'")
    reopened = KnowledgeStore.open(path)
    assert reopened.entry("points.archive").enabled is False and reopened.entry("points.tax").enabled is True
    assert "enabled" not in reopened._columns("entries")


# -- retention and forgetting a member (issue 14, item 8) ------------------------------------------------


def test_the_queue_keeps_a_hashed_sender_never_the_id(store):
    store.record_message(day="d", counts=[], missed=_missed("蓝色香蕉", sender="wxid_alice"))
    dump = "\n".join(store.db.conn.iterdump())
    assert "wxid_alice" not in dump
    (sender,) = store.db.execute("select sender from unanswered").fetchone()
    assert len(sender) == 64 and sender != hashlib.sha256(b"wxid_alice").hexdigest()


def test_forget_deletes_one_senders_questions_with_an_audit_row_naming_no_id(store):
    for sender, question in (("wxid_alice", "蓝色香蕉"), ("wxid_bob", "蓝色香蕉"), ("wxid_alice", "绿色苹果")):
        store.record_message(day="d", counts=["missed"], missed=_missed(question, sender=sender))
    assert store.forget("wxid_alice", by="op") == 2
    assert [(g.question, g.count) for g in store.unanswered(10)] == [("蓝色香蕉", 1)]
    record = store.history(limit=1)[0]
    assert (record.action, record.by) == ("forget", "op") and "2 unanswered" in record.note
    assert "wxid_alice" not in "\n".join(store.db.conn.iterdump())
    assert store.forget("wxid_alice", by="op") == 0
    with pytest.raises(EditError):
        store.forget("  ", by="op")


def test_retention_prunes_the_queue_on_write_and_on_demand(store):
    store.record_message(day="d", counts=[], missed=_missed("旧问题一"))
    store.record_message(day="d", counts=[], missed=_missed("旧问题二"))
    store.db.execute("update unanswered set stored = '2026-01-01T00:00:00+00:00'")  # stored long ago
    store.record_message(day="d", counts=[], missed=_missed("新问题"), retention=timedelta(days=90))
    assert [g.question for g in store.unanswered(10)] == ["新问题"]
    store.db.execute("update unanswered set stored = '2026-01-01T00:00:00+00:00'")
    assert store.prune(timedelta(days=90)) == 1 and store.unanswered_count() == 0


def test_lone_surrogates_are_refused_or_replaced_never_an_encoding_error(store):
    with pytest.raises(UnknownEntry):
        store.entry("points.\ud800")
    with pytest.raises(InvalidEntry, match="lone surrogate"):
        store.add_phrasing("points.tax", "个税\udc00问题", by="op")
    store.record_message(day="d", counts=[], missed=_missed("蓝色\ud83d香蕉", room="\udfffroom", sender="\ud800"))
    assert store.unanswered(1)[0].question == "蓝色\ufffd香蕉"
    assert store.forget("\ud800", by="op") == 1


def test_a_disabled_entry_removed_by_a_replacing_import_comes_back_disabled(store, tmp_path):
    store.set_enabled("points.archive", False, by="op")
    store.export_files(tmp_path / "all")
    (tmp_path / "all" / "points.archive.toml").unlink()
    store.import_files([tmp_path / "all"], by="op", replace_all=True)
    (tmp_path / "back").mkdir()
    shutil.copy(FAQ_DIR / "points.archive.toml", tmp_path / "back")  # the shipped file: no `enabled` in it
    assert store.import_files([tmp_path / "back"], by="op").added == ["points.archive"]
    assert store.entry("points.archive").enabled is False
