"""FAQ files: the shipped ones are complete, malformed ones stop start-up with file, entry and problem named."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.cli import main
from knowledge.faqfile import FAQ_DIR, FaqError, load_catalog, load_faq_dir
from knowledge.store import KnowledgeStore

GOOD = 'id = "permit.materials"\nquestion = "签注带什么"\nphrasings = ["签注材料"]\nanswer = "带居住证。"\nsources = ["004"]\n'


def test_every_catalog_intent_has_an_entry_with_enough_phrasings_and_sources():
    entries = {entry.id: entry for entry in load_faq_dir()}
    assert set(load_catalog()) <= {entry.catalog_id for entry in entries.values()}
    for entry in entries.values():
        assert len(entry.phrasings) >= 10, entry.id
        assert entry.sources and entry.reviewed, entry.id


def test_no_phrasing_belongs_to_two_intents():
    owners: dict[str, str] = {}
    for entry in load_faq_dir():
        for phrasing in entry.phrasings:
            assert owners.setdefault(phrasing, entry.id) == entry.id, phrasing


def test_no_shipped_phrasing_is_put_out_of_scope_by_the_scope_markers():
    # a phrasing the scope check refuses could never be answered: the FAQ and scope.toml would disagree
    from intents.normalize import normalize
    from intents.scope import Scope
    from intents.segment import Segmenter

    segmenter = Segmenter()
    scope = Scope(segment=segmenter.tokens)
    refused = [(entry.id, phrasing) for entry in load_faq_dir() if entry.catalog_id != "out_of_scope"
               for phrasing in (entry.question, *entry.phrasings)
               if scope.outside(segmenter.tokens(normalize(phrasing)), normalize(phrasing))]
    assert refused == []


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, text, problem", [
    ("permit.materials.toml", 'id = "permit.materials"\nquestion = "x"\nanswer = ', "not valid TOML"),
    ("permit.materials.toml", GOOD.replace('answer = "带居住证。"', 'answer = " "'), "entry permit.materials: answer is empty"),
    ("permit.materials.toml", GOOD.replace('["签注材料"]', '["签注材料", "签注材料"]'), "appears twice"),
    ("permit.materials.toml", GOOD + 'colour = "red"\n', "unknown key(s) colour"),
    ("permit.other.toml", GOOD.replace('"permit.materials"', '"permit.other"'), "not in the catalog"),
    ("permit.x.toml", GOOD.replace('id = "permit.materials"', 'id = "permit.x"\nparent = "nope"'), "unknown parent 'nope'"),
    ("wrong_name.toml", GOOD, "must be named permit.materials.toml"),
    ("permit.materials.toml", GOOD.replace('["签注材料"]', '"签注材料"'), "must be a list of strings"),
])
def test_malformed_faq_file_names_file_entry_and_problem(tmp_path, name, text, problem):
    path = _write(tmp_path / "faq", name, text)
    with pytest.raises(FaqError) as error:
        load_faq_dir(tmp_path / "faq")
    assert str(path) in str(error.value) and problem in str(error.value)


def test_bad_file_leaves_the_database_as_it_was(tmp_path):
    store = KnowledgeStore.open(tmp_path / "k.db")
    faq = tmp_path / "faq"
    _write(faq, "permit.materials.toml", GOOD)
    assert store.sync_files(faq)
    _write(faq, "permit.process.toml", 'id = "permit.process"\n')
    with pytest.raises(FaqError):
        store.sync_files(faq)
    assert [entry.id for entry in store.entries()] == ["permit.materials"]


def test_database_is_rebuilt_only_when_files_change(tmp_path):
    store = KnowledgeStore.open(tmp_path / "k.db")
    faq = tmp_path / "faq"
    _write(faq, "permit.materials.toml", GOOD)
    assert store.sync_files(faq) is True
    assert store.sync_files(faq) is False
    _write(faq, "permit.materials.toml", GOOD.replace("带居住证。", "带居住证和申请表。"))
    assert store.sync_files(faq) is True
    assert store.entries()[0].answer == "带居住证和申请表。"


def test_cli_start_up_with_a_malformed_file_prints_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    faq = tmp_path / "faq"
    _write(faq, "permit.materials.toml", GOOD.replace('answer = "带居住证。"', 'answer = ""'))
    monkeypatch.setenv("PERMITBOT_FAQ_DIR", str(faq))
    code = main(["ask", "签注材料", "--db", str(tmp_path / "k.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert "permit.materials.toml" in err and "answer is empty" in err and "Traceback" not in err


def test_shipped_files_are_valid_toml_named_by_id():
    for path in FAQ_DIR.glob("*.toml"):
        with open(path, "rb") as handle:
            assert tomllib.load(handle)["id"] == path.stem


def test_a_catalog_follow_up_naming_no_catalog_intent_is_refused_with_the_file_and_intent(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text('[intents."permit.materials"]\nwhat = "x"\npoints_follow_up = "points.nope"\n', encoding="utf-8")
    with pytest.raises(FaqError, match=r"catalog\.toml: intent permit\.materials: points_follow_up 'points\.nope'"):
        load_catalog(path)


@pytest.mark.parametrize("lines, problem", [('last_day = "points.nope"', r"last_day 'points\.nope' is not in the catalog"),
                                            ('last_day_words = "最迟"', r"last_day_words must be a list of words")])
def test_a_catalog_last_day_naming_no_intent_or_without_a_word_list_is_refused(tmp_path, lines, problem):
    path = tmp_path / "catalog.toml"
    path.write_text(f'[intents."points.when_to_renew"]\nwhat = "x"\n{lines}\n', encoding="utf-8")
    with pytest.raises(FaqError, match=r"catalog\.toml: intent points\.when_to_renew: " + problem):
        load_catalog(path)
