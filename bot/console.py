"""Console transport: `permitbot chat` (lines from stdin) and `permitbot ask` (one question, optionally JSON)."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from bot.app import open_bot
from bot.errors import UsageError
from bot.events import Incoming
from intents.dates import SHANGHAI, parse_time


def parse_now(value: str | None) -> datetime | None:
    """An ISO date or datetime; without an offset it is Shanghai time. None means "use the clock"."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise UsageError(f"--now {value!r} is not an ISO date or datetime (e.g. 2026-11-23T10:00+08:00)") from exc


def bot_for(args: argparse.Namespace, **overrides):
    """The bot for a command's --db / --config flags (and overrides), opened through bot.app."""
    return open_bot(getattr(args, "config", None), db_path=args.db, **overrides)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="knowledge database path (default: ~/.local/share/permitbot/knowledge.db)")
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--now", help="pretend the message was sent at this ISO time (Asia/Shanghai if no offset)")


def register(sub: argparse._SubParsersAction) -> None:
    chat = sub.add_parser("chat", help="chat in the console, one question per line, until end of input",
                          description="Reads questions from standard input until EOF and prints each reply. "
                                      "Example: echo 居住证签注要带什么材料 | permitbot chat")
    _add_common(chat)
    chat.add_argument("--group", action="store_true", help="behave as in a group without an @-mention")
    chat.set_defaults(func=run_chat)

    ask = sub.add_parser("ask", help="answer one question",
                         description="Answers one question, by default as a group message that @-mentions the bot. "
                                     "Example: permitbot ask '居住证12月5号到期什么时候能签注' --now 2026-11-23 --json")
    _add_common(ask)
    ask.add_argument("text", help="the question")
    ask.add_argument("--private", action="store_true", help="ask as a private chat")
    ask.add_argument("--json", action="store_true", help="print the replay result object as one JSON line")
    ask.set_defaults(func=run_ask)


def run_chat(args: argparse.Namespace) -> int:
    bot = bot_for(args)
    fixed_now = parse_now(args.now)
    interactive = sys.stdin.isatty()
    if interactive:
        print("permitbot 控制台：输入问题，回车发送；Ctrl-D 结束。")
    for number, line in enumerate(sys.stdin, 1):
        text = line.rstrip("\n")
        if not text.strip():
            continue
        msg = Incoming(text=text, time=fixed_now or datetime.now(SHANGHAI), sender="console",
                       room="console" if args.group else None, id=str(number))
        result = bot.handle(msg)
        print(result.reply if result.reply is not None else "（不回复）", flush=True)
        if interactive:
            print()
    return 0


def run_ask(args: argparse.Namespace) -> int:
    bot = bot_for(args)
    msg = Incoming(text=args.text, time=parse_now(args.now) or datetime.now(SHANGHAI), sender="console",
                   room=None if args.private else "console", mentioned=not args.private, id="ask")
    result = bot.handle(msg)
    if args.json:
        print(json.dumps({"id": msg.id, **result.as_record()}, ensure_ascii=False))
    else:
        print(result.reply if result.reply is not None else "（不回复）")
    return 0
