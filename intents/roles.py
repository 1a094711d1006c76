"""Date roles: what happened on each date a message mentions (expiry, endorsed, review, submitted), from the words around it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from intents.dates import (
    EN_OBJECT, OVERDUE, RELATIVE, SINCE_ENDORSED, SINCE_REVIEWED, SINCE_SUBMITTED, UNTIL_EXPIRY, DateMention, find_dates,
)

# Roles a date can play; they are also the keys of a sender's remembered dates. PLANNED: an endorsement still to
# come ("下周一去签注"), which a points answer uses as a plan, never remembered as done.
EXPIRY, ENDORSED, REVIEW, SUBMITTED, PLANNED = "expiry", "endorsed", "review", "submitted", "planned"
OTHER = "other"  # a date of something else (when an SMS came, when the permit was first issued): left out of the slots

_ROLE_OF_CUE = {OVERDUE: EXPIRY, UNTIL_EXPIRY: EXPIRY, SINCE_ENDORSED: ENDORSED, SINCE_REVIEWED: REVIEW,
                SINCE_SUBMITTED: SUBMITTED}
# "明早9.30去签注", "明天下午3点去签": a time of day between the date and what happens on it.
_TIME_OF_DAY = r"(?:(?:上午|下午|早上|中午|晚上)?\s*\d{1,2}(?:[.:：]\d{1,2}|点半?(?:\d{1,2}分?)?))?"
_MODIFIERS = r"(?:就|已经|已|才|刚刚|刚|会|要|将|正好|刚好)?"
# The word right after a date (or right before it) says what happened on it.
_ROLE_AFTER = {
    EXPIRY: re.compile(r"\s*" + _MODIFIERS + r"\s*(?:到期|过期|失效|截止|满期|expir)"),
    ENDORSED: re.compile(r"\s*(?:的时候)?\s*" + _TIME_OF_DAY + r"\s*" + _MODIFIERS
                         + r"\s*(?:去|再去|准备去|打算去|计划去)?\s*(?:社区)?\s*(?:签注|续签|签|年审|endorsed)"),
    REVIEW: re.compile(r"\s*(?:单位)?\s*" + _MODIFIERS + r"\s*(?:审核|审)"),
    SUBMITTED: re.compile(r"\s*" + _MODIFIERS + r"\s*(?:提交|递交|交|申请|submitted)"),
}
# A date right before one of these is when a message or notice came, not a date of the rules.
_OTHER_AFTER = re.compile(r"\s*(?:就|已经|已|才|刚刚|刚)?\s*(?:收到|接到|看到|通知|发了|发来)")
# "居住证是去年10.8办的": when the permit was issued, not when it expires (nor an endorsement: "3月5号办的签注").
_PERMIT_BEFORE = re.compile(r"(?:居住证|证)\s*(?:是|在|于)?\s*(?:[去前今]年|\d{2,4}\s*年)?\s*$")
_ISSUED_AFTER = re.compile(r"\s*(?:就|才|刚)?\s*(?:办|办理|申领|领|拿|拿到|办下来)\s*(?:的|了)(?!\s*(?:签注|续签|签|积分|续办))")
# A member correcting the date they just gave ("上个月底 哦不对 是这个月底", "不对 是13号签的"): the later date stands.
CORRECTION = re.compile(r"(?<!对)不对|记错了?|说错了?|搞错了?|打错了?|写错了?|看错了?|更正一下|更正|纠正一下|sorry|typo|oops")
# Further into the clause ("今天上午已经在随申办签好了") the verb counts when the clause says it is done.
_CLAUSE = re.compile(r"[^，。,.!?！？;；\s]{0,14}")
_CLAUSE_ROLE = {
    ENDORSED: re.compile(r"(?:签注|续签|签|年审)(?:好|完|过)?(?:了|的)|已经?[^了的]*(?:签注|续签|签)"),
    REVIEW: re.compile(r"审核?(?:好|完|过|通过)?(?:了|的)|已经?[^了的]*审"),
    SUBMITTED: re.compile(r"(?:提交|递交|交)(?:好|完|上去|过)?(?:了|的)|已经?[^了的]*(?:提交|递交|交)"),
    EXPIRY: re.compile(r"(?:到期|过期|失效)"),
}
_ROLE_BEFORE = {
    EXPIRY: re.compile(r"(?:(?:到期|过期|有效期|有效期至|截止|失效)(?:日|日期|时间)?(?:是|为|在)?(?:至|到)?"
                       r"|expir(?:es|ed|ing|y)(?: date)?(?: is| was)?(?: on| since)?|valid (?:until|till|to))\s*$"),
    ENDORSED: re.compile(r"(?:(?:签注|签)(?:日|日期|时间)?(?:是|为|在)?|(?:endorsed|renewed)" + EN_OBJECT
                         + r"|endorsement(?: was| got)?(?: done| made)?(?: on)?)\s*$"),
    REVIEW: re.compile(r"(?:审核(?:日|日期|时间)?(?:是|为|在)|reviewed(?: it)?(?: on)?)\s*$"),
    SUBMITTED: re.compile(r"(?:提交(?:日|日期|时间)?(?:是|为|在)|submitted(?: it)?(?: on)?)\s*$"),
}


@dataclass(frozen=True)
class DateSlot:
    """A date mention with the role the words around it give it; `role` None: unmarked (the intent decides)."""

    mention: DateMention
    role: str | None


def role_of(mention: DateMention, text: str, clause_end: int | None = None) -> str | None:
    """The role of one mention in normalised `text`, OTHER when it is when something else happened (a message
    came: "上个月底收到短信说…快到期了"; the permit was issued), or None when no word marks it. The words after
    the mention are read up to `clause_end`."""
    if mention.cue is not None:
        return _ROLE_OF_CUE.get(mention.cue)
    before = text[max(0, mention.start_index - 24):mention.start_index]
    if _OTHER_AFTER.match(text, mention.end_index) \
            or (_PERMIT_BEFORE.search(before) and _ISSUED_AFTER.match(text, mention.end_index)):
        return OTHER
    for role, pattern in _ROLE_AFTER.items():
        if pattern.match(text, mention.end_index):
            return role
    clause = _CLAUSE.match(text, mention.end_index, len(text) if clause_end is None else clause_end)
    if clause is not None and clause.group(0):
        for role, pattern in _CLAUSE_ROLE.items():
            if pattern.search(clause.group(0)):
                return role
    for role, pattern in _ROLE_BEFORE.items():
        if pattern.search(before):
            return role
    return None


def is_day_word(mention: DateMention) -> bool:
    """今天, 上周五, 3天前: counted from today, unlike a calendar date (12月5号, 下个月10号)."""
    return mention.kind == RELATIVE and "月" not in mention.text


def date_slots(text: str, now: datetime, today: date) -> list[DateSlot]:
    """The dates of normalised `text` with their roles; unmarked days from today on ("今天能签吗") are when the
    asker acts, not a rule date, and are left out, as is a date the asker corrects later in the message."""
    slots: list[DateSlot] = []
    mentions = find_dates(text, now)
    for mention, following in zip(mentions, [*mentions[1:], None]):
        if following is not None and CORRECTION.search(text, mention.end_index, following.start_index):
            continue
        # the next date starts another clause: "去年5月办的所以今年5月到期", "今天才发现这个月28号到期"
        role = role_of(mention, text, following.start_index if following is not None else None)
        if role == OTHER:
            continue
        if role == ENDORSED and mention.date is not None and mention.date > today:
            role = PLANNED  # "下周一去签注": not done yet
        if role is not None:
            slots.append(DateSlot(mention, role))
        elif mention.date is not None or mention.invalid:
            if is_day_word(mention) and mention.date is not None and mention.date >= today:
                continue
            slots.append(DateSlot(mention, None))
    return slots


def pick(slots: list[DateSlot], role: str) -> DateMention | None:
    """The mention that plays `role`: the first marked so, else the first unmarked one (an expiry is never a day word)."""
    marked = [slot.mention for slot in slots if slot.role == role]
    if marked:
        return marked[0]
    bare = [slot.mention for slot in slots if slot.role is None and not (role == EXPIRY and is_day_word(slot.mention))]
    return bare[0] if bare else None
