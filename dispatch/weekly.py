"""《民声快报》: the week's digest of what people reported, for the centre's leaders.

One HTML page, in Chinese, that prints and passes on as it is: the week at a glance against
the week before, the hot topics (categories), the streets, and the repeat complaints —
一事多诉 (the same place and category several times within N days) and 一人多诉 (the same
caller several times). Charts are inline SVG; the page runs no script, loads nothing, and
every text from the data is escaped. Definitions: docs/reports.md.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from dispatch.domain.calendar import CST
from dispatch.jurisdiction import DISTRICT_WIDTH
from dispatch.kpi import SATISFIED_SCORE, is_late
from dispatch.reference import ReferenceData, local
from protocol.entities import OPEN_STATUSES, Event, is_overdue
from protocol.glossary import SOURCE_NAMES

WEEK = 7 * 86400
REPEAT_DAYS = 7  # 一事多诉: the same place and category within this many days
TOP = 10
_CLOSED = frozenset({"closed", "evaluated"})
# A phone number as people write it: kept to its first 3 and last 4 digits on the page.
_PHONE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def week_start(day: date) -> float:
    """Epoch seconds of the Monday 00:00 (China Standard Time) of the week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=CST).timestamp()


def mask_caller(text: str) -> str:
    """A caller as the report shows them: a phone number's middle four digits hidden."""
    return _PHONE.sub(r"\1****\2", text)


@dataclass(slots=True)
class Figures:
    """The week's counts (docs/reports.md §1), over the cases reported in it."""

    received: int = 0
    closed: int = 0
    closed_on_time: int = 0
    evaluated: int = 0
    satisfied: int = 0
    overdue_open: int = 0
    by_source: Counter[str] = field(default_factory=Counter)

    def rate(self, part: int, whole: int) -> str:
        """A share as the page prints it (— when there is nothing to divide)."""
        return f"{100 * part / whole:.1f}%" if whole else "—"


@dataclass(frozen=True, slots=True)
class Repeat:
    """Cases that repeat: one place and category (一事多诉) or one caller (一人多诉)."""

    who_or_where: str
    what: str
    cases: tuple[Event, ...]


@dataclass(slots=True)
class Week:
    """Everything the page shows, counted from the cases of the week and the week before."""

    start: float
    figures: Figures
    before: Figures
    topics: list[tuple[str, int, int]]  # category (category_label), this week, the week before
    streets: list[tuple[str, Figures]]
    same_matter: list[Repeat]
    same_caller: list[Repeat]


def topic(reference: ReferenceData, event: Event) -> tuple[str, str]:
    """The hot topic a case counts under: its district and its category's code (the pair
    the qualified code `340802:01-02` names), so that two districts' categories sharing a
    code never merge."""
    home = event.street[:DISTRICT_WIDTH]
    return (home if home in reference.districts else reference.first), event.category


def category_label(reference: ReferenceData, event: Event) -> str:
    """A case's category as the page names it: by its own district's table, and, when the
    report covers several districts, with that district's name: 暴露垃圾（迎江区）."""
    name = reference.category_name(event.street, event.category)
    if len(reference.districts) < 2:
        return name
    district, _ = topic(reference, event)
    return f"{name}（{reference.districts[district][0]}）"


def _count(events: Iterable[Event], now: float) -> Figures:
    figures = Figures()
    for event in events:
        figures.received += 1
        figures.by_source[event.source] += 1
        if event.status in _CLOSED:
            figures.closed += 1
            figures.closed_on_time += not is_late(event)
        if event.evaluated_at is not None and event.evaluation is not None:
            figures.evaluated += 1
            figures.satisfied += event.evaluation >= SATISFIED_SCORE
        if event.status in OPEN_STATUSES and is_overdue(event, now):
            figures.overdue_open += 1
    return figures


def _repeats(events: Sequence[Event], key: str, days: int) -> list[Repeat]:
    """Groups of two or more cases with the same key, each within `days` of the one before."""
    groups: defaultdict[tuple[str, str], list[Event]] = defaultdict(list)
    for event in events:
        if key == "place":
            groups[(event.grid, event.category)].append(event)
        elif event.reporter and event.source in ("hotline", "citizen"):
            groups[(mask_caller(event.reporter), "")].append(event)
    found = []
    for (who, what), cases in groups.items():
        cases.sort(key=lambda e: e.reported_at)
        run = [cases[0]]
        best: list[Event] = []
        for event in cases[1:]:
            if event.reported_at - run[-1].reported_at <= days * 86400:
                run.append(event)
            else:
                run = [event]
            if len(run) > len(best):
                best = list(run)
        if len(best) >= 2:
            found.append(Repeat(who, what, tuple(best)))
    found.sort(key=lambda r: (-len(r.cases), r.cases[0].reported_at))
    return found


def gather(events: Iterable[Event], reference: ReferenceData, start: float, now: float) -> Week:
    """The week beginning at `start` from the cases reported in it and the week before."""
    this: list[Event] = []
    last: list[Event] = []
    for event in events:
        if start <= event.reported_at < start + WEEK:
            this.append(event)
        elif start - WEEK <= event.reported_at < start:
            last.append(event)
    now_counts = Counter(topic(reference, e) for e in this)
    then_counts = Counter(topic(reference, e) for e in last)
    # A topic's cases share a district, so a table: any one of them names it.
    named_by = {topic(reference, e): e for e in this}
    topics = [
        (category_label(reference, named_by[key]), n, then_counts.get(key, 0))
        for key, n in now_counts.most_common(TOP)
    ]
    by_street: defaultdict[str, list[Event]] = defaultdict(list)
    for event in this:
        by_street[event.street].append(event)
    streets = [
        (street.name, _count(by_street.get(code, []), now))
        for code, street in reference.streets.items()
    ]
    streets.sort(key=lambda s: -s[1].received)
    same_matter = [
        Repeat(
            reference.grids[r.who_or_where].name
            if r.who_or_where in reference.grids
            else r.who_or_where,
            category_label(reference, r.cases[0]),  # one grid: one district
            r.cases,
        )
        for r in _repeats(this, "place", REPEAT_DAYS)
    ]
    return Week(
        start,
        _count(this, now),
        _count(last, now),
        topics,
        streets,
        same_matter,
        [
            Repeat(
                r.who_or_where,
                "、".join(sorted({category_label(reference, e) for e in r.cases})),
                r.cases,
            )
            for r in _repeats(this, "caller", REPEAT_DAYS)
        ],
    )


_STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
       margin: 24px auto; max-width: 960px; color: #1a1a1a; line-height: 1.6; }
h1 { text-align: center; color: #b71c1c; font-size: 28px; margin-bottom: 4px; }
.sub { text-align: center; color: #555; margin-top: 0; }
h2 { border-left: 6px solid #b71c1c; padding-left: 8px; font-size: 20px; margin-top: 28px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.when { white-space: nowrap; }
.up { color: #b71c1c; } .down { color: #2e7d32; }
svg text { font-size: 13px; }
"""


def _change(now: int, then: int) -> str:
    if not then:
        return '<span class="up">新增</span>' if now else "—"
    change = 100 * (now - then) / then
    css = "up" if change > 0 else "down" if change < 0 else ""
    return f'<span class="{css}">{change:+.1f}%</span>'


def _bars(rows: Sequence[tuple[str, int]], colour: str = "#c62828") -> str:
    """A horizontal bar chart as inline SVG: a name, a bar and its count per row."""
    if not rows:
        return ""
    peak = max(n for _, n in rows) or 1
    # Room for the longest name (a city's labels name the district too): a CJK character
    # of the 13px text is 13px wide, so 14 each with a margin.
    row_h, bar_w = 24, 620
    name_w = max(160, 14 * max(len(name) for name, _ in rows) + 12)
    height = row_h * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{name_w + bar_w + 60}" '
        f'height="{height}" role="img">'
    ]
    for i, (name, n) in enumerate(rows):
        y = 4 + i * row_h
        width = max(1.0, bar_w * n / peak)
        parts.append(
            f'<text x="{name_w - 6}" y="{y + 16}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="{name_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 8}" '
            f'fill="{colour}"/>'
            f'<text x="{name_w + width + 6:.1f}" y="{y + 16}">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _day(seconds: float) -> str:
    return local(seconds).strftime("%m-%d")


def _repeat_table(repeats: Sequence[Repeat], first: str, second: str) -> str:
    if not repeats:
        return "<p>本周无。</p>"
    rows = [f"<tr><th>{first}</th><th>{second}</th><th>次数</th><th>时间</th><th>案件</th></tr>"]
    for repeat in repeats[:15]:
        cases = repeat.cases
        what = repeat.what
        rows.append(
            f"<tr><td>{escape(repeat.who_or_where)}</td><td>{escape(what)}</td>"
            f'<td class="n">{len(cases)}</td>'
            f"<td class='when'>{_day(cases[0].reported_at)} 至 {_day(cases[-1].reported_at)}</td>"
            f"<td>{escape('、'.join(e.code for e in cases[:3]))}"
            f"{'等' if len(cases) > 3 else ''}</td></tr>"
        )
    more = f"<p>另有 {len(repeats) - 15} 组。</p>" if len(repeats) > 15 else ""
    return f"<table>{''.join(rows)}</table>{more}"


def render(week: Week, district: str, now: float) -> str:
    """The report as one HTML page (no script; a CSP allowing only its own style)."""
    start = local(week.start)
    end = local(week.start + WEEK - 1)
    number = start.isocalendar().week
    f, b = week.figures, week.before
    sources = "、".join(f"{SOURCE_NAMES.get(s, s)} {n} 件" for s, n in f.by_source.most_common())
    digest = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:"
    streets = "".join(
        f"<tr><td>{escape(name)}</td><td class='n'>{s.received}</td>"
        f"<td class='n'>{s.closed}</td><td class='n'>{s.rate(s.closed_on_time, s.closed)}</td>"
        f"<td class='n'>{s.rate(s.satisfied, s.evaluated)}</td>"
        f"<td class='n'>{s.overdue_open}</td></tr>"
        for name, s in week.streets
    )
    topics = "".join(
        f"<tr><td>{i}</td><td>{escape(name)}</td><td class='n'>{n}</td>"
        f"<td class='n'>{then}</td><td class='n'>{_change(n, then)}</td></tr>"
        for i, (name, n, then) in enumerate(week.topics, start=1)
    )
    title = f"民声快报 · {district} {start.year}年第{number}周"
    body = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>{escape(title)}</title><style>{_STYLE}</style></head><body>
<h1>民声快报</h1>
<p class="sub">{escape(district)}智慧联动中心 · {start.year}年第{number}周
（{start.month}月{start.day}日—{end.month}月{end.day}日） ·
截至 {local(now).strftime("%Y-%m-%d %H:%M")}</p>
<h2>一、本周概况</h2>
<p>本周共接报群众诉求与发现问题 <b>{f.received}</b> 件，环比 {_change(f.received, b.received)}
（上周 {b.received} 件）；其中 {escape(sources) or "—"}。
已办结 <b>{f.closed}</b> 件，办结率 {f.rate(f.closed, f.received)}，
按期办结率 <b>{f.rate(f.closed_on_time, f.closed)}</b>；
回访评价 {f.evaluated} 件，满意率 <b>{f.rate(f.satisfied, f.evaluated)}</b>；
本周案件中超期未结 <b>{f.overdue_open}</b> 件。</p>
<h2>二、热点问题</h2>
{_bars([(name, n) for name, n, _ in week.topics])}
<table><tr><th>排名</th><th>类别</th><th>本周</th><th>上周</th><th>环比</th></tr>{topics}</table>
<h2>三、各街道情况</h2>
{_bars([(name, s.received) for name, s in week.streets], "#1565c0")}
<table><tr><th>街道</th><th>接报</th><th>办结</th><th>按期办结率</th><th>满意率</th>
<th>超期未结</th></tr>{streets}</table>
<h2>四、一事多诉</h2>
<p>同一网格、同一类别 {REPEAT_DAYS} 日内反复出现的问题（共 {len(week.same_matter)} 组）：</p>
{_repeat_table(week.same_matter, "网格", "类别")}
<h2>五、一人多诉</h2>
<p>同一来电人或上报人本周多次反映（共 {len(week.same_caller)} 人）：</p>
{_repeat_table(week.same_caller, "来电人", "类别")}
</body></html>
"""
    return body
