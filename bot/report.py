"""The replay report: one self-contained HTML file (inline CSS and SVG, no scripts, no network) from a run's summary."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Iterable

from bot.evaluation import percent

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
svg .bar-count { fill: #4f7cd4; } svg .track { fill: #eef1f5; } svg .grid { stroke: #c9d1dc; stroke-dasharray: 2 3; }
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
    generated = generated or datetime.now(timezone.utc)
    misses = misses or []
    sections = [
        "<h2>Summary</h2>", _overview(summary),
        "<h2>Per-intent accuracy</h2>", _intent_chart(summary), _per_intent_table(summary),
    ]
    if summary.get("evaluation"):
        sections += ["<h2>Confusions</h2>", _confusions(summary), "<h2>Misses</h2>", _misses(summary, misses)]
    sections += [_comparison(summary), _skipped(summary)]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No network at all: not even a favicon request.
        '<link rel="icon" href="data:,">'
        "<title>permitbot replay report</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>permitbot replay report</h1>"
        f'<p class="meta">{_e(summary.get("input"))} · generated {_e(generated.isoformat(timespec="seconds"))}</p>'
        + "".join(sections)
        + "</body></html>\n"
    )
