"""The message handler: one Incoming in, one Result out. Knows nothing of WeChat, consoles or files."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from bot import activity, policy, render
from bot.commands import Commands, is_command
from bot.config import Config
from bot.conversation import ChatState, Conversations
from bot.dated import DatedAnswer, answer_with_dates
from bot.events import Incoming, Result
from intents.matcher import IntentIndex, Match
from intents.normalize import normalize
from intents.scope import Scope
from intents.segment import Segmenter
from knowledge.faqfile import HELP, OUT_OF_SCOPE, Entry
from knowledge.store import KnowledgeStore

logger = logging.getLogger(__name__)

_CHOICE = re.compile(r"^\s*([1-9])\s*$")
_FOLLOW_UP = re.compile(r"^(那|那么|还有|另外|然后|那如果|如果)")


class Bot:
    """Holds the knowledge, the matcher and the chat memory; `handle` is the only entry point for messages."""

    def __init__(self, store: KnowledgeStore, *, config: Config, segmenter: Segmenter | None = None):
        self.store = store
        self.config = config
        self.segmenter = segmenter or Segmenter()
        self.scope = Scope()
        self.conversations = Conversations(carry=timedelta(minutes=config.carry_minutes))
        self._version = -1
        self._commits_seen = -1
        self.refresh()
        self.commands = Commands(self)
        self.record_activity = True  # daily counters and the unanswered queue; replays and benchmarks may turn it off

    @classmethod
    def open(cls, config: Config) -> "Bot":
        """Open the knowledge database (created and filled from the FAQ files when they changed)."""
        store = KnowledgeStore.open(config.db_path)
        store.sync_files(config.faq_dir)
        return cls(store, config=config)

    def refresh(self, *, edited_here: bool = False) -> None:
        """Rebuild the matcher when the knowledge changed: edited here (say so), or committed by another process."""
        commits = self.store.commits_by_others()
        if not edited_here and commits == self._commits_seen:
            return  # the per-message path: one PRAGMA, no table read
        self._commits_seen = commits
        version = self.store.data_version()
        if version == self._version:
            return
        entries = self.store.entries()
        self.entries: dict[str, Entry] = {entry.id: entry for entry in entries}
        self.index = IntentIndex(entries, self.segmenter)
        self._version = version
        logger.info("matcher built from %d entries", len(entries))

    # -- the entry point -------------------------------------------------------------------

    def handle(self, msg: Incoming) -> Result:
        """Decide the reply to one message; never raises for anything a chat member can send."""
        try:
            self.refresh()
            result = self._handle(msg)
        except Exception:  # the dispatch boundary: a bug must cost one answer, not the bot
            logger.exception("handler failed on message %s", msg.id or "?")
            return Result(reply="抱歉，我这边出了点问题，请稍后再问，或回复“人工”。" if msg.addressed else None)
        if self.record_activity:
            try:
                activity.record(self.store, msg, result, aliases=self.config.aliases, keep=self.config.unanswered_keep,
                                retention_days=self.config.retention_days)
            except Exception:  # the activity log is a side channel: its failure must never cost the answer
                logger.exception("activity log failed on message %s", msg.id or "?")
        return result

    def _handle(self, msg: Incoming) -> Result:
        raw = msg.text or ""
        if is_command(raw):
            return self.commands.run(msg)
        if policy.is_placeholder(raw):
            return Result(intent=OUT_OF_SCOPE)
        text = normalize(raw[: policy.MAX_QUESTION_CHARS], self.config.aliases)
        state = self.conversations.get(msg.room, msg.sender, msg.time)
        if state and state.choices and (choice := _CHOICE.match(text)):
            number = int(choice.group(1))
            if number <= len(state.choices) and state.choices[number - 1] in self.entries:  # not disabled since
                return self._answer(state.choices[number - 1], 1.0, msg, state, state.last_text)
        if not self.index.words(text):  # "@小助手 在吗", "小助手在吗", an emoji: nothing to match
            if (msg.addressed or self._names_bot(text)) and HELP in self.entries:
                return self._answer(HELP, 1.0, msg, state, text)
            return Result(intent=OUT_OF_SCOPE, reply=render.CANNOT_HELP if msg.addressed else None, recognised=False)
        if self.scope.outside(text):
            return self._out_of_scope(msg)
        match = self.index.match(text)
        if state and state.last_intent and _FOLLOW_UP.match(text) and self._needs_context(match, text):
            # "那积分呢": a follow-up is read together with the sender's previous question.
            match = self.index.match(state.last_text + " " + text)
        return self._decide(match, msg, state, text)

    # -- decisions -------------------------------------------------------------------------

    def _needs_context(self, match: Match, text: str) -> bool:
        """Too weak or too short (one or two words) to stand on its own."""
        return match.best is None or match.best[1] < policy.GROUP_CONFIDENCE or len(self.index.words(text)) <= 2

    def _decide(self, match: Match, msg: Incoming, state: ChatState | None, text: str) -> Result:
        best = match.best
        if best is None or best[1] < policy.MIN_CONFIDENCE:
            return Result(intent=OUT_OF_SCOPE, confidence=best[1] if best else 0.0,
                          reply=render.CANNOT_HELP if msg.addressed else None, candidates=match.ranked,
                          recognised=False)
        entry_id, score = best
        entry = self.entries[entry_id]
        if entry.catalog_id == OUT_OF_SCOPE:
            return self._out_of_scope(msg, score)
        dated = self._dated(entry, msg, state, text)
        settled = {entry.catalog_id}
        if dated is not None and dated.facts:
            # The asker's own date decides between date-resolved siblings (renew window vs overdue).
            settled.add(dated.intent)
            entry = self.entries.get(dated.intent, entry)
        rivals = self._rivals(match, entry, settled)
        facts = dated.facts if dated else {}
        if len(rivals) > 1:
            if not msg.addressed:
                return Result(intent=entry.catalog_id, confidence=score, facts=facts, candidates=match.ranked)
            self.conversations.put(msg.room, msg.sender, ChatState(
                updated=msg.time, last_text=text, choices=[rival.id for rival in rivals],
                dates=state.dates if state else {},
            ))
            return Result(intent=entry.catalog_id, confidence=score,
                          reply=render.did_you_mean(rivals), candidates=match.ranked)
        if not msg.addressed and not self._speaks_unasked(entry.id, score, text):
            return Result(intent=entry.catalog_id, confidence=score, facts=facts, candidates=match.ranked)
        return self._answer(entry.id, score, msg, state, text, dated=dated, candidates=match.ranked)

    def _rivals(self, match: Match, chosen: Entry, settled: set[str]) -> list[Entry]:
        """The chosen entry and, when too close to call, up to two runners-up of other, unsettled catalog intents."""
        best_score = match.ranked[0][1]
        rivals = [chosen]
        for entry_id, score in match.ranked[1:]:
            entry = self.entries[entry_id]
            if best_score - score > policy.AMBIGUITY_MARGIN or len(rivals) == 3:
                break
            if entry.catalog_id not in settled | {r.catalog_id for r in rivals} | {OUT_OF_SCOPE}:
                rivals.append(entry)
        return rivals

    def _dated(self, entry: Entry, msg: Incoming, state: ChatState | None, text: str) -> DatedAnswer | None:
        """The date computation for a dated intent (None for the others), from the message's or remembered dates."""
        return answer_with_dates(entry.catalog_id, text, msg.time, dict(state.dates) if state else {})

    def _speaks_unasked(self, entry_id: str, score: float, text: str) -> bool:
        """An unmentioned group message gets an answer only when it is a confident, on-topic question."""
        if entry_id.startswith("bot."):
            return self._names_bot(text)
        return score >= policy.GROUP_CONFIDENCE and policy.looks_like_question(text)

    def _names_bot(self, text: str) -> bool:
        return any(alias.lower() in text for alias in self.config.aliases)

    def _out_of_scope(self, msg: Incoming, score: float = 1.0) -> Result:
        reply = None
        if msg.addressed:
            entry = self.entries.get(OUT_OF_SCOPE)
            reply = render.answer(entry) if entry else render.CANNOT_HELP
        return Result(intent=OUT_OF_SCOPE, confidence=score, reply=reply)

    def _answer(self, entry_id: str, score: float, msg: Incoming, state: ChatState | None, text: str,
                *, dated: DatedAnswer | None = None, candidates: list[tuple[str, float]] | None = None) -> Result:
        entry = self.entries[entry_id]
        if dated is None:
            dated = self._dated(entry, msg, state, text)
            if dated is not None and dated.facts:
                entry = self.entries.get(dated.intent, entry)
        remembered = dict(state.dates) if state else {}
        if dated is not None:
            remembered.update(dated.remembered)
        self.conversations.put(msg.room, msg.sender, ChatState(
            updated=msg.time, last_intent=entry.catalog_id, last_text=text, dates=remembered,
        ))
        return Result(intent=entry.catalog_id, confidence=score,
                      reply=render.answer(entry, dated.text if dated else None),
                      facts=dated.facts if dated else {}, candidates=candidates or [])
