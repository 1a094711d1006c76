"""`permitbot faq …`: the operators' FAQ desk at a terminal — the chat commands' operations, plus export and import."""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import build, load_data, load_settings, open_store, rebuild_store
from bot.commands import SHANGHAI, CommandError, FaqDesk, Proposal, change_id
from bot.config import Config
from bot.errors import UsageError
from knowledge.store import EditError, KnowledgeStore

WRITES = ("add", "alias", "disable", "enable", "remove", "undo", "import", "forget")  # they take --by and --yes
JSON_ACTIONS = ("list", "stats", "unanswered", "history")

_DESCRIPTIONS = {
    "add": ("add an entry: a new finer intent (op.<n>), or one under a catalog parent (<parent>.op<n>); "
            "prints the new id on its last line",
            "permitbot faq add --question '积分卡丢了怎么办' --answer '到受理中心补办。' --parent points.process "
            "--phrasing '积分卡掉了' --yes"),
    "alias": ("add phrasings to an entry; refused when one already matches another entry better, unless --force. "
              "ID may be an unanswered handle (u<n>): its question becomes a phrasing of the suggested entry, "
              "or of the entry given as PHRASING",
              "permitbot faq alias points.tax '个税补报了积分能续吗'   or   permitbot faq alias u17 --yes"),
    "remove": ("remove a phrasing an operator added (--phrasing), or an entry an operator added; entries and "
               "phrasings from the FAQ files cannot be removed (disable the entry, or edit its file)",
               "permitbot faq remove points.tax --phrasing '个税补报了积分能续吗'   or   permitbot faq remove op.3"),
    "undo": ("revert exactly one change of the history (its #number), itself recorded as a change; refused when "
             "later changes to the entry stand in the way",
             "permitbot faq undo 12"),
    "show": ("show an entry: question, phrasings (+ marks an operator's), answer, sources",
             "permitbot faq show points.tax"),
    "list": ("list entries whose id, question or a phrasing contains FILTER", "permitbot faq list 个税"),
    "disable": ("stop answering with an entry (it stays in the database and the files)",
                "permitbot faq disable points.tax.op3"),
    "enable": ("answer with a disabled entry again", "permitbot faq enable points.tax.op3"),
    "unanswered": ("answers members reported wrong, then the most frequent recent questions with no intent or a "
                   "low score, with handles for alias",
                   "permitbot faq unanswered 20"),
    "stats": ("questions, answered, unanswered or low-score per day, top intents", "permitbot faq stats --days 30"),
    "history": ("the audit trail: each change's #number (for undo), who changed what and when, newest first",
                "permitbot faq history points.tax -n 5"),
    "export": ("write every entry to DIR as <id>.toml; files whose entry did not change are not touched",
               "permitbot faq export --dir knowledge/faq"),
    "import": ("validate entry files (or directories of them), then merge them into the database, or with "
               "--replace make the database hold exactly those entries; a bad file writes nothing; "
               "`enabled = false` in a file disables its entry",
               "permitbot faq import knowledge/faq/points.tax.toml --dry-run   or   "
               "permitbot faq import ./reviewed --replace --yes"),
    "rebuild": ("move a damaged database aside and build a new one from the FAQ files, keeping what can still be "
                "read of operator edits (entries, phrasings, disabled flags, audit)",
                "permitbot faq rebuild --db ~/.local/share/permitbot/knowledge.db"),
    "forget": ("delete everything stored of one member (a request under PIPL): the unanswered questions they "
               "asked; audited under --by, with a hash of the sender id, never the id",
               "permitbot faq forget wxid_abc123 --by alice"),
}
_CONFIRMING = ("Each change is first tried on a copy of the knowledge and replayed against the questions the bot "
               "has seen (the unanswered log and the shipped question sets); the answers it would change are "
               "shown. It is then made with --yes, or after a y/N prompt on a terminal; otherwise nothing is "
               "written (exit status 2).")


def register(sub: argparse._SubParsersAction) -> None:
    faq = sub.add_parser("faq", help="edit the FAQ: add, alias, remove, undo, disable, the unanswered queue, "
                                     "export/import",
                         description="The operators' FAQ desk: every change is one transaction with an audit row "
                                     "and reaches a running bot before its next answer. "
                                     "Example: permitbot faq unanswered")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="knowledge database path (default: ~/.local/share/permitbot/knowledge.db)")
    common.add_argument("--config", help="TOML configuration file")
    writing = argparse.ArgumentParser(add_help=False)
    writing.add_argument("--by", default=os.environ.get("USER") or "cli",
                         help="who makes the change, for the audit trail (default: $USER)")
    writing.add_argument("--yes", "-y", action="store_true", help="make the change without asking")
    json_output = argparse.ArgumentParser(add_help=False)
    json_output.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    actions = faq.add_subparsers(dest="faq_command", required=True, metavar="ACTION")

    def action(name: str) -> argparse.ArgumentParser:
        summary, example = _DESCRIPTIONS[name]
        parents = [common] + ([writing] if name in WRITES else []) + ([json_output] if name in JSON_ACTIONS else [])
        description = f"{summary[0].upper()}{summary[1:]}. " + (_CONFIRMING + " " if name in WRITES else "")
        parser = actions.add_parser(name, parents=parents, help=summary.split(";")[0],
                                    description=f"{description}Example: {example}")
        parser.set_defaults(func=run, faq_command=name)
        return parser

    add = action("add")
    add.add_argument("--question", required=True, help="the question as askers write it")
    add.add_argument("--answer", required=True, help="the answer text")
    add.add_argument("--parent", help="the catalog intent this entry refines (see knowledge/catalog.toml)")
    add.add_argument("--phrasing", action="extend", nargs="+", default=[], metavar="P",
                     help="other ways to ask it: --phrasing A B, or --phrasing A --phrasing B")
    alias = action("alias")
    alias.add_argument("id", metavar="ID", help="entry id, or an unanswered handle such as u17")
    alias.add_argument("phrasings", metavar="PHRASING", nargs="*",
                       help="the new phrasings (with a handle: the entry id, if not the suggested one)")
    alias.add_argument("--force", action="store_true", help="add even when another entry matches one better")
    remove = action("remove")
    remove.add_argument("id", metavar="ENTRY_ID", help="entry id")
    remove.add_argument("--phrasing", default="", metavar="TEXT", help="remove this phrasing, not the entry")
    action("undo").add_argument("change", metavar="AUDIT_ID", help="the change's number in `history` (12 or #12)")
    for name in ("show", "disable", "enable"):
        action(name).add_argument("id", metavar="ID", help="entry id")
    action("list").add_argument("filter", nargs="?", default="", help="text to look for")
    action("unanswered").add_argument("n", nargs="?", type=int, default=10, help="how many (default 10)")
    action("stats").add_argument("--days", type=int, default=7, help="how many days back (default 7)")
    history = action("history")
    history.add_argument("id", metavar="ID", nargs="?", help="entry id (default: every entry)")
    history.add_argument("-n", type=int, default=20, help="how many changes (default 20)")
    export = action("export")
    export.add_argument("--dir", type=Path,
                        help="where to write (default: the configured faq_dir, knowledge/faq unless set)")
    export.add_argument("--prune", action="store_true",
                        help="delete .toml files in DIR whose entry is not in the database")
    import_ = action("import")
    import_.add_argument("paths", metavar="FILES_OR_DIR", nargs="+", type=Path, help="entry files or directories")
    import_.add_argument("--replace", action="store_true",
                         help="remove database entries that are not in the files (default: merge)")
    import_.add_argument("--dry-run", action="store_true",
                         help="validate and show what would change, write nothing")
    action("rebuild")
    action("forget").add_argument("sender", metavar="SENDER", help="the member's WeChat id (wxid_…)")


def _open(args: argparse.Namespace) -> tuple[Config, KnowledgeStore, FaqDesk]:
    """The configuration, the store brought up to date with the FAQ files first (as the bot does), a desk on it."""
    config = load_settings(args.config, db_path=args.db)
    segmenter = load_data(config)[2]
    store = open_store(config)
    store.prune(timedelta(days=config.retention_days))
    built: list = []

    def index():
        from intents.matcher import IntentIndex

        if not built:  # one matcher per run: the alias check and the preview share it
            built.append(IntentIndex(store.entries(), segmenter))
        return built[0]

    def judge(knowledge: KnowledgeStore):
        return build(config, store=knowledge, segmenter=segmenter).judge

    return config, store, FaqDesk(store, index=index, min_confidence=config.min_confidence, judge=judge)


def run(args: argparse.Namespace) -> int:
    if args.faq_command == "rebuild":
        print(rebuild_store(load_settings(args.config, db_path=args.db)))
        return 0
    config, store, desk = _open(args)
    if getattr(args, "dir", None) is None:
        args.dir = config.faq_dir
    try:
        if args.faq_command in WRITES:
            return _change(args, desk)
        if getattr(args, "json", False):
            print(json.dumps(_data(args, desk), ensure_ascii=False, indent=2))
        else:
            print(_read(args, store, desk))
    except (CommandError, EditError) as exc:
        raise UsageError(str(exc)) from exc
    return 0


def _proposal(args: argparse.Namespace, desk: FaqDesk) -> Proposal:
    name, by = args.faq_command, args.by
    if name == "add":
        return desk.propose_add(args.question, args.answer, by=by, parent=args.parent, phrasings=args.phrasing)
    if name == "alias":
        return desk.propose_alias(args.id, args.phrasings, by=by, force=args.force)
    if name in ("disable", "enable"):
        return desk.propose_enabled(args.id, name == "enable", by=by)
    if name == "remove":
        return desk.propose_remove(args.id, args.phrasing, by=by)
    if name == "forget":
        return desk.propose_forget(args.sender, by=by)
    if name == "undo":
        return desk.propose_undo(change_id(args.change), by=by)
    return desk.propose_import(args.paths, by=by, replace_all=args.replace)


def _change(args: argparse.Namespace, desk: FaqDesk) -> int:
    """Show the proposal; make it with --yes or a yes at the prompt; the last line of `add` is the new id."""
    proposal = _proposal(args, desk)
    print(proposal.text(), flush=True)
    if proposal.apply is None or getattr(args, "dry_run", False):
        return 0
    if not (args.yes or _confirmed()):
        raise UsageError("nothing written: run it again with --yes to make this change")
    outcome = desk.make(proposal)
    if args.faq_command == "add":
        print(f"added {outcome.id}: {outcome.question}\n{outcome.id}")
    elif args.faq_command != "import":  # the import's summary above is already its outcome
        print(proposal.reply(outcome))
    return 0


def _confirmed() -> bool:
    """A y/N question on the terminal; False at once when standard input is not one."""
    if not sys.stdin.isatty():
        return False
    print("make this change? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _data(args: argparse.Namespace, desk: FaqDesk) -> Any:
    name = args.faq_command
    if name == "list":
        return desk.list_data(args.filter)
    if name == "unanswered":
        return desk.unanswered_data(max(args.n, 1))
    if name == "stats":
        return desk.stats_data(today=datetime.now(SHANGHAI).date(), days=max(args.days, 1))
    return {"changes": [asdict(record) for record in desk.history_records(args.id, max(args.n, 1))]}


def _read(args: argparse.Namespace, store: KnowledgeStore, desk: FaqDesk) -> str:
    name = args.faq_command
    if name == "show":
        return desk.show(args.id)
    if name == "list":
        return desk.list(args.filter, limit=10_000)
    if name == "unanswered":
        return desk.unanswered(max(args.n, 1))
    if name == "stats":
        return desk.stats(today=datetime.now(SHANGHAI).date(), days=max(args.days, 1))
    if name == "history":
        return desk.history(args.id, max(args.n, 1))
    report = store.export_files(args.dir, prune=args.prune)
    lines = [f"{len(report.written)} written, {len(report.unchanged)} unchanged in {args.dir}"]
    lines += [f"written: {path}" for path in report.written]
    lines += [f"disabled (the file says enabled = false): {entry_id}" for entry_id in report.disabled]
    lines += [f"removed: {path}" for path in report.removed]
    lines += [f"not in the database (kept; --prune deletes): {path}"
              for path in report.stale if path not in report.removed]
    return "\n".join(lines)
