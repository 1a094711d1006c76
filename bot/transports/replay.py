"""Replay transport: `permitbot replay` runs historic messages through the live handler and evaluates the answers.

The input and output formats are the contract of shared/spec/replay.md; other tools' chat exports are read as
they are (bot/transports/exports.py), in UTF-8 or a detected encoding such as GBK. Everything streams: one line
is read, answered and written before the next, so memory stays flat however long the export is.
"""
from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import os
import re
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, TextIO

import charset_normalizer
import ijson

from bot import activity
from bot.evaluation import NONE_LABEL, Comparison, Expectation, LabelError, LatencyHistogram, OwnerView, PreviousRun, \
    Scorer, parse_bool, parse_expectation, percent
from bot.conversation import MAX_CHATS
from bot.errors import UsageError
from bot.events import Incoming
from bot.transports.exports import Chat, ChatlogCsv, ChatlogJson, WeChatMsgCsv
from bot.transports.quotes import read_quote
from knowledge.redact import redact
from intents.dates import parse_time
from intents.normalize import UNENCODABLE

BOM = b"\xef\xbb\xbf"
JSONL, CSV, JSON = "jsonl", "csv", "json"
_JSONL_SUFFIXES = {".jsonl", ".ndjson"}
_CSV_SUFFIXES = {".csv", ".tsv"}
SAMPLE_BYTES = 1 << 16  # read ahead to tell the encoding
_SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030"}  # read with the superset: a GBK file may hold GB18030 characters
_CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# What surrogateescape made of bytes the input's encoding could not decode.
_UNDECODED = re.compile(r"[\udc80-\udcff]")

# How much of the run is kept in memory for the summary and report; the full lists are in the files.
KEEP_SKIPPED = 200
KEEP_MISSES = 500


class InputError(Exception):
    """The input as a whole cannot be read (missing file, an encoding it cannot tell, a CSV header that is neither
    the replay's nor a known export's)."""


class OutputError(Exception):
    """An output path cannot be written (a folder, under a file, no permission); the message names the option."""


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One usable input line: the Incoming for the handler, the id to copy and the labels to score."""

    line: int
    id: Any
    incoming: Incoming
    expect: Expectation = field(default_factory=Expectation)
    label_problem: str | None = None  # an unreadable `expect`: the message is replayed but not scored


@dataclass(frozen=True)
class BadLine:
    """A malformed line: reported with its number and skipped. `reason` never quotes message text."""

    line: int
    reason: str





def to_message(line: int, raw: dict[str, Any]) -> Message | BadLine:
    """Check one decoded line against the input contract."""
    text = raw.get("text")
    if text is None:
        return BadLine(line, "missing text")
    if not isinstance(text, str):
        return BadLine(line, f"text is not a string but {type(text).__name__}")
    if not text.strip():
        return BadLine(line, "empty text")
    if raw.get("time") in (None, ""):
        return BadLine(line, "missing time")
    try:
        moment = parse_time(raw["time"])
    except ValueError:
        return BadLine(line, "unparseable time (expected ISO 8601, e.g. 2026-11-23T10:15:00+08:00)")
    try:
        mentioned = bool(parse_bool(raw.get("mentioned")))
    except ValueError:
        return BadLine(line, "mentioned is not true or false")
    message_id = raw.get("id")
    if message_id is None or message_id == "":
        message_id = line
    room = raw.get("room")
    sender = raw.get("sender")
    quoted = raw.get("quoted")
    if quoted is not None and not isinstance(quoted, str):
        return BadLine(line, f"quoted is not a string but {type(quoted).__name__}")
    if quoted is None and (quote := read_quote(text)) is not None and quote.text:
        text, quoted = quote.text, quote.quoted  # a quote in the text: split as the live gateway splits it
    incoming = Incoming(
        text=text,
        time=moment,
        # Without a sender nobody's chat memory may reach this line: it is its own sender.
        sender=str(sender) if sender not in (None, "") else f"(anonymous, line {line})",
        room=str(room) if room not in (None, "") else None,
        mentioned=mentioned,
        id=str(message_id),
        quoted=quoted or None,
    )
    try:
        expect, problem = parse_expectation(raw.get("expect")), None
    except LabelError as exc:
        expect, problem = Expectation(), str(exc)
    return Message(line, message_id, incoming, expect, problem)


def detect_encoding(sample: bytes, *, complete: bool, name: str) -> str:
    """The codec (a Python codec name) to read an input whose first bytes are `sample`.

    UTF-8 (with or without BOM) when most of its non-ASCII lines are UTF-8, so that a few broken lines are skipped
    one by one rather than read in a wrong encoding; else what charset-normalizer recognises (GBK read as its
    superset GB18030). `complete` says the sample is the whole input. InputError, in one line naming the encoding,
    when none is recognised or the text read in it is not Chinese.
    """
    if sample.startswith(BOM):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    lines = sample.split(b"\n")
    if not complete:
        lines.pop()  # perhaps cut inside a character
    non_ascii = [line for line in lines if not line.isascii()]
    broken = sum(1 for line in non_ascii if not _is_utf8(line))
    if b"\x00" not in sample and broken * 2 <= len(non_ascii):
        return "utf-8"
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise InputError(f"{name}: not UTF-8 text, and no other encoding fits it; save it as UTF-8")
    encoding = _SUPERSETS.get(best.encoding, best.encoding)
    text = sample.decode(encoding, errors="replace")
    if len(_CHINESE.findall(text)) * 2 < sum(1 for char in text if ord(char) > 0x7F):
        raise InputError(f"{name}: looks like {encoding} text without Chinese, not a chat export in UTF-8 or GBK; "
                         "save it as UTF-8")
    return encoding


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def encoding_label(encoding: str) -> str:
    """A codec name as people write it: utf-8-sig → UTF-8, gb18030 → GB18030."""
    return "UTF-8" if encoding.startswith("utf-8") else encoding.upper().replace("_", "-")


def detect_format(name: str, head: str) -> str:
    """By extension (.csv, .tsv, .jsonl, .ndjson), else by the first character: `[` a JSON array (chatlog's
    export), `{` JSON Lines; else .json is JSON Lines and anything else CSV."""
    suffix = Path(name).suffix.lower()
    if suffix in _CSV_SUFFIXES:
        return CSV
    if suffix in _JSONL_SUFFIXES:
        return JSONL
    start = head.lstrip("\ufeff \t\r\n")[:1]
    if start == "[":
        return JSON
    return JSONL if start == "{" or suffix == ".json" else CSV


class _Resumed(io.RawIOBase):
    """A byte stream that gives back `head` (read ahead to tell the encoding), then the rest of `tail`."""

    def __init__(self, head: bytes, tail: IO[bytes]):
        super().__init__()
        self.head = memoryview(head)
        self.tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        data = self.tail.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


@dataclass
class InputInfo:
    """What reading found out about the input, for the summary: its format's name and its encoding."""

    format: str | None = None
    encoding: str | None = None


def _with_chat(record: dict[str, Any], chat: Chat) -> dict[str, Any]:
    """A replay line under --room / --private."""
    if chat.private or chat.room:
        record = {**record, "room": chat.room_for(None)}
    return record


def _jsonl_lines(text: TextIO, *, label: str, chat: Chat) -> Iterator[Message | BadLine]:
    for number, line in enumerate(text, 1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        if _UNDECODED.search(line):
            yield BadLine(number, f"not {label}")
            continue
        try:
            decoded = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadLine(number, f"bad JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(decoded, dict):
            yield BadLine(number, "not a JSON object")
            continue
        yield to_message(number, _with_chat(decoded, chat))


def _json_items(handle: IO[bytes], *, chat: Chat, info: InputInfo, note: Callable[[str], None],
                name: str) -> Iterator[Message | BadLine]:
    """A JSON array (chatlog's export, or replay lines), item by item; "line" numbers count its items."""
    # ijson's pure-Python parser: the C one turns a lone surrogate escape into "?", and ids must survive as they are.
    items = ijson.get_backend("python").items(handle, "item", use_float=True)
    chatlog = ChatlogJson(chat)
    number = 0
    try:
        for number, item in enumerate(items, 1):
            if ChatlogJson.recognises(item):
                if info.format != chatlog.name:
                    info.format = chatlog.name
                    note(f"{name}: a {chatlog.name} export")
                yield _to_item(number, chatlog.record(number, item))
            elif isinstance(item, dict):
                yield to_message(number, _with_chat(item, chat))
            else:
                yield BadLine(number, "not a JSON object")
    except ijson.JSONError as exc:
        yield BadLine(number + 1, f"bad JSON after item {number} ({str(exc).splitlines()[0]}); the rest is not read")


def _to_item(line: int, record: dict[str, Any] | str) -> Message | BadLine:
    return BadLine(line, record) if isinstance(record, str) else to_message(line, record)


def _csv_lines(text: TextIO, *, name: str, label: str, chat: Chat, info: InputInfo,
               note: Callable[[str], None]) -> Iterator[Message | BadLine]:
    first = text.readline()
    delimiter = "\t" if (Path(name).suffix.lower() == ".tsv" or ("\t" in first and "," not in first)) else ","
    header = [column.strip().lstrip("\ufeff") for column in next(csv.reader([first], delimiter=delimiter), [])]
    lowered = [column.lower() for column in header]
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        end = 1  # the header's line
        for row in reader:
            start, end = end + 1, reader.line_num + 1
            if any(cell.strip() for cell in row):
                yield start, row

    if "text" in lowered and "time" in lowered:
        for start, row in rows():
            if any(_UNDECODED.search(cell) for cell in row):
                yield BadLine(start, f"not {label}")
            else:
                yield to_message(start, _with_chat(_csv_record(lowered, row, start), chat))
        return
    if WeChatMsgCsv.recognises(header):
        export: WeChatMsgCsv | ChatlogCsv = WeChatMsgCsv(chat, source=name, note=note)
    elif ChatlogCsv.recognises(header):
        export = ChatlogCsv(chat)
        note(f"{name}: a {export.name} export")
    else:
        missing = [column for column in ("text", "time") if column not in lowered]
        raise InputError(f"{name}: the CSV header has no {' or '.join(missing)} column "
                         f"(columns: {', '.join(header) or 'none'}), nor is it the header of a WeChatMsg/MemoTrace "
                         "or chatlog export")
    info.format = export.name
    undecoded: dict[int, str] = {}

    def cells() -> Iterator[tuple[int, dict[str, str]]]:
        for start, row in rows():
            if any(_UNDECODED.search(cell) for cell in row):
                undecoded[start] = f"not {label}"
            yield start, dict(zip(header, row))

    for line, record in export.records(cells()):
        yield BadLine(line, undecoded.pop(line)) if line in undecoded else _to_item(line, record)


def _csv_record(header: list[str], row: list[str], line: int) -> dict[str, Any]:
    """A CSV row as the JSON object it stands for; empty cells are absent; extra cells are ignored."""
    cells = {column: value for column, value in zip(header, row) if column}
    record: dict[str, Any] = {k: v for k, v in cells.items() if v != "" and not k.startswith("expect")}
    expect: Any = {}
    if cells.get("expect", "").strip():
        try:
            expect = json.loads(cells["expect"])
        except json.JSONDecodeError:
            expect = "not JSON"
    if isinstance(expect, dict):
        for column, value in cells.items():
            if column.startswith("expect.") and value.strip():
                expect[column.removeprefix("expect.")] = value
    record["expect"] = expect or None
    return record


def read_messages(source: str, *, fmt: str = "auto", stdin: IO[bytes] | None = None, chat: Chat | None = None,
                  note: Callable[[str], None] | None = None, info: InputInfo | None = None
                  ) -> Iterator[Message | BadLine]:
    """Every line of `source` (a path, or "-" for standard input) as a Message or a BadLine, in order.

    The encoding is detected from the first SAMPLE_BYTES (`detect_encoding`), the format from the extension or the
    first character, and a CSV's kind from its header (replay columns, WeChatMsg/MemoTrace, chatlog). `chat` holds
    --room / --private and the bot's names; `note` receives one-line remarks on what was detected; `info` is filled
    with the format and encoding. InputError when the input as a whole cannot be read.
    """
    chat = chat or Chat()
    note = note or (lambda text: None)
    info = info if info is not None else InputInfo()
    if source == "-":
        handle: IO[bytes] = stdin or sys.stdin.buffer
    else:
        try:
            handle = open(source, "rb")
        except OSError as exc:
            raise InputError(f"cannot read {source}: {exc.strerror}") from exc
    try:
        sample = handle.read(SAMPLE_BYTES)
        encoding = detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES, name=source)
        label = encoding_label(encoding)
        info.encoding = label
        if label != "UTF-8":
            note(f"{source}: read as {label} (detected)")
        if fmt == "auto":
            fmt = detect_format(source, sample.decode(encoding, errors="replace"))
        if fmt == JSON:
            info.format = info.format or "JSON array"
            if label != "UTF-8":
                raise InputError(f"{source}: a JSON array in {label}; save it as UTF-8")
            yield from _json_items(io.BufferedReader(_Resumed(sample.removeprefix(BOM), handle)), chat=chat,
                                   info=info, note=note, name=source)
            return
        text = io.TextIOWrapper(io.BufferedReader(_Resumed(sample, handle)), encoding=encoding,
                                errors="surrogateescape", newline="")
        try:
            if fmt == JSONL:
                info.format = "JSON Lines"
                yield from _jsonl_lines(text, label=label, chat=chat)
            else:
                info.format = "CSV"
                yield from _csv_lines(text, name=source, label=label, chat=chat, info=info, note=note)
        except UnicodeDecodeError as exc:  # only a codec without byte escapes (UTF-16) can fail here
            raise InputError(f"{source}: broken {label} text ({exc.reason}); the rest cannot be read") from exc
    finally:
        if source != "-":
            handle.close()


# -- writing ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A fact as JSON holds it: dates as YYYY-MM-DD, text redacted."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return redact(value)
    return value


def result_record(message_id: Any, result: Any, latency_ms: float) -> dict[str, Any]:
    """One output line of the contract: id, the handler's record (redacted), latency."""
    record = {"id": message_id, **result.as_record(), "latency_ms": round(latency_ms, 3),
              "recognised": result.recognised}  # an extension of the contract: nothing matched well enough
    if isinstance(record.get("reply"), str):
        record["reply"] = redact(record["reply"])
    record["facts"] = {name: _plain(value) for name, value in (record.get("facts") or {}).items()}
    return record


def _dumps(record: dict[str, Any], *, indent: int | None = None) -> str:
    """JSON text that UTF-8 can hold: a string that cannot be encoded (a lone surrogate, as in a broken id copied
    through) keeps it as a \\u escape, so reading the JSON back gives the very same string."""
    text = json.dumps(record, ensure_ascii=False, default=_plain, indent=indent)
    return UNENCODABLE.sub(lambda char: f"\\u{ord(char[0]):04x}", text)


class AtomicText:
    """A text file written beside its final name and moved there only when the run finishes."""

    def __init__(self, path: Path):
        self.path = path
        self.temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        # JSON outputs escape what UTF-8 cannot hold (_dumps); the HTML report shows it as a backslash escape.
        self.handle: TextIO = open(self.temporary, "w", encoding="utf-8", errors="backslashreplace", newline="\n")

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.temporary, self.path)

    def abandon(self) -> None:
        """Close and delete the temporary file; harmless twice, or after commit."""
        self.handle.close()
        self.temporary.unlink(missing_ok=True)


def open_outputs(paths: dict[str, Path | None]) -> dict[str, AtomicText]:
    """Each output (option name → path; None: not asked for) opened as its temporary file, before any input is
    read. OutputError names the first that cannot be written (nothing is left behind then): a folder, a path
    under a file, a place without write permission."""
    opened: dict[str, AtomicText] = {}
    try:
        for option, path in paths.items():
            if path is None:
                continue
            if path.is_dir():
                raise OutputError(f"{option} {path}: is a directory; give a file name")
            existing = next(folder for folder in path.parents if folder.exists())
            if not existing.is_dir():
                raise OutputError(f"{option} {path}: {existing} is a file, not a folder")
            try:
                opened[option] = AtomicText(path)
            except OSError as exc:
                raise OutputError(f"{option} {path}: cannot write there ({exc.strerror})") from exc
    except BaseException:
        _abandon(opened.values())
        raise
    return opened


def errors_path_for(out: Path) -> Path:
    """out.jsonl → out.errors.jsonl."""
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.errors.jsonl")


# -- running ---------------------------------------------------------------------------------


class Replay:
    """Feeds messages in input order to one handler and keeps the counts for the summary.

    One handler for the whole run, so a sender's remembered dates and "did you mean" choices carry
    from one line to the next exactly as in live chat (keyed by room and sender, limited in time).
    """

    def __init__(self, bot: Any, *, out: TextIO, misses: TextIO | None = None,
                 comparison: Comparison | None = None, warn: Callable[[str], None] | None = None):
        self.bot = bot
        self.out = out
        self.misses = misses
        self.comparison = comparison
        self.warn = warn
        self.scorer = Scorer()
        self.aliases = getattr(getattr(bot, "config", None), "aliases", ())
        self.group_confidence = getattr(getattr(bot, "config", None), "group_confidence", 0.0)
        self.owner = OwnerView(self.aliases)
        self.latency = LatencyHistogram()
        self.messages = self.replied = self.recognised = 0
        self.skipped = 0
        self.unscored = 0
        self.out_of_order = 0
        self.by_intent: dict[str, int] = {}
        self.skipped_lines: list[dict[str, Any]] = []
        self.kept_misses: list[dict[str, Any]] = []
        self.miss_count = 0
        self._last_seen: OrderedDict[tuple[str | None, str], datetime] = OrderedDict()
        self._started = time.perf_counter()
        self.elapsed = 0.0

    def feed(self, item: Message | BadLine) -> None:
        if isinstance(item, BadLine):
            self._skip(item)
            return
        if item.label_problem:
            self.unscored += 1
            self._say(f"line {item.line}: {item.label_problem}; replayed but not scored")
        msg = item.incoming
        self._check_order(msg)
        started = time.perf_counter()
        result = self.bot.handle(msg)
        latency_ms = (time.perf_counter() - started) * 1000
        record = result_record(item.id, result, latency_ms)
        self.out.write(_dumps(record) + "\n")
        self._count(record, latency_ms)
        counts, missed = activity.review(msg, result, aliases=self.aliases, group_confidence=self.group_confidence)
        self.owner.add(msg.time, counts, missed, intent=result.intent, text=msg.text, reply=record["reply"])
        if not item.expect.empty:
            problems = self.scorer.score(item.expect, record)
            if problems:
                self._miss(item, record, result, problems)
        if self.comparison is not None:
            self.comparison.add(record)

    def _check_order(self, msg: Incoming) -> None:
        """Count messages earlier than their sender's previous one in the same chat: memory follows input order."""
        key = (msg.room, msg.sender)
        last = self._last_seen.get(key)
        if last is not None and msg.time < last:
            self.out_of_order += 1
        self._last_seen[key] = msg.time if last is None else max(last, msg.time)
        self._last_seen.move_to_end(key)
        if len(self._last_seen) > MAX_CHATS:  # the handler forgets as many; memory stays bounded
            self._last_seen.popitem(last=False)

    def _say(self, text: str) -> None:
        if self.warn is not None:
            self.warn(f"permitbot replay: {text}")

    def _skip(self, bad: BadLine) -> None:
        self.skipped += 1
        self._say(f"line {bad.line}: {bad.reason}; skipped")
        if len(self.skipped_lines) < KEEP_SKIPPED:
            self.skipped_lines.append({"line": bad.line, "reason": bad.reason})

    def _count(self, record: dict[str, Any], latency_ms: float) -> None:
        self.messages += 1
        self.replied += bool(record["replied"])
        intent = record.get("intent")
        self.recognised += bool(record.get("recognised", intent is not None))
        key = intent or NONE_LABEL
        self.by_intent[key] = self.by_intent.get(key, 0) + 1
        self.latency.add(latency_ms)

    def _miss(self, item: Message, record: dict[str, Any], result: Any, problems: list[str]) -> None:
        expect = item.expect
        miss = {
            "line": item.line,
            "id": item.id,
            "time": item.incoming.time.isoformat(),
            "room": redact(item.incoming.room) if item.incoming.room else None,
            "mentioned": item.incoming.mentioned,
            "text": redact(item.incoming.text),
            "problems": problems,
            "expected": {
                "intent": list(expect.intents) or None,
                "replied": expect.replied,
                "facts": {name: _plain(value) for name, value in expect.facts.items()} or None,
            },
            "got": {
                "intent": record["intent"],
                "confidence": record["confidence"],
                "replied": record["replied"],
                "facts": record["facts"],
                "candidates": [[entry, round(score, 4)] for entry, score in (result.candidates or [])[:3]],
                "reply": record["reply"],
            },
        }
        self.miss_count += 1
        if self.misses is not None:
            self.misses.write(_dumps(miss) + "\n")
        if len(self.kept_misses) < KEEP_MISSES:
            self.kept_misses.append(miss)

    @property
    def evaluated(self) -> bool:
        """Whether any line carried a label (intent, replied or facts)."""
        scorer = self.scorer
        return bool(scorer.labelled or scorer.replied_labelled or scorer.facts_labelled)

    def finish(self) -> None:
        self.elapsed = time.perf_counter() - self._started

    def summary(self) -> dict[str, Any]:
        seconds = self.elapsed or (time.perf_counter() - self._started)
        data: dict[str, Any] = {
            "messages": self.messages,
            "replied": self.replied,
            "recognised": self.recognised,
            "skipped": self.skipped,
            "latency_ms": self.latency.as_dict(),
            "messages_per_second": round(self.messages / seconds, 1) if seconds > 0 else None,
            "elapsed_seconds": round(seconds, 3),
            "by_intent": dict(sorted(self.by_intent.items(), key=lambda kv: (-kv[1], kv[0]))),
            "out_of_order": self.out_of_order,
            "skipped_lines": self.skipped_lines,
            "owner": self.owner.as_dict(),
        }
        if self.evaluated:
            data["evaluation"] = {**self.scorer.as_dict(), "misses": self.miss_count, "unscored": self.unscored}
        if self.comparison is not None:
            data["compare"] = self.comparison.as_dict()
        return data


def replay(items: Iterable[Message | BadLine], runner: Replay, *, progress: Any = None) -> Replay:
    """Run every item through `runner`; `progress` is a tqdm-like object updated once per line."""
    for item in items:
        runner.feed(item)
        if progress is not None:
            progress.update(1)
    runner.finish()
    return runner


# -- the summary as text ---------------------------------------------------------------------


def summary_lines(summary: dict[str, Any]) -> Iterator[str]:
    latency = summary["latency_ms"]
    yield (f"replayed {summary['messages']} messages in {summary['elapsed_seconds']:.2f} s "
           f"({summary['messages_per_second'] or 0:,.0f} messages/s); {summary['skipped']} "
           f"line{'' if summary['skipped'] == 1 else 's'} skipped")
    yield (f"replied {summary['replied']}, recognised {summary['recognised']}; "
           f"latency p50 {latency['p50']} ms, p99 {latency['p99']} ms")
    if summary["out_of_order"]:
        yield (f"warning: {summary['out_of_order']} messages were earlier than the same sender's message "
               "before them in the same chat; chat memory follows input order, so sort the export by time")
    evaluation = summary.get("evaluation")
    if evaluation:
        if evaluation["labelled"]:
            yield (f"intent accuracy {evaluation['correct']}/{evaluation['labelled']} = "
                   f"{percent(evaluation['accuracy'])}")
            for name, counts in evaluation["per_intent"].items():
                if counts["expected"] and (counts["precision"] != 1.0 or counts["recall"] != 1.0):
                    yield (f"  {name}: precision {percent(counts['precision'])} recall {percent(counts['recall'])} "
                           f"({counts['correct']} of {counts['expected']} expected, {counts['predicted']} predicted)")
            for pair in evaluation["confusions"]:
                yield f"  confused: expected {pair['expected']} → got {pair['predicted']} ×{pair['count']}"
        if evaluation["replied_labelled"]:
            yield f"replied mismatches: {evaluation['replied_mismatches']} of {evaluation['replied_labelled']} labelled"
        if evaluation["facts_labelled"]:
            yield f"facts mismatches: {evaluation['facts_mismatches']} of {evaluation['facts_labelled']} labelled"
        where = summary.get("errors_file")
        yield f"misses: {evaluation['misses']}" + (f" (in {where})" if where else " (give --out or --errors to keep them)")


# -- the command -----------------------------------------------------------------------------

EXAMPLE = """\
examples:
  permitbot replay export.jsonl --out answers.jsonl --summary summary.json --report report.html
  permitbot replay export.csv --out after.jsonl --compare before.jsonl   # after an FAQ edit
  permitbot replay export.jsonl > answers.jsonl                          # results on stdout

Input: JSON Lines or CSV (by extension, else sniffed), UTF-8 with or without BOM or another
encoding it recognises (GBK), LF or CRLF; `text` and `time` required; `id` defaults to the line
number, `room` absent = private chat, `mentioned` absent = false, `quoted` the message a WeChat quote
quotes (without it, a quote in `text`, 「name：words」 + a dashed line or the type-57 XML, is split as
the live bot splits it); a time without offset is Asia/Shanghai; other keys/columns ignored.
Chat exports are read as they are, told apart by their header: the CSV of WeChatMsg / MemoTrace
(one chat per file: a group when its Sender column names members or its TalkerId is a chatroom;
--room NAME / --private override) and chatlog's CSV or JSON. "@<bot name>" opening a text counts as
a mention; images, stickers, system lines and other non-text messages are replayed as silent.
Labelled lines (`expect.intent`: an id or a list of accepted ids; `expect.replied`) are scored;
the misses go to OUT.errors.jsonl beside --out (or --errors). Malformed lines are reported on
stderr with their line number and skipped. Without --out the results go to standard output and
the summary to standard error; with --out the summary is printed on standard output.
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay", help="answer a file of historic messages, score labelled ones, compare with an earlier run",
        description="Runs every message of INPUT through the same handler as live chat, with the clock "
                    "set to the message's own time, and writes one JSON result per message.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="JSON Lines or CSV file of messages; - for standard input")
    parser.add_argument("--out", metavar="OUT.jsonl", help="where to write the results (default: standard output)")
    parser.add_argument("--summary", metavar="SUMMARY.json", help="also write the summary as JSON")
    parser.add_argument("--report", metavar="REPORT.html", help="write a self-contained HTML report")
    parser.add_argument("--compare", metavar="PREVIOUS.jsonl",
                        help="list messages whose intent, replied flag or reply changed against an earlier output")
    parser.add_argument("--errors", metavar="ERRORS.jsonl", help="where to write the misses (default: OUT.errors.jsonl)")
    parser.add_argument("--format", choices=("auto", JSONL, CSV, JSON), default="auto",
                        help="input format (default: auto); json is a JSON array such as chatlog's export")
    chat = parser.add_mutually_exclusive_group()
    chat.add_argument("--room", metavar="NAME", help="every message is one of the group NAME (e.g. a WeChatMsg CSV "
                                                     "of a group whose members the file does not show)")
    chat.add_argument("--private", action="store_true", help="every message is one of a private chat")
    parser.add_argument("--min-accuracy", type=percentage, metavar="PERCENT",
                        help="exit with status 1 when intent accuracy on labelled lines is below PERCENT (e.g. 95)")
    parser.add_argument("--db", help="knowledge database path (default: ~/.local/share/permitbot/knowledge.db)")
    parser.add_argument("--config", help="TOML configuration file")
    parser.set_defaults(func=run_replay)


def percentage(text: str) -> float:
    """--min-accuracy: a percentage from above 1 to 100, as a ratio; argparse shows the error and exits 2."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; write a percentage, e.g. 95") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is outside 0–100; write a percentage, e.g. 95")
    if value <= 1:
        raise argparse.ArgumentTypeError(f"{text}: write it as a percentage, e.g. 95")
    return value / 100


def _progress(source: str, fmt: str) -> Any:
    """A tqdm bar on an interactive stderr (total from a quick line count of a file), else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    total = None
    if source != "-" and os.path.isfile(source) and fmt != JSON:  # a JSON array's items are not its lines
        with open(source, "rb") as handle:
            total = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        total -= 1 if fmt == CSV else 0
    return tqdm(total=total, unit="msg", file=sys.stderr, dynamic_ncols=True, leave=False)


def open_replay_bot(args: argparse.Namespace) -> Any:
    """The live handler on the live knowledge, but read-only: a replay must change nothing an operator relies on.

    Operator commands (`#faq disable …` from an operator's old message) get the refusal instead of editing the
    knowledge again, and historic messages are kept out of the daily counters and the unanswered queue.
    """
    from bot.console import bot_for

    bot = bot_for(args, operators=frozenset())
    bot.record_activity = False
    return bot


def run_replay(args: argparse.Namespace) -> int:

    if args.input != "-" and os.path.isdir(args.input):
        raise UsageError(f"{args.input}: is a directory; give a JSON Lines or CSV file of messages")
    if args.input != "-" and not os.path.isfile(args.input):
        raise UsageError(f"{args.input}: no such file")
    previous = None
    if args.compare:
        try:
            previous = PreviousRun(Path(args.compare))  # read fully before OUT is written: they may be one file
        except OSError as exc:
            raise UsageError(f"cannot read {args.compare}: {exc.strerror}") from exc
    errors_path = Path(args.errors) if args.errors else (errors_path_for(Path(args.out)) if args.out else None)
    try:  # every output checked and opened before the first input line is read
        outputs = open_outputs({"--out": Path(args.out) if args.out else None, "--errors": errors_path,
                                "--summary": Path(args.summary) if args.summary else None,
                                "--report": Path(args.report) if args.report else None})
    except OutputError as exc:
        raise UsageError(str(exc)) from exc
    try:
        return _run(args, outputs, previous, errors_path)
    except BrokenPipeError:  # results piped into `head` and the like: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0
    except InputError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:  # a full disk, say: one line, and no half-written output
        raise UsageError(f"replay stopped: {exc.strerror or exc}; no output file was written") from exc
    finally:
        _abandon(outputs.values())  # what was not committed: nothing when the run succeeded


def _run(args: argparse.Namespace, outputs: dict[str, AtomicText], previous: PreviousRun | None,
         errors_path: Path | None) -> int:
    """The replay proper, once its outputs are open; commits them all at the end."""
    from bot.report import render_report

    bot = open_replay_bot(args)
    out_file, errors_file = outputs.get("--out"), outputs.get("--errors")
    fmt = args.format
    progress = _progress(args.input, fmt if fmt != "auto" else _sniff(args.input))

    def warn(text: str) -> None:
        if progress is not None:
            progress.write(text, file=sys.stderr)  # above the bar, not through it
        else:
            print(text, file=sys.stderr)

    runner = Replay(bot, out=out_file.handle if out_file else sys.stdout,
                    misses=errors_file.handle if errors_file else None,
                    comparison=Comparison(previous) if previous else None, warn=warn)
    chat = Chat(room=args.room or None, private=args.private, aliases=bot.config.aliases)
    info = InputInfo()
    try:
        messages = read_messages(args.input, fmt=fmt, chat=chat, info=info,
                                 note=lambda text: warn(f"permitbot replay: {text}"))
        replay(messages, runner, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    summary = {"input": args.input, "input_format": info.format, "input_encoding": info.encoding,
               "output": args.out, **runner.summary()}
    if errors_file and runner.evaluated:
        summary["errors_file"] = str(errors_path)  # written even when empty: no stale misses stay beside OUT
    elif errors_file:
        errors_file.abandon()
        del outputs["--errors"]
    if "--summary" in outputs:
        outputs["--summary"].handle.write(_dumps(summary, indent=2) + "\n")
    if "--report" in outputs:
        outputs["--report"].handle.write(render_report(summary, misses=runner.kept_misses))
    for pending in outputs.values():
        pending.commit()
    text_out = sys.stdout if args.out else sys.stderr
    for line in summary_lines(summary):
        print(line, file=text_out)
    if runner.comparison is not None:
        for line in runner.comparison.lines():
            print(line, file=text_out)
    if runner.skipped and not runner.messages:
        print(f"permitbot replay: every line of {args.input} was skipped ({runner.skipped}); "
              "nothing was replayed", file=sys.stderr)
        return 1
    accuracy = runner.scorer.accuracy
    if args.min_accuracy is not None and (accuracy is None or accuracy < args.min_accuracy):
        print(f"permitbot replay: intent accuracy {percent(accuracy)} is below --min-accuracy "
              f"{args.min_accuracy * 100:.1f} %", file=sys.stderr)
        return 1
    return 0


def _abandon(files: Iterable[AtomicText]) -> None:
    for pending in files:
        pending.abandon()


def _sniff(source: str) -> str:
    if source == "-":
        return JSONL
    with open(source, "rb") as handle:
        return detect_format(source, handle.read(4096).decode("utf-8", errors="replace"))
