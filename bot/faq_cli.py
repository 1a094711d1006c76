"""`permitbot faq …`: the operators' FAQ desk at a terminal — the chat commands' operations, plus export and import."""
from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta
from pathlib import Path

from bot.commands import REQUIRED_ENTRIES, SHANGHAI, CommandError, FaqDesk
from bot.config import Config, ConfigError, load_config
from knowledge.faqfile import FaqError
from knowledge.store import EditError, KnowledgeStore

_DESCRIPTIONS = {
    "add": ("add an entry: a new finer intent (op.<n>), or one under a catalog parent (<parent>.op<n>); "
            "prints the new id on its last line",
            "permitbot faq add --question '积分卡丢了怎么办' --answer '到受理中心补办。' --parent points.process "
            "--phrasing '积分卡掉了'"),
    "alias": ("add a phrasing to an entry; refused when it already matches another entry better, unless --force. "
              "ID may be an unanswered handle (u<n>): its question becomes a phrasing of the suggested entry, "
              "or of the entry given as PHRASING",
              "permitbot faq alias points.tax '个税补报了积分能续吗'   or   permitbot faq alias u17"),
    "show": ("show an entry: question, phrasings (+ marks an operator's), answer, sources",
             "permitbot faq show points.tax"),
    "list": ("list entries whose id, question or a phrasing contains FILTER", "permitbot faq list 个税"),
    "disable": ("stop answering with an entry (it stays in the database and the files)",
                "permitbot faq disable points.tax.op3"),
    "enable": ("answer with a disabled entry again", "permitbot faq enable points.tax.op3"),
    "unanswered": ("the most frequent recent questions with no intent or a low score, with handles for alias",
                   "permitbot faq unanswered 20"),
    "stats": ("questions and answers per day, unanswered rate, top intents", "permitbot faq stats --days 30"),
    "history": ("the audit trail: who changed what and when, newest first", "permitbot faq history points.tax -n 5"),
    "export": ("write every entry to DIR as <id>.toml; files whose entry did not change are not touched",
               "permitbot faq export --dir knowledge/faq"),
    "import": ("validate entry files (or directories of them), then merge them into the database, or with "
               "--replace make the database hold exactly those entries; a bad file writes nothing; "
               "`enabled = false` in a file disables its entry",
               "permitbot faq import knowledge/faq/points.tax.toml   or   permitbot faq import ./reviewed --replace"),
    "forget": ("delete everything stored of one member (a request under PIPL): the unanswered questions they "
               "asked; audited under --by, with a hash of the sender id, never the id",
               "permitbot faq forget wxid_abc123 --by alice"),
}


def register(sub: argparse._SubParsersAction) -> None:
    faq = sub.add_parser("faq", help="edit the FAQ: add, alias, disable, the unanswered queue, export/import",
                         description="The operators' FAQ desk: every change is one transaction with an audit row "
                                     "and reaches a running bot before its next answer. "
                                     "Example: permitbot faq unanswered")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="knowledge database path (default: ~/.local/share/permitbot/knowledge.db)")
    common.add_argument("--config", help="TOML configuration file")
    common.add_argument("--by", default=os.environ.get("USER") or "cli",
                        help="who makes the change, for the audit trail (default: $USER)")
    actions = faq.add_subparsers(dest="faq_command", required=True, metavar="ACTION")

    def action(name: str) -> argparse.ArgumentParser:
        summary, example = _DESCRIPTIONS[name]
        parser = actions.add_parser(name, parents=[common], help=summary.split(";")[0],
                                    description=f"{summary[0].upper()}{summary[1:]}. Example: {example}")
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
    alias.add_argument("phrasing", metavar="PHRASING", nargs="?", default="",
                       help="the new phrasing (with a handle: the entry id, if not the suggested one)")
    alias.add_argument("--force", action="store_true", help="add even when another entry matches it better")
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
    action("forget").add_argument("sender", metavar="SENDER", help="the member's WeChat id (wxid_…)")


def _open(args: argparse.Namespace) -> tuple[Config, KnowledgeStore, FaqDesk]:
    """The configuration, the store brought up to date with the FAQ files first (as the bot does), a desk on it."""
    from bot.cli import CliError

    try:
        config = load_config(Path(args.config) if args.config else None, db_path=args.db)
        store = KnowledgeStore.open(config.db_path)
        store.sync_files(config.faq_dir)
        store.prune(timedelta(days=config.retention_days))
    except (ConfigError, FaqError) as exc:
        raise CliError(str(exc)) from exc

    def index():
        from intents.matcher import IntentIndex
        from intents.segment import Segmenter

        return IntentIndex(store.entries(), Segmenter())

    return config, store, FaqDesk(store, index=index)


def run(args: argparse.Namespace) -> int:
    from bot.cli import CliError

    config, store, desk = _open(args)
    if getattr(args, "dir", None) is None:
        args.dir = config.faq_dir
    try:
        print(_run(args, store, desk))
    except (CommandError, EditError) as exc:
        raise CliError(str(exc)) from exc
    return 0


def _run(args: argparse.Namespace, store: KnowledgeStore, desk: FaqDesk) -> str:
    name, by = args.faq_command, args.by
    if name == "add":
        entry = desk.add(args.question, args.answer, by=by, parent=args.parent, phrasings=args.phrasing)
        return f"added {entry.id}: {entry.question}\n{entry.id}"
    if name == "alias":
        return desk.alias(args.id, args.phrasing, by=by, force=args.force)
    if name == "show":
        return desk.show(args.id)
    if name == "list":
        return desk.list(args.filter, limit=10_000)
    if name in ("disable", "enable"):
        return desk.set_enabled(args.id, name == "enable", by=by)
    if name == "unanswered":
        return desk.unanswered(max(args.n, 1))
    if name == "stats":
        return desk.stats(today=datetime.now(SHANGHAI).date(), days=max(args.days, 1))
    if name == "history":
        return desk.history(args.id, max(args.n, 1))
    if name == "forget":
        return desk.forget(args.sender, by=by)
    if name == "export":
        report = store.export_files(args.dir, prune=args.prune)
        lines = [f"{len(report.written)} written, {len(report.unchanged)} unchanged in {args.dir}"]
        lines += [f"written: {path}" for path in report.written]
        lines += [f"disabled (the file says enabled = false): {entry_id}" for entry_id in report.disabled]
        lines += [f"removed: {path}" for path in report.removed]
        lines += [f"not in the database (kept; --prune deletes): {path}"
                  for path in report.stale if path not in report.removed]
        return "\n".join(lines)
    report = store.import_files(args.paths, by=by, replace_all=args.replace, required=REQUIRED_ENTRIES)
    lines = [f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
             f"{len(report.unchanged)} unchanged"]
    lines += [f"{kind}: {entry_id}" for kind, ids in (("added", report.added), ("changed", report.changed),
                                                      ("removed", report.removed)) for entry_id in ids]
    return "\n".join(lines)
