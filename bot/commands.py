"""Operator commands: `#faq …` in chat for the operators of the configuration, and the FAQ desk behind them,
which the command line (bot/faq_cli.py) uses too. Every operation returns its reply text; every change is first
tried on a copy of the knowledge and shown with the answers it would change (bot/preview.py)."""
from __future__ import annotations

import ast
import logging
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from bot.events import Incoming, Result
from bot.preview import Judge, Outcomes, Preview, try_change
from intents.dates import SHANGHAI
from intents.matcher import IntentIndex
from intents.normalize import normalize, to_halfwidth
from knowledge.faqfile import HELP, MAX_ANSWER_CHARS, MAX_PHRASING_CHARS, OUT_OF_SCOPE, Entry
from knowledge.store import (
    FILE, QUESTION, AuditRecord, DuplicatePhrasing, EditError, ImportReport, InvalidEntry, KnowledgeStore,
    NotRemovable, UndoConflict, UnknownChange, UnknownPhrasing, is_handle,
)

logger = logging.getLogger(__name__)

# The handler answers with these whatever the matcher says: they must stay enabled.
REQUIRED_ENTRIES = frozenset({HELP, OUT_OF_SCOPE})
REFUSAL = "抱歉，#faq 命令只对管理员开放。有问题可以直接问我，或回复“人工”。"
NOT_CHANGED = "未修改："
CONFIRM_WITHIN = timedelta(minutes=10)  # a held #faq add / alias expires after this
NOT_WRITTEN = "未修改：知识库现在写不进去（磁盘满了，或数据库文件只读），请检查后再试；机器人照常回答问题。"
FAILED = "命令没有完成（内部错误，已记入日志）。是否已生效请用 #faq history 查看。"
MAX_COMMAND_CHARS = MAX_ANSWER_CHARS + MAX_PHRASING_CHARS + 100  # the longest `#faq add` that could pass

_COMMAND = re.compile(r"^\s*(?:@[^\s@]{1,20}[\u2005 ]\s*){0,8}[#＃]\s*(?:faq|ｆａｑ)(?![0-9a-z])(.*)$", re.I | re.S)
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")  # an id with a dot: `#faq add <parent> …`
_SEPARATOR = re.compile(r"[|｜]")
_FORCE = frozenset({"--force", "—force", "-f"})
_CHANGE_ID = re.compile(r"^[#＃]?(\d{1,12})$")

USAGE = {
    "add": "#faq add [上级意图] <问题> | <答案>   例：#faq add points.tax 个税补报后多久能续 | 补报后次月即可续办",
    "alias": "#faq alias <id> <新问法>[ | <问法2> …] [--force]；采纳未答建议：#faq alias <u编号> [id]",
    "confirm": "#faq confirm（确认刚才预览的新增或问法，10 分钟内有效）",
    "cancel": "#faq cancel（放弃刚才预览的修改）",
    "remove": "#faq remove <id> [问法]（删除管理员加的问法或条目）",
    "undo": "#faq undo <修改编号>（撤销一次修改，编号见 #faq history）",
    "show": "#faq show <id>",
    "list": "#faq list [关键词]",
    "disable": "#faq disable <id>",
    "enable": "#faq enable <id>",
    "unanswered": "#faq unanswered [条数]",
    "stats": "#faq stats",
    "history": "#faq history [id] [条数]",
    "forget": "#faq forget <成员的微信号>（删除该成员的全部记录，个人信息保护法下的请求）",
}
HELP = "问答库管理命令：\n" + "\n".join(USAGE.values())
# Audit actions as the history shows them.
ACTIONS = {"add": "新增", "alias": "加问法", "unalias": "删问法", "remove": "删除", "disable": "停用",
           "enable": "启用", "import": "导入", "undo": "撤销"}


class CommandError(Exception):
    """A command that cannot be carried out as written; the message is the reply (a usage line or the reason)."""


class AliasConflict(CommandError):
    """The new phrasing already matches another entry better; it is added only when forced."""


def is_command(text: str | None) -> bool:
    """Whether a chat message is an operator command (`#faq …`, also with the full-width ＃)."""
    return bool(text) and _COMMAND.match(text) is not None


def alias_conflict(index: IntentIndex, entry_id: str, phrasing: str, *,
                   min_confidence: float) -> tuple[str, float, float] | None:
    """(other entry, its score, this entry's score) when the phrasing would be answered by another entry now."""
    ranked = index.match(phrasing).ranked
    if not ranked:
        return None
    best_id, best = ranked[0]
    own = dict(ranked).get(entry_id, 0.0)
    if best_id == entry_id or best < min_confidence or own >= best:
        return None
    return best_id, best, own


def change_id(text: str) -> int:
    """An audit row id as operators write it: 12 or #12; CommandError otherwise."""
    found = _CHANGE_ID.match(to_halfwidth(text.strip()))
    if not found:
        raise CommandError(f"修改编号应是数字，例如 #faq undo 12（编号见 #faq history），不是「{text}」。")
    return int(found.group(1))


@dataclass
class Proposal:
    """A change tried on a copy of the knowledge and waiting to be made.

    `summary` says what it is, `preview` what it would change; `apply()` makes it and returns the store's
    outcome, `reply(outcome)` words that. `apply` is None when there is nothing to do (the summary says why).
    """

    summary: str
    preview: Preview
    apply: Callable[[], Any] | None
    reply: Callable[[Any], str] = str
    at: datetime | None = None  # when it was held for confirmation (chat)
    tried: Outcomes | None = None  # how the bot takes the seen questions once it is made (bot.preview.try_change)

    def text(self) -> str:
        return self.summary if self.apply is None else f"{self.summary}\n{self.preview.text()}"


class FaqDesk:
    """The FAQ operations; `index` gives the current matcher (for the alias check and the previews), built only
    when needed. Changes come as Proposals; chat holds add / alias ones per operator until `#faq confirm`."""

    def __init__(self, store: KnowledgeStore, *, index: Callable[[], IntentIndex], min_confidence: float,
                 judge: Callable[[KnowledgeStore], Judge]):
        self.store = store
        self.index = index
        self.judge = judge
        self.min_confidence = min_confidence
        self.held: dict[str, Proposal] = {}  # operator → the proposal waiting for their confirmation
        self._seen: Outcomes | None = None  # how the bot over the store's current revision takes the seen questions

    def _try(self, change: Callable[[KnowledgeStore], Any]) -> tuple[Any, Preview, Outcomes]:
        """`change` tried on a copy (bot.preview.try_change) against the store's outcomes, kept per revision."""
        revision = self.store.data_version()
        if self._seen is None or self._seen.revision != revision:
            self._seen = Outcomes(lambda: self.judge(self.store), revision)
        return try_change(self.store, change, self.judge, before=self._seen)

    def make(self, proposal: Proposal) -> Any:
        """Make a proposal (its `apply`) and return the store's outcome. When it was tried at the revision it now
        changes, and nothing else wrote the knowledge meanwhile (in this process or another), the outcomes of its
        trial are the store's: the next preview judges the seen questions over the new knowledge only once."""
        others, revision = self.store.commits_by_others(), self.store.data_version()
        outcome = proposal.apply()
        tried = proposal.tried
        if (tried is not None and tried.revision == revision + 1 == self.store.data_version()
                and self.store.commits_by_others() == others):
            self._seen = tried
        return outcome

    # -- proposals ----------------------------------------------------------------------------------

    def propose_add(self, question: str, answer: str, *, by: str, parent: str | None = None,
                    phrasings: Iterable[str] = ()) -> Proposal:
        texts = [normalize(p) for p in phrasings]
        _check_length("问题", question.strip(), MAX_PHRASING_CHARS)
        _check_length("答案", answer.strip(), MAX_ANSWER_CHARS)
        for text in texts:
            _check_length("问法", text, MAX_PHRASING_CHARS)

        def make(store: KnowledgeStore) -> Entry:
            return store.add_entry(question, answer, by=by, parent=parent, phrasings=texts)

        entry, preview, tried = self._try(make)
        return Proposal(f"将新增 {entry.id}：{entry.question}", preview, lambda: make(self.store),
                        lambda made: f"已添加 {made.id}：{made.question}\n现在就能回答；要加问法：#faq alias {made.id} <问法>",
                        tried=tried)

    def propose_alias(self, target: str, phrasings: Iterable[str] = (), *, by: str, force: bool = False) -> Proposal:
        """More phrasings for an entry, or an unanswered question (`target` is its handle) accepted as one: for
        a handle, the first of `phrasings` may name the entry instead of the suggested one."""
        phrasings = [p.strip() for p in phrasings if p.strip()]
        resolves, note = None, ""
        if is_handle(target):
            group = self.store.resolve_handle(target)
            entry_id = phrasings[0] if phrasings else group.suggestion
            if not entry_id or len(phrasings) > 1:
                raise CommandError(f"{target} 没有建议的意图，请指定：#faq alias {target} <id>" if not entry_id
                                   else USAGE["alias"])
            texts, resolves, note = [group.question], group.key, f"采纳未答 {target}（问过 {group.count} 次）"
            force = force or entry_id == group.suggestion
        else:
            entry_id, texts = target, [normalize(p) for p in phrasings]
            if not texts:
                raise CommandError(USAGE["alias"])
        for text in texts:
            _check_length("问法", text, MAX_PHRASING_CHARS)
        self.store.entry(entry_id)  # an unknown id is named before the matcher is asked
        if not force:
            for text in texts:
                if conflict := alias_conflict(self.index(), entry_id, text,
                                                  min_confidence=self.min_confidence):
                    other, score, own = conflict
                    raise AliasConflict(
                        f"「{text}」现在会匹配到 {other}（{score:.2f}），比 {entry_id}（{own:.2f}）更接近，未添加。"
                        f"确认要加，请在命令末尾加上 --force")
        if force and not resolves:
            note = "已用 --force 跳过“更接近别的条目”的检查"

        def make(store: KnowledgeStore) -> Entry:
            return store.add_phrasings(entry_id, texts, by=by, note=note, resolves=resolves)

        _, preview, tried = self._try(make)
        shown = "、".join(f"「{text}」" for text in texts)
        left = "（已移出未答队列）" if resolves else ""
        return Proposal(f"将为 {entry_id} 添加问法{shown}", preview, lambda: make(self.store),
                        lambda _: f"已为 {entry_id} 添加问法{shown}{left}，现在就生效。", tried=tried)

    def propose_forget(self, sender: str, *, by: str) -> Proposal:
        """Delete what is stored of one member (KnowledgeStore.forget, a request under PIPL); no answer changes."""
        return Proposal("将删除该成员存下的全部记录（未答问题），答案不受影响。", Preview(0),
                        lambda: self.store.forget(sender, by=by),
                        lambda deleted: f"已删除该成员的 {deleted} 条未答问题记录（统计数字不含发送者），已记入修改记录。")

    def propose_enabled(self, entry_id: str, enabled: bool, *, by: str) -> Proposal:
        if not enabled and entry_id in REQUIRED_ENTRIES:
            raise CommandError(f"{entry_id} 是机器人必需的条目，不能停用（可以修改它的答案）。")
        state = "启用" if enabled else "停用"
        if self.store.entry(entry_id).enabled == enabled:
            return Proposal(f"{entry_id} 本来就是{state}状态，未修改。", Preview(0), None)

        def make(store: KnowledgeStore) -> bool:
            return store.set_enabled(entry_id, enabled, by=by)

        _, preview, tried = self._try(make)
        return Proposal(f"将{state} {entry_id}", preview, lambda: make(self.store),
                        lambda changed: f"已{state} {entry_id}。" if changed else f"{entry_id} 本来就是{state}状态，未修改。",
                        tried=tried)

    def propose_remove(self, entry_id: str, phrasing: str = "", *, by: str) -> Proposal:
        """Remove an operator's phrasing of an entry, or (no phrasing) an entry an operator added."""
        if phrasing.strip():
            def make(store: KnowledgeStore) -> Entry:
                return store.remove_phrasing(entry_id, phrasing, by=by)
            summary, done = f"将删除 {entry_id} 的问法「{phrasing.strip()}」", f"已删除 {entry_id} 的问法「{phrasing.strip()}」。"
        else:
            def make(store: KnowledgeStore) -> Entry:
                return store.remove_entry(entry_id, by=by)
            summary, done = f"将删除条目 {entry_id}", f"已删除条目 {entry_id}。"
        _, preview, tried = self._try(make)
        return Proposal(summary, preview, lambda: make(self.store), lambda _: done, tried=tried)

    def propose_undo(self, change: int, *, by: str) -> Proposal:
        record = self.store.change(change)

        def make(store: KnowledgeStore) -> AuditRecord:
            return store.undo(change, by=by)

        _, preview, tried = self._try(make)
        return Proposal(f"将撤销 {describe_change(record)}", preview, lambda: make(self.store),
                        lambda made: f"已撤销 #{change}（这次撤销记为 #{made.id}，可以再撤销）。", tried=tried)

    def propose_import(self, paths: Iterable[Path], *, by: str, replace_all: bool = False) -> Proposal:
        paths = list(paths)

        def make(store: KnowledgeStore) -> ImportReport:
            return store.import_files(paths, by=by, replace_all=replace_all, required=REQUIRED_ENTRIES)

        report, preview, tried = self._try(make)
        nothing = not (report.added or report.changed or report.removed)
        return Proposal(import_summary(report), preview, None if nothing else (lambda: make(self.store)),
                        import_summary, tried=tried)

    # -- making them --------------------------------------------------------------------------------

    def carry_out(self, proposal: Proposal) -> str:
        """Make a proposal now; the reply says what was done and which answers changed."""
        if proposal.apply is None:
            return proposal.summary
        reply = proposal.reply(self.make(proposal))
        return reply + ("\n" + proposal.preview.text(done=True) if proposal.preview.changed else "")

    def hold(self, operator: str, proposal: Proposal, *, at: datetime) -> str:
        """Keep a proposal for `operator` until they confirm (a newer one replaces it); the reply is its preview."""
        if proposal.apply is None:
            return proposal.summary
        proposal.at = at
        self.held[operator] = proposal
        minutes = int(CONFIRM_WITHIN.total_seconds() // 60)
        return f"{proposal.text()}\n确认请发 #faq confirm（{minutes} 分钟内有效），放弃请发 #faq cancel。"

    def confirm(self, operator: str, *, at: datetime) -> str:
        proposal = self.held.pop(operator, None)
        if proposal is None:
            return "没有等待确认的修改。"
        if proposal.at is not None and at - proposal.at > CONFIRM_WITHIN:
            minutes = int(CONFIRM_WITHIN.total_seconds() // 60)
            return f"等待确认的修改已超过 {minutes} 分钟，已作废，未修改。请重新发送命令。"
        return proposal.reply(self.make(proposal))

    def cancel(self, operator: str) -> str:
        return "已放弃等待确认的修改。" if self.held.pop(operator, None) else "没有等待确认的修改。"

    # -- reading ------------------------------------------------------------------------------------

    def show(self, entry_id: str) -> str:
        entry = self.store.entry(entry_id)
        origin, phrasing_origins = self.store.origins(entry_id)
        head = entry.id + (f"（上级 {entry.parent}）" if entry.parent else "")
        head += "［已停用］" if not entry.enabled else ""
        head += " · 来自" + ("知识文件" if origin == FILE else "管理员")
        phrasings = [("" if phrasing_origins.get(p) == FILE else "+") + p for p in entry.phrasings]
        lines = [head, f"问：{entry.question}", f"问法（{len(phrasings)}，+ 为管理员添加）：" + "；".join(phrasings),
                 f"答：{entry.answer}"]
        if entry.sources:
            lines.append("来源：" + "；".join(entry.sources))
        return "\n".join(lines)

    def list(self, text: str = "", *, limit: int = 60) -> str:
        entries = self.store.search(text)
        if not entries:
            return f"没有包含「{text}」的条目。"
        lines = [f"共 {len(entries)} 条：" if not text else f"包含「{text}」的 {len(entries)} 条："]
        lines += [f"{e.id}{'［停用］' if not e.enabled else ''}  {e.question}" for e in entries[:limit]]
        if len(entries) > limit:
            lines.append(f"……还有 {len(entries) - limit} 条，加关键词缩小范围：#faq list <关键词>")
        return "\n".join(lines)

    def list_data(self, text: str = "") -> dict[str, Any]:
        entries = self.store.search(text)
        return {"filter": text, "count": len(entries), "entries": [
            {"id": e.id, "parent": e.parent, "question": e.question, "enabled": e.enabled,
             "origin": self.store.origins(e.id)[0], "phrasings": e.phrasings} for e in entries]}

    def unanswered(self, limit: int = 10) -> str:
        """Questions members reported answered wrongly first, then the most frequent unanswered ones."""
        data = self.unanswered_data(limit)
        if not data["reported"] and not data["groups"]:
            return "未答队列是空的。"
        lines = []
        if data["reported"]:
            lines.append(f"群友指出答错的（{len(data['reported'])} 个问题）：")
            for item in data["reported"]:
                reply = item["reply"].replace("\n", " ")
                reply = reply if len(reply) <= 24 else reply[:24] + "…"
                lines.append(f"{item['handle']} ×{item['count']}「{item['question']}」当时答 "
                             f"{item['intent'] or '（无）'}：{reply}")
            lines.append("改正：#faq alias <u编号> <正确的 id>")
        if data["groups"]:
            lines.append(f"最常见的未答或低分问题（日志共 {data['total']} 条）：")
            for group in data["groups"]:
                hint = f"建议 {group['suggestion']}（{group['score']:.2f}）" if group["suggestion"] else "无建议"
                lines.append(f"{group['handle']} ×{group['count']}「{group['question']}」→ {hint}")
            lines.append("采纳建议：#faq alias <u编号>；换个意图：#faq alias <u编号> <id>；新增条目：#faq add 问题 | 答案")
        return "\n".join(lines)

    def unanswered_data(self, limit: int = 10) -> dict[str, Any]:
        reported = self.store.error_reports(limit)
        shown = {group.key for group in reported}
        groups = [group for group in self.store.unanswered(limit + len(shown)) if group.key not in shown][:limit]
        return {
            "total": self.store.unanswered_count(),
            "reported": [{"handle": g.handle, "count": g.count, "question": g.question, "intent": g.intent,
                          "reply": g.reply, "at": g.at} for g in reported],
            "groups": [{"handle": g.handle, "count": g.count, "question": g.question, "suggestion": g.suggestion,
                        "score": g.score} for g in groups],
        }

    def stats(self, *, today: date, days: int = 7) -> str:
        data = self.stats_data(today=today, days=days)
        if not data["per_day"]:
            return f"最近 {days} 天没有记录。"
        lines = [f"最近 {days} 天（问题 / 已答 / 未答或低分）："]
        lines += [f"{day[5:]}  {n['questions']} / {n['answered']} / {n['missed']}" for day, n in data["per_day"].items()]
        total = data["total"]
        rate = total["missed"] / total["questions"] if total["questions"] else 0.0
        lines.append(f"合计：问题 {total['questions']}，已答 {total['answered']}，未答或低分 {total['missed']}（{rate:.0%}）")
        if total["reported"]:
            lines.append(f"群友指出答错 {total['reported']} 次（见 #faq unanswered）")
        if data["top_intents"]:
            lines.append("热门意图：" + "、".join(f"{item['intent']} {item['count']}" for item in data["top_intents"]))
        return "\n".join(lines)

    def stats_data(self, *, today: date, days: int = 7) -> dict[str, Any]:
        """Per day and in total: questions, answered, missed (unanswered or low score), reported; top 5 intents."""
        counts = self.store.daily_counts(days=days, today=today)
        names = ("questions", "answered", "missed", "reported")
        totals: Counter[str] = Counter()
        for day_counts in counts.values():
            totals.update(day_counts)
        top = [(name[7:], n) for name, n in totals.most_common() if name.startswith("intent:")][:5]
        return {
            "days": days, "to": today.isoformat(),
            "per_day": {day: {name: day_counts.get(name, 0) for name in names} for day, day_counts in counts.items()},
            "total": {name: totals[name] for name in names},
            "top_intents": [{"intent": intent, "count": n} for intent, n in top],
        }

    def history(self, entry_id: str | None = None, limit: int = 10) -> str:
        records = self.history_records(entry_id, limit)
        if not records:
            return f"{entry_id or '知识库'} 还没有修改记录。"
        return "\n".join(describe_change(record) for record in records)

    def history_records(self, entry_id: str | None = None, limit: int = 10) -> list[AuditRecord]:
        if entry_id:
            self.store.entry(entry_id)
        return self.store.history(entry_id, limit=limit)


def import_summary(report: ImportReport) -> str:
    lines = [f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
             f"{len(report.unchanged)} unchanged"]
    lines += [f"{kind}: {entry_id}" for kind, ids in (("added", report.added), ("changed", report.changed),
                                                      ("removed", report.removed)) for entry_id in ids]
    return "\n".join(lines)


def describe_change(record: AuditRecord) -> str:
    """One audit row as a line: its number (for undo), when, who, what changed."""
    when = datetime.fromisoformat(record.at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    before, after = record.before or {}, record.after or {}
    if record.action == "forget":  # no entry changed: the note says what was deleted
        what = "删除一名成员的记录"
    elif not before or not after:
        what = f"「{(after or before).get('question', '')}」"
    else:
        changes = [f"{label}已改" for key, label in (("question", "问题"), ("answer", "答案"), ("parent", "上级"),
                                                     ("sources", "来源"), ("reviewed", "复核日期"))
                   if before.get(key) != after.get(key)]
        added = [p for p in after.get("phrasings", []) if p not in before.get("phrasings", [])]
        dropped = [p for p in before.get("phrasings", []) if p not in after.get("phrasings", [])]
        changes += [f"+问法「{p}」" for p in added] + [f"-问法「{p}」" for p in dropped]
        if before.get("enabled") != after.get("enabled"):
            changes.append("启用" if after.get("enabled") else "停用")
        what = "；".join(changes) or "无变化"
    note = f"（{record.note}）" if record.note else ""
    action = ACTIONS.get(record.action, record.action)
    return f"#{record.id} {when} {record.by} {action} {record.entry_id}：{what}{note}"


# -- EditError in Chinese, for chat ---------------------------------------------------------------------

_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_WHERE = re.compile(r"^(?:.*?: )?entry (?P<entry>[^\s:]+): (?P<problem>.*)$", re.S)
# The English problems of knowledge/store.py and knowledge/faqfile.py (for the CLI) and their Chinese.
_PROBLEMS = [(re.compile(pattern.replace("Q", _QUOTED), re.S), chinese) for pattern, chinese in (
    (r"^no entry (?P<a>Q) \(try `list`\)$", "没有 {a} 这个条目（#faq list 可以查）"),
    (r"^no unanswered question (?P<a>Q) any more.*$", "未答队列里已经没有 {a}（#faq unanswered 重新列出）"),
    (r"^unknown parent (?P<a>Q) \(not an id of knowledge/catalog\.toml\)$",
     "上级意图 {a} 不在意图目录 knowledge/catalog.toml 里"),
    (r"^(?P<a>Q) is already a phrasing of this entry \((?P<b>Q)\)$", "「{a}」已经是 {entry} 的问法{same}"),
    (r"^(?P<a>Q) is already a phrasing of entry (?P<owner>\S+) \((?P<b>Q)\)$", "「{a}」已经是 {owner} 的问法{same}"),
    (r"^phrasing (?P<a>Q) is the question itself$", "「{a}」就是 {entry} 的问题本身"),
    (r"^phrasing (?P<a>Q) has no letters or digits$", "问法「{a}」里没有文字或数字"),
    (r"^phrasing (?P<a>Q)… is longer than (?P<n>\d+) characters$", "问法「{a}…」超过 {n} 字"),
    (r"^phrasing (?P<a>Q) appears twice$", "问法「{a}」重复了"),
    (r"^a phrasing is empty$", "有一个问法是空的"),
    (r"^question is empty$", "问题是空的"),
    (r"^answer is empty$", "答案是空的"),
    (r"^answer is (?P<n>\d+) characters, more than (?P<m>\d+)$", "答案有 {n} 字，超过 {m} 字的上限"),
    (r"^id must be lower-case.*$", "编号只能是用点分隔的小写英文单词，例如 points.materials.job_change"),
    (r"^id is not in the catalog.*$", "编号不在意图目录里：更细的意图要写明上级意图"),
)]
_UNDO_REASONS = {
    "gone": "这个条目已经不存在了",
    "exists": "又有了编号为 {entry} 的条目",
    "field": "它改过的{subject}后来又改了",
    "edited": "这个条目加上以后又改过",
    "phrasing_gone": "问法「{subject}」已经不在了",
    "phrasing_back": "问法「{subject}」已经又加回来了",
    "taken": "问法「{subject}」现在属于别的条目",
    "file": "这个条目现在写进了知识文件",
}
_FIELDS = {"parent": "上级", "question": "问题", "answer": "答案", "sources": "来源", "reviewed": "复核日期",
           "enabled": "启用状态"}


def in_chinese(exc: EditError) -> str:
    """The reason an edit was refused, in Chinese for chat (the CLI shows the English of knowledge/store.py)."""
    if isinstance(exc, UndoConflict):
        subject = _FIELDS.get(exc.subject, exc.subject)
        text = f"不能撤销 #{exc.change_id}（{exc.entry_id}）：" + _UNDO_REASONS[exc.reason].format(
            subject=subject, entry=exc.entry_id)
        if exc.undone_by:
            text += f"；#{exc.undone_by} 已经撤销过它"
        elif exc.later:
            text += "；之后的修改：" + "、".join(f"#{n}" for n in exc.later) + "，可以先撤销它们"
        return text + "。"
    if isinstance(exc, UnknownChange):
        return f"没有编号为 #{exc.change_id} 的修改（#faq history 可以查）。"
    if isinstance(exc, UnknownPhrasing):
        return f"{exc.entry_id} 没有问法「{exc.text}」（#faq show {exc.entry_id} 可以查）。"
    if isinstance(exc, NotRemovable):
        if exc.phrasing is None:
            return f"{exc.entry_id} 来自知识文件，不能删除；不想再用它，可以停用：#faq disable {exc.entry_id}"
        if exc.reason == QUESTION:
            return f"「{exc.phrasing}」是 {exc.entry_id} 的问题本身，不能作为问法删除。"
        return (f"「{exc.phrasing}」是知识文件里的问法，不能在这里删除；"
                f"要去掉它请改 knowledge/faq/{exc.entry_id}.toml 再导入。")
    message = str(exc)
    entry = ""
    if isinstance(exc, (DuplicatePhrasing, InvalidEntry)) and (where := _WHERE.match(message)):
        entry, message = where.group("entry"), where.group("problem")
    for pattern, chinese in _PROBLEMS:
        if found := pattern.match(message):
            values = {name: _unquote(value) for name, value in found.groupdict().items() if value is not None}
            same = values.get("b", values.get("a"))
            values["same"] = "" if same == values.get("a") else f"（已有的写法：「{same}」）"
            return chinese.format(entry=entry, **values) + "。"
    logger.warning("no Chinese wording for the edit error %r", str(exc))
    return "这项修改没有通过检查（详情见日志）。"


def _unquote(value: str) -> str:
    return ast.literal_eval(value) if value[:1] in ("'", '"') else value


class Commands:
    """`#faq …` chat commands: access control, parsing, and the reply (privately in groups).

    `index` returns the current matcher, rebuilt first when the knowledge changed (an edit made here included).
    """

    def __init__(self, store: KnowledgeStore, *, operators: frozenset[str], index: Callable[[], IntentIndex],
                 min_confidence: float, judge: Callable[[KnowledgeStore], Judge]):
        self.operators = operators
        self.desk = FaqDesk(store, index=index, min_confidence=min_confidence, judge=judge)

    def run(self, msg: Incoming) -> Result:
        if msg.sender not in self.operators:
            logger.warning("refused a #faq command from sender %s", msg.sender)
            return Result(reply=REFUSAL)
        found = _COMMAND.match(msg.text or "")
        name, rest = _first_word(found.group(1) if found else "")
        try:
            _check_length("命令", msg.text or "", MAX_COMMAND_CHARS)
            reply = self._run(name.lower(), rest, msg)
        except (CommandError, EditError) as exc:
            reply = str(exc) if isinstance(exc, CommandError) else NOT_CHANGED + str(exc)
        except sqlite3.OperationalError as exc:  # a full disk, a read-only database: nothing was written
            logger.warning("#faq command not written: %s", exc)
            reply = NOT_WRITTEN
        except Exception:  # a bug: the operator hears it privately, never the room's apology
            logger.exception("#faq command failed (message %s)", msg.id or "?")
            reply = FAILED
        return Result(reply=reply, private_reply=msg.room is not None)

    def _run(self, name: str, rest: str, msg: Incoming) -> str:
        """One command's reply; a refused edit comes back as CommandError with its reason in Chinese."""
        try:
            return self._dispatch(name, rest, msg)
        except EditError as exc:
            raise CommandError(NOT_CHANGED + in_chinese(exc)) from exc

    def _dispatch(self, name: str, rest: str, msg: Incoming) -> str:
        by, desk = msg.sender, self.desk
        words = rest.split()
        if name in ("", "help", "帮助"):
            return HELP
        if name not in USAGE:
            raise CommandError(f"没有 {name} 这个命令。\n{HELP}")
        if name in ("add", "alias"):  # previewed, and made only on #faq confirm
            return desk.hold(by, self._add(rest, by) if name == "add" else self._alias(rest, by), at=msg.time)
        if name == "confirm":
            reply = desk.confirm(by, at=msg.time)
        elif name == "cancel":
            return desk.cancel(by)
        elif name in ("show", "disable", "enable"):
            if len(words) != 1:
                raise CommandError(USAGE[name])
            if name == "show":
                return desk.show(words[0])
            reply = desk.carry_out(desk.propose_enabled(words[0], name == "enable", by=by))
        elif name == "remove":
            entry_id, phrasing = _first_word(rest)
            if not entry_id:
                raise CommandError(USAGE[name])
            reply = desk.carry_out(desk.propose_remove(entry_id, phrasing, by=by))
        elif name == "undo":
            if len(words) != 1:
                raise CommandError(USAGE[name])
            reply = desk.carry_out(desk.propose_undo(change_id(words[0]), by=by))
        elif name == "forget":
            if len(words) != 1:
                raise CommandError(USAGE[name])
            reply = desk.carry_out(desk.propose_forget(words[0], by=by))
        elif name == "list":
            return desk.list(rest)
        elif name == "unanswered":
            return desk.unanswered(_count(words, USAGE[name], default=10))
        elif name == "stats":
            return desk.stats(today=msg.time.astimezone(SHANGHAI).date())
        else:  # history
            entry_id = words[0] if words and not words[0].isdigit() else None
            return desk.history(entry_id, _count(words[1:] if entry_id else words, USAGE[name], default=10))
        return reply

    def _add(self, rest: str, by: str) -> Proposal:
        parts = _SEPARATOR.split(rest, maxsplit=1)
        if len(parts) != 2:
            raise CommandError(USAGE["add"])
        question, answer = parts[0].strip(), parts[1].strip()
        parent = None
        first, remainder = _first_word(question)
        if _ID.match(first):
            parent, question = first, remainder
        if not question or not answer:
            raise CommandError(USAGE["add"])
        return self.desk.propose_add(question, answer, by=by, parent=parent)

    def _alias(self, rest: str, by: str) -> Proposal:
        words = rest.split()
        force = bool(words) and to_halfwidth(words[-1]).lower() in _FORCE
        if force:
            rest = rest.rstrip()[: -len(words[-1])]
        target, phrasings = _first_word(rest)
        if not target:
            raise CommandError(USAGE["alias"])
        return self.desk.propose_alias(target, _SEPARATOR.split(phrasings), by=by, force=force)


def _check_length(label: str, text: str, most: int) -> None:
    """CommandError (in Chinese, without echoing the text) when `text` is longer than `most` characters."""
    if len(text) > most:
        raise CommandError(f"{label}太长（{len(text)} 字），最多 {most} 字，未修改。")


def _first_word(text: str) -> tuple[str, str]:
    """The first whitespace-separated word and the rest, both stripped."""
    first, rest = re.match(r"\s*(\S*)\s*(.*)", text, re.S).groups()
    return first, rest.strip()


def _count(words: list[str], usage: str, *, default: int, most: int = 50) -> int:
    if not words:
        return default
    if len(words) > 1 or not words[0].isdigit() or int(words[0]) < 1:
        raise CommandError(usage)
    return min(int(words[0]), most)
