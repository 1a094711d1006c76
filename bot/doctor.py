"""`permitbot doctor`: checks a set-up and says, one line per finding, what is ok, what deserves a look (warning)
and what must be fixed (problem), with how to fix it. Reads only: it never creates or changes the database."""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator, Mapping

from bot.app import checked, data_files
from bot.config import Config, ConfigError, load_config
from bot.errors import StartupError
from intents.dates import SHANGHAI
from knowledge.policy import POLICY_PATH
from intents.workdays import HOLIDAYS_DIR, HolidayFileError, load_year_file, official_years
from knowledge.faqfile import FaqError, load_faq_dir
from knowledge.store import KnowledgeStore

OK, WARNING, PROBLEM = "ok", "warning", "problem"
REVIEW_EVERY = timedelta(days=365)  # an FAQ entry reviewed longer ago than this is due for a look
DISK_PROBLEM_BYTES = 100 * 2**20  # below this much free space the database may fail to write
DISK_WARNING_BYTES = 1 * 2**30
GATEWAY_TIMEOUT = 3.0  # seconds for the TCP connection to the gateway
SHANGHAI_ZONES = frozenset({"Asia/Shanghai", "PRC", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin"})


@dataclass(frozen=True)
class Finding:
    """One line of the report: its level (OK, WARNING, PROBLEM), what was checked, what was found, how to fix it."""

    level: str
    subject: str
    text: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.level:<8} {self.subject}: {self.text}" + (f" -> {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Setup:
    """What a check looks at; the defaults are this installation's."""

    config_file: Path | None = None
    db: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    today: date | None = None  # default: today in Shanghai
    holidays_dir: Path = HOLIDAYS_DIR
    policy_path: Path = POLICY_PATH
    localtime: Path = Path("/etc/localtime")


def check(setup: Setup) -> list[Finding]:
    """Every finding, in the order: configuration, database, FAQ, data files, holidays, disk, gateway, time zone."""
    config, findings = _configuration(setup)
    today = setup.today or date.today()
    for part in (lambda: _database(config.db_path), lambda: _faq(config, today), lambda: _data(setup),
                 lambda: _holidays(setup.holidays_dir, today), lambda: _disk(config.db_path),
                 lambda: _gateway(config), lambda: _time_zone(setup)):
        findings.extend(part())
    return findings


def _configuration(setup: Setup) -> tuple[Config, list[Finding]]:
    where = str(setup.config_file) if setup.config_file else "no file (defaults and environment)"
    try:
        config = load_config(setup.config_file, env=setup.env, db_path=setup.db)
    except ConfigError as exc:
        problem = Finding(PROBLEM, "configuration", str(exc), "correct it (deploy/config.example.toml lists every "
                          "setting); the bot does not start with it")
        try:  # the other checks go on with what the environment says
            return load_config(None, env=setup.env, db_path=setup.db), [problem]
        except ConfigError:
            return load_config(None, env={}, db_path=setup.db), [problem]
    found = [Finding(OK, "configuration", where)]
    if not config.operators:
        found.append(Finding(WARNING, "configuration", "no operators: nobody can use #faq in chat",
                             'add operators = ["wxid_…"] to the configuration (or PERMITBOT_OPERATORS)'))
    return config, found


def _database(path: Path) -> list[Finding]:
    subject = f"database {path}"
    if not path.exists():
        return [Finding(WARNING, subject, "does not exist yet",
                        "it is created at the first start (or run any `permitbot faq` command)")]
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                return [Finding(PROBLEM, subject, "integrity check failed: " + "; ".join(result[:3]),
                                "stop the bot and restore a backup (deploy/README.md, Backups), or rescue what is "
                                "left with `sqlite3 DB .recover`")]
            schema = _schema(conn)
            entries = conn.execute("select count(*) from entries").fetchone()[0] if "entries" in schema else 0
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Finding(PROBLEM, subject, f"cannot be read as SQLite ({exc})",
                        "restore a backup (deploy/README.md, Backups), or move it away to start afresh")]
    found = [Finding(OK, subject, f"integrity ok, {entries} entries")]
    expected = _schema(KnowledgeStore.open(None).db.conn)
    missing = [f"{table}.{column}" if column else table for table, columns in expected.items()
               for column in ([None] if table not in schema else sorted(columns - schema[table]))]
    extra = [table for table in schema if table not in expected and not table.startswith("sqlite_")]
    if missing:
        found.append(Finding(WARNING, subject, f"schema older than this version: no {', '.join(missing)}",
                             "the next start (or any `permitbot faq` command) adds it"))
    elif extra:
        found.append(Finding(WARNING, subject, f"tables this version does not know: {', '.join(extra)}",
                             "a newer permitbot wrote it; use that version"))
    else:
        found.append(Finding(OK, subject, f"schema matches permitbot {importlib.metadata.version('permitbot')}"))
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        found.append(Finding(PROBLEM, subject, "not writable by this user",
                             "run the bot as the owner of the file and its folder (e.g. the permitbot user)"))
    return found


def _schema(conn: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")]
    return {table: {row[1] for row in conn.execute(f"PRAGMA table_info('{table}')")} for table in tables}


def _faq(config: Config, today: date) -> list[Finding]:
    subject = f"FAQ files {config.faq_dir}"
    try:
        entries = load_faq_dir(config.faq_dir)
    except (FaqError, OSError) as exc:
        return [Finding(PROBLEM, subject, str(exc), "correct the file; the bot does not start with it")]
    if not entries:
        return [Finding(PROBLEM, subject, "no entry files", "point faq_dir (PERMITBOT_FAQ_DIR) at the FAQ folder")]
    found = [Finding(OK, subject, f"{len(entries)} entries valid")]
    stale, undated = [], []
    for entry in entries:
        try:
            if today - date.fromisoformat(entry.reviewed) > REVIEW_EVERY:
                stale.append(f"{entry.id} ({entry.reviewed})")
        except ValueError:
            undated.append(entry.id)
    if stale:
        found.append(Finding(WARNING, subject, f"{len(stale)} reviewed more than a year ago: {', '.join(stale)}",
                             "check them against the current rules, then update `reviewed`"))
    if undated:
        found.append(Finding(WARNING, subject, f"{len(undated)} without a `reviewed` date: {', '.join(undated)}",
                             'add reviewed = "YYYY-MM-DD" once checked'))
    return found


def _data(setup: Setup) -> list[Finding]:
    """The data files the bot checks at start (bot.app.data_files), the policy figures from `setup.policy_path`."""
    found = []
    for subject, path, load in data_files():
        if subject == "holidays":
            continue  # _holidays reports them
        if subject == "policy figures":
            path = setup.policy_path
        try:
            checked(path, load)
        except StartupError as exc:
            found.append(Finding(PROBLEM, subject, str(exc), "restore the file from the release (git checkout, or reinstall)"))
        else:
            found.append(Finding(OK, subject, f"{path} loads"))
    return found


def _holidays(directory: Path, today: date) -> list[Finding]:
    official = official_years()
    operator, found = set(), []
    for path in sorted(directory.glob("*.toml")):
        if not (path.stem.isdigit() and len(path.stem) == 4):
            found.append(Finding(WARNING, "holidays", f"{path}: the bot reads only <year>.toml files",
                                 "rename it after its year, e.g. 2027.toml"))
            continue
        try:
            operator.add(load_year_file(path).year)
        except HolidayFileError as exc:
            found.append(Finding(PROBLEM, "holidays", f"{exc} (the bot ignores this file)",
                                 f"correct it as {HOLIDAYS_DIR / 'README.md'} shows"))
    span = f"{min(official)}–{max(official)}" if official else "none"
    files = ", ".join(map(str, sorted(operator))) or "none"
    found.insert(0, Finding(OK, "holidays", f"official schedule {span} (chinesecalendar "
                            f"{importlib.metadata.version('chinesecalendar')}); operator files: {files}"))
    known = official | operator
    add_year = ("when the State Council publishes it (usually in November), add knowledge/holidays/{year}.toml "
                "(see its README) or upgrade chinesecalendar")
    if today.year not in known:
        found.append(Finding(PROBLEM, "holidays", f"this year ({today.year}) has no schedule: working days skip "
                             "only weekends and the statutory holidays, without the make-up working days",
                             add_year.format(year=today.year)))
    if today.year + 1 not in known:
        found.append(Finding(WARNING, "holidays", f"next year ({today.year + 1}) is covered only by the statutory "
                             "rule (make-up working days unknown)", add_year.format(year=today.year + 1)))
    return found


def _disk(db_path: Path) -> list[Finding]:
    folder = next((p for p in [db_path.parent, *db_path.parents] if p.exists()), Path("/"))
    free = shutil.disk_usage(folder).free
    text = f"{free / 2**30:.1f} GB free on {folder}"
    if free < DISK_PROBLEM_BYTES:
        return [Finding(PROBLEM, "disk", text, "free some space: the database cannot save edits or the log")]
    if free < DISK_WARNING_BYTES:
        return [Finding(WARNING, "disk", text, "free some space soon")]
    return [Finding(OK, "disk", text)]


def _gateway(config: Config) -> list[Finding]:
    if not config.endpoint:
        return [Finding(WARNING, "gateway", "none configured: `permitbot serve` has nowhere to connect",
                        "set WECHATY_PUPPET_SERVICE_ENDPOINT=HOST:PORT (or endpoint in the configuration), "
                        "see deploy/README.md")]
    host, _, port = config.endpoint.rpartition(":")
    if not host or not port.isdigit():
        return [Finding(PROBLEM, "gateway", f"endpoint {config.endpoint!r} is not HOST:PORT",
                        "write it as e.g. 127.0.0.1:8788")]
    found = []
    if not config.token:
        found.append(Finding(PROBLEM, "gateway", "no token", "set WECHATY_PUPPET_SERVICE_TOKEN (the gateway's "
                             "--token), see deploy/README.md"))
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=GATEWAY_TIMEOUT):
            pass
    except OSError as exc:
        found.append(Finding(PROBLEM, "gateway", f"cannot connect to {config.endpoint} within "
                             f"{GATEWAY_TIMEOUT:.0f} s ({exc.strerror or exc})",
                             "start the gateway, check the address and the firewall (deploy/README.md)"))
    else:
        found.append(Finding(OK, "gateway", f"{config.endpoint} accepts connections"
                             + ("" if not config.token else "; `permitbot serve --check` tests the token")))
    return found


def _time_zone(setup: Setup) -> list[Finding]:
    zone = _zone_name(setup)
    if zone in SHANGHAI_ZONES:
        return [Finding(OK, "time zone", zone)]
    return [Finding(WARNING, "time zone", f"{zone or 'unknown'}, not Asia/Shanghai: log times are not Shanghai "
                    "times (answers use Asia/Shanghai regardless)",
                    "set TZ=Asia/Shanghai for the bot (the Docker image and the systemd unit do)")]


def _zone_name(setup: Setup) -> str:
    """The process's zone: TZ, else the zone /etc/localtime links to, else the C library's abbreviation."""
    if setup.env.get("TZ"):
        return setup.env["TZ"].lstrip(":")
    target = os.path.realpath(setup.localtime)
    if "zoneinfo/" in target:
        return target.split("zoneinfo/", 1)[1]
    return time.tzname[0]


def report(findings: list[Finding]) -> Iterator[str]:
    yield from (finding.line() for finding in findings)
    problems = sum(f.level == PROBLEM for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    yield f"{problems} problem{'' if problems == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "doctor", help="check the set-up: configuration, database, FAQ, data, holidays, disk, gateway, time zone",
        description="Checks this installation and prints one line per finding: ok, warning (worth a look) or "
                    "problem (must be fixed), with how to fix it. Exit status 0 when there is no problem, 1 "
                    "otherwise. Changes nothing. Example: permitbot doctor --config /etc/permitbot/config.toml")
    parser.add_argument("--db", help="knowledge database path (default: PERMITBOT_DB or "
                                     "~/.local/share/permitbot/knowledge.db)")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime

    findings = check(Setup(config_file=args.config, db=args.db, today=datetime.now(SHANGHAI).date()))
    for line in report(findings):
        print(line)
    return 1 if any(f.level == PROBLEM for f in findings) else 0
