"""The `permitbot` command line: each subcommand lives in its own module and registers itself here."""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from bot.errors import StartupError, UsageError

# Each module exposes `register(subparsers)`, which adds its parsers and sets `func(args) -> int`.
# Keyed by command so that a command imports only its own module (the Wechaty client alone costs
# a sixth of a second); help and unknown commands import them all.
COMMAND_MODULES = {
    "chat": "bot.console",
    "ask": "bot.console",
    "faq": "bot.faq_cli",
    "serve": "bot.transports.wechaty_gateway",
    "replay": "bot.transports.replay",
    "dates": "bot.dates_cli",
    "doctor": "bot.doctor",
}


class _Version(argparse.Action):
    """--version: the installed version, looked up only when asked (importing importlib.metadata, with the email
    package it reads metadata with, costs some 30 ms at every start)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show program's version number and exit", **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        import importlib.metadata
        print(f"{parser.prog} {importlib.metadata.version('permitbot')}")
        parser.exit()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, only the module of the command they name is imported."""
    parser = argparse.ArgumentParser(
        prog="permitbot",
        description="Answers Shanghai residence permit (居住证) and points (积分) renewal questions.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug information to stderr")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = next((arg for arg in argv or [] if not arg.startswith("-")), None)
    modules = [COMMAND_MODULES[named]] if named in COMMAND_MODULES else COMMAND_MODULES.values()
    for name in dict.fromkeys(modules):
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (UsageError, StartupError) as exc:
        print(f"permitbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
