"""`permitbot doctor` (issue 15, item 5) on a good set-up (no problem, exit 0) and on broken ones (each problem named
with how to fix it, exit 1); it reads only."""
from __future__ import annotations

import socket
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bot import doctor
from bot.cli import main
from bot.doctor import OK, PROBLEM, WARNING, Setup, check
from knowledge.faqfile import FAQ_DIR
from knowledge.store import KnowledgeStore

TODAY = date(2026, 11, 23)  # chinesecalendar ships 2026; 2027 has no official schedule yet
HOLIDAY_2027 = ('source = "国务院办公厅关于2027年部分节假日安排的通知"\nholidays = ["2027-01-01"]\n'
                'workdays = ["2027-02-14"]\n')


@pytest.fixture()
def gateway():
    """A listening TCP port standing in for the gateway (doctor only connects)."""
    server = socket.create_server(("127.0.0.1", 0))
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.fixture()
def good(tmp_path, gateway) -> Setup:
    db = tmp_path / "knowledge.db"
    KnowledgeStore.open(db).sync_files()
    config = tmp_path / "config.toml"
    config.write_text(f'operators = ["wxid_owner"]\nendpoint = "{gateway}"\ntoken = "insecure_test"\n'
                      f'db_path = "{db}"\n', encoding="utf-8")
    holidays = tmp_path / "holidays"
    holidays.mkdir()
    (holidays / "2027.toml").write_text(HOLIDAY_2027, encoding="utf-8")
    return Setup(config_file=config, env={"TZ": "Asia/Shanghai"}, today=TODAY, holidays_dir=holidays)


def _levels(findings) -> dict[str, list[str]]:
    levels: dict[str, list[str]] = {OK: [], WARNING: [], PROBLEM: []}
    for finding in findings:
        levels[finding.level].append(finding.line())
    return levels


def test_a_good_setup_has_only_ok_lines(good):
    findings = check(good)
    levels = _levels(findings)
    assert levels[PROBLEM] == [] and levels[WARNING] == [], levels
    subjects = [finding.subject.split()[0] for finding in findings]
    for subject in ("configuration", "database", "FAQ", "intent", "policy", "scope", "holidays", "disk", "gateway",
                    "time"):
        assert subject in subjects
    assert any("integrity ok" in line for line in levels[OK])
    assert any("schema matches permitbot" in line for line in levels[OK])
    assert any("operator files: 2027" in line for line in levels[OK])
    assert f"ok       time zone: Asia/Shanghai" in levels[OK]


def test_warnings_alone_keep_exit_status_0(good, monkeypatch, capsys):
    # No gateway, no operators, a time zone other than Shanghai, next year without a schedule: warnings only.
    config = good.config_file
    config.write_text("\n".join(line for line in config.read_text(encoding="utf-8").splitlines()
                                if not line.startswith(("operators", "endpoint", "token"))), encoding="utf-8")
    (good.holidays_dir / "2027.toml").rename(good.holidays_dir / "next-year.toml")
    setup = Setup(config_file=config, env={"TZ": "Europe/Berlin"}, today=TODAY, holidays_dir=good.holidays_dir)
    levels = _levels(check(setup))
    assert levels[PROBLEM] == []
    assert any(line.startswith("warning  gateway: none configured") for line in levels[WARNING])
    assert any(line.startswith("warning  configuration: no operators") for line in levels[WARNING])
    assert any(line.startswith("warning  time zone: Europe/Berlin, not Asia/Shanghai") for line in levels[WARNING])
    assert any("next-year.toml: the bot reads only <year>.toml files" in line for line in levels[WARNING])
    assert any("next year (2027) is covered only by the statutory rule" in line and "2027.toml" in line
               for line in levels[WARNING])

    monkeypatch.setenv("TZ", "Europe/Berlin")
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.setattr(doctor, "official_years", lambda: frozenset(range(2004, date.today().year + 2)))
    code = main(["doctor", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[-1].startswith("0 problems, ") and "warning  time zone" in out


def test_a_broken_setup_names_each_problem_and_exits_1(tmp_path, monkeypatch, capsys):
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    db = tmp_path / "knowledge.db"
    db.write_bytes(b"this is not a database " * 200)
    config = tmp_path / "config.toml"
    config.write_text('operators = ["wxid_owner"]\nendpont = "127.0.0.1:8788"\n', encoding="utf-8")  # a typo
    holidays = tmp_path / "holidays"
    holidays.mkdir()
    (holidays / "2027.toml").write_text('holidays = ["2027-13-01"]\n', encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text("[window_opens_days_before_expiry]\nvalue = -30\n", encoding="utf-8")
    env = {"TZ": "Asia/Shanghai", "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{port}"}
    setup = Setup(config_file=config, db=str(db), env=env, today=TODAY, holidays_dir=holidays, policy_path=policy)
    problems = _levels(check(setup))[PROBLEM]
    expected = [
        "problem  configuration: config file", "unknown setting(s) endpont",
        f"problem  database {db}: cannot be read as SQLite", "restore a backup",
        "problem  policy figures:", "needs `value`, a positive whole number",
        "problem  holidays:", "2027.toml",
        "problem  gateway: no token", "WECHATY_PUPPET_SERVICE_TOKEN",
        f"problem  gateway: cannot connect to 127.0.0.1:{port}", "start the gateway",
    ]
    text = "\n".join(problems)
    for words in expected:
        assert words in text, (words, text)
    assert db.read_bytes() == b"this is not a database " * 200  # read only

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.setattr(doctor, "official_years", lambda: frozenset(range(2004, date.today().year + 2)))
    code = main(["doctor", "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 1 and "problem  database" in out and out.splitlines()[-1].startswith("1 problem, ")


def test_faq_files_broken_or_due_for_review(good, tmp_path):
    faq = tmp_path / "faq"
    faq.mkdir()
    for path in FAQ_DIR.glob("*.toml"):
        (faq / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    tax = faq / "points.tax.toml"
    text = tax.read_text(encoding="utf-8")
    reviewed = text[text.index("reviewed = "):].splitlines()[0]
    tax.write_text(text.replace(reviewed, 'reviewed = "2025-11-01"'), encoding="utf-8")
    config = good.config_file
    config.write_text(config.read_text(encoding="utf-8") + f'faq_dir = "{faq}"\n', encoding="utf-8")
    warnings = _levels(check(good))[WARNING]
    assert [line for line in warnings if "reviewed more than a year ago" in line] == [
        f"warning  FAQ files {faq}: 1 reviewed more than a year ago: points.tax (2025-11-01) -> check them "
        "against the current rules, then update `reviewed`"]
    tax.write_text(text.replace('id = "points.tax"', 'id = "points.tax"\nparent = "points.nope"'), encoding="utf-8")
    problems = _levels(check(good))[PROBLEM]
    assert len(problems) == 1 and "entry points.tax: unknown parent 'points.nope'" in problems[0]


def test_an_older_database_schema_is_a_warning_and_integrity_damage_a_problem(good):
    db = Path(good.config_file.read_text(encoding="utf-8").split('db_path = "')[1].split('"')[0])
    with sqlite3.connect(db) as conn:
        conn.execute("alter table unanswered drop column reported_reply")
    warnings = _levels(check(good))[WARNING]
    assert any("schema older than this version: no unanswered.reported_reply" in line for line in warnings)
    KnowledgeStore.open(db)  # opening it migrates
    assert _levels(check(good))[WARNING] == []
