"""The attack check (`make fuzz`): hostile messages through the real handler, bounded in count and time.

From a seed, generates messages of these kinds and sends each to `Bot.handle` on a fresh file database with the
activity log on, as `permitbot serve` runs it:

- unicode: random code points from every plane (controls, combining marks, bidi and zero-width marks);
- huge: texts of about 1 MB (one message in `--huge-every`), of the kinds below blown up;
- surrogates: lone UTF-16 surrogates inside a question;
- dates: years 1 and 9999 and impossible dates in the text, and message times in years 1 and 9999;
- format: printf, str.format, template and log-format strings;
- regex: long runs and nestings aimed at the patterns (mentions, commands, placeholders, dates, numbers);
- commands: `#faq …` from members (refused) and the operator's failing ones (unknown handles, long input);
- pii: a question carrying an ID, phone, card number, e-mail, plate or address in a random format, with
  random digits; each value is looked for in what its message left behind: the unanswered-queue rows it added
  (question, key, room), everything logged while it was handled, and the reply.

Reports exceptions out of `handle`, tracebacks and warnings logged (by logger and exception, with one example
each), apology replies, latency (p50, p99, max and the kind of the slowest message), RSS at the start and end and
its peak, and the personal values found again, by kind. Progress goes to stderr; stdout ends with one JSON line.
Exit status 1 when anything is found: an exception, a traceback, an apology, a leaked value, or a peak RSS over
`--max-rss-mb`.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import re
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 20261123
OPERATOR = "wxid_fuzz_operator"
APOLOGY = "出了点问题"  # the handler's generic apology (bot/handler.py)
SHANGHAI = timezone(timedelta(hours=8))
MEGABYTE = 1_000_000
EXAMPLES = 3  # kept per kind of traceback


def log(message: str) -> None:
    print(f"[fuzz {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


# -- personal values, by kind, in the formats people type -----------------------------------------------------

FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _grouped(rng: random.Random, text: str, sizes: list[int]) -> str:
    separator = rng.choice([" ", "-", " "])
    parts, start = [], 0
    for size in sizes:
        parts.append(text[start:start + size])
        start += size
    return separator.join(part for part in parts + [text[start:]] if part)


def _id(rng: random.Random) -> str:
    born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    number = _digits(rng, 6) + born.strftime("%Y%m%d") + _digits(rng, 3) + rng.choice("0123456789Xx")
    return rng.choice([number, _grouped(rng, number, [4, 4, 4, 4]), _grouped(rng, number, [6, 8]),
                       "ID" + number, number.translate(FULL_WIDTH)])


def _mobile(rng: random.Random) -> str:
    number = "1" + rng.choice("3456789") + _digits(rng, 9)
    return rng.choice([number, _grouped(rng, number, [3, 4]), "+86" + number, "+86 " + _grouped(rng, number, [3, 4]),
                       number.translate(FULL_WIDTH)])


def _landline(rng: random.Random) -> str:
    area = rng.choice(["021", "010", "0571", "0755", "025"])
    local = rng.choice("2345678") + _digits(rng, 7 if len(area) == 3 else 6)
    return rng.choice([f"({area}){local}", f"（{area}）{_grouped(rng, local, [4])}", f"{area}-{local}",
                       f"{area} {_grouped(rng, local, [4])}", area + local])


def _card(rng: random.Random) -> str:
    number = rng.choice(["62", "4", "5"]) + _digits(rng, rng.choice([14, 15, 17]))
    return rng.choice([number, _grouped(rng, number, [4, 4, 4, 4]), number.translate(FULL_WIDTH)])


def _email(rng: random.Random) -> str:
    local = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(3, 12)))
    value = f"{local}{rng.choice(['', '.', '_'])}{_digits(rng, 2)}@{rng.choice(['qq.com', '163.com', 'example.com.cn'])}"
    return rng.choice([value, value.upper(), value.replace("@", "＠")])


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = rng.choice([_digits(rng, 5), rng.choice("DF") + _digits(rng, 5), rng.choice(letters) + _digits(rng, 4)])
    return rng.choice("沪苏浙京粤") + rng.choice(letters) + rng.choice(["", "·", " "]) + tail


def _address(rng: random.Random) -> str:
    number = rng.randint(1, 3000)
    return rng.choice([f"{number}弄{rng.randint(1, 99)}号{rng.randint(101, 2504)}室",
                       f"{rng.randint(1, 40)}号楼{rng.randint(101, 2504)}室",
                       f"{rng.randint(1, 40)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2504)}"])


PERSONAL: dict[str, Callable[[random.Random], str]] = {
    "id": _id, "mobile": _mobile, "landline": _landline, "card": _card, "email": _email, "plate": _plate,
    "address": _address,
}


def _forms(value: str) -> set[str]:
    """How a value could be found again: as typed, half-width, lower-case, its separators dropped."""
    halfwidth = value.translate({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}).lower()
    return {form for form in (value.lower(), halfwidth, re.sub(r"[\s\-.()（）·]", "", halfwidth)) if len(form) >= 5}


# -- hostile messages ------------------------------------------------------------------------------------------

QUESTIONS = ["居住证签注要带什么材料", "积分续办个税有什么要求", "居住证过期了怎么办", "蓝色香蕉飞船怎么申请"]


def _unicode(rng: random.Random) -> str:
    def point() -> str:
        plane = rng.random()
        if plane < 0.5:
            code = rng.randrange(0x20, 0x3000)
        elif plane < 0.8:
            code = rng.randrange(0x3000, 0xD800)
        elif plane < 0.9:
            code = rng.choice([0x0, 0x7, 0x1B, 0x200B, 0x200E, 0x202E, 0x2066, 0xFEFF, 0x0301, 0x2028, 0x85])
        else:
            code = rng.randrange(0xE000, 0x110000)
        return chr(code)

    return "".join(point() for _ in range(rng.randint(0, 200)))


def _surrogates(rng: random.Random) -> str:
    lone = "".join(chr(rng.randrange(0xD800, 0xE000)) for _ in range(rng.randint(1, 5)))
    question = rng.choice(QUESTIONS)
    cut = rng.randrange(len(question) + 1)
    return question[:cut] + lone + question[cut:]


def _dates(rng: random.Random) -> str:
    return rng.choice([
        "居住证0001年1月1日到期什么时候签注", "居住证9999年12月31日到期能签注吗", "我居住证99999年1月1日到期",
        "居住证2026年2月30日到期", "0000-00-00到期怎么办", "居住证9999-12-31到期", "1月1日到期，已经过期9999999天",
        "签注后0001年1月1日交的积分申请多久出结果", "居住证12月32号到期", "过期-5天", "居住证" + "1" * 40 + "年到期",
        "居住证10000年1月1日到期", "居住证1月1日到期 去年 前年 大前年 明年 后年 " * 20,
    ])


def _format(rng: random.Random) -> str:
    return rng.choice([
        "%s%s%s%s%n%x", "{0}{1}{__class__}", "{.__init__.__globals__}", "%(asctime)s %(message)s", "${HOME}",
        "{{}}{}{", "%", "%-9999999999d", "{:>9999999999}", "\\N{BULLET}\\x00\\u0000", "'; drop table entries; --",
        "居住证%s到期{0}怎么办", "@小助手 %s%s %d {0}",
    ])


def _regex(rng: random.Random) -> str:
    size = rng.choice([1000, 10_000, 50_000])
    return rng.choice([
        "@" + ("a" * 20 + " @") * (size // 22), "@小助手\u2005" * (size // 5), "#" * size, "＃faq " * (size // 5),
        "[" + "图" * size + "]", "<msg" * (size // 4), "a" * size + "!", "哈" * size, "1" * size, "1 " * (size // 2),
        "12月" * (size // 3), "年月日" * (size // 3), "?" * size, "吗" * size, "(" * size + ")" * size,
        "1-" * (size // 2), "路1号" * (size // 3), "@" * size, "e" + "\u0301" * size, "\n" * size,
    ])


def _command(rng: random.Random) -> tuple[str, str]:
    """(sender, text): a member trying operator commands, or the operator's failing ones."""
    if rng.random() < 0.7:
        return "member", rng.choice(["#faq", "#faq add 问 | 答", "＃ｆａｑ disable bot.help", "#faq alias u1"])
    return OPERATOR, rng.choice([
        "#faq alias u999999999999999999999", "#faq alias u0", "#faq show " + "x" * 5000, "#faq frobnicate",
        "#faq unanswered 99999999999999999999", "#faq history points.tax 99999999999999999999",
        "#faq add " + "问" * 300 + " | 答", "#faq add 问 | " + "答" * 3000, "#faq alias points.tax " + "问" * 300,
        "#faq list " + "%s{0}" * 100, "#faq disable " + "\ud800",
    ])


KINDS = ["unicode", "surrogates", "dates", "format", "regex", "commands", "pii"]


def generate(rng: random.Random, number: int, huge_every: int) -> tuple[str, dict, str | None, str | None]:
    """(kind, Incoming fields, personal kind, personal value) for message `number`."""
    kind = KINDS[number % len(KINDS)]
    sender, pii_kind, value = f"wxid_{rng.randrange(5000)}", None, None
    if kind == "unicode":
        text = _unicode(rng)
    elif kind == "surrogates":
        text = _surrogates(rng)
    elif kind == "dates":
        text = _dates(rng)
    elif kind == "format":
        text = _format(rng)
    elif kind == "regex":
        text = _regex(rng)
    elif kind == "commands":
        sender, text = _command(rng)
    else:
        pii_kind = rng.choice(list(PERSONAL))
        value = PERSONAL[pii_kind](rng)
        text = rng.choice(["{}，蓝色香蕉飞船怎么养？", "我住张杨路{}，蓝色香蕉飞船怎么办", "蓝色香蕉飞船 {} 要多久？"]).format(value)
    if huge_every and number % huge_every == huge_every - 1:
        kind, text = "huge", (text or "居住证") * (MEGABYTE // max(len(text), 1) + 1)
    when = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI) + timedelta(seconds=number)
    if kind == "dates" and rng.random() < 0.5:
        when = rng.choice([datetime(1, 1, 1, tzinfo=timezone.utc), datetime(1, 1, 1, 12, tzinfo=SHANGHAI),
                           datetime(9999, 12, 31, 23, 59, tzinfo=SHANGHAI), datetime(9999, 12, 31, 23, 59, 59,
                                                                                        tzinfo=timezone.utc)])
    room = None if rng.random() < 0.2 else f"{rng.randrange(50)}@chatroom"
    fields = {"text": text, "time": when, "sender": sender, "room": room, "mentioned": rng.random() < 0.6,
              "id": str(number)}
    return kind, fields, pii_kind, value


# -- the run ---------------------------------------------------------------------------------------------------


class Recorder(logging.Handler):
    """Counts warnings and tracebacks by logger and exception, keeps a few examples of each traceback, and holds
    what was logged for the current message (its text and exception messages) for the leak search."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.tracebacks: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.pending: list[str] = []

    def drain(self) -> str:
        text, self.pending = "\n".join(self.pending), []
        return text

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            ours = [frame for frame in traceback.extract_tb(error.__traceback__)
                    if frame.filename.startswith(str(ROOT)) and "/.venv/" not in frame.filename]
            where = f"{Path(ours[-1].filename).relative_to(ROOT)}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
            key = f"{record.name}: {type(error).__name__} at {where}"
            self.tracebacks[key] += 1
            if len(self.examples.setdefault(key, [])) < EXAMPLES:
                self.examples[key].append(self.format(record)[-1500:])
        else:
            self.warnings[f"{record.name}: {re.sub(r'[0-9]+', 'N', message)[:120]}"] += 1
        error = record.exc_info[1] if record.exc_info else None
        self.pending.append(message + (f"\n{error}" if error is not None else ""))


def run(count: int, seconds: float, seed: int, huge_every: int) -> dict:
    """Send up to `count` messages for up to `seconds`; the report (see the module docstring) as a dict."""
    rss_start = rss_mb()
    recorder = Recorder()
    recorder.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(recorder)
    level, root.level = root.level, min(root.level or logging.WARNING, logging.WARNING)
    try:
        return _send(count, seconds, seed, huge_every, recorder, rss_start)
    finally:
        root.removeHandler(recorder)
        root.setLevel(level)


def _send(count: int, seconds: float, seed: int, huge_every: int, recorder: Recorder, rss_start: float) -> dict:
    from bot.config import Config
    from bot.events import Incoming
    from bot.app import build
    from knowledge.store import KnowledgeStore

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="permitbot-fuzz-") as folder:
        db = Path(folder) / "knowledge.db"
        store = KnowledgeStore.open(db)
        store.sync_files()
        bot = build(Config(db_path=db, operators=frozenset({OPERATOR})), store=store)
        rss_ready = rss_mb()
        sent: Counter[str] = Counter()
        exceptions: Counter[str] = Counter()
        apologies: Counter[str] = Counter()
        latencies: list[float] = []
        slowest = (0.0, "")
        planted: Counter[str] = Counter()
        leaked: Counter[str] = Counter()
        last_row = 0
        started = time.monotonic()
        for number in range(count):
            if time.monotonic() - started > seconds:
                log(f"time limit of {seconds:.0f} s reached after {number} messages")
                break
            kind, fields, pii_kind, value = generate(rng, number, huge_every)
            msg = Incoming(**fields)
            before = time.perf_counter()
            try:
                result = bot.handle(msg)
            except Exception as exc:  # handle() promises never to raise: every one is a finding
                exceptions[f"{kind}: {type(exc).__name__}: {str(exc)[:120]}"] += 1
                result = None
            elapsed = (time.perf_counter() - before) * 1000
            latencies.append(elapsed)
            if elapsed > slowest[0]:
                slowest = (elapsed, kind)
            sent[kind] += 1
            if result is not None and result.reply and APOLOGY in result.reply:
                apologies[kind] += 1
            # What this message left behind: the queue rows it added, what was logged, the reply.
            rows = store.db.execute("select id, room, question, key from unanswered where id > ?",
                                    [last_row]).fetchall()
            last_row = max([last_row, *(row[0] for row in rows)])
            logged = recorder.drain()
            if value is not None:
                planted[pii_kind] += 1
                left = "\n".join([logged, (result.reply or "") if result else "", *(str(part) for row in rows
                                                                                   for part in row)]).lower()
                leaked[pii_kind] += any(form in left for form in _forms(value))
            if number and number % 10_000 == 0:
                log(f"{number} messages, {len(recorder.tracebacks)} kinds of traceback, RSS {rss_mb():.0f} MB")
        elapsed_s = time.monotonic() - started
        rss_end = rss_mb()
    latencies.sort()
    return {
        "messages": len(latencies), "seconds": round(elapsed_s, 1), "seed": seed, "by_kind": dict(sent),
        "exceptions": sum(exceptions.values()), "exception_kinds": dict(exceptions.most_common(20)),
        "tracebacks": sum(recorder.tracebacks.values()), "traceback_kinds": dict(recorder.tracebacks.most_common(20)),
        "traceback_examples": {key: examples[0] for key, examples in recorder.examples.items()},
        "traceback_messages": {key: str(examples[0].splitlines()[-1])[:160] for key, examples in recorder.examples.items()},
        "warnings": sum(recorder.warnings.values()), "warning_kinds": dict(recorder.warnings.most_common(10)),
        "apologies": sum(apologies.values()), "apologies_by_kind": dict(apologies),
        "latency_ms": {"p50": round(latencies[len(latencies) // 2], 3) if latencies else None,
                       "p99": round(latencies[int(len(latencies) * 0.99)], 3) if latencies else None,
                       "max": round(slowest[0], 1), "max_kind": slowest[1]},
        "rss_mb": {"start": round(rss_start, 1), "ready": round(rss_ready, 1), "end": round(rss_end, 1),
                   # the kernel's high-water mark (KiB) can read a hair under a later /proc sample (pages)
                   "peak": round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rss_start,
                                     rss_ready, rss_end), 1)},
        "pii_planted": dict(planted), "pii_leaked": {kind: n for kind, n in leaked.items() if n},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hostile messages through the real handler (issue 14).")
    parser.add_argument("--count", type=int, default=100_000, help="messages to send (default 100,000)")
    parser.add_argument("--seconds", type=float, default=600, help="stop after this long (default 600)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--huge-every", type=int, default=1000, help="one ~1 MB message in this many (0: none)")
    parser.add_argument("--max-rss-mb", type=float, default=150, help="peak RSS that counts as a finding")
    args = parser.parse_args(argv)
    log(f"sending up to {args.count} messages for up to {args.seconds:.0f} s (seed {args.seed})")
    report = run(args.count, args.seconds, args.seed, args.huge_every)
    for key, examples in report["traceback_examples"].items():
        log(f"traceback ×{report['traceback_kinds'].get(key, '?')} {key}\n{examples}")
    print(json.dumps(report, ensure_ascii=False))
    found = (report["exceptions"] or report["tracebacks"] or report["apologies"] or sum(report["pii_leaked"].values())
             or report["rss_mb"]["peak"] > args.max_rss_mb)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
