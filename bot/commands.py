"""Operator commands: `#faq …` in chat for the operators of the configuration, and the FAQ desk behind them,
which the command line (bot/faq_cli.py) uses too. Every operation returns its reply text."""
from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import date, datetime
from typing import TYPE_CHECKING, Callable, Iterable

from bot import policy
from bot.events import Incoming, Result
from intents.dates import SHANGHAI
from intents.matcher import IntentIndex
from intents.normalize import normalize, to_halfwidth
from knowledge.faqfile import HELP, MAX_ANSWER_CHARS, MAX_PHRASING_CHARS, OUT_OF_SCOPE, Entry
from knowledge.store import FILE, AuditRecord, EditError, KnowledgeStore, is_handle

if TYPE_CHECKING:
    from bot.handler import Bot

logger = logging.getLogger(__name__)

# The handler answers with these whatever the matcher says: they must stay enabled.
REQUIRED_ENTRIES = frozenset({HELP, OUT_OF_SCOPE})
REFUSAL = "抱歉，#faq 命令只对本群的管理员开放。有问题可以直接问我，或回复“人工”。"
NOT_CHANGED = "未修改："
FAILED = "命令没有完成（内部错误，已记入日志）。是否已生效请用 #faq history 查看。"
MAX_COMMAND_CHARS = MAX_ANSWER_CHARS + MAX_PHRASING_CHARS + 100  # the longest `#faq add` that could pass

_COMMAND = re.compile(r"^\s*(?:@[^\s@]{1,20}[\u2005 ]\s*)*[#＃]\s*(?:faq|ｆａｑ)(?![0-9a-z])(.*)$", re.I | re.S)
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")  # an id with a dot: `#faq add <parent> …`
_SEPARATOR = re.compile(r"[|｜]")
_FORCE = frozenset({"--force", "—force", "-f"})

USAGE = {
    "add": "#faq add [上级意图] <问题> | <答案>   例：#faq add points.tax 个税补报后多久能续 | 补报后次月即可续办",
    "alias": "#faq alias <id> <新问法> [--force]；采纳未答建议：#faq alias <u编号> [id]",
    "show": "#faq show <id>",
    "list": "#faq list [关键词]",
    "disable": "#faq disable <id>",
    "enable": "#faq enable <id>",
    "unanswered": "#faq unanswered [条数]",
    "stats": "#faq stats",
    "history": "#faq history [id] [条数]",
}
HELP = "FAQ 管理命令：\n" + "\n".join(USAGE.values())


class CommandError(Exception):
    """A command that cannot be carried out as written; the message is the reply (a usage line or the reason)."""


class AliasConflict(CommandError):
    """The new phrasing already matches another entry better; it is added only when forced."""


def is_command(text: str | None) -> bool:
    """Whether a chat message is an operator command (`#faq …`, also with the full-width ＃)."""
    return bool(text) and _COMMAND.match(text) is not None


def alias_conflict(index: IntentIndex, entry_id: str, phrasing: str) -> tuple[str, float, float] | None:
    """(other entry, its score, this entry's score) when the phrasing would be answered by another entry now."""
    ranked = index.match(phrasing).ranked
    if not ranked:
        return None
    best_id, best = ranked[0]
    own = dict(ranked).get(entry_id, 0.0)
    if best_id == entry_id or best < policy.MIN_CONFIDENCE or own >= best:
        return None
    return best_id, best, own


class FaqDesk:
    """The FAQ operations; `index` gives the current matcher (for the alias check), built only when needed."""

    def __init__(self, store: KnowledgeStore, *, index: Callable[[], IntentIndex]):
        self.store = store
        self.index = index

    # -- edits --------------------------------------------------------------------------------------

    def add(self, question: str, answer: str, *, by: str, parent: str | None = None,
            phrasings: Iterable[str] = ()) -> Entry:
        phrasings = list(phrasings)
        _check_length("问题", question.strip(), MAX_PHRASING_CHARS)
        _check_length("答案", answer.strip(), MAX_ANSWER_CHARS)
        for phrasing in phrasings:
            _check_length("问法", phrasing.strip(), MAX_PHRASING_CHARS)
        return self.store.add_entry(question, answer, by=by, parent=parent,
                                    phrasings=[normalize(p) for p in phrasings])

    def alias(self, target: str, phrasing: str = "", *, by: str, force: bool = False) -> str:
        """Add a phrasing to an entry, or accept an unanswered question (`target` is its handle) as one."""
        resolves, note = None, ""
        if is_handle(target):
            group = self.store.resolve_handle(target)
            entry_id = phrasing.strip() or group.suggestion
            if not entry_id:
                raise CommandError(f"{target} 没有建议的意图，请指定：#faq alias {target} <id>")
            text, resolves, note = group.question, group.key, f"from unanswered {target} (asked {group.count}x)"
            force = force or entry_id == group.suggestion
        else:
            entry_id, text = target, normalize(phrasing)
            if not text:
                raise CommandError(USAGE["alias"])
        _check_length("问法", text, MAX_PHRASING_CHARS)
        self.store.entry(entry_id)  # an unknown id is named before the matcher is asked
        conflict = None if force else alias_conflict(self.index(), entry_id, text)
        if conflict:
            other, score, own = conflict
            raise AliasConflict(
                f"「{text}」现在会匹配到 {other}（{score:.2f}），比 {entry_id}（{own:.2f}）更接近，未添加。"
                f"确认要加，请在命令末尾加上 --force"
            )
        if force and not resolves:
            note = "forced past the better-match check"
        self.store.add_phrasing(entry_id, text, by=by, note=note, resolves=resolves)
        left = "（已移出未答队列）" if resolves else ""
        return f"已为 {entry_id} 添加问法「{text}」{left}，现在就生效。"

    def forget(self, sender: str, *, by: str) -> str:
        """Delete what is stored of one member (KnowledgeStore.forget); the reply says how much went."""
        deleted = self.store.forget(sender, by=by)
        return f"已删除该成员的 {deleted} 条未答问题记录（统计数字不含发送者），已记入修改记录。"

    def set_enabled(self, entry_id: str, enabled: bool, *, by: str) -> str:
        if not enabled and entry_id in REQUIRED_ENTRIES:
            raise CommandError(f"{entry_id} 是机器人必需的条目，不能停用（可以修改它的答案）。")
        changed = self.store.set_enabled(entry_id, enabled, by=by)
        state = "启用" if enabled else "停用"
        return f"已{state} {entry_id}。" if changed else f"{entry_id} 本来就是{state}状态，未修改。"

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

    def unanswered(self, limit: int = 10) -> str:
        groups = self.store.unanswered(limit)
        if not groups:
            return "未答队列是空的。"
        lines = [f"最常见的未答或低分问题（日志共 {self.store.unanswered_count()} 条）："]
        for group in groups:
            hint = f"建议 {group.suggestion}（{group.score:.2f}）" if group.suggestion else "无建议"
            lines.append(f"{group.handle} ×{group.count}「{group.question}」→ {hint}")
        lines.append("采纳建议：#faq alias <u编号>；换个意图：#faq alias <u编号> <id>；新增条目：#faq add 问题 | 答案")
        return "\n".join(lines)

    def stats(self, *, today: date, days: int = 7) -> str:
        counts = self.store.daily_counts(days=days, today=today)
        if not counts:
            return f"最近 {days} 天没有记录。"
        totals: Counter[str] = Counter()
        lines = [f"最近 {days} 天（问题 / 已答 / 未答或低分）："]
        for day, names in counts.items():
            totals.update(names)
            lines.append(f"{day[5:]}  {names.get('questions', 0)} / {names.get('answered', 0)} / {names.get('missed', 0)}")
        rate = totals["missed"] / totals["questions"] if totals["questions"] else 0.0
        lines.append(f"合计：问题 {totals['questions']}，已答 {totals['answered']}，未答率 {rate:.0%}")
        top = [(name[7:], n) for name, n in totals.most_common() if name.startswith("intent:")][:5]
        if top:
            lines.append("热门意图：" + "、".join(f"{intent} {n}" for intent, n in top))
        return "\n".join(lines)

    def history(self, entry_id: str | None = None, limit: int = 10) -> str:
        if entry_id:
            self.store.entry(entry_id)
        records = self.store.history(entry_id, limit=limit)
        if not records:
            return f"{entry_id or '知识库'} 还没有修改记录。"
        return "\n".join(describe_change(record) for record in records)


def describe_change(record: AuditRecord) -> str:
    """One audit row as a line: when, who, what changed."""
    when = datetime.fromisoformat(record.at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    before, after = record.before or {}, record.after or {}
    if record.action == "forget":  # no entry changed: the note says what was deleted
        what = "删除一名成员的记录"
    elif not before:
        what = f"新增「{after.get('question', '')}」"
    elif not after:
        what = "删除"
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
    return f"#{record.id} {when} {record.by} {record.action} {record.entry_id}：{what}{note}"


class Commands:
    """`#faq …` chat commands for a running Bot: access control, parsing, and the reply (privately in groups)."""

    def __init__(self, bot: "Bot"):
        self.bot = bot
        self.desk = FaqDesk(bot.store, index=self._current_index)

    def _current_index(self) -> IntentIndex:
        self.bot.refresh(edited_here=True)
        return self.bot.index

    def run(self, msg: Incoming) -> Result:
        if msg.sender not in self.bot.config.operators:
            logger.warning("refused a #faq command from sender %s", msg.sender)
            return Result(reply=REFUSAL)
        found = _COMMAND.match(msg.text or "")
        name, rest = _first_word(found.group(1) if found else "")
        try:
            _check_length("命令", msg.text or "", MAX_COMMAND_CHARS)
            reply = self._run(name.lower(), rest, msg)
        except (CommandError, EditError) as exc:
            reply = str(exc) if isinstance(exc, CommandError) else NOT_CHANGED + str(exc)
        except Exception:  # a bug or a storage fault: the operator hears it privately, never the room's apology
            logger.exception("#faq command failed (message %s)", msg.id or "?")
            reply = FAILED
        return Result(reply=reply, private_reply=msg.room is not None)

    def _run(self, name: str, rest: str, msg: Incoming) -> str:
        by = msg.sender
        words = rest.split()
        if name in ("", "help", "帮助"):
            return HELP
        if name not in USAGE:
            raise CommandError(f"没有 {name} 这个命令。\n{HELP}")
        if name == "add":
            return self._add(rest, by)
        if name == "alias":
            force = bool(words) and to_halfwidth(words[-1]).lower() in _FORCE
            if force:
                rest = rest.rstrip()[: -len(words[-1])]
            target, phrasing = _first_word(rest)
            if not target:
                raise CommandError(USAGE["alias"])
            reply = self.desk.alias(target, phrasing, by=by, force=force)
        elif name in ("show", "disable", "enable"):
            if len(words) != 1:
                raise CommandError(USAGE[name])
            if name == "show":
                return self.desk.show(words[0])
            reply = self.desk.set_enabled(words[0], name == "enable", by=by)
        elif name == "list":
            return self.desk.list(rest)
        elif name == "unanswered":
            return self.desk.unanswered(_count(words, USAGE[name], default=10))
        elif name == "stats":
            return self.desk.stats(today=msg.time.astimezone(SHANGHAI).date())
        else:  # history
            entry_id = words[0] if words and not words[0].isdigit() else None
            return self.desk.history(entry_id, _count(words[1:] if entry_id else words, USAGE[name], default=10))
        self.bot.refresh(edited_here=True)  # the edit answers the very next message; rebuilding now spares the asker the wait
        return reply

    def _add(self, rest: str, by: str) -> str:
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
        entry = self.desk.add(question, answer, by=by, parent=parent)
        self.bot.refresh(edited_here=True)
        return f"已添加 {entry.id}：{entry.question}\n现在就能回答；要加问法：#faq alias {entry.id} <问法>"


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
