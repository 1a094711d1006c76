"""`permitbot dates`: print the dates found in text as JSON, for one text or a JSON Lines file of many."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime
from pathlib import Path

from bot.app import load_data, load_settings
from bot.errors import UsageError
from intents.dates import SHANGHAI, find_dates, parse_time
from intents.normalize import normalize

logger = logging.getLogger(__name__)


class _BadInput(Exception):
    """A --now value or JSON Lines line that cannot be read."""


def parse_now(value: str | None) -> datetime:
    """An ISO date or date-time; without an offset it is Asia/Shanghai; absent, the current time there."""
    if value is None:
        return datetime.now(SHANGHAI)
    try:
        return parse_time(value)
    except ValueError:
        raise _BadInput(f"not an ISO date-time: {value!r} (example: 2026-11-23T10:15:00+08:00)") from None


def dates_json(text: str, now: datetime) -> list[dict[str, object]]:
    """The CLI's output for one text."""
    return [mention.as_json() for mention in find_dates(normalize(text), now)]


def _run_jsonl(path: str, default_now: datetime) -> int:
    stream = sys.stdin if path == "-" else Path(path).open(encoding="utf-8")
    skipped = 0
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise _BadInput("a line needs a JSON object with a \"text\" string")
                now = parse_now(item["now"]) if item.get("now") else default_now
            except (json.JSONDecodeError, _BadInput) as exc:
                print(f"permitbot dates: line {number} skipped: {exc}", file=sys.stderr)
                print("[]")
                skipped += 1
                continue
            print(json.dumps(dates_json(item["text"], now), ensure_ascii=False))
    if skipped:
        logger.warning("%d line(s) skipped", skipped)
    return 0


def run(args: argparse.Namespace) -> int:
    load_data(load_settings(args.config))  # the same start-up checks as every command
    try:
        default_now = parse_now(args.now)
    except _BadInput as exc:
        raise UsageError(str(exc)) from None
    if args.jsonl is not None:
        try:
            return _run_jsonl(args.jsonl, default_now)
        except OSError as exc:
            raise UsageError(f"cannot read {args.jsonl}: {exc.strerror or exc}") from None
    if args.text is None:
        raise UsageError("give a TEXT or --jsonl FILE")
    print(json.dumps(dates_json(args.text, default_now), ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "dates",
        help="show the dates found in a message",
        description="Print the dates, periods and cue durations found in chat text as JSON.",
        epilog=("examples:\n"
                "  permitbot dates '居住证12月5号到期' --now 2026-11-23T10:15:00+08:00\n"
                "  permitbot dates --jsonl messages.jsonl   # lines {\"text\": ..., \"now\": ...}, one JSON list out per line"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("text", nargs="?", metavar="TEXT", help="the message text")
    parser.add_argument("--now", metavar="ISO", help="the message time (default: now in Asia/Shanghai; no offset = Shanghai)")
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--jsonl", metavar="FILE", help="read many {\"text\", \"now\"} lines from FILE ('-' = stdin)")
    parser.set_defaults(func=run)
