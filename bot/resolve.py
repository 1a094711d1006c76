"""Resolve, the pipeline's second stage: the entry that answers, the dated sibling the asker's date settles, and the
rule facts, each decided once (domain.md's date rules via intents.rules; figures from knowledge/policy.toml)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from intents import rules
from intents.dates import OVERDUE, DateMention
from intents.matcher import DECISIVE, Match
from intents.roles import ENDORSED, EXPIRY, PLANNED, REVIEW, SUBMITTED, DateSlot, pick
from knowledge.faqfile import OUT_OF_SCOPE, Entry
from knowledge.policy import Policy

RENEW_WINDOW = "permit.renew_window"
OVERDUE_INTENT = "permit.overdue"
WHEN_TO_RENEW = "points.when_to_renew"
DEADLINE_AFTER_PERMIT = "points.deadline_after_permit"
PAPER_MATERIALS = "points.paper_materials"
PROCESSING_TIME = "points.processing_time"
PERMIT_VS_POINTS = "points.permit_vs_points"
FAILURE_REASONS = "points.failure_reasons"
PERMIT_MATERIALS, PROXY = "permit.materials", "permit.proxy"
PERMIT_SIBLINGS = frozenset({RENEW_WINDOW, OVERDUE_INTENT})  # told apart by the sign of days to expiry
# Both worked out from the endorsement date, each dated answer saying what to do by when (the confirm answer adds the
# deadline): with the date a menu between them is pointless ("签注完积分有时间限制吗 我6月10号签的").
POINTS_SIBLINGS = frozenset({WHEN_TO_RENEW, DEADLINE_AFTER_PERMIT})
DATED_INTENTS = frozenset({RENEW_WINDOW, OVERDUE_INTENT, WHEN_TO_RENEW, DEADLINE_AFTER_PERMIT, PAPER_MATERIALS,
                           PROCESSING_TIME})
ROLE_OF_INTENT = {RENEW_WINDOW: EXPIRY, OVERDUE_INTENT: EXPIRY, WHEN_TO_RENEW: ENDORSED,
                  DEADLINE_AFTER_PERMIT: ENDORSED, PAPER_MATERIALS: REVIEW, PROCESSING_TIME: SUBMITTED}
# A question nothing else reads whose date says what happened on it asks what follows from that date ("三月的最后一天
# 到期", "9.28提交的 碰上国庆 是不是要等到10月中"): the first intent of the date's role.
INTENT_OF_ROLE = {EXPIRY: RENEW_WINDOW, ENDORSED: WHEN_TO_RENEW, REVIEW: PAPER_MATERIALS, SUBMITTED: PROCESSING_TIME}

# A best scored at most BELOW_MINIMUM under min_confidence is recognised when the naive Bayes likelihood (trained on
# members' questions) makes it CLEARLY (natural log: e²⁰ times) likelier than every other candidate: the blind
# tuning sets O, X, Y, Z (never trained on) 1,506 → 1,510 of 1,600, none worse; stable from 0.03 to 0.07 at 20.
BELOW_MINIMUM, CLEARLY = 0.05, 20.0
# A permit intent for a question whose words name only the points (or the reverse) keeps this share of its score.
OFF_TOPIC = 0.6

# Dated.kind: which computation an answer carries (render words each one).
ASK = "ask"  # no usable date: the rule, and a request for the date
INVALID = "invalid"  # a date that does not exist
PERMIT = "permit"  # an expiry date or days overdue → window and status
PERMIT_APPROX = "permit_approx"  # expiry within a period ("过期两个多月")
PERMIT_UNSETTLED = "permit_unsettled"  # a period whose two ends have different statuses ("12月到期")
PERMIT_STRADDLES = "permit_straddles"  # a rough duration across a 60- or 90-day line ("过期快两个月"): both cases
ENDORSED_FOR_PERMIT = "endorsed_for_permit"  # a permit question answered from the endorsement date
POINTS_CONFIRM = "points_confirm"
POINTS_DEADLINE = "points_deadline"
ENDORSED_PERIOD = "endorsed_period"  # "签注两个多月了"
PAPER = "paper"
PROCESSING = "processing"


@dataclass
class Dated:
    """One dated computation: the replay facts and what render needs to word it."""

    intent: str  # the intent the date settles (renew window vs overdue), else the asked one
    kind: str
    role: str
    today: date
    policy: Policy
    facts: dict[str, object] = field(default_factory=dict)
    rule: Any = None  # the intents.rules result the facts come from
    mention: DateMention | None = None
    remembered: dict[str, date] = field(default_factory=dict)  # dates this message gives, to keep for follow-ups
    span: tuple[int, int] | None = None  # (low, high) days of an approximate period
    statuses: list[str] = field(default_factory=list)  # PERMIT_STRADDLES: each status the period's days can have
    asked_about_points: bool = False  # an expiry answer to a points question
    planned: bool = False  # the endorsement date is a plan ("下周一去签注"): the answer says "如果 … 签注"


def _permit_intent(intent: str, days_to_expiry: int) -> str:
    if intent not in (RENEW_WINDOW, OVERDUE_INTENT):
        return intent
    return OVERDUE_INTENT if days_to_expiry < 0 else RENEW_WINDOW


def _permit(intent: str, mention: DateMention, today: date, p: Policy) -> Dated:
    if mention.date is not None:
        if mention.cue == OVERDUE:  # "过期40天": days overdue, no expiry date claimed
            window = rules.permit_overdue_days((today - mention.date).days, rules=p)
        else:  # a date, or "还有40天到期": today + 40 is the expiry date
            window = rules.permit_window(mention.date, today, rules=p)
        return Dated(_permit_intent(intent, window.days_to_expiry), PERMIT, EXPIRY, today, p,
                     rules.facts_of(window), window, mention, {EXPIRY: mention.date})
    # "过期两个多月": the expiry lies in a period; the status holds if it is the same on every day of it.
    low, high = mention.day_range(today) or (0, 0)  # days to expiry, least and most
    statuses = list(dict.fromkeys(rules.permit_status(days, rules=p) for days in range(high, low - 1, -1)))
    if len(statuses) > 1:
        if mention.cue is None:  # "12月到期" said in November: which day matters; "上上个月到期的": overdue, but how long
            settled = _permit_intent(intent, high) if high < 0 or low >= 0 else intent
            return Dated(settled, PERMIT_UNSETTLED, EXPIRY, today, p, mention=mention)
        # "过期快两个月" (55–61 days): both sides of the 60-day line, so both answers, and ask for the day.
        return Dated(_permit_intent(intent, high), PERMIT_STRADDLES, EXPIRY, today, p, mention=mention,
                     span=(low, high), statuses=statuses)
    window = rules.permit_overdue_days(-(low + high) // 2, rules=p)
    return Dated(_permit_intent(intent, window.days_to_expiry), PERMIT_APPROX, EXPIRY, today, p,
                 {"status": window.status}, window, mention, span=(low, high))


def _endorsed(intent: str, mention: DateMention, today: date, p: Policy) -> Dated:
    endorsed = mention.date
    assert endorsed is not None
    remembered = {ENDORSED: endorsed}
    if intent in (RENEW_WINDOW, OVERDUE_INTENT):
        return Dated(intent, ENDORSED_FOR_PERMIT, ENDORSED, today, p, {"endorsed_date": endorsed.isoformat()},
                     rules.points_deadline(endorsed, rules=p), mention, remembered)
    if intent == DEADLINE_AFTER_PERMIT:
        result = rules.points_deadline(endorsed, rules=p)
        return Dated(intent, POINTS_DEADLINE, ENDORSED, today, p, rules.facts_of(result), result, mention, remembered)
    result = rules.points_after_endorsement(endorsed, rules=p)
    return Dated(intent, POINTS_CONFIRM, ENDORSED, today, p, rules.facts_of(result), result, mention, remembered)


def _for_role(intent: str, role: str, mention: DateMention, today: date, p: Policy) -> Dated:
    if mention.invalid:
        return Dated(intent, INVALID, role, today, p, mention=mention)
    if role == EXPIRY:
        dated = _permit(intent, mention, today, p)
        dated.asked_about_points = intent not in (RENEW_WINDOW, OVERDUE_INTENT)
        return dated
    if mention.date is None:
        if role == ENDORSED and mention.period is not None and mention.period[1] <= today:
            earliest, latest = mention.period
            return Dated(intent, ENDORSED_PERIOD, role, today, p, mention=mention,
                         span=((today - latest).days, (today - earliest).days))
        return Dated(intent, ASK, ROLE_OF_INTENT[intent], today, p)
    if role == ENDORSED:
        return _endorsed(intent, mention, today, p)
    if role == REVIEW:
        result = rules.paper_submit(mention.date, rules=p)
        return Dated(intent, PAPER, role, today, p, rules.facts_of(result), result, mention, {REVIEW: mention.date})
    result = rules.processing_result(mention.date, rules=p)
    return Dated(intent, PROCESSING, role, today, p, rules.facts_of(result), result, mention,
                 {SUBMITTED: mention.date})


def _remembered_mention(day: date) -> DateMention:
    return DateMention(day.isoformat(), 0, 0, day, None, False, "remembered", None, True)


def resolve_dates(intent: str, slots: list[DateSlot], today: date, remembered: dict[str, date] | None = None,
                  *, policy: Policy) -> Dated | None:
    """The dated computation for `intent` (None when the intent computes no dates).

    The intent's own role is looked for first (an expiry for the permit intents, the endorsement for the points
    ones), then a date of another role (a permit question about an endorsement), then the sender's remembered
    dates (a follow-up such as "那积分呢"). Rules: domain.md, "Rules with dates".
    """
    if intent not in DATED_INTENTS:
        return None
    role = ROLE_OF_INTENT[intent]
    mention = pick(slots, role)
    if mention is not None:
        return _for_role(intent, role, mention, today, policy)
    for slot in slots:
        if slot.role in (EXPIRY, ENDORSED):
            return _for_role(intent, slot.role, slot.mention, today, policy)
    planned = next((slot.mention for slot in slots if slot.role == PLANNED), None)
    if planned is not None and role == ENDORSED:  # "下周一去签注，积分啥时候能刷新": answered as a plan
        dated = _endorsed(intent, planned, today, policy)
        dated.planned, dated.remembered = True, {}
        return dated
    remembered = remembered or {}
    for candidate in (role, EXPIRY, ENDORSED):
        if candidate in remembered:
            dated = _for_role(intent, candidate, _remembered_mention(remembered[candidate]), today, policy)
            dated.remembered = {}
            return dated
    return Dated(intent, ASK, role, today, policy)


# -- the entry ---------------------------------------------------------------------------------------------


@dataclass
class Resolution:
    """The entry chosen for a message (None: nothing recognised), its score, close rivals and dated computation."""

    entry: Entry | None
    score: float = 0.0
    candidates: list[tuple[str, float]] = field(default_factory=list)
    rivals: list[Entry] = field(default_factory=list)  # other catalog intents too close to call (menu material)
    dated: Dated | None = None
    outside: bool = False  # a scope marker or the out-of-scope entry decided it

    @property
    def intent(self) -> str:
        return self.entry.catalog_id if self.entry is not None and not self.outside else OUT_OF_SCOPE

    @property
    def recognised(self) -> bool:
        return self.entry is not None or self.outside

    @property
    def facts(self) -> dict[str, object]:
        return self.dated.facts if self.dated else {}


def settle(entry: Entry, score: float, entries: dict[str, Entry], slots: list[DateSlot], today: date,
           remembered: dict[str, date], *, policy: Policy, candidates: list[tuple[str, float]] | None = None,
           hypothetical: bool = False) -> Resolution:
    """Resolve one entry with its dates: the asker's own date decides between the dated siblings (renew window vs
    overdue by the sign of days to expiry), except that a `hypothetical` overdue question ("要是拖到过期了会怎样",
    asked before the expiry) keeps the overdue answer, its date's window leading it."""
    dated = resolve_dates(entry.catalog_id, slots, today, remembered, policy=policy)
    if dated is not None and hypothetical and entry.catalog_id == OVERDUE_INTENT:
        dated.intent = OVERDUE_INTENT
    if dated is not None and (dated.facts or dated.intent != entry.catalog_id):
        entry = entries.get(dated.intent, entry)
    return Resolution(entry, score, candidates or [], dated=dated)


def on_topic(match: Match, entries: dict[str, Entry], topic: str | None) -> Match:
    """The ranking with intents of the other topic (a permit intent for a points question) ruled out (`ruled_out`)."""
    if topic is None:
        return match
    return ruled_out(match, {entry_id for entry_id, _ in match.ranked
                             if topic_of(entries[entry_id].catalog_id) not in (topic, None)})


def ruled_out(match: Match, off: set[str]) -> Match:
    """The ranking with the entries `off` scored OFF_TOPIC lower: the words said they are not what is asked, so they
    are never likelier either (never put first by the likelihood nor a menu rival)."""
    if not off:
        return match
    ranked = [(entry_id, score * OFF_TOPIC if entry_id in off else score) for entry_id, score in match.ranked]
    return Match.of(ranked, {entry_id: -math.inf if entry_id in off else value
                             for entry_id, value in match.likelihood.items()})


def topic_of(catalog_id: str | None) -> str | None:
    """"permit" or "points" for an intent of that topic ("points.materials" → "points"), else None."""
    domain = (catalog_id or "").split(".")[0]
    return domain if domain in ("permit", "points") else None


def _clearly_likeliest(match: Match) -> bool:
    """Whether the best-ranked intent is the likeliest by CLEARLY natural-log units over every other candidate."""
    best = match.likelihood.get(match.ranked[0][0], -math.inf)
    others = [match.likelihood.get(entry_id, -math.inf) for entry_id, _ in match.ranked[1:]]
    return bool(others) and best - max(others) >= CLEARLY


def resolve(match: Match, entries: dict[str, Entry], slots: list[DateSlot], today: date,
            remembered: dict[str, date], *, policy: Policy, min_confidence: float, ambiguity_margin: float,
            confident: float, hypothetical: bool = False) -> Resolution:
    """The match made an answer: below `min_confidence` nothing is recognised, unless the best is at most
    BELOW_MINIMUM under it and CLEARLY more likely than any other (then it counts as just recognised: answered when
    asked, silent unasked in a group); below `confident`, runners-up of
    other catalog intents within `ambiguity_margin` of the best (at most two, not the one the date settles) are its
    rivals, unless the phrasing likelihood already tells them apart (DECISIVE-ly less likely than the best).
    A best at `confident` or above is answered even with a close runner-up: on the tuning sets such a best was the
    right one four times as often as the runner-up."""
    best = match.best
    if best is not None and min_confidence - BELOW_MINIMUM <= best[1] < min_confidence and _clearly_likeliest(match):
        best = (best[0], min_confidence)  # "我们HR说5.20就提交了 到现在还没消息": the members' words say which
    if best is None or best[1] < min_confidence:
        return Resolution(None, best[1] if best else 0.0, match.ranked)
    entry_id, score = best
    entry = entries[entry_id]
    if entry.catalog_id == OUT_OF_SCOPE:
        return Resolution(entry, score, match.ranked, outside=True)
    resolution = settle(entry, score, entries, slots, today, remembered, policy=policy, candidates=match.ranked,
                        hypothetical=hypothetical)
    settled = {entry.catalog_id}
    if resolution.dated is not None and resolution.dated.facts:
        settled.add(resolution.dated.intent)
        for siblings in (PERMIT_SIBLINGS, POINTS_SIBLINGS):
            if resolution.dated.intent in siblings:
                settled |= siblings
    chosen = resolution.entry
    rivals = [chosen]
    for other_id, other_score in match.ranked[1:] if score < confident else ():
        other = entries[other_id]
        if score - other_score > ambiguity_margin or len(rivals) == 3:
            break
        if other.catalog_id not in settled | {r.catalog_id for r in rivals} | {OUT_OF_SCOPE} and (
                match.likelihood.get(other_id, 0.0) >= match.likelihood.get(entry_id, 0.0) - DECISIVE):
            rivals.append(other)
    resolution.rivals = rivals[1:]
    return resolution
