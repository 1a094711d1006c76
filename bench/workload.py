"""The benchmark's workload, generated deterministically from a seed: a grown knowledge base and chat messages.

Extra entries are finer intents of a real catalog intent (their `parent`), built from that intent's
real phrasings recombined with made-up place and employer words, so the matcher faces many
near-duplicate candidates that share the common words (居住证, 积分, 签注, 续办) with the real ones.
Messages are real phrasings perturbed the way chat perturbs them (fillers, typos, dropped or swapped
characters, traditional characters, full-width digits, mentions), dated questions, out-of-scope near
misses and chit-chat.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from intents.dates import SHANGHAI
from knowledge.faqfile import Entry, entry_to_toml

POLICY_PREFIXES = ("permit.", "points.", "pandemic.")

DISTRICTS = ["浦东", "闵行", "徐汇", "静安", "黄浦", "长宁", "普陀", "虹口", "杨浦", "宝山", "嘉定", "松江"]
# Made-up place and employer names for the finer intents: words no real question has, so a generated
# intent competes with the real ones through the shared real words only. Each name is reused by about
# NAME_REUSE intents, so their rarity stays in the range of real words' (the idf shapes the scores).
NAME_CHARS = "琪瑾璐珂琳翊煜璟瑄霖骁峥岚珩玥琦瑜璇珏芮萱蔚漪澜汐沅湘"
PLACE_TAILS = ["湾", "坊", "浜", "泾", "墩"]
EMPLOYER_TAILS = ["记", "氏", "堂", "社"]
TOPIC_TAILS = ["卡", "券", "牌", "册"]
# The domain's anchor words; a generated intent mostly speaks of a made-up topic in their place, so it
# shares the generic words (续办, 材料, 多久, 哪里) with the real intents without copying their subject.
TOPIC_WORDS = ["上海市居住证", "上海居住证", "居住证积分", "居住证", "居住證", "积分", "積分", "120分", "签注", "簽注"]
TOPIC_SHARE = 0.8
SAMPLE_TRIES = 12
NAME_REUSE = 25
PREFIX_FILLERS = ["请问", "请问一下，", "大家好，", "问下", "有谁知道", "各位，", "群里有人知道", "想问一下",
                  "麻烦问下", "打扰一下，", "小白求问，", "急！", "各位大佬，", "求助："]
SUFFIX_FILLERS = ["？", "？？", "?", "呢", "啊", "，谢谢", "～", "[捂脸]", "，在线等", "。", "！", "[疑问]", "哈"]
TYPOS = {"积分": ["积份", "积分儿"], "居住证": ["居住正", "居主证", "居住證"], "签注": ["签住", "签著"],
         "续办": ["续半", "续伴"], "材料": ["才料", "材科"], "社保": ["社宝"], "个税": ["个锐"]}
CHITCHAT = [
    "哈哈哈", "早上好", "早", "晚安", "谢谢群主", "谢谢", "收到", "好的", "+1", "同问", "666", "厉害了",
    "今天好热啊", "周末有人去爬山吗", "有人拼车去虹桥吗", "晚饭吃什么", "这个月工资发了没", "地铁又延误了",
    "大家新年快乐", "中秋快乐", "有没有人出二手自行车", "推荐个好吃的火锅店", "求个靠谱的搬家公司",
    "今天股市怎么样", "下雨了记得带伞", "哈哈笑死", "真的假的", "我也是", "不知道", "明天见",
    "有人在吗", "刚下班", "好累啊", "周五了", "这个表情包不错", "楼上说得对", "感谢分享", "学到了",
    "[图片]", "[表情]", "[语音]", "[视频]", "[链接]", "<msg><appmsg appid=\"\"><title>分享</title></appmsg></msg>",
    "hello", "ok", "thanks!", "lol", "good morning everyone", "anyone here?",
]
OUT_OF_SCOPE_TEMPLATES = ["{city}居住证怎么续签", "{city}积分入户要多少分", "{city}的居住证过期了怎么办",
                          "请问{city}社保怎么转到上海", "{city}落户需要什么条件", "驾照扣分怎么处理",
                          "公积金怎么提取", "信用卡积分怎么兑换", "护照过期了在哪换", "上海居转户需要几年",
                          "有人在{district}租房吗", "{district}哪里有好吃的", "医保报销比例是多少"]
CITIES = ["北京", "杭州", "苏州", "深圳", "广州", "南京", "成都", "武汉", "郑州", "昆山", "合肥", "天津"]
# (catalog intent, templates); {date} is a date in one of the chat's written forms, {n} a count of days.
DATED_TEMPLATES = [
    ("permit.renew_window", ["我居住证{date}到期，什么时候可以签注", "居住证{date}到期，现在能去签注吗",
                             "居住证是{date}到期的，签注窗口是哪几天"]),
    ("permit.overdue", ["居住证过期{n}天了还能签注吗", "我的居住证{date}就过期了，现在还能补签吗",
                        "居住证已经过期{n}天了怎么办"]),
    ("points.when_to_renew", ["居住证{date}签注的，积分什么时候能确认", "我{date}签注好了，多久可以续积分"]),
    ("points.deadline_after_permit", ["{date}签注完的，积分最晚什么时候要续办"]),
    ("points.paper_materials", ["单位{date}审核通过了，提示两个工作日后递交书面材料，哪天能去交"]),
    ("points.processing_time", ["积分续办{date}提交的，多久能出结果", "{date}交的积分申请，一般几天审核完"]),
]


@dataclass(frozen=True)
class Message:
    """One chat message of the workload, with what produced it."""

    text: str
    time: datetime
    room: str | None
    sender: str
    mentioned: bool
    kind: str  # in_scope, dated, out_of_scope, chitchat


def _names(rng: random.Random, count: int, tails: list[str]) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choices(NAME_CHARS, k=2)) + rng.choice(tails))
    return sorted(names)


def _facets(rng: random.Random, generated: int) -> list[tuple[str, str]]:
    """What makes each generated intent finer than its parent: a made-up place or employer, and a topic."""
    pool = max(4, generated // NAME_REUSE)
    places, employers = _names(rng, pool, PLACE_TAILS), _names(rng, pool, EMPLOYER_TAILS)
    topics = _names(rng, pool, TOPIC_TAILS)
    facets = []
    for _ in range(generated):
        roll = rng.random()
        if roll < 0.4:
            facet = rng.choice(places)
        elif roll < 0.8:
            facet = rng.choice(employers)
        else:
            facet = rng.choice(places) + rng.choice(employers)
        facets.append((facet, rng.choice(topics)))
    return facets


def _retopic(text: str, topic: str) -> str:
    for word in TOPIC_WORDS:
        text = text.replace(word, topic)
    return text


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _faithful_sample(rng: random.Random, pool: list[str], size: int) -> list[str]:
    """Of a few random samples, the one whose character-bigram shares stay closest to the whole pool's.

    A finer intent that kept, say, every phrasing with 材料 would look more typical of 材料 than its
    parent does and take its parent's questions away by chance; a faithful sample keeps the word
    statistics (and so the idf) of the real knowledge as they are, only multiplied.
    """
    grams = [_bigrams(text) for text in pool]
    whole: dict[str, float] = {}
    for found in grams:
        for gram in found:
            whole[gram] = whole.get(gram, 0.0) + 1 / len(pool)
    best, best_error = [], float("inf")
    for _ in range(SAMPLE_TRIES):
        chosen = rng.sample(range(len(pool)), k=min(len(pool), size))
        shares = dict.fromkeys(whole, 0.0)
        for position in chosen:
            for gram in grams[position]:
                shares[gram] += 1 / len(chosen)
        error = sum(abs(shares[gram] - share) for gram, share in whole.items())
        if error < best_error:
            best, best_error = chosen, error
    return [pool[position] for position in sorted(best)]


def generated_entry(rng: random.Random, source: Entry, number: int, facet: str, topic: str) -> Entry:
    """A finer intent under `source`'s catalog intent, phrased from `source`'s phrasings, `facet` and `topic`."""
    pool = list(dict.fromkeys([source.question.rstrip("？?"), *source.phrasings]))
    chosen = _faithful_sample(rng, pool, rng.randint(8, 11))
    phrasings: list[str] = []
    for text in chosen:
        if rng.random() < TOPIC_SHARE:
            text = _retopic(text, topic)
        roll = rng.random()
        if roll < 0.4:
            text = facet + text
        elif roll < 0.7:
            text = f"{text}（{facet}）"
        else:
            text = f"{facet}的话，{text}"
        if text not in phrasings:
            phrasings.append(text)
    return Entry(
        id=f"{source.id}.g{number:05d}",
        parent=source.catalog_id,
        question=f"{facet}：{_retopic(source.question, topic)}",
        phrasings=phrasings,
        answer=f"（{facet}）{source.answer}",
        sources=list(source.sources),
        reviewed=source.reviewed,
    )


def grow(real: list[Entry], total: int, *, seed: int) -> list[Entry]:
    """The real entries plus generated finer intents, `total` entries in all, spread evenly over the real ones."""
    rng = random.Random(seed)
    sources = sorted(real, key=lambda e: e.id)
    grown = list(real)
    generated = max(0, total - len(real))
    for number, (facet, topic) in enumerate(_facets(rng, generated)):
        grown.append(generated_entry(rng, sources[number % len(sources)], number, facet, topic))
    return grown


def write_faq_dir(entries: list[Entry], directory: Path) -> None:
    """One TOML file per entry, the layout `KnowledgeStore.sync_files` reads."""
    directory.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        (directory / f"{entry.id}.toml").write_text(entry_to_toml(replace(entry)), encoding="utf-8")


# -- messages --------------------------------------------------------------------------------


class _Perturber:
    def __init__(self, rng: random.Random):
        import opencc

        self.rng = rng
        self.s2t = opencc.OpenCC("s2t")

    def __call__(self, text: str) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            for word, typos in TYPOS.items():
                if word in text:
                    text = text.replace(word, rng.choice(typos), 1)
                    break
        if rng.random() < 0.12 and len(text) > 4:
            at = rng.randrange(len(text))
            text = text[:at] + text[at + 1:]
        if rng.random() < 0.08 and len(text) > 4:
            at = rng.randrange(len(text) - 1)
            text = text[:at] + text[at + 1] + text[at] + text[at + 2:]
        if rng.random() < 0.4:
            text = rng.choice(PREFIX_FILLERS) + text
        if rng.random() < 0.45:
            text = text.rstrip("？?。") + rng.choice(SUFFIX_FILLERS)
        if rng.random() < 0.06:
            text = self.s2t.convert(text)
        if rng.random() < 0.05:
            text = "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)
        if rng.random() < 0.05:
            text = text.replace("，", " ")
        return text


def _date_text(rng: random.Random, moment: datetime) -> str:
    day = (moment + timedelta(days=rng.randint(-120, 120))).date()
    forms = [f"{day.month}月{day.day}号", f"{day.month}月{day.day}日", f"{day.year}年{day.month}月{day.day}日",
             f"{day.isoformat()}", f"{day.month}/{day.day}", "明天", "昨天", "下个月10号", "上周五", "月底"]
    return rng.choice(forms)


def messages(real: list[Entry], count: int, *, seed: int, start: datetime | None = None) -> list[Message]:
    """`count` chat messages over about a year, in several rooms, from many senders."""
    rng = random.Random(seed)
    perturb = _Perturber(rng)
    by_id = {e.id: e for e in real}
    policy = [e for e in real if e.id.startswith(POLICY_PREFIXES)]
    bot_entries = [by_id[i] for i in ("bot.help", "bot.handoff") if i in by_id]
    out_of_scope = by_id.get("out_of_scope")
    rooms = [f"room{n}@chatroom" for n in range(8)]
    moment = start or datetime(2026, 1, 5, 8, 30, tzinfo=SHANGHAI)
    out: list[Message] = []
    for _ in range(count):
        moment += timedelta(seconds=rng.randint(5, 9000))
        roll = rng.random()
        if roll < 0.55:
            entry = rng.choice(policy if rng.random() < 0.95 or not bot_entries else bot_entries)
            text, kind = perturb(rng.choice([entry.question, *entry.phrasings])), "in_scope"
        elif roll < 0.70:
            intent, templates = rng.choice(DATED_TEMPLATES)
            text = rng.choice(templates).format(date=_date_text(rng, moment), n=rng.randint(1, 120))
            text, kind = perturb(text), "dated"
        elif roll < 0.80:
            if out_of_scope is not None and rng.random() < 0.5:
                text = rng.choice(out_of_scope.phrasings)
            else:
                text = rng.choice(OUT_OF_SCOPE_TEMPLATES).format(city=rng.choice(CITIES),
                                                                 district=rng.choice(DISTRICTS))
            text, kind = perturb(text), "out_of_scope"
        else:
            text = rng.choice(CHITCHAT)
            if rng.random() < 0.03:  # a pasted notice, longer than anyone's question
                text = "【转发】" + "".join(rng.choice(policy).answer for _ in range(2))
            kind = "chitchat"
        private = rng.random() < 0.1
        mentioned = not private and rng.random() < 0.25
        if mentioned:
            text = "@小助手\u2005" + text if rng.random() < 0.8 else text + " @小助手"
        out.append(Message(text=text, time=moment, room=None if private else rng.choice(rooms),
                           sender=f"wxid_{rng.randrange(400):03d}", mentioned=mentioned, kind=kind))
    return out
