"""The message handler: one Incoming in, one Result out, through understand → resolve → speak → render."""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot import activity, render, speak
from bot.commands import Commands, is_command
from bot.config import Config
from bot.conversation import ChatState, Conversations
from bot.events import PAT, Incoming, Result
from bot.preview import Judge, Outcome
from bot.resolve import (DEADLINE_AFTER_PERMIT, FAILURE_REASONS, INTENT_OF_ROLE, OVERDUE_INTENT, PERMIT_MATERIALS,
                          PERMIT_VS_POINTS, PROXY, ROLE_OF_INTENT, WHEN_TO_RENEW, Resolution, on_topic, resolve,
                          ruled_out, settle, topic_of)
from bot.transports.quotes import quoted_words
from intents.classifier import IntentClassifier
from intents.matcher import IntentIndex, Match, load_utterances
from intents.dates import SHANGHAI
from intents.roles import CORRECTION, ENDORSED, EXPIRY, REVIEW, SUBMITTED
from intents.scope import DOCUMENT, OTHER_POINTS, UNRELATED, USE, Scope, Verdict
from intents.segment import Segmenter
from intents.understand import MAX_QUESTION_CHARS, Understanding, joined, two_parts, understand
from knowledge.faqfile import HELP, OUT_OF_SCOPE, Entry
from knowledge.policy import Policy
from knowledge.store import KnowledgeStore

logger = logging.getLogger(__name__)

_CHOICE = re.compile(r"^\s*([1-9])\s*$")
# Whether the points still hold, asked after the permit lapsed, is asked of the lapse (catalog points_follow_up of
# the overdue intent): the tuning sets' labels name failure_reasons for 50 of 60 such questions (122 of 136 short ones
# in the sets of 2026-12-02, often beside permit.overdue). Read so, the classifier does not read it again.
_WHETHER_POINTS_LAST = frozenset({"points.validity", DEADLINE_AFTER_PERMIT, WHEN_TO_RENEW, PERMIT_VS_POINTS,
                                  FAILURE_REASONS})
_MATERIALS = frozenset({PERMIT_MATERIALS, "points.materials", "points.paper_materials"})
_NOT_DONE = frozenset({"没", "没有", "忘", "忘了", "没去"})
_FOLLOW_UP = re.compile(r"^(那|那么|还有|另外|然后|那如果|如果|上海的|在上海|and\b|or\b|what about|how about)")
_SAME_QUESTION = re.compile(r"同问|同求|我也是|我也一样|我也想问|一样的问题|\+1|me too|same here")
# The step a date is of: an expiry and an endorsement answer each other's questions (resolve.resolve_dates).
_STEP_OF_ROLE = {EXPIRY: EXPIRY, ENDORSED: EXPIRY, SUBMITTED: SUBMITTED, REVIEW: REVIEW}
MAX_WORDS_BESIDE_DATE = 3  # "我居住证2月20签好了": 居住证, 签好
# "居住证要满几年啊" after a school question asks on about the school, "要积分吗 还是社保满3年就行" about the car plate asked
# before (4 → 6 words: fresh sets +1, tuning +1, none worse)
MAX_WORDS_ON = 6
# The members' classifier (intents/classifier.py) overrules the reading when it is this sure (probability) of another
# intent: on the tuning sets BD…BY (6,400, not trained on) such flips were right 3 times in 4 (+76 answers; 0.6 and
# 0.8 alike). It crosses the scope line, either way, only when SURE_ACROSS: at 0.7 "居住证今天到期怎么办" went out
# (its words are other cities' permit questions') and "my visa expires Dec 2…" came in, for 3 answers more in 8,800.
SURE, SURE_ACROSS = 0.7, 0.9
# A question the matcher could not read that names the permit or points takes the classifier's reading when it is
# likelier than not (+4 in 8,800 and +3 in 2,400 on sets not trained on; 0.3: +8 and +5, but most often wrong), as
# does a close call the matcher would ask about with a menu (its reading among the menu's intents or not: the fresh
# sets +2 of 22,923, one menu fewer). Unasked in a group, an answer the classifier reads as likelier out of scope
# than not is held back (blind sets HP–HT before training on them: 2 of the 3 unmentioned out-of-scope messages
# answered, none of the 312 in-scope ones).
LIKELIER_THAN_NOT = 0.5
# Whether the bot can be asked about something, not the something: "能问积分的事吗", "积分续办的事能问你吗",
# "你是管居住证的还是管积分的", "你都能查什么", "小助手会不会算工作日" (without a date: with one, it is the sum
# asked); a person to ask is the handoff ("有没有真人可以问").
_ASKS_WHAT_TO_ASK = re.compile(r"(?<!人)(?:能|可以)(?:不能)?问(?:你|小助手)?\s*(?:吗|不|嘛|么)?\s*$|的事情?\s*(?:能|可以)(?:不能)?问"
                               r"|(?:能|可以)问.{0,10}的事|你(?:是|只)管.{1,8}的|你都?能(?:查|回答|答)(?:什么|哪些|啥)"
                               r"|(?:小助手|你)(?:会不会|能不能|会|能)(?:帮我)?算")
_STILL_ASKING = re.compile(r"是不是|是吧|对吧|吧$|那")  # "哦哦 那积分是网上弄是吧" asks on
_AFTER_ENDORSING = re.compile(r"签好|签完|补签|签注(?:后|以后|之后|完)|签了以后|after (?:the )?endors")
# English words that only carry a follow-up ("and the points? same stuff?"), not counted as its content
_EN_FILLERS = frozenset({"and", "the", "a", "so", "ok", "what", "about", "then", "my", "her", "his", "our", "their",
                         "i", "you", "he", "she", "we", "they", "it", "those", "them"})
# What to bring, asked of another's endorsement without asking whether another may go ("孙子去要带什么证件", "what
# should I bring for him"), asks the materials (intents.md: permit.materials is what to bring): 1,217 of the 1,221 such
# questions in the tuning sets labelled materials or proxy are labelled materials; the four proxy ones ask whether
# the parent's going is enough ("家长带去就行吗"). Bringing the person along (带孩子去) or going for them is the proxy.
_ASKS_WHAT_TO_BRING = re.compile(r"(?:带|帶|拿|准备|準備)(?:什么|什麼|啥|哪些|些什么|点啥|些啥)|要不要(?:带|帶)(?!.{0,4}去)"
                                 r"|(?:带|帶)[^去]{1,12}(?:吗|嗎|不)$|(?i:\b(?:bring|take with)\b)")
_ASKS_WHO_MAY_GO = re.compile(r"代(?!码|碼|表)|谁去|誰去|监护人|監護人|委托书|委託書|(?:带|帶)(?:他|她|孩子|娃|人|老人|小孩)"
                              r"|帮.{0,6}(?:签|簽|办|辦|去|弄|跑)|(?:能|可以|可不可以|行不行|能不能).{0,8}去|本人|亲自|親自"
                              r"|(?i:\b(?:instead|behalf|in (?:his|her|their|my) place|go for|can i go|could i go|in person)\b)")
_SAME_DAY = re.compile(r"这天|那天|同一天|一样的日子|同一个日子|也是这个日子|也是那个日子")


def _permit_lapsed(words: Sequence[str]) -> bool:
    """Whether the words say the permit lapsed before they name the points: 居住证 … 过期 / 没签注 / 没签."""
    permit = False
    for word, following in zip(words, [*words[1:], ""]):
        if word == "积分":
            return False
        if word == "居住证":
            permit = True
        elif permit and (word in ("过期", "没签") or word in _NOT_DONE and following == "签注"):
            return True
    return False


class Bot:
    """Holds the knowledge, the matcher, the chat memory and the throttle; `handle` is the only entry for messages.

    Built by bot.app.open_bot, which has validated the configuration and every data file first.
    """

    def __init__(self, store: KnowledgeStore, *, config: Config, policy: Policy, scope: Scope,
                 segmenter: Segmenter | None = None, utterances: Mapping[str, Sequence[str]] | None = None,
                 classifier: IntentClassifier | None = None):
        self.store = store
        self.classifier = classifier or IntentClassifier()
        self.utterances = load_utterances() if utterances is None else utterances  # what the likelihood learns from
        self.config = config
        self.policy = policy
        self.scope = scope
        self.segmenter = segmenter or Segmenter()
        self.thresholds = speak.Thresholds(config.min_confidence, config.group_confidence, config.ambiguity_margin)
        self.conversations = Conversations(carry=timedelta(minutes=config.carry_minutes))
        self.gate = speak.Gate(replies_per_minute=config.room_replies_per_minute,
                               repeat_cooldown_seconds=config.repeat_cooldown_seconds)
        self._judged = 0
        self._version = -1
        self._commits_seen = -1
        # Held while a member's message is answered and while a new matcher is swapped in, never while one is
        # built: the operator-command thread builds beside the message path, then swaps entries and index together.
        self._swap = threading.Lock()
        self.refresh()
        self.commands = Commands(store, operators=config.operators, index=self._current_index,
                                 min_confidence=config.min_confidence, judge=self.judge_on)
        self.record_activity = True  # daily counters and the unanswered queue; replays and benchmarks may turn it off

    def refresh(self, *, edited_here: bool = False) -> None:
        """Rebuild the matcher when the knowledge changed: edited here (say so), or committed by another process.

        Safe from two threads (the gateway runs operator commands on one of its own): the build happens outside
        `_swap`, and the new entries and index replace the old ones together under it, never by an older build.
        Commits made through this process's connection do not change `commits_by_others`, so a member's message
        after an operator's chat edit finds the matcher already rebuilt by the command, and rebuilds nothing itself.
        """
        commits = self.store.commits_by_others()
        if not edited_here and commits == self._commits_seen:
            return  # the per-message path: one PRAGMA, no table read
        self._commits_seen = commits
        if self.store.data_version() == self._version:
            return
        version, entries = self.store.knowledge()
        index = IntentIndex(entries, self.segmenter, self.utterances)
        taught = self.store.taught()
        with self._swap:
            if version <= self._version:
                return  # another thread swapped in this revision, or a newer one, meanwhile
            self.entries: dict[str, Entry] = {entry.id: entry for entry in entries}
            self.taught = taught
            self.index = index
            self._version = version
        logger.info("matcher built from %d entries", len(entries))

    def _current_index(self) -> IntentIndex:
        self.refresh(edited_here=True)
        return self.index

    def judge_on(self, store: KnowledgeStore) -> Judge:
        """How a bot like this one over `store` takes questions (for an operator's preview)."""
        scratch = Bot(store, config=replace(self.config, operators=frozenset()), policy=self.policy, scope=self.scope,
                      segmenter=self.segmenter, utterances=self.utterances, classifier=self.classifier)
        scratch.record_activity = False
        return scratch.judge

    def judge(self, text: str) -> Outcome:
        """How this bot takes a question, asked with an @-mention and unasked in a group; nothing is remembered,
        logged or throttled (each question its own chat, this bot a scratch one made by judge_on)."""
        self._judged += 1
        room = f"preview-{self._judged}"
        now = datetime.now(SHANGHAI)
        asked = self._handle(Incoming(text=text, time=now, sender=room, room=room + "-asked", mentioned=True))
        unasked = self._handle(Incoming(text=text, time=now, sender=room, room=room + "-unasked"))
        answered = asked.replied and asked.recognised
        return Outcome((asked.entry_id or asked.intent) if answered else None, unasked=unasked.replied and not asked.menu,
                       menu=asked.menu, out_of_scope=answered and asked.intent == OUT_OF_SCOPE)

    # -- the entry point -------------------------------------------------------------------

    def handle(self, msg: Incoming) -> Result:
        """Decide the reply to one message; never raises for anything a chat member can send."""
        try:
            self.refresh()
            if is_command(msg.text):
                result = self.commands.run(msg)
                self.refresh(edited_here=True)  # an edit answers the very next message
                return result
            with self._swap:  # the entries and the index of one revision for the whole message
                result = self._handle(msg)
        except Exception:  # the dispatch boundary: a bug must cost one answer, not the bot
            logger.exception("handler failed on message %s", msg.id or "?")
            return Result(reply=render.APOLOGY if msg.addressed else None)
        if self.record_activity:
            try:
                activity.record(self.store, msg, result, aliases=self.config.aliases, keep=self.config.unanswered_keep,
                                group_confidence=self.thresholds.group,
                                retention_days=self.config.retention_days)
            except Exception:  # the activity log is a side channel: its failure must never cost the answer
                logger.exception("activity log failed on message %s", msg.id or "?")
        return result

    def _handle(self, msg: Incoming) -> Result:
        raw = msg.text or ""
        if msg.event == PAT:  # a member patted the bot: the short help line, at most once a minute in a chat
            return Result(intent=HELP, reply=render.PAT_HELP if self.gate.pat_allowed(msg, now=msg.time) else None)
        if speak.is_placeholder(raw):
            return Result(intent=OUT_OF_SCOPE)
        state = self.conversations.get(msg.room, msg.sender, msg.time)
        if state and state.last_reply and self.record_activity and (reported := activity.report_error(
                self.store, msg, state.last_question, state.last_reply, answered_at=state.updated,
                intent=state.last_intent, aliases=self.config.aliases)):
            return reported  # "答错了" right after an answer: queued for review, with a thanks
        # understand: the asker's own words; a quoted message is context, its dates not the asker's
        found = understand(raw, msg.time, index=self.index, scope=self.scope, aliases=self.config.aliases)
        quoted = understand(quoted_words(msg.quoted), msg.time, index=self.index, scope=self.scope,
                            aliases=self.config.aliases) if msg.quoted else None
        if quoted is not None:
            if _SAME_DAY.search(found.text):  # "我也是这天到期": the asker says the quoted date is theirs
                found.slots = [*found.slots, *quoted.slots]
            if len(found.words) <= 2 and found.outside is None:  # "同问" about an out-of-scope question
                found.outside = quoted.outside
            elif found.outside is not None and found.outside.kind == USE and quoted.topic and quoted.outside is None:
                found.outside = None  # "「…积分续办审核了快一个月」一般要多久 怕赶不上入学": the quote says what is asked
        if found.text.startswith(self.scope.acknowledgements) and not (
                found.thanks or found.outside or found.slots or speak.looks_like_question(found.text)
                or _STILL_ASKING.search(found.text)):  # "好的谢谢老师 我先去排队了": chatter, or a thank-you
            found.thanks = not self.scope.thanks.isdisjoint(found.tokens)
            found.outside = None if found.thanks else Verdict(UNRELATED, found.text[:2])
        if (found.outside is not None and found.outside.kind == DOCUMENT and found.outside.marker in self.scope.materials
                and state and state.last_intent in _MATERIALS and self._follows_up(found.text)
                and len(found.words) == 1):
            found.outside = None  # "那户口本呢" right after what to bring: one more material asked about, by name alone
        remembered = dict(state.dates) if state else {}
        # resolve
        if state and state.choices and (choice := _CHOICE.match(found.text)):
            number = int(choice.group(1))
            if number <= len(state.choices) and state.choices[number - 1] in self.entries:  # not disabled since
                resolution = self._settle(state.choices[number - 1], found, remembered, slots=state.slots)
                return self._finish(msg, found, resolution, speak.ANSWER, state, last_text=state.last_text)
        chosen = False
        second: Resolution | None = None
        plain = False  # read by the matcher or a scope marker from its own words alone: the classifier may overrule
        after: str | None = None  # the intent of the sender's previous question, for a message read as asked after it
        last_text = found.text  # the question the next follow-up is read with
        if found.thanks:
            resolution = Resolution(None, 1.0, outside=True)
        elif found.outside is None and (asked := self._date_for_last_question(found, state)):
            resolution = self._settle(asked, found, remembered, score=self.thresholds.minimum)  # "3月16号交的"
        elif (_ASKS_WHAT_TO_ASK.search(found.text) and not found.slots and found.outside is None
              and HELP in self.entries):
            resolution = self._settle(HELP, found, remembered)  # "能问积分的事吗": what the bot answers
        elif not found.words and quoted is None:  # "@小助手 在吗", "小助手在吗", an emoji: nothing to match
            if (msg.addressed or self._names_bot(found.text)) and HELP in self.entries:
                chosen = True
                resolution = self._settle(HELP, found, remembered)
            else:
                resolution = Resolution(None)
        else:
            after = state.last_intent if state else None
            if found.outside or self._on_about_elsewhere(found, state, quoted):
                if not found.outside:  # "要带啥" after "昆山的居住证怎么签注": "网上能办吗" next still asks of Kunshan
                    last_text = state.last_text
                parts = two_parts(found.text, self.index) if found.outside else None
                if parts and not self.scope.outside(self.index.segmenter.tokens(parts[0]), parts[0]):
                    # "签注在哪办？另外港澳通行证能一起办吗": the first part is ours, the rest is not
                    resolution = self._resolve(self.index.match(parts[0]), found, remembered, topic=found.topic)
                else:
                    plain = found.outside is not None and quoted is None
                    resolution = self._outside()
            elif follow_up := self._points_follow_up(found, state):  # "那积分呢" right after a permit answer
                resolution = self._settle(follow_up, found, remembered, score=self.thresholds.group)
            else:
                match, topic, plain = self._match(found, state, quoted)
                resolution = self._resolve(match, found, remembered, topic=topic)
                if (dated := self._asked_by_date(found, resolution, state)) in self.entries:
                    # "车险下周到期 续保哪家便宜": a date alone, no topic word or quote, does not say it is ours: the
                    # classifier may read it, and its leaning out of scope keeps the answer for when it is asked
                    plain = found.topic is None and quoted is None
                    leans_out = plain and self.classifier.read(found.text, found.words, after).intent == OUT_OF_SCOPE
                    resolution = self._settle(dated, found, remembered,  # "三月的最后一天到期": the date says it
                                              score=self.thresholds.minimum if leans_out else 1.0)
                elif self._unread_follow_up(resolution, found, state):  # "要收费吗" just after a points answer
                    plain = False  # as sure as the least recognised answer: said when asked, not unasked in a group
                    resolution = self._settle(state.last_entry, found, remembered, score=self.thresholds.minimum)
                if (resolution.intent in _WHETHER_POINTS_LAST and _permit_lapsed(found.words)  # "居住证过期了 积分还续吗"
                        or self._points_after_lapse(found, state)) and (lapse := self._lapse(found)) in self.entries:
                    plain = False
                    resolution = self._settle(lapse, found, remembered, score=resolution.score)
                if (resolution.rivals or resolution.score < self.thresholds.group or joined(found.text)) and (
                        parts := two_parts(found.text, self.index)):  # two questions, each clear alone: two answers
                    resolution, second = self._two_parts(parts, found, remembered, resolution)
        if (plain or after or found.topic is not None and self._weak(resolution)) and second is None:
            # read by its own words, a message after the sender's question ("那积分呢" after the permit's materials),
            # or one naming the permit or points that nothing read: the classifier may read it, with that question
            resolution = self._as_classified(found, resolution, remembered, after=after)
        if (second is None and resolution.intent == PROXY and PERMIT_MATERIALS in self.entries
                and _ASKS_WHAT_TO_BRING.search(found.text) and not _ASKS_WHO_MAY_GO.search(found.text)):
            resolution = self._settle(PERMIT_MATERIALS, found, remembered, score=resolution.score)  # "孙子去要带什么证件"
        if second is None and (last_day := self._last_day(resolution, found)):  # "积分那边啥时候截止"
            resolution = self._settle(last_day, found, remembered, score=resolution.score)
        if (resolution.entry is not None and not resolution.outside and not msg.addressed
                and not self._ours_in_so_many_words(resolution, found)
                and self.classifier.read(found.text, found.words, after).outside >= LIKELIER_THAN_NOT):
            # unasked, an answer the classifier reads as likelier out of scope than not is kept for when it is asked
            # ("请问上海居住证过期了 社保卡看病还能用吗"), unless an operator's fix or a phrasing worded as the question
            # says it is ours: as sure as the least recognised answer
            resolution = replace(resolution, score=min(resolution.score, self.thresholds.minimum))
        # speak
        say = speak.decide(msg, resolution, found, names_bot=self._names_bot(found.text), thresholds=self.thresholds,
                           chosen=chosen)
        return self._finish(msg, found, resolution, say, state, last_text=last_text, second=second)

    def _resolve(self, match: Match, found: Understanding, remembered: dict, *, topic: str | None = None) -> Resolution:
        return resolve(on_topic(match, self.entries, topic), self.entries, found.slots, found.today,
                       remembered, policy=self.policy, min_confidence=self.thresholds.minimum,
                       ambiguity_margin=self.thresholds.margin,
                       # Words that say permit or points settle a confident match; "续签怎么办理" says neither.
                       confident=self.thresholds.group if topic else float("inf"), hypothetical=found.hypothetical)

    def _as_classified(self, found: Understanding, resolution: Resolution, remembered: dict, *,
                       after: str | None) -> Resolution:
        """The resolution the members' classifier gives instead when it reads another intent sure enough (SURE;
        SURE_ACROSS to cross the scope line either way, never out of it for Shanghai's own renewal; LIKELIER_THAN_NOT
        for a question the matcher could not read that names the permit or points, or for a menu's close call),
        knows the intent read, and the reading found no entry an operator added or taught (their fix stands, as does an
        entry with a phrasing worded as the question) nor a decisive scope verdict (another scheme's points, a place's
        own permit, another document's English name): out of scope, or that intent's entry, as confident as the
        reading when that found one of ours, else just recognised (answered when asked, silent unasked in a group);
        read as the reading's own intent, the reading without its menu of close rivals. `after`: the intent of the
        sender's previous question, when remembered."""
        if (resolution.outside and found.outside is not None and (found.outside.kind == OTHER_POINTS
                                                                   or found.outside.decisive)
                or resolution.intent not in self.classifier.intents
                or self._ours_in_so_many_words(resolution, found)):
            # decided whatever the reading, and not asked: an operator's fix, another scheme's points ("国航积分快过期
            # 了"), a place's own permit ("宜宾居住证") or another document named in full, an intent it does not know,
            # an entry with a phrasing worded as the question
            return resolution
        reading = self.classifier.read(found.text, found.words, after)
        if reading.intent == OUT_OF_SCOPE or resolution.outside:
            needed = SURE_ACROSS
        elif (resolution.entry is None and found.topic is not None
              or resolution.rivals):
            needed = LIKELIER_THAN_NOT
        else:
            needed = SURE
        if reading.probability < needed:
            return resolution
        if reading.intent == resolution.intent:  # agreed: a menu of close rivals is no longer needed
            return replace(resolution, rivals=[])
        if reading.intent == OUT_OF_SCOPE:
            return resolution if self._renews_shanghai(found, after) else self._outside()
        if reading.intent not in self.entries:  # disabled by an operator
            return resolution
        ours = resolution.entry is not None and not resolution.outside
        return self._settle(reading.intent, found, remembered,
                            score=resolution.score if ours else self.thresholds.minimum)

    def _ours_in_so_many_words(self, resolution: Resolution, found: Understanding) -> bool:
        """Whether the reading is an entry an operator added or taught, or one with a phrasing worded as the question:
        the classifier's reading does not overrule it."""
        return resolution.entry is not None and (resolution.entry.id in self.taught
                                                 or resolution.entry.id in self.index.phrased_as(found.text))

    def _outside(self) -> Resolution:
        """Out of scope, answered (when asked) by the out-of-scope entry."""
        return Resolution(self.entries.get(OUT_OF_SCOPE), 1.0, outside=True)

    def _two_parts(self, texts: tuple[str, str], found: Understanding, remembered: dict,
                   whole: Resolution) -> tuple[Resolution, Resolution | None]:
        """A message asking two things ("签注好了积分要不要重新申请 另外社保补缴有没有影响"): each part answered when
        each is an answer of its own catalog intent, the first a confident one (the group threshold), a part without
        topic words taking the topic before it; otherwise the whole message as one question."""
        parts: list[Resolution] = []
        topic = found.topic
        for text in texts:
            topic = self.scope.topic(self.index.words(text)) or topic  # "积分续办要什么材料 另外多久能批下来"
            part = self._resolve(self.index.match(text), found, remembered, topic=topic)
            if part.entry is None or part.outside or part.rivals or (not parts and part.score < self.thresholds.group):
                return whole, None
            parts.append(part)
        first, second = parts
        if first.intent == second.intent:
            return whole, None
        return first, second

    def _settle(self, entry_id: str, found: Understanding, remembered: dict, *, slots=None,
                score: float = 1.0) -> Resolution:
        return settle(self.entries[entry_id], score, self.entries, found.slots if slots is None else slots,
                      found.today, remembered, policy=self.policy, hypothetical=found.hypothetical)

    def _match(self, found: Understanding, state: ChatState | None,
               quoted: Understanding | None) -> tuple[Match, str | None, bool]:
        """The ranking and topic for the message, and whether it was read as a message of its own (no quote, no
        follow-up word or unreadable words after a question of the sender's). A weak or short message is read with its
        context, its topic or place replaced by the message's own (intents.scope.Scope.follow_up): the message it
        quotes ("同问", "我也是"), or for a follow-up ("那积分呢") the sender's previous question."""
        match = self.index.match(found.text) if found.words else Match()
        context = quoted.words if quoted is not None else None
        if context is None and state and state.last_text and (
                self._follows_up(found.text) or self._unreadable(match, found)):
            context = self.index.words(state.last_text)
        if context and self._needs_context(match, found):
            own = [] if _SAME_QUESTION.search(found.text) else found.words  # "同问": the quoted question itself
            words = self.scope.follow_up(context, own) if quoted is None or self.scope.topic(context) else [
                *context, *own]  # "「受理中心：请携带相关材料」相关材料是指啥": the quote is what is asked about
            topic = self.scope.topic(words) or (self._previous_topic(state) if quoted is None else None)
            match = self._naming_both(self.index.match(" ".join(words)), words)
            if set(own) & self.scope.home:  # "那上海呢" after another city's permit: asked of Shanghai, in scope
                match = self._in_shanghai(match)
            return match, topic, False
        match = self._naming_both(match, found.words)
        if self._renews_shanghai(found, state.last_intent if state else None):  # "上海居住证到期是怎么弄的"
            match = self._in_shanghai(match)
        if found.topic is None and state and state.last_text and not self.scope.names_both(found.words):
            return match, self._previous_topic(state), False  # "要带哪些材料" after a points question: its topic
        return match, found.topic, context is None

    def _on_about_elsewhere(self, found: Understanding, state: ChatState | None, quoted: Understanding | None) -> bool:
        """A short follow-up, right after the sender's question about another place, document or policy, that
        asks on about it ("港澳通行证签注…" → "要带居住证吗", "公租房申请要积分吗" → "需要多少分", "武汉的居住证过期了…"
        → "过期两个月了"): at most MAX_WORDS_ON words, no Shanghai, not the permit or points asked with 那 or of their
        renewal ("那积分要每年续吗", "居住证那个签注是在哪个窗口")."""
        if (quoted is not None or state is None or state.last_intent != OUT_OF_SCOPE or not state.last_text
                or len(found.words) > MAX_WORDS_ON or not self.scope.home.isdisjoint(found.words)
                or found.topic and (self._follows_up(found.text) or not self.scope.renewal.isdisjoint(found.words))):
            return False
        return self.scope.outside(self.index.segmenter.tokens(state.last_text), state.last_text) is not None

    def _renews_shanghai(self, found: Understanding, after: str | None) -> bool:
        """Whether the message asks about renewing Shanghai's own permit or points: the topic with 上海 and a renewal
        word ("上海居住证到期是怎么弄的"), or a question naming the permit or points and their renewal itself, naming
        nowhere else and not asked on after an out-of-scope question ("居住證可以在網上續簽嗎"; not "车子年审在哪弄", nor
        "那个也要每年签注吗" after another document's). `after`: the intent of the sender's previous question, when
        remembered."""
        if not found.topic:
            return False
        if not self.scope.home.isdisjoint(found.words):
            return not self.scope.renewal.isdisjoint(found.words)
        return (not self.scope.renewing.isdisjoint(found.words) and speak.looks_like_question(found.text)
                and not self.scope.names_of_itself.isdisjoint(found.words) and after != OUT_OF_SCOPE
                and not self.scope.names_elsewhere(found.tokens, found.text))

    def _in_shanghai(self, match: Match) -> Match:
        """The ranking without the out-of-scope entry, for a question the scope passed about Shanghai's permit: its
        phrasings are other places' permits ("深圳居住证到期了怎么弄"), which a question about Shanghai's is not."""
        return Match.of([pair for pair in match.ranked if self.entries[pair[0]].catalog_id != OUT_OF_SCOPE],
                        match.likelihood)

    def _naming_both(self, match: Match, words: Sequence[str]) -> Match:
        """The ranking with the permit-versus-points intent ruled out when the words name no permit:
        "积分确认和积分续办是一回事吗" asks about two steps of the points, not the permit and the points."""
        if not self.scope.permit_words.isdisjoint(words):
            return match
        return ruled_out(match, {entry_id for entry_id, _ in match.ranked
                                 if self.entries[entry_id].catalog_id == PERMIT_VS_POINTS})

    def _previous_topic(self, state: ChatState) -> str | None:
        """The topic of the sender's previous question: its words', else its answer's ("是我自己去交吗" was about the
        points)."""
        return self.scope.topic(self.index.words(state.last_text)) or topic_of(state.last_intent)

    def _points_follow_up(self, found: Understanding, state: ChatState | None) -> str | None:
        """What a short follow-up naming only the points ("那积分呢", "那积分呢 还作数吗") asks after the sender's
        previous permit question: the catalog's `points_follow_up` of its intent; None otherwise."""
        if state is None or state.last_intent is None or found.topic != "points" or len(
                [word for word in found.words if word not in _EN_FILLERS]) > 4:
            return None
        asks_on = self._follows_up(found.text) or found.text.rstrip("?？!！。 ").endswith("呢")
        return self._points_side(state.last_intent) if asks_on else None

    def _last_day(self, resolution: Resolution, found: Understanding) -> str | None:
        """The catalog's `last_day` of the intent read, when it is an entry here, the reading is no operator's fix and
        the words ask for the last day (a `last_day_words` word, none of `first_day_words`); else None."""
        intent = self.store.catalog.get(resolution.intent or "", {})
        words = set(found.words)
        if (intent.get("last_day") in self.entries and resolution.entry.id not in self.taught
                and not words.isdisjoint(intent.get("last_day_words", []))
                and words.isdisjoint(intent.get("first_day_words", []))):
            return intent["last_day"]
        return None

    def _follows_up(self, text: str) -> bool:
        """Whether a normalised message opens as a follow-up ("那积分呢", "and the points?"), after an acknowledgement
        ("好的 那签完积分呢")."""
        opening = next((word for word in self.scope.acknowledgements if text.startswith(word)), "")
        return bool(_FOLLOW_UP.match(text[len(opening):].lstrip(" ,，!！~")))

    def _points_side(self, intent: str) -> str | None:
        """The catalog's `points_follow_up` of a permit intent, when it is an entry here; else None."""
        follow_up = self.store.catalog.get(intent, {}).get("points_follow_up")
        return follow_up if follow_up in self.entries else None

    def _date_for_last_question(self, found: Understanding, state: ChatState | None) -> str | None:
        """The entry of the sender's previous dated answer when this message only gives a date for it ("3月16号交的"
        after how long the review takes, "我是11月28号签的" after when to confirm the points, "哦不对 是13号签的"
        correcting it): a date of that intent's role or of none, no question, at most MAX_WORDS_BESIDE_DATE other
        words besides a correction; None otherwise."""
        if (state is None or state.last_intent not in ROLE_OF_INTENT or state.last_entry not in self.entries
                or not found.slots or speak.looks_like_question(found.text)
                or any(slot.role not in (None, ROLE_OF_INTENT[state.last_intent]) for slot in found.slots)):
            return None
        rest = found.text
        for slot in sorted(found.slots, key=lambda slot: -slot.mention.start_index):
            rest = f"{rest[:slot.mention.start_index]} {rest[slot.mention.end_index:]}"
        rest = CORRECTION.sub(" ", rest)  # "不对 是13号签的": a correction of the date, not words of a new question
        return state.last_entry if len(self.index.words(rest)) <= MAX_WORDS_BESIDE_DATE else None

    def _asked_by_date(self, found: Understanding, resolution: Resolution, state: ChatState | None) -> str | None:
        """The intent a date's role asks (resolve.INTENT_OF_ROLE) when the words do not say it, of a topic the words
        allow: nothing recognised ("三月的最后一天到期"; "积分刚好这个月到期" is not the permit's), a dated intent no
        date of the message fits, of a day ("1月20号交的 过年前能出来吗" is not the permit's window), or "那上海呢"
        after another place's permit with
        the asker's own expiry and no question of its own the words say surely ("那上海呢 我的下个月到期": the
        window); None otherwise."""
        roles = [slot.role for slot in found.slots if slot.role in INTENT_OF_ROLE]
        if not roles:
            return None
        intent = resolution.intent if resolution.entry is not None else None
        if intent is None:
            return INTENT_OF_ROLE[roles[0]] if found.topic in (None, topic_of(INTENT_OF_ROLE[roles[0]])) else None
        days = [slot.role for slot in found.slots if slot.role in INTENT_OF_ROLE and slot.mention.date is not None]
        if days and intent in ROLE_OF_INTENT and found.topic in (None, topic_of(INTENT_OF_ROLE[days[0]])) and not any(
                _STEP_OF_ROLE[role] == _STEP_OF_ROLE[ROLE_OF_INTENT[intent]] for role in roles):
            return INTENT_OF_ROLE[days[0]]
        if (EXPIRY in roles and intent not in ROLE_OF_INTENT and topic_of(intent) == "permit" and state is not None
                and state.last_intent == OUT_OF_SCOPE and not self.scope.home.isdisjoint(found.words)
                and resolution.score < self.thresholds.group):  # not "上海居住證10月底到期 可以在手機上簽注嗎"
            return INTENT_OF_ROLE[EXPIRY]
        return None

    def _points_after_lapse(self, found: Understanding, state: ChatState | None) -> bool:
        """A question about the points alone, right after the sender's question about an overdue permit, without a
        date or the endorsement done ("那我积分会不会受影响啊", "ok what about my points then?"): what the lapse does
        to them (46 of 55 such tuning labels name why points fail; "补签以后积分…" asks when to renew them)."""
        return (state is not None and state.last_intent == OVERDUE_INTENT and found.topic == "points"
                and not found.slots and not _AFTER_ENDORSING.search(found.text))

    def _lapse(self, found: Understanding) -> str | None:
        """What is asked of the points after the permit lapsed: the overdue answer, worked out from the asker's
        expiry when they give it ("7.1到期 已经过期两个月了 积分还能保住吗"), else the points side of the overdue
        intent (the catalog's points_follow_up: why points fail)."""
        if any(slot.role == EXPIRY for slot in found.slots):
            return OVERDUE_INTENT
        return self._points_side(OVERDUE_INTENT)

    def _unread_follow_up(self, resolution: Resolution, found: Understanding, state: ChatState | None) -> bool:
        """A question right after an answer that nothing else reads (no intent, or only a weak out-of-scope
        phrasing, and no topic of its own) in words members use: it asks on about the answered intent ("要收费吗",
        "周末开门吗"); words no phrasing or member's question has ("蓝色香蕉飞船?") are not."""
        return (self._weak(resolution) and state is not None and state.last_entry in self.entries
                and found.topic is None and speak.looks_like_question(found.text)
                and any(w in self.index.vocabulary for w in found.words))

    def _weak(self, resolution: Resolution) -> bool:
        """No intent read, or only a weak out-of-scope phrasing (below the group threshold)."""
        return resolution.entry is None or (resolution.outside and resolution.score < self.thresholds.group)

    def _unreadable(self, match: Match, found: Understanding) -> bool:
        """Not recognised on its own, though in the library's words ("我上周一交的 这周能好吗" after a question
        about processing time): a follow-up without 那; words the library never uses ("蓝色香蕉飞船") are not."""
        return (match.best is None or match.best[1] < self.thresholds.minimum) and any(
            word in self.index.idf for word in found.words)

    def _needs_context(self, match: Match, found: Understanding) -> bool:
        """Too weak or too short (one or two words) to stand on its own."""
        return match.best is None or match.best[1] < self.thresholds.group or len(found.words) <= 2

    def _names_bot(self, text: str) -> bool:
        return any(alias.lower() in text for alias in self.config.aliases)

    # -- render, the throttle, and what to remember ----------------------------------------------

    def _finish(self, msg: Incoming, found: Understanding, resolution: Resolution, say: str,
                state: ChatState | None, *, last_text: str, second: Resolution | None = None) -> Result:
        entry = resolution.entry
        reply: str | None = None
        remembered = dict(state.dates) if state else {}
        # A newer date replaces a remembered one even when this answer did not use it (issue: "积分也是那天到期吗").
        remembered.update({slot.role: slot.mention.date for slot in found.slots
                           if slot.role is not None and slot.mention.date is not None})
        for part in (resolution, second):
            if part is not None and part.dated is not None and say == speak.ANSWER:
                remembered.update(part.dated.remembered)
        choices: list[str] = []
        if say == speak.ANSWER:
            reply = render.answer(entry, resolution.dated, english=found.english) if second is None else \
                render.two_answers(resolution.entry, resolution.dated, second.entry, second.dated,
                                   english=found.english)
        elif say == speak.MENU:
            offered = [entry, *resolution.rivals]
            choices = [choice.id for choice in offered]
            reply = render.did_you_mean(offered, english=found.english)
        elif say == speak.CANNOT_HELP:
            reply = render.cannot_help(english=found.english)
        elif say == speak.DECLINE:
            reply = render.answer(entry) if entry is not None else render.cannot_help(english=found.english)
        elif say == speak.SMALL_TALK:
            reply = render.small_talk(english=found.english)
        elif say == speak.THANKS:
            reply = render.THANKS
        if found.words and not found.thanks:  # what a follow-up is read with, whatever was said
            self.conversations.put(msg.room, msg.sender, ChatState(
                updated=msg.time, last_intent=resolution.intent if resolution.recognised else None,
                last_entry=entry.id if say == speak.ANSWER and entry is not None and not resolution.outside
                and not entry.id.startswith("bot.") else None,
                last_text=last_text, dates=remembered, choices=choices, slots=found.slots if choices else [],
                last_question=found.raw[:MAX_QUESTION_CHARS] if say == speak.ANSWER else "",
                last_reply=reply if say == speak.ANSWER else ""))
        held_back = ""
        if reply is not None:
            verdict = self.gate.let_through(msg, reply, now=msg.time)
            reply, held_back = verdict.text, "" if verdict.send else verdict.reason
        facts = {} if say == speak.MENU else {**(second.facts if second else {}), **resolution.facts}
        return Result(intent=resolution.intent, confidence=resolution.score, reply=reply, held_back=held_back,
                      entry_id=entry.id if entry is not None and not resolution.outside else None,
                      facts=facts, candidates=resolution.candidates, recognised=resolution.recognised,
                      menu=say == speak.MENU)
