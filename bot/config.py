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
    reconnect_max_seconds: int = 2  # the gateway transport waits between half and all of this between attempts
    max_message_age_seconds: int = 600  # older messages (a backlog replayed after a reconnect) get no answer
    unanswered_keep: int = 5000
    retention_days: int = 90  # members' words (the unanswered queue) are deleted this many days after they came
    min_confidence: float = 0.22  # below: no intent (bot/speak.py Thresholds)
    group_confidence: float = 0.36  # an unmentioned group message is answered only at or above this
    ambiguity_margin: float = 0.015  # other intents this close to the best make a menu


# Each number's allowed range, checked at start (bot/app.py): (smallest, largest or None).
_RANGES: dict[str, tuple[float, float | None]] = {
    "room_replies_per_minute": (1, None),
    "repeat_cooldown_seconds": (0, None),
    "carry_minutes": (0, None),
    "reconnect_max_seconds": (1, None),
    "max_message_age_seconds": (1, None),
    "unanswered_keep": (0, None),
    "retention_days": (1, None),
    "min_confidence": (0, 1),
    "group_confidence": (0, 1),
    "ambiguity_margin": (0, 1),
}


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
        if kind in ("int", "float"):
            if isinstance(value, bool):
                raise TypeError
            return int(value) if kind == "int" else float(value)
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
    for name, (low, high) in _RANGES.items():
        value = getattr(config, name)
        if value < low or (high is not None and value > high):
            allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise ConfigError(f"setting {name!r} = {value!r} is out of range (allowed: {allowed})")
    if config.min_confidence > config.group_confidence:
        raise ConfigError("setting 'min_confidence' must not exceed 'group_confidence'")
    return config
