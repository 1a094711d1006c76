"""Runtime configuration: one TOML file plus PERMITBOT_* / WECHATY_* environment variables."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from knowledge.faqfile import FAQ_DIR


class ConfigError(Exception):
    """The configuration file or environment is unusable; the message says why."""


def default_db_path() -> Path:
    """Where the knowledge database lives unless --db or PERMITBOT_DB says otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "permitbot" / "knowledge.db"


@dataclass(frozen=True)
class Config:
    """Everything an operator can set; defaults suit the console."""

    db_path: Path = field(default_factory=default_db_path)
    faq_dir: Path = FAQ_DIR  # the reviewable FAQ files the database is rebuilt from
    aliases: tuple[str, ...] = ("小助手", "permitbot")
    operators: frozenset[str] = frozenset()
    endpoint: str | None = None
    token: str | None = None
    allowed_rooms: frozenset[str] = frozenset()  # empty: every room
    room_replies_per_minute: int = 6
    repeat_cooldown_seconds: int = 600
    carry_minutes: int = 30
    reconnect_max_seconds: int = 30  # the gateway transport's back-off cap
    max_message_age_seconds: int = 600  # older messages (a backlog replayed after a reconnect) get no answer
    unanswered_keep: int = 5000
    retention_days: int = 90  # members' words (the unanswered queue) are deleted this many days after they came


_ENV = {
    "PERMITBOT_DB": "db_path",
    "PERMITBOT_FAQ_DIR": "faq_dir",
    "WECHATY_PUPPET_SERVICE_ENDPOINT": "endpoint",
    "WECHATY_PUPPET_SERVICE_TOKEN": "token",
    "PERMITBOT_OPERATORS": "operators",
    "PERMITBOT_ALLOWED_ROOMS": "allowed_rooms",
    "PERMITBOT_ALIASES": "aliases",
    "PERMITBOT_RETENTION_DAYS": "retention_days",
}


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Config)}[name]
    if isinstance(value, str) and kind.startswith(("tuple", "frozenset")):
        value = [part.strip() for part in value.split(",") if part.strip()]
    try:
        if kind == "Path":
            return Path(os.path.expanduser(str(value)))
        if kind.startswith("tuple"):
            return tuple(str(v) for v in value)
        if kind.startswith("frozenset"):
            return frozenset(str(v) for v in value)
        if kind == "int":
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        return None if value in (None, "") else str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot use {value!r} ({kind})") from exc


def load_config(path: Path | None = None, *, env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
    """Defaults, then the TOML file, then the environment, then explicit overrides (command-line flags)."""
    env = os.environ if env is None else env
    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
        values.update(data)
    for var, name in _ENV.items():
        if env.get(var):
            values[name] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = replace(Config(), **{name: _coerce(name, value) for name, value in values.items()})
    if config.retention_days < 1:
        raise ConfigError(f"setting 'retention_days': {config.retention_days} is not a number of days (1 or more)")
    return config
