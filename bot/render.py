"""Render, the pipeline's last stage: every reply string a member reads (FAQ bodies stay data in knowledge/)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from bot import resolve as r
from intents import rules
from intents.roles import ENDORSED, EXPIRY, REVIEW, SUBMITTED
from intents.workdays import default_calendar
from knowledge.faqfile import HANDOFF, HELP, OUT_OF_SCOPE, Entry, load_sources
from knowledge.policy import Policy

REMINDER = "政策以 一网通办 / 随申办 / 12333 官方渠道为准。"
MAX_REPLY_CHARS = 400  # a phone screen: what does not fit after the direct answer is left out
NOT_POLICY = frozenset({HELP, HANDOFF, OUT_OF_SCOPE})
CANNOT_HELP = (
    "这个问题我还答不上来。我能回答上海居住证签注（续签）和居住证积分续办的问题，"
    "比如“居住证12月5号到期什么时候能签注”“积分续办要交哪些材料”。需要人工请回复“人工”或 @群主。"
)
SMALL_TALK = "我是居住证助手，只回答上海居住证签注和积分续办的问题，比如“居住证12月5号到期什么时候能签注”；找人工请回复“人工”。"
THANKS = "不客气，有问题随时问我。"
ERROR_THANKS = "谢谢指正！已记下这个问题和我的回答，管理员会核对。"  # a member said an answer was wrong
ERROR_NOT_RECORDED = "谢谢指正！这次没能记下来，麻烦直接告诉群管理员。"
PAT_HELP = "我是居住证助手：@我问上海居住证签注或积分续办，比如“居住证12月5号到期什么时候能签注”。"
# English askers get one English line before the Chinese reply.
EN_CANNOT_HELP = "Sorry, I can't answer that yet. I answer questions on the Shanghai residence permit and its points."
EN_SMALL_TALK = "I answer questions on endorsing the Shanghai residence permit and renewing its points."
EN_MENU = "Which of these do you mean? Reply with the number."
APOLOGY = "抱歉，我这边出了点问题，请稍后再问，或回复“人工”。"
# Said instead of repeating an answer given moments ago; {time} is when it was given (HH:MM).
POINTER = "这个问题 {time} 刚回答过，请往上翻看那条回复。"


@lru_cache(maxsize=1)
def _sources() -> dict[str, dict]:
    return load_sources()


def source_line(*entries: Entry) -> str:
    """Name the articles behind the entries by their short names (knowledge/sources.toml), each once, with the latest
    review date: "来源：民间指南 积分网2023续签指南、…（2026-11-30 复核）"; unknown labels are shown as written."""
    names = []
    for label in dict.fromkeys(label for entry in entries for label in entry.sources):
        known = _sources().get(label.split()[0]) if label.strip() else None
        names.append((known.get("short") or f"《{known['title']}》") if known else label)
    latest = max(entry.reviewed for entry in entries)
    reviewed = f"（{latest} 复核）" if latest else ""
    return f"来源：民间指南 {'、'.join(names)}{reviewed}" if names else f"来源：群内整理{reviewed}"


def _body(entry: Entry, dated: r.Dated | None, *, room: int) -> str:
    """The direct answer first: the computed sentence (or the rule and a request for the date) and then only what it
    does not already say (`with_dates`), else the FAQ answer; that addition only when it fits in `room` characters."""
    if dated is None:
        return entry.answer.strip()
    direct = dated_text(dated)
    full = direct + "\n" + entry.with_dates if entry.with_dates else direct + "\n\n" + entry.answer.strip()
    return full if len(full) <= room else direct


def _lead(entry: Entry | None, english: bool, fallback: str = "") -> list[str]:
    line = (entry.lead_en if entry is not None else "") or fallback
    return [line] if english and line else []


def answer(entry: Entry, dated: r.Dated | None = None, *, english: bool = False) -> str:
    """The reply for a recognised intent: the direct answer (the computed sentence when dates were given), then only
    what it does not say, the source and the official-channel reminder; an English question gets a lead line."""
    lead = _lead(entry, english)
    tail = [source_line(entry) + "\n" + REMINDER] if entry.catalog_id not in NOT_POLICY else []
    room = MAX_REPLY_CHARS - sum(len(part) + 2 for part in [*lead, *tail])
    return "\n\n".join([*lead, _body(entry, dated, room=room), *tail])


def two_answers(first: Entry, first_dated: r.Dated | None, second: Entry, second_dated: r.Dated | None, *,
                english: bool = False) -> str:
    """A message that asks two things: each part's short answer (or computed sentence), numbered, one source line.
    What the second part's computed sentence repeats of the first's is said once; a reply that would still pass
    MAX_REPLY_CHARS answers the first part alone."""
    texts: list[str] = []
    for entry, dated in ((first, first_dated), (second, second_dated)):
        short = (entry.short or entry.answer).strip()
        text = dated_text(dated).strip() if dated is not None and dated.kind != r.ASK else short
        if texts and text.startswith(texts[0]):  # a points question answered from the same expiry date
            text = text[len(texts[0]):].strip() or short
        texts.append(text)
    parts = [*_lead(first, english), "\n".join(f"{number}. {text}" for number, text in enumerate(texts, 1))]
    cited = [entry for entry in (first, second) if entry.catalog_id not in NOT_POLICY]
    if cited:
        parts.append(source_line(*cited) + "\n" + REMINDER)
    reply = "\n\n".join(parts)
    return reply if len(reply) <= MAX_REPLY_CHARS else answer(first, first_dated, english=english)


def did_you_mean(entries: list[Entry], *, english: bool = False) -> str:
    lines = [EN_MENU] if english else []
    lines.append("你想问的是哪一个？回复数字即可：")
    lines += [f"{number}. {entry.question}" for number, entry in enumerate(entries, 1)]
    return "\n".join(lines)


def cannot_help(*, english: bool = False) -> str:
    return "\n".join([EN_CANNOT_HELP, CANNOT_HELP] if english else [CANNOT_HELP])


def small_talk(*, english: bool = False) -> str:
    return "\n".join([EN_SMALL_TALK, SMALL_TALK] if english else [SMALL_TALK])


def pointer(earlier: datetime) -> str:
    return POINTER.format(time=earlier.strftime("%H:%M"))


# -- dated answers ------------------------------------------------------------------------------------------

_ASK = {
    r.RENEW_WINDOW: "居住证一年一签，签注窗口是到期前 {p.window_opens_days_before_expiry} 天起，到期后 "
                    "{p.window_closes_days_after_expiry} 天内。告诉我你的到期日（比如“12月5号到期”），我帮你算出具体日期。",
    r.OVERDUE_INTENT: "居住证到期后 {p.window_closes_days_after_expiry} 天内仍可签注，居住年限连续计算；指南说逾期 "
                      "{p.window_closes_days_after_expiry}–{p.reapply_after_days_overdue} 天还能签注但年限重新计算，超过 "
                      "{p.reapply_after_days_overdue} 天要重新申领（有的指南说超过 {p.window_closes_days_after_expiry} "
                      "天就要）。告诉我到期日或已经过期多少天，我帮你判断。",
    r.WHEN_TO_RENEW: "居住证签注后第 {p.points_confirm_from_workday} 个工作日起可以在网上做积分确认（刷新有效期），数据一般在第 "
                     "{p.points_confirm_typical_workday} 个工作日前到位；积分续办要在签注后 "
                     "{p.points_deadline_days_after_endorsement} 天内完成。告诉我签注日期，我帮你算出具体哪天。",
    r.DEADLINE_AFTER_PERMIT: "指南说居住证签注后 {p.points_deadline_days_after_endorsement} 天内要办好积分续办，"
                             "否则积分要重新申请。告诉我签注日期，我帮你算截止哪天。",
    r.PAPER_MATERIALS: "如果网上审核后系统提示要交书面材料，是在审核后第 {p.paper_submit_workday} "
                       "个工作日起由单位经办人递交。告诉我单位审核的日期，我可以帮你算具体哪天。",
    r.PROCESSING_TIME: "信息没有变化的一般提交后 {p.result_typical_workday} 个工作日左右出结果，最长按 "
                       "{p.result_expected_workday} 个工作日估算（信息有变更的约 {p.result_expected_workday} 个工作日）。"
                       "告诉我提交日期，我帮你算具体日期。",
}
_ROLE_WORD = {EXPIRY: "到期", ENDORSED: "签注", REVIEW: "审核", SUBMITTED: "提交"}


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


def _permit_text(window: rules.PermitWindow, p: Policy, today: date, *, approx: str | None = None,
                 hypothetical: bool = False) -> str:
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
    if hypothetical and days >= 0 and window.expiry_date is not None:  # "要是拖到过期了会怎样", asked before the expiry
        last = window.expiry_date + timedelta(days=reapply)
        return head + (f"如果拖过到期日：到期后 {grace} 天内（至 {window.window_end}）签注，居住年限连续计算；逾期 "
                       f"{grace + 1}–{reapply} 天（至 {last}）指南说还能签注但年限重新计算；再晚要重新申领。最好在到期前办好。")
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


def _status_cases(statuses: list[str], p: Policy) -> str:
    """What each possible status means, for an expiry known only roughly ("过期快两个月")."""
    grace, reapply, opens = p.window_closes_days_after_expiry, p.reapply_after_days_overdue, p.window_opens_days_before_expiry
    case = {rules.TOO_EARLY: f"如果离到期还有 {opens} 天以上，现在还不能签注",
            rules.IN_WINDOW: f"如果离到期在 {opens} 天以内，现在就能签注",
            rules.GRACE: f"如果过期没超过 {grace} 天，仍可签注，居住年限连续计算",
            rules.RECALCULATED: f"如果过期 {grace + 1}–{reapply} 天，指南说还能签注但居住年限重新计算",
            rules.REAPPLY: f"如果过期超过 {reapply} 天，指南说要重新申领居住证"}
    return "；".join(case[status] for status in statuses) + "。"


def _permit(d: r.Dated) -> str:
    p, mention = d.policy, d.mention
    if d.kind == r.PERMIT_UNSETTLED:
        return f"只知道是{mention.text}到期，还定不了能不能签。" + _ASK[r.RENEW_WINDOW].format(p=p)
    if d.kind == r.PERMIT:  # an overdue answer before the expiry: the question was what would happen
        return _permit_text(d.rule, p, d.today, hypothetical=d.intent == r.OVERDUE_INTENT)
    low, high = d.span
    if d.kind == r.PERMIT_STRADDLES:
        word = f"已经过期约 {-high}–{-low} 天" if high < 0 else f"离到期约 {low}–{high} 天"
        return (f"按{word}（{mention.text}）计算，正好跨过一条期限：" + _status_cases(d.statuses, p)
                + "告诉我确切的到期日（随申办的居住证页面可以查到），我帮你算准。")
    lo, hi = sorted((abs(low), abs(high)))
    approx = f"{'已经过期' if high < 0 else '还有'}约 {lo}–{hi} 天（{mention.text}）"
    return _permit_text(d.rule, p, d.today, approx=approx)


def _endorsed_for_permit(d: r.Dated) -> str:
    p = d.policy
    return (f"按 {d.rule.endorsed_date} 已签注计算，这次签注已经办好，下一次签注窗口是新的到期日前 "
            f"{p.window_opens_days_before_expiry} 天起（到期日可在随申办的居住证页面查看）。有积分的话，记得在签注后 "
            f"{p.points_deadline_days_after_endorsement} 天内（{d.rule.points_deadline} 前）办好积分续办。")


def _points_confirm(d: r.Dated) -> str:
    p, result, today = d.policy, d.rule, d.today
    head = f"如果 {result.endorsed_date} 签注，" if d.planned else f"按 {result.endorsed_date} 签注计算："
    text = (f"{head}签注后第 {p.points_confirm_from_workday} 个工作日即 "
            f"{result.points_confirm_from} 起可以在网上做积分确认（刷新有效期），数据一般在第 "
            f"{p.points_confirm_typical_workday} 个工作日（{result.points_confirm_typical_by}）前到位；积分续办要在签注后 "
            f"{p.points_deadline_days_after_endorsement} 天内（{result.points_deadline} 前）办好。")
    if today < result.points_confirm_from:
        text += f"今天还早，{result.points_confirm_from} 起再去确认。"
    elif today <= result.points_deadline:
        left = (result.points_deadline - today).days
        text += f"现在就可以去确认、续办，离截止还有 {left} 天。" if left else "现在就可以去确认、续办，今天就是截止日。"
    else:
        text += (f"今天已超过签注后 {p.points_deadline_days_after_endorsement} 天，指南说积分要重新申请，"
                 "请让单位经办人到人才服务中心确认。")
    if result.workday_calendar != rules.OFFICIAL:
        text += _calendar_note(result.endorsed_date, result.points_confirm_typical_by)
    return text


def _points_deadline(d: r.Dated) -> str:
    result = d.rule
    days = (result.points_deadline - d.today).days
    limit = d.policy.points_deadline_days_after_endorsement
    head = f"如果 {result.endorsed_date} 签注，" if d.planned else f"按 {result.endorsed_date} 签注计算，"
    text = f"{head}指南说积分续办要在签注后 {limit} 天内办好，截止 {result.points_deadline}，"
    if days > 0:
        return text + f"还有 {days} 天，来得及，请尽快让单位在网上提交续办。"
    if days == 0:
        return text + "今天是最后一天，请马上联系单位经办人提交续办。"
    return text + (f"已经过了 {-days} 天。按指南的说法，超过 {limit} 天积分要重新申请；"
                   "请尽快让单位经办人到人才服务中心确认还能否续办。")


def _endorsed_period(d: r.Dated) -> str:
    limit = d.policy.points_deadline_days_after_endorsement
    low, high = d.span
    mention = d.mention
    text = f"按{mention.text}签注、至今约 {low}–{high} 天计算，" if mention.cue is None else \
        f"按签注已约 {low}–{high} 天（{mention.text}）计算，"
    if low > limit:
        return text + (f"已超过签注后 {limit} 天。按指南的说法，积分续办要在签注后 {limit} 天内办好，否则要重新申请；"
                       "请让单位经办人到人才服务中心确认。")
    if high <= limit:
        return text + f"还在签注后 {limit} 天内，请尽快让单位在网上提交积分续办。"
    return text + f"正好在签注后 {limit} 天的期限前后，告诉我确切的签注日期，我帮你算截止哪天。"


def _paper(d: r.Dated) -> str:
    result = d.rule
    text = (f"按单位 {result.review_date} 审核计算，审核后第 {d.policy.paper_submit_workday} 个工作日即 "
            f"{result.paper_submit_from} 起，由单位经办人到受理点递交书面材料"
            f"（{_days_phrase((result.paper_submit_from - d.today).days)}）。")
    if result.workday_calendar != rules.OFFICIAL:
        text += _calendar_note(result.review_date, result.paper_submit_from)
    return text


def _processing(d: r.Dated) -> str:
    p, result, today = d.policy, d.rule, d.today
    text = (f"按 {result.submitted_date} 提交计算：信息没有变化的，一般第 {p.result_typical_workday} 个工作日"
            f"（{result.result_typical_by}）前出结果；最长按 {p.result_expected_workday} 个工作日估算，即 "
            f"{result.result_expected_by} 前（信息有变更的也按这个估算）。")
    if today > result.result_expected_by:
        text += f"今天已超过 {p.result_expected_workday} 个工作日，建议在网上查一下进度，或让单位经办人联系人才服务中心。"
    elif today > result.result_typical_by:
        text += f"已过了一般的 {p.result_typical_workday} 个工作日，可以先在网上查一下进度。"
    if result.workday_calendar != rules.OFFICIAL:
        text += _calendar_note(result.submitted_date, result.result_expected_by)
    return text


def _invalid(d: r.Dated) -> str:
    return (f"你说的“{d.mention.text}”这个日期不存在，请核对一下{_ROLE_WORD[d.role]}日期"
            f"{'（可以在随申办的居住证页面查看）' if d.role in (EXPIRY, ENDORSED) else ''}，我再帮你算。")


_DATED = {r.PERMIT: _permit, r.PERMIT_APPROX: _permit, r.PERMIT_UNSETTLED: _permit, r.PERMIT_STRADDLES: _permit,
          r.ENDORSED_FOR_PERMIT: _endorsed_for_permit, r.POINTS_CONFIRM: _points_confirm,
          r.POINTS_DEADLINE: _points_deadline, r.ENDORSED_PERIOD: _endorsed_period, r.PAPER: _paper,
          r.PROCESSING: _processing, r.INVALID: _invalid}


def dated_text(d: r.Dated) -> str:
    """The computed sentence(s) that lead a dated answer."""
    if d.kind == r.ASK:
        return _ASK[d.intent].format(p=d.policy)
    text = _DATED[d.kind](d)
    if d.asked_about_points and d.kind in (r.PERMIT, r.PERMIT_APPROX, r.PERMIT_UNSETTLED, r.PERMIT_STRADDLES):
        p = d.policy
        text += (f"积分要等签注办好后第 {p.points_confirm_from_workday} 个工作日起再确认，并在签注后 "
                 f"{p.points_deadline_days_after_endorsement} 天内办好续办；签注后告诉我签注日期，我帮你算具体日子。")
    return text
