"""Shared fixtures: the real knowledge in an in-memory store, a fixed clock, message builders."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.events import Incoming
from bot.app import build
from bot.handler import Bot
from knowledge.store import KnowledgeStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "samples" / "questions.jsonl"


def load_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def incoming_from_record(record: dict) -> Incoming:
    """A replay-format line as the handler's input."""
    time = datetime.fromisoformat(record["time"])
    return Incoming(
        text=record["text"], time=time if time.tzinfo else time.replace(tzinfo=SHANGHAI),
        sender=record.get("sender", "someone"), room=record.get("room"),
        mentioned=bool(record.get("mentioned", False)), id=str(record.get("id", "")),
    )


@pytest.fixture(scope="session")
def samples() -> list[dict]:
    if not SAMPLES.exists():
        pytest.skip(f"the labelled samples are not at {SAMPLES}")
    return load_jsonl(SAMPLES)


@pytest.fixture()
def bot() -> Bot:
    store = KnowledgeStore.open(None)
    store.sync_files()
    return build(Config(db_path=Path(":memory:"), operators=frozenset({"wxid_operator"})), store=store)


@pytest.fixture()
def ask(bot):
    """Send one message to the bot: ask(text, room=..., mentioned=..., sender=..., time=...)."""

    def send(text: str, *, room: str | None = "room@chatroom", mentioned: bool = False,
             sender: str = "wxid_member", time: datetime = NOW):
        return bot.handle(Incoming(text=text, time=time, sender=sender, room=room, mentioned=mentioned))

    return send
