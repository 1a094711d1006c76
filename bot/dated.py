"""Dated answers: the dates in a message (or remembered ones) turned into replay facts and the computed reply text."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from intents import rules
from intents.dates import (
    OVERDUE, RELATIVE, SINCE_ENDORSED, SINCE_REVIEWED, SINCE_SUBMITTED, UNTIL_EXPIRY, DateMention, find_dates,
    message_date,
)
from intents.workdays import default_calendar

RENEW_WINDOW = "permit.renew_window"
OVERDUE_INTENT = "permit.overdue"
WHEN_TO_RENEW = "points.when_to_renew"
DEADLINE_AFTER_PERMIT = "points.deadline_after_permit"
PAPER_MATERIALS = "points.paper_materials"
PROCESSING_TIME = "points.processing_time"
DATED_INTENTS = frozenset({RENEW_WINDOW, OVERDUE_INTENT, WHEN_TO_RENEW, DEADLINE_AFTER_PERMIT, PAPER_MATERIALS,
                           PROCESSING_TIME})

# Roles a date can play; they are also the keys of DatedAnswer.remembered.
EXPIRY, ENDORSED, REVIEW, SUBMITTED = "expiry", "endorsed", "review", "submitted"
_ROLE_OF_INTENT = {RENEW_WINDOW: EXPIRY, OVERDUE_INTENT: EXPIRY, WHEN_TO_RENEW: ENDORSED,
                   DEADLINE_AFTER_PERMIT: ENDORSED, PAPER_MATERIALS: REVIEW, PROCESSING_TIME: SUBMITTED}
_ROLE_OF_CUE = {OVERDUE: EXPIRY, UNTIL_EXPIRY: EXPIRY, SINCE_ENDORSED: ENDORSED, SINCE_REVIEWED: REVIEW,
                SINCE_SUBMITTED: SUBMITTED}
_MODIFIERS = r"(?:就|已经|已|才|刚刚|刚|会|要|将|正好|刚好)?"
# The word right after a date (or right before it) says what happened on it.
_ROLE_AFTER = {
    EXPIRY: re.compile(r"\s*" + _MODIFIERS + r"\s*(?:到期|过期|失效|截止|满期)"),
    ENDORSED: re.compile(r"\s*(?:的时候)?\s*" + _MODIFIERS + r"\s*(?:签注|续签|签|年审)"),
    REVIEW: re.compile(r"\s*(?:单位)?\s*" + _MODIFIERS + r"\s*(?:审核|审)"),
    SUBMITTED: re.compile(r"\s*" + _MODIFIERS + r"\s*(?:提交|递交|交|申请)"),
}
# Further into the clause ("今天上午已经在随申办签好了") the verb counts when the clause says it is done.
_CLAUSE = re.compile(r"[^，。,.!?！？;；\s]{0,14}")
_CLAUSE_ROLE = {
    ENDORSED: re.compile(r"(?:签注|续签|签|年审)(?:好|完|过)?(?:了|的)|已经?[^了的]*(?:签注|续签|签)"),
    REVIEW: re.compile(r"审核?(?:好|完|过|通过)?(?:了|的)|已经?[^了的]*审"),
    SUBMITTED: re.compile(r"(?:提交|递交|交)(?:好|完|上去|过)?(?:了|的)|已经?[^了的]*(?:提交|递交|交)"),
    EXPIRY: re.compile(r"(?:到期|过期|失效)"),
}
_ROLE_BEFORE = {
    EXPIRY: re.compile(r"(?:到期|过期|有效期|有效期至|截止|失效)(?:日|日期|时间)?(?:是|为|在|至|到)?\s*$"),
    ENDORSED: re.compile(r"(?:签注|签)(?:日|日期|时间)?(?:是|为|在)?\s*$"),
    REVIEW: re.compile(r"审核(?:日|日期|时间)?(?:是|为|在)\s*$"),
    SUBMITTED: re.compile(r"提交(?:日|日期|时间)?(?:是|为|在)\s*$"),
}

_ASK = {
    RENEW_WINDOW: "居住证签注窗口是到期前 {p.window_opens_days_before_expiry} 天起，到期后 "
                  "{p.window_closes_days_after_expiry} 天内。告诉我你的到期日（比如“12月5号到期”），我帮你算出具体日期。",
    OVERDUE_INTENT: "居住证到期后 {p.window_closes_days_after_expiry} 天内仍可签注，居住年限连续计算；指南说逾期 "
                    "{p.window_closes_days_after_expiry}–{p.reapply_after_days_overdue} 天还能签注但年限重新计算，超过 "
                    "{p.reapply_after_days_overdue} 天要重新申领（有的指南说超过 {p.window_closes_days_after_expiry} "
                    "天就要）。告诉我到期日或已经过期多少天，我帮你判断。",
    WHEN_TO_RENEW: "居住证签注后第 {p.points_confirm_from_workday} 个工作日起可以在网上做积分确认（刷新有效期），数据一般在第 "
                   "{p.points_confirm_typical_workday} 个工作日前到位；积分续办要在签注后 "
                   "{p.points_deadline_days_after_endorsement} 天内完成。告诉我签注日期，我帮你算出具体哪天。",
    DEADLINE_AFTER_PERMIT: "指南说居住证签注后 {p.points_deadline_days_after_endorsement} 天内要办好积分续办，"
                           "否则积分要重新申请。告诉我签注日期，我帮你算截止哪天。",
    PAPER_MATERIALS: "如果网上审核后系统提示要交书面材料，是在审核后第 {p.paper_submit_workday} "
                     "个工作日起由单位经办人递交。告诉我单位审核的日期，我可以帮你算具体哪天。",
    PROCESSING_TIME: "信息没有变化的一般提交后 {p.result_typical_workday} 个工作日左右出结果，最长按 "
                     "{p.result_expected_workday} 个工作日估算（信息有变更的约 {p.result_expected_workday} 个工作日）。"
                     "告诉我提交日期，我帮你算具体日期。",
}
_ROLE_WORD = {EXPIRY: "到期", ENDORSED: "签注", REVIEW: "审核", SUBMITTED: "提交"}


@dataclass
class DatedAnswer:
    """Computed facts and the reply text that goes before the FAQ answer."""

    intent: str
    facts: dict[str, object]
    text: str
    remembered: dict[str, date] = field(default_factory=dict)


def _role_of(mention: DateMention, text: str) -> str | None:
    if mention.cue is not None:
        return _ROLE_OF_CUE.get(mention.cue)
    for role, pattern in _ROLE_AFTER.items():
        if pattern.match(text, mention.end_index):
            return role
    clause = _CLAUSE.match(text, mention.end_index)
    if clause is not None and clause.group(0):
        for role, pattern in _CLAUSE_ROLE.items():
            if pattern.search(clause.group(0)):
                return role
    before = text[max(0, mention.start_index - 8):mention.start_index]
    for role, pattern in _ROLE_BEFORE.items():
        if pattern.search(before):
            return role
    return None


@dataclass(frozen=True)
class _Found:
    role: str
    mention: DateMention


def _classify(text: str, now: datetime, today: date) -> list[_Found | DateMention]:
    """Mentions with a role; unmarked ones stay bare (their role comes from the intent)."""
    out: list[_Found | DateMention] = []
    for mention in find_dates(text, now):
        role = _role_of(mention, text)
        if role is not None:
            out.append(_Found(role, mention))
        elif mention.date is not None or mention.invalid:
            # "今天能签吗", "明天去交": an unmarked day from today on is when they act, not a rule date.
            if _day_word(mention) and mention.date is not None and mention.date >= today:
                continue
            out.append(mention)
    return out


def _day_word(mention: DateMention) -> bool:
    """今天, 上周五, 3天前: counted from today, unlike a calendar date (12月5号, 下个月10号)."""
    return mention.kind == RELATIVE and "月" not in mention.text


def _pick(found: list[_Found | DateMention], role: str) -> DateMention | None:
    marked = [f.mention for f in found if isinstance(f, _Found) and f.role == role]
    if marked:
        return marked[0]
    # An expiry is a calendar date; "昨天" with no verb is when something else happened.
    bare = [f for f in found if isinstance(f, DateMention) and not (role == EXPIRY and _day_word(f))]
    return bare[0] if bare else None


def _days_phrase(days: int) -> str:
    if days > 0:
        return f"还有 {days} 天"
    if days == 0:
        return "就是今天"
    return f"已过去 {-days} 天"


def _calendar_note(start: date, end: date) -> str:
    """What the working-day count over (start, end] did not know, per year without a published schedule."""
    calendar = default_calendar()
    kinds: dict[int, str] = {}
    for offset in range(1, (end - start).days + 1):
        day = start + timedelta(days=offset)
        kinds.setdefault(day.year, calendar.is_workday(day)[1])  # one kind per year

    def named(kind: str) -> str:
        return "、".join(f"{year} 年" for year, known in sorted(kinds.items()) if known == kind)

    note = ""
    if statutory := named(rules.STATUTORY_ONLY):
        note += f"（{statutory}的放假安排还没公布：已跳过周末和元旦、春节等法定节假日，调休上班日还不知道，以公布的为准。）"
    if weekends := named(rules.WEEKENDS_ONLY):
        note += f"（{weekends}的法定节假日安排还没有收录进日历，这里只跳过了周末，遇到节假日请顺延。）"
    return note


# ---------------------------------------------------------------- permit

def _permit_text(window: rules.PermitWindow, p: rules.Policy, today: date, *, approx: str | None = None) -> str:
    days = window.days_to_expiry
    if window.expiry_date is not None:
        head = f"按 {window.expiry_date} 到期计算，"
        head += f"还有 {days} 天到期" if days > 0 else ("今天到期" if days == 0 else f"已经过期 {-days} 天")
        head += f"，签注窗口 {window.window_start} 至 {window.window_end}。"
    elif approx is not None:
        head = f"按{approx}计算。"
    else:
        head = f"按还有 {days} 天到期计算。" if days >= 0 else f"按已经过期 {-days} 天计算。"
    grace, reapply, opens = p.window_closes_days_after_expiry, p.reapply_after_days_overdue, p.window_opens_days_before_expiry
    status = window.status
    if status == rules.TOO_EARLY:
        if approx is not None:
            return head + (f"现在多半还不能签注：窗口在到期前 {opens} 天才打开，到时可以在社区事务受理服务中心"
                           "或随申办、一网通办办理。")
        wait = (window.window_start - today).days if window.window_start else days - opens
        when = f"{window.window_start} 起" if window.window_start else f"{wait} 天后"
        return head + (f"现在还不能签注：窗口在到期前 {opens} 天才打开，还要等 {wait} 天，{when}可以在社区事务受理服务中心"
                       f"或随申办、一网通办办理。")
    if status == rules.IN_WINDOW:
        return head + ("现在已在签注窗口内，可以去社区事务受理服务中心或在随申办、一网通办办理签注，建议尽早办，"
                       "别拖到到期以后。")
    if status == rules.GRACE:
        later = f"超过 {grace} 天，指南说居住年限要重新计算，超过 {reapply} 天要重新申领。"
        if approx is not None:
            return head + f"到期后 {grace} 天内仍可签注，居住年限连续计算，请尽快去社区事务受理服务中心办理；{later}"
        left = grace + days
        if left == 0:
            return head + (f"今天是逾期第 {grace} 天，今天办年限仍连续，请今天就去社区事务受理服务中心办理；从明天起，"
                           f"指南说居住年限要重新计算，超过 {reapply} 天要重新申领。")
        return head + (f"到期后 {grace} 天内仍可签注，居住年限连续计算，还剩 {left} 天"
                       f"{'（' + str(window.window_end) + ' 截止）' if window.window_end else ''}，请尽快去社区事务受理服务中心办理；"
                       f"{later}")
    if status == rules.RECALCULATED:
        last_day = f"今天是逾期第 {reapply} 天，按这个说法是还能签注的最后一天。" if approx is None and -days == reapply else ""
        return head + (f"已超过到期后 {grace} 天的签注期。指南的说法是：逾期 {grace + 1}–{reapply} 天仍可签注，但居住年限"
                       f"重新计算；超过 {reapply} 天要重新申领居住证（有的指南说超过 {grace} 天就要重新申领）。{last_day}"
                       "能否补签请尽快到社区事务受理服务中心确认。")
    return head + (f"已超过 {reapply} 天。指南的说法是：逾期超过 {reapply} 天要重新申领居住证（有的指南说超过 {grace} 天"
                   f"就要），一般要先重新办理居住登记，约 {p.reregistration_wait_months} 个月后才能申领新证；积分也随居住证失效。"
                   "具体请到社区事务受理服务中心确认。")


def _permit_intent(intent: str, days_to_expiry: int) -> str:
    if intent not in (RENEW_WINDOW, OVERDUE_INTENT):
        return intent
    return OVERDUE_INTENT if days_to_expiry < 0 else RENEW_WINDOW


def _status_cases(statuses: list[str], p: rules.Policy) -> str:
    """What each possible status means, for an expiry known only roughly ("过期快两个月")."""
    grace, reapply, opens = p.window_closes_days_after_expiry, p.reapply_after_days_overdue, p.window_opens_days_before_expiry
    case = {rules.TOO_EARLY: f"如果离到期还有 {opens} 天以上，现在还不能签注",
            rules.IN_WINDOW: f"如果离到期在 {opens} 天以内，现在就能签注",
            rules.GRACE: f"如果过期没超过 {grace} 天，仍可签注，居住年限连续计算",
            rules.RECALCULATED: f"如果过期 {grace + 1}–{reapply} 天，指南说还能签注但居住年限重新计算",
            rules.REAPPLY: f"如果过期超过 {reapply} 天，指南说要重新申领居住证"}
    return "；".join(case[status] for status in statuses) + "。"


def _permit_answer(intent: str, mention: DateMention, today: date, p: rules.Policy) -> DatedAnswer:
    if mention.date is not None:
        if mention.cue == OVERDUE:
            window = rules.permit_overdue_days((today - mention.date).days, rules=p)
        else:
            window = rules.permit_window(mention.date, today, rules=p)
        return DatedAnswer(_permit_intent(intent, window.days_to_expiry), rules.facts_of(window),
                           _permit_text(window, p, today), {EXPIRY: mention.date})
    # "过期两个多月": the expiry lies in a period; the status holds if it is the same on every day of it.
    low, high = mention.day_range(today) or (0, 0)
    statuses = list(dict.fromkeys(rules.permit_status(days, rules=p) for days in range(high, low - 1, -1)))
    if len(statuses) > 1:
        if mention.cue is None:  # "12月到期" said in November: which day matters
            return DatedAnswer(intent, {}, f"只知道是{mention.text}到期，还定不了能不能签。" + _ASK[RENEW_WINDOW].format(p=p))
        # "过期快两个月" (55–61 days): both sides of the 60-day line, so both answers, and ask for the day.
        word = f"已经过期约 {-high}–{-low} 天" if high < 0 else f"离到期约 {low}–{high} 天"
        return DatedAnswer(_permit_intent(intent, high), {}, f"按{word}（{mention.text}）计算，正好跨过一条期限："
                           + _status_cases(statuses, p) + "告诉我确切的到期日（随申办的居住证页面可以查到），我帮你算准。")
    lo, hi = sorted((abs(low), abs(high)))
    approx = f"{'已经过期' if high < 0 else '还有'}约 {lo}–{hi} 天（{mention.text}）"
    window = rules.permit_overdue_days(-(low + high) // 2, rules=p)
    text = _permit_text(window, p, today, approx=approx)
    return DatedAnswer(_permit_intent(intent, window.days_to_expiry), {"status": window.status}, text)


def _endorsed_for_permit(intent: str, endorsed: date, today: date, p: rules.Policy) -> DatedAnswer:
    """A permit question whose only date is when the permit was endorsed."""
    result = rules.points_deadline(endorsed, rules=p)
    text = (f"按 {endorsed} 已签注计算，这次签注已经办好，下一次签注窗口是新的到期日前 {p.window_opens_days_before_expiry} 天起"
            f"（到期日可在随申办的居住证页面查看）。有积分的话，记得在签注后 {p.points_deadline_days_after_endorsement} 天内"
            f"（{result.points_deadline} 前）办好积分续办。")
    return DatedAnswer(intent, {"endorsed_date": endorsed.isoformat()}, text, {ENDORSED: endorsed})


# ---------------------------------------------------------------- points

def _points_confirm_answer(intent: str, endorsed: date, today: date, p: rules.Policy) -> DatedAnswer:
    result = rules.points_after_endorsement(endorsed, rules=p)
    text = (f"按 {endorsed} 签注计算：签注后第 {p.points_confirm_from_workday} 个工作日即 {result.points_confirm_from} "
            f"起可以在网上做积分确认（刷新有效期），数据一般在第 {p.points_confirm_typical_workday} 个工作日"
            f"（{result.points_confirm_typical_by}）前到位；积分续办要在签注后 {p.points_deadline_days_after_endorsement} "
            f"天内（{result.points_deadline} 前）办好。")
    if today < result.points_confirm_from:
        text += f"今天还早，{result.points_confirm_from} 起再去确认。"
    elif today <= result.points_deadline:
        left = (result.points_deadline - today).days
        text += f"现在就可以去确认、续办，离截止还有 {left} 天。" if left else "现在就可以去确认、续办，今天就是截止日。"
    else:
        text += (f"今天已超过签注后 {p.points_deadline_days_after_endorsement} 天，指南说积分要重新申请，"
                 "请让单位经办人到人才服务中心确认。")
    if result.workday_calendar != rules.OFFICIAL:
        text += _calendar_note(endorsed, result.points_confirm_typical_by)
    return DatedAnswer(intent, rules.facts_of(result), text, {ENDORSED: endorsed})


def _points_deadline_answer(intent: str, endorsed: date, today: date, p: rules.Policy) -> DatedAnswer:
    result = rules.points_deadline(endorsed, rules=p)
    days = (result.points_deadline - today).days
    limit = p.points_deadline_days_after_endorsement
    text = f"按 {endorsed} 签注计算，指南说积分续办要在签注后 {limit} 天内办好，截止 {result.points_deadline}，"
    if days > 0:
        text += f"还有 {days} 天，来得及，请尽快让单位在网上提交续办。"
    elif days == 0:
        text += "今天是最后一天，请马上联系单位经办人提交续办。"
    else:
        text += (f"已经过了 {-days} 天。按指南的说法，超过 {limit} 天积分要重新申请；"
                 "请尽快让单位经办人到人才服务中心确认还能否续办。")
    return DatedAnswer(intent, rules.facts_of(result), text, {ENDORSED: endorsed})


def _endorsed_period_answer(intent: str, mention: DateMention, today: date, p: rules.Policy) -> DatedAnswer:
    """"签注两个多月了": no exact day, but the 60-day deadline may be clear either way."""
    assert mention.period is not None
    earliest, latest = mention.period
    if latest > today:  # "下周签注": not done yet, nothing to count from
        return DatedAnswer(intent, {}, _ASK[intent].format(p=p))
    limit = p.points_deadline_days_after_endorsement
    low, high = (today - latest).days, (today - earliest).days
    text = f"按{mention.text}签注、至今约 {low}–{high} 天计算，" if mention.cue is None else \
        f"按签注已约 {low}–{high} 天（{mention.text}）计算，"
    if low > limit:
        text += (f"已超过签注后 {limit} 天。按指南的说法，积分续办要在签注后 {limit} 天内办好，否则要重新申请；"
                 "请让单位经办人到人才服务中心确认。")
    elif high <= limit:
        text += f"还在签注后 {limit} 天内，请尽快让单位在网上提交积分续办。"
    else:
        text += f"正好在签注后 {limit} 天的期限前后，告诉我确切的签注日期，我帮你算截止哪天。"
    return DatedAnswer(intent, {}, text)


def _paper_answer(intent: str, review: date, today: date, p: rules.Policy) -> DatedAnswer:
    result = rules.paper_submit(review, rules=p)
    text = (f"按单位 {review} 审核计算，审核后第 {p.paper_submit_workday} 个工作日即 {result.paper_submit_from} 起，"
            f"由单位经办人到受理点递交书面材料（{_days_phrase((result.paper_submit_from - today).days)}）。")
    if result.workday_calendar != rules.OFFICIAL:
        text += _calendar_note(review, result.paper_submit_from)
    return DatedAnswer(intent, rules.facts_of(result), text, {REVIEW: review})


def _processing_answer(intent: str, submitted: date, today: date, p: rules.Policy) -> DatedAnswer:
    result = rules.processing_result(submitted, rules=p)
    text = (f"按 {submitted} 提交计算：信息没有变化的，一般第 {p.result_typical_workday} 个工作日（{result.result_typical_by}）"
            f"前出结果；最长按 {p.result_expected_workday} 个工作日估算，即 {result.result_expected_by} 前"
            f"（信息有变更的也按这个估算）。")
    if today > result.result_expected_by:
        text += f"今天已超过 {p.result_expected_workday} 个工作日，建议在网上查一下进度，或让单位经办人联系人才服务中心。"
    elif today > result.result_typical_by:
        text += f"已过了一般的 {p.result_typical_workday} 个工作日，可以先在网上查一下进度。"
    if result.workday_calendar != rules.OFFICIAL:
        text += _calendar_note(submitted, result.result_expected_by)
    return DatedAnswer(intent, rules.facts_of(result), text, {SUBMITTED: submitted})


def _invalid_answer(intent: str, mention: DateMention, role: str) -> DatedAnswer:
    text = (f"你说的“{mention.text}”这个日期不存在，请核对一下{_ROLE_WORD[role]}日期"
            f"{'（可以在随申办的居住证页面查看）' if role in (EXPIRY, ENDORSED) else ''}，我再帮你算。")
    return DatedAnswer(intent, {}, text)


def _for_role(intent: str, role: str, mention: DateMention, today: date, p: rules.Policy) -> DatedAnswer:
    if mention.invalid:
        return _invalid_answer(intent, mention, role)
    if role == EXPIRY:
        answer = _permit_answer(intent, mention, today, p)
        if intent not in (RENEW_WINDOW, OVERDUE_INTENT):
            answer.text += (f"积分要等签注办好后第 {p.points_confirm_from_workday} 个工作日起再确认，并在签注后 "
                            f"{p.points_deadline_days_after_endorsement} 天内办好续办；签注后告诉我签注日期，我帮你算具体日子。")
        return answer
    if mention.date is None:
        if role == ENDORSED:
            return _endorsed_period_answer(intent, mention, today, p)
        return DatedAnswer(intent, {}, _ASK[intent].format(p=p))
    if role == ENDORSED:
        if intent in (RENEW_WINDOW, OVERDUE_INTENT):
            return _endorsed_for_permit(intent, mention.date, today, p)
        if intent == DEADLINE_AFTER_PERMIT:
            return _points_deadline_answer(intent, mention.date, today, p)
        return _points_confirm_answer(intent, mention.date, today, p)
    if role == REVIEW:
        return _paper_answer(intent, mention.date, today, p)
    return _processing_answer(intent, mention.date, today, p)


def _remembered_mention(day: date) -> DateMention:
    return DateMention(day.isoformat(), 0, 0, day, None, False, "remembered", None, True)


def answer_with_dates(intent: str, text: str, now: datetime,
                      remembered: dict[str, date] | None = None) -> DatedAnswer | None:
    """Facts and computed text for a dated intent (None for any other); `text` is normalised."""
    if intent not in DATED_INTENTS:
        return None
    p = rules.policy()
    today = message_date(now)
    role = _ROLE_OF_INTENT[intent]
    found = _classify(text, now, today)
    mention = _pick(found, role)
    if mention is not None:
        return _for_role(intent, role, mention, today, p)
    # A date with another role: a permit question about an endorsement, a points question about an expiry.
    for other in found:
        if isinstance(other, _Found) and other.role in (EXPIRY, ENDORSED):
            return _for_role(intent, other.role, other.mention, today, p)
    # A follow-up ("那积分呢"): the sender's dates from earlier in this chat, the intent's own role first.
    remembered = remembered or {}
    for candidate in (role, EXPIRY, ENDORSED):
        if candidate in remembered:
            answer = _for_role(intent, candidate, _remembered_mention(remembered[candidate]), today, p)
            answer.remembered = {}
            return answer
    return DatedAnswer(intent, {}, _ASK[intent].format(p=p))
