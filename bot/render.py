"""Reply wording: an answer with its computed part, source line and official-channel reminder; the fixed lines."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from knowledge.faqfile import HANDOFF, HELP, OUT_OF_SCOPE, Entry

SOURCES_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "sources.toml"
REMINDER = "提示：以上依据民间指南整理，政策以 一网通办 / 随申办 / 12333 官方渠道为准。"
NOT_POLICY = frozenset({HELP, HANDOFF, OUT_OF_SCOPE})
CANNOT_HELP = (
    "这个问题我还答不上来。我能回答上海居住证签注（续签）和居住证积分续办的问题，"
    "比如“居住证12月5号到期什么时候能签注”“积分续办要交哪些材料”。需要人工请回复“人工”或 @群主。"
)


@lru_cache(maxsize=1)
def _sources() -> dict[str, dict]:
    with open(SOURCES_FILE, "rb") as handle:
        return tomllib.load(handle)["sources"]


def source_line(entry: Entry) -> str:
    """Name the articles behind an entry: "来源：《title》(date)；…"; unknown labels are shown as written."""
    names = []
    for label in entry.sources:
        known = _sources().get(label.split()[0]) if label.strip() else None
        names.append(f"《{known['title']}》({known['date']})" if known else label)
    reviewed = f"，{entry.reviewed} 复核" if entry.reviewed else ""
    return f"来源：{'；'.join(names) or '群内整理'}{reviewed}"


def answer(entry: Entry, computed: str | None = None) -> str:
    """The full reply for a recognised intent."""
    parts = [computed.strip()] if computed else []
    parts.append(entry.answer.strip())
    if entry.catalog_id not in NOT_POLICY:
        parts.append(source_line(entry) + "\n" + REMINDER)
    return "\n\n".join(parts)


def did_you_mean(entries: list[Entry]) -> str:
    lines = ["你想问的是哪一个？回复数字即可："]
    lines += [f"{number}. {entry.question}" for number, entry in enumerate(entries, 1)]
    return "\n".join(lines)
