"""The replay report: one self-contained HTML file (inline CSS and SVG, no scripts, no network) from a run's summary.

A labelled run gets the accuracy report (for whoever tunes the bot); history nobody labelled gets a report in Chinese
for the group owner: how many questions, how many answered, the missed ones by likely intent with the `#faq alias`
line that fixes each group, sample replies. Times are Shanghai times."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Iterable

from bot.evaluation import percent
from intents.dates import SHANGHAI
from knowledge.faqfile import MAX_PHRASING_CHARS

FIX_QUESTIONS = 3  # questions in a group's one-line `#faq alias` fix

CHART_WIDTH = 760
LABEL_WIDTH = 230
BAR_AREA = 420
ROW_HEIGHT = 24

_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1d2430; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d8dde6; padding-bottom: .3rem; }
.meta { color: #5b6575; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
th { background: #f4f6f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv { width: auto; }
table.kv th { background: none; font-weight: normal; color: #5b6575; }
.tiles { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.tile { border: 1px solid #d8dde6; border-radius: 6px; padding: .6rem .9rem; min-width: 8rem; }
.tile b { display: block; font-size: 1.35rem; }
.tile span { color: #5b6575; font-size: .85rem; }
.good { color: #1a7f37; } .fair { color: #9a6700; } .poor { color: #cf222e; }
.reply { white-space: pre-wrap; color: #3d4654; max-height: 8em; overflow: auto; }
.tag { display: inline-block; background: #fff1e5; color: #9a3412; border-radius: 4px; padding: 0 .35rem;
       margin-right: .2rem; font-size: .8rem; }
svg text { font-family: inherit; font-size: 12px; fill: #1d2430; }
svg .bar-good { fill: #2da44e; } svg .bar-fair { fill: #d4a72c; } svg .bar-poor { fill: #cf222e; }
svg .bar-count { fill: #4f7cd4; }
code.fix { display: inline-block; background: #f4f6f9; border: 1px solid #d8dde6; border-radius: 4px;
           padding: .2rem .4rem; user-select: all; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; } svg .track { fill: #eef1f5; } svg .grid { stroke: #c9d1dc; stroke-dasharray: 2 3; }
.note { color: #5b6575; font-size: .85rem; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _grade(value: float | None) -> str:
    if value is None:
        return "fair"
    return "good" if value >= 0.95 else "fair" if value >= 0.8 else "poor"


def _tile(label: str, value: Any, css: str = "") -> str:
    return f'<div class="tile"><b class="{css}">{_e(value)}</b><span>{_e(label)}</span></div>'


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
                         for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- the chart -------------------------------------------------------------------------------


def bar_chart(rows: list[tuple[str, float, str, str]], *, title: str, maximum: float = 1.0) -> str:
    """Horizontal bars: (label, value, value text, css class). Pure SVG, so it shows without scripts."""
    height = ROW_HEIGHT * len(rows) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="intent-chart" role="img" '
             f'aria-label="{_e(title)}" width="{CHART_WIDTH}" height="{height}" '
             f'viewBox="0 0 {CHART_WIDTH} {height}">', f"<title>{_e(title)}</title>"]
    for fraction in (0.25, 0.5, 0.75, 1.0):
        x = LABEL_WIDTH + BAR_AREA * fraction
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 22}"/>')
        tick = f"{fraction * 100:.0f}%" if maximum == 1.0 else f"{maximum * fraction:.0f}"
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{_e(tick)}</text>')
    for index, (label, value, shown, css) in enumerate(rows):
        y = 6 + index * ROW_HEIGHT
        width = 0.0 if maximum <= 0 else BAR_AREA * max(0.0, min(value / maximum, 1.0))
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end">{_e(label)}</text>')
        parts.append(f'<rect class="track" x="{LABEL_WIDTH}" y="{y}" width="{BAR_AREA}" height="{ROW_HEIGHT - 8}"/>')
        parts.append(f'<rect class="bar {css}" data-intent="{_e(label)}" data-value="{value:.4f}" '
                     f'x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{ROW_HEIGHT - 8}">'
                     f"<title>{_e(label)}: {_e(shown)}</title></rect>")
        parts.append(f'<text x="{LABEL_WIDTH + BAR_AREA + 8}" y="{y + 14}">{_e(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _intent_chart(summary: dict[str, Any]) -> str:
    evaluation = summary.get("evaluation") or {}
    per_intent = {name: counts for name, counts in (evaluation.get("per_intent") or {}).items() if counts["expected"]}
    if per_intent:
        rows = [(name, counts["recall"] or 0.0,
                 f"{percent(counts['recall'])} ({counts['correct']}/{counts['expected']})",
                 f"bar-{_grade(counts['recall'])}")
                for name, counts in sorted(per_intent.items())]
        note = ("Share of the messages labelled with an intent that the bot answered with it (recall); "
                "green ≥ 95 %, amber ≥ 80 %.")
        return f'<p class="note">{_e(note)}</p>' + bar_chart(rows, title="Accuracy per intent")
    counts = summary.get("by_intent") or {}
    if not counts:
        return '<p class="note">No messages.</p>'
    top = max(counts.values())
    rows = [(name, float(count), str(count), "bar-count") for name, count in counts.items()]
    return ('<p class="note">No labelled lines (expect.intent): messages per recognised intent.</p>'
            + bar_chart(rows, title="Messages per intent", maximum=float(top)))


# -- sections --------------------------------------------------------------------------------


def _overview(summary: dict[str, Any]) -> str:
    latency = summary.get("latency_ms") or {}
    evaluation = summary.get("evaluation") or {}
    tiles = [
        _tile("messages", summary.get("messages")),
        _tile("replied", summary.get("replied")),
        _tile("recognised", summary.get("recognised")),
        _tile("lines skipped", summary.get("skipped"), "poor" if summary.get("skipped") else ""),
        _tile("p50 latency (ms)", latency.get("p50")),
        _tile("p99 latency (ms)", latency.get("p99")),
        _tile("messages / s", f"{summary.get('messages_per_second') or 0:,.0f}"),
    ]
    if evaluation.get("labelled"):
        accuracy = evaluation.get("accuracy")
        tiles.insert(0, _tile(f"intent accuracy ({evaluation['correct']}/{evaluation['labelled']})",
                              percent(accuracy), _grade(accuracy)))
    if evaluation.get("replied_labelled"):
        tiles.append(_tile(f"replied mismatches (of {evaluation['replied_labelled']})",
                           evaluation["replied_mismatches"], "poor" if evaluation["replied_mismatches"] else "good"))
    if evaluation.get("facts_labelled"):
        tiles.append(_tile(f"facts mismatches (of {evaluation['facts_labelled']})",
                           evaluation["facts_mismatches"], "poor" if evaluation["facts_mismatches"] else "good"))
    details = [("input", summary.get("input")), ("output", summary.get("output") or "standard output"),
               ("misses file", summary.get("errors_file") or "—"),
               ("elapsed", f"{summary.get('elapsed_seconds')} s")]
    if summary.get("out_of_order"):
        details.append(("out of time order", f"{summary['out_of_order']} messages (memory follows input order)"))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in details)
    return f'<div class="tiles">{"".join(tiles)}</div><table class="kv">{rows}</table>'


def _per_intent_table(summary: dict[str, Any]) -> str:
    per_intent = (summary.get("evaluation") or {}).get("per_intent") or {}
    if not per_intent:
        return ""
    rows = [[_e(name), str(c["expected"]), str(c["predicted"]), str(c["correct"]),
             f'<span class="{_grade(c["precision"])}">{percent(c["precision"])}</span>',
             f'<span class="{_grade(c["recall"])}">{percent(c["recall"])}</span>']
            for name, c in per_intent.items()]
    return _table(["intent", "expected", "predicted", "correct", "precision", "recall"], rows,
                  numeric={1, 2, 3, 4, 5})


def _confusions(summary: dict[str, Any]) -> str:
    pairs = (summary.get("evaluation") or {}).get("confusions") or []
    if not pairs:
        return '<p class="note">No confusions.</p>'
    rows = [[_e(p["expected"]), _e(p["predicted"]), str(p["count"])] for p in pairs]
    return _table(["expected", "got", "count"], rows, numeric={2})


def _misses(summary: dict[str, Any], misses: list[dict[str, Any]]) -> str:
    total = (summary.get("evaluation") or {}).get("misses", len(misses))
    if not misses:
        return '<p class="note">No misses.</p>'
    rows = []
    for miss in misses:
        expected, got = miss["expected"], miss["got"]
        problems = "".join(f'<span class="tag">{_e(p)}</span>' for p in miss["problems"])
        expected_text = " / ".join(expected.get("intent") or []) or "—"
        if expected.get("replied") is not None:
            expected_text += f"; replied {str(expected['replied']).lower()}"
        if expected.get("facts"):
            expected_text += "; " + ", ".join(f"{k}={v}" for k, v in expected["facts"].items())
        got_text = f"{got.get('intent') or 'null'} ({got.get('confidence')}); replied {str(got.get('replied')).lower()}"
        if got.get("facts"):
            got_text += "; " + ", ".join(f"{k}={v}" for k, v in got["facts"].items())
        reply = got.get("reply")
        rows.append([
            _e(miss["id"]), str(miss["line"]), problems + "<br>" + _e(miss["text"]),
            _e(expected_text), _e(got_text) + (f'<div class="reply">{_e(reply)}</div>' if reply else ""),
        ])
    note = "" if total <= len(misses) else (
        f'<p class="note">Showing the first {len(misses)} of {total} misses; all are in the misses file.</p>')
    return note + _table(["id", "line", "message", "expected", "got"], rows, numeric={1})


def _comparison(summary: dict[str, Any]) -> str:
    compare = summary.get("compare")
    if not compare:
        return ""
    head = (f'<p>Against <code>{_e(compare["previous"])}</code>: <b>{compare["changed"]}</b> of '
            f'{compare["compared"]} messages changed; {compare["only_in_current"]} new, '
            f'{compare["only_in_previous"]} no longer present.</p>')
    rows = []
    for intent, group in compare["by_intent"].items():
        ids = ", ".join(str(change["id"]) for change in group["changes"][:50])
        more = "" if group["count"] <= 50 else f" … (+{group['count'] - 50})"
        kinds: dict[str, int] = {}
        for change in group["changes"]:
            for kind in change["changed"]:
                kinds[kind] = kinds.get(kind, 0) + 1
        rows.append([_e(intent), str(group["count"]), _e(", ".join(f"{k} {n}" for k, n in kinds.items())),
                     _e(ids + more)])
    return "<h2>Changes against the previous run</h2>" + head + _table(
        ["intent", "changed", "what changed", "ids"], rows, numeric={1})


def _skipped(summary: dict[str, Any]) -> str:
    lines = summary.get("skipped_lines") or []
    if not lines:
        return ""
    rows = [[str(item["line"]), _e(item["reason"])] for item in lines]
    more = summary.get("skipped", 0) - len(lines)
    note = f'<p class="note">… and {more} more (see the run\'s standard error).</p>' if more > 0 else ""
    return "<h2>Skipped lines</h2>" + _table(["line", "reason"], rows, numeric={0}) + note


def render_report(summary: dict[str, Any], *, misses: list[dict[str, Any]] | None = None,
                  generated: datetime | None = None) -> str:
    """The whole report as one HTML document; every value from the run is escaped."""
    generated = (generated or datetime.now(timezone.utc)).astimezone(SHANGHAI)
    if not summary.get("evaluation"):
        return _owner_report(summary, generated)
    misses = misses or []
    sections = [
        "<h2>Summary</h2>", _overview(summary),
        "<h2>Per-intent accuracy</h2>", _intent_chart(summary), _per_intent_table(summary),
        "<h2>Confusions</h2>", _confusions(summary), "<h2>Misses</h2>", _misses(summary, misses),
        _comparison(summary), _skipped(summary),
    ]
    return _page("permitbot replay report",
                 f'<p class="meta">{_e(summary.get("input"))} · generated {_time(generated)} (Asia/Shanghai)</p>',
                 sections)


def _page(title: str, meta: str, sections: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No network at all: not even a favicon request.
        '<link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>{meta}"
        + "".join(sections)
        + "</body></html>\n"
    )


def _time(moment: datetime | str | None) -> str:
    """A time as Shanghai reads it, to the minute."""
    if moment is None:
        return "—"
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return _e(moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))


# -- the group owner's report (no labels) ------------------------------------------------------


def _owner_report(summary: dict[str, Any], generated: datetime) -> str:
    owner = summary.get("owner") or {}
    questions, answered, missed = owner.get("questions", 0), owner.get("answered", 0), owner.get("missed", 0)
    share = f"{missed / questions:.0%}" if questions else "—"
    tiles = [_tile("条消息", summary.get("messages", 0)), _tile("个问题", questions),
             _tile("个已回答", answered, "good" if questions and answered == questions else ""),
             _tile(f"个没答上或把握不大（{share}）", missed, "poor" if missed else "good")]
    meta = (f'<p class="meta">记录：{_e(summary.get("input"))} · 时间：{_time(owner.get("first"))} 至 '
            f'{_time(owner.get("last"))} · 生成于 {_time(generated)}（均为上海时间）</p>')
    note = ('<p class="note">“问题”：@ 了机器人的消息，或像在问居住证、积分的消息。“没答上或把握不大”：没有回答，'
            '或者回答的把握不够在群里主动回答。</p>')
    sections = [f'<div class="tiles" id="totals">{"".join(tiles)}</div>', note,
                '<h2 id="missed">没答上或把握不大的问题（按可能的意图分组）</h2>', _missed_groups(owner),
                '<h2 id="samples">回复示例</h2>', _samples(owner),
                '<h2 id="per-intent">各意图的消息数</h2>', _count_chart(summary),
                _comparison_zh(summary), _skipped_zh(summary)]
    return _page("群聊记录回放报告", meta, sections)


def fix_command(intent: str, questions: list[dict[str, Any]]) -> str | None:
    """The one-line `#faq alias` that teaches `intent` a group's most frequent questions; None when none can be
    used (too long for a phrasing, or with a redaction placeholder or the `|` separator)."""
    usable = [q["text"] for q in questions if len(q["text"]) <= MAX_PHRASING_CHARS
              and not any(mark in q["text"] for mark in ("[", "|", "｜"))]
    return f"#faq alias {intent} " + " | ".join(usable[:FIX_QUESTIONS]) if usable else None


def _missed_groups(owner: dict[str, Any]) -> str:
    groups = owner.get("groups") or []
    if not groups:
        return '<p class="note">没有：每个问题都答上了。</p>'
    parts = []
    for group in groups:
        intent = group["intent"]
        title = intent or "没有接近的条目"
        answered = (f"其中 {group['answered']} 次答了，但把握不大" if group["answered"] else "都没答上")
        parts.append(f'<section class="group" data-intent="{_e(intent or "")}"><h3>{_e(title)}：{group["count"]} 次，'
                     f'{answered}</h3>')
        rows = [[_e(q["text"]), str(q["count"]), "答了" if q["answered"] else "没答上"] for q in group["questions"]]
        parts.append(_table(["问题", "次数", "当时"], rows, numeric={1}))
        command = fix_command(intent, group["questions"]) if intent else None
        if command:
            parts.append(f'<p>把前几个问法教给 {_e(intent)}，在群里（或私聊机器人）发：<br><code class="fix">'
                         f'{_e(command)}</code><br><span class="note">机器人会先列出这会改变哪些已有问题的回答，'
                         f'再发 #faq confirm 生效。</span></p>')
        elif not intent:
            parts.append('<p class="note">这些问题没有接近的条目：确实该答的，可以新增一条，例如 '
                         '<code class="fix">#faq add 问题 | 答案</code></p>')
        parts.append("</section>")
    return "".join(parts)


def _samples(owner: dict[str, Any]) -> str:
    samples = owner.get("samples") or []
    if not samples:
        return '<p class="note">没有有把握的回答。</p>'
    rows = [[_e(s["intent"]), str(s["count"]), _e(s["question"]), f'<div class="reply">{_e(s["reply"])}</div>']
            for s in samples]
    return _table(["意图", "回答次数", "问题", "回复"], rows, numeric={1})


def _count_chart(summary: dict[str, Any]) -> str:
    counts = {name: count for name, count in (summary.get("by_intent") or {}).items()}
    if not counts:
        return '<p class="note">没有消息。</p>'
    rows = [(name, float(count), str(count), "bar-count") for name, count in counts.items()]
    return ('<p class="note">每条消息按机器人认出的意图计数；out_of_scope 包括闲聊、没认出的消息和不归机器人管的问题。</p>'
            + bar_chart(rows, title="各意图的消息数", maximum=float(max(counts.values()))))


def _comparison_zh(summary: dict[str, Any]) -> str:
    compare = summary.get("compare")
    if not compare:
        return ""
    rows = [[_e(intent), str(group["count"]),
             _e(", ".join(str(change["id"]) for change in group["changes"][:50])
                + ("" if group["count"] <= 50 else f" …（另有 {group['count'] - 50} 条）"))]
            for intent, group in compare["by_intent"].items()]
    return (f'<h2>和上次运行相比</h2><p>对照 <code>{_e(compare["previous"])}</code>：{compare["compared"]} 条消息中'
            f' <b>{compare["changed"]}</b> 条的回答变了；新增 {compare["only_in_current"]} 条，'
            f'少了 {compare["only_in_previous"]} 条。</p>' + _table(["意图", "变了", "消息编号"], rows, numeric={1}))


def _skipped_zh(summary: dict[str, Any]) -> str:
    if not summary.get("skipped"):
        return ""
    listed = [str(item["line"]) for item in (summary.get("skipped_lines") or [])[:50]]
    more = "…" if summary["skipped"] > len(listed) else ""
    return (f'<h2>跳过的行</h2><p>有 {summary["skipped"]} 行读不出来，已跳过（第 {"、".join(listed)}{more} 行），'
            "原因见运行时的提示。</p>")
