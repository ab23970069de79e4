"""交接班报告: the report of one shift (one duty, from its handover to the next), for the
commander taking over and for the file.

Rebuilt from the audit log alone, so any past shift can be made again and says the same:
the KPIs of the shift and of its day (dispatch/kpi.py's definitions, docs/kpis.md, over the
cases as the log says they stood at the shift's end and the day's), the cases opened,
closed, overdue and escalated, consultations with their decisions, the commander's
instructions and whether they were carried out, camera alerts confirmed and dismissed, the
map at handover (dispatch/handover_map.py: every case open at the shift's end on the
district's grids and streets), and the outgoing commander's note (op `shift_note`). One
HTML page (no script, every text from the data escaped) and the same page as a PDF for
print (WeasyPrint). docs/reports.md §4.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

import msgspec

from dispatch import handover_map
from dispatch.kpi import day_start, tally
from dispatch.reference import ReferenceData, local
from dispatch.store.store import Store
from protocol.entities import OPEN_STATUSES, Alert, Decision, Duty, Event, Kpi, is_overdue
from protocol.glossary import LEVEL_NAMES, STATUS_NAMES

DAY = 86400.0
# Rows of a list the page shows in full; past it, the first ones and how many more.
LIST_MAX = 30
_CLOSED = frozenset({"closed", "evaluated"})
_ESCALATIONS = frozenset({"escalate", "auto_escalate"})
_CONSULTATION = frozenset({"consult", "decide", "end_consult"})
# What the clock does on its own: not a person following an instruction up.
_CLOCK = frozenset({"overdue", "missed", "auto_escalate", "auto_supervise", "auto_reopen"})
_event_decoder = msgspec.json.Decoder(Event)
_alert_decoder = msgspec.json.Decoder(Alert)
_duty_decoder = msgspec.json.Decoder(Duty)


class ShiftError(ValueError):
    """No such shift, or none yet."""


@dataclass(frozen=True, slots=True)
class Shift:
    """One duty from its handover to the next (end None: still in force)."""

    start: float
    end: float | None
    duty: Duty  # as handed over
    note: Decision | None  # the commander's latest note for the next shift, by its end
    # What its report covers: the log rows filed under this prefix (a district's code, in a
    # store of several districts); "" for everything. With `old_duty`, the rows filed under
    # "" too: the first district's duty before each district had its own.
    scope: str = ""
    old_duty: bool = False


def shifts(store: Store, duty_id: int = 0, scope: str = "", old_duty: bool = False) -> list[Shift]:
    """Every shift of one district's centre the log knows, oldest first (`duty_id`: the
    district's duty's, Store.duty_log; the store's first district by default; `scope`: what
    their reports cover, see Shift)."""
    starts: list[tuple[float, Duty]] = []
    notes: list[Decision | None] = []
    for _seq, at, _actor, action, duty in store.duty_log(duty_id=duty_id):
        if action == "handover":
            starts.append((at, duty))
            notes.append(None)
        elif starts and action == "shift_note":
            notes[-1] = duty.note
    return [
        Shift(
            at, starts[i + 1][0] if i + 1 < len(starts) else None, duty, notes[i], scope, old_duty
        )
        for i, (at, duty) in enumerate(starts)
    ]


def district_shifts(store: Store, district: str, held: Sequence[str]) -> list[Shift]:
    """The shifts of one district's centre, of the districts the store holds (`held`, its
    first first): their reports cover that district alone when the store holds several."""
    first = district == held[0]
    scope = district if len(held) > 1 else ""
    return shifts(store, 0 if first else int(district), scope, old_duty=first and bool(scope))


def find_shift(found: Sequence[Shift], start: float) -> Shift:
    """The shift that began at `start` (to the millisecond)."""
    for shift in found:
        if abs(shift.start - start) < 0.001:
            return shift
    raise ShiftError(f"no shift began at {local(start):%Y-%m-%d %H:%M:%S}")


def shift_at(found: Sequence[Shift], moment: float) -> Shift:
    """The shift in force at `moment`."""
    for shift in reversed(found):
        if shift.start <= moment:
            return shift
    raise ShiftError(f"no shift was in force at {local(moment):%Y-%m-%d %H:%M}")


@dataclass(frozen=True, slots=True)
class Instruction:
    at: float
    by: str
    text: str
    event: Event | None  # the case it was about (its state at the shift's end)
    outcome: str  # 已办结, 已跟进（…）, 未见落实, or — for one to the whole centre


@dataclass(frozen=True, slots=True)
class Consultation:
    event: Event  # at the shift's end
    decisions: tuple[Decision, ...]  # made in the shift
    actions: tuple[str, ...]  # consult / decide / end_consult, in order


@dataclass(slots=True)
class Report:
    """Everything the page shows."""

    shift: Shift
    end: float  # the shift's end, or when the report was made for a shift in force
    day_start: float
    day_end: float
    shift_kpi: Kpi
    day_kpi: Kpi
    opened: list[Event] = field(default_factory=list)
    closed: list[Event] = field(default_factory=list)
    overdue: list[Event] = field(default_factory=list)
    new_overdue: int = 0
    escalated: list[tuple[Event, float, str]] = field(default_factory=list)  # case, when, who
    hard: list[Event] = field(default_factory=list)
    consultations: list[Consultation] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)
    confirmed: list[Alert] = field(default_factory=list)
    dismissed: list[Alert] = field(default_factory=list)
    open: list[Event] = field(default_factory=list)  # every case open at the end (the map)


Row = tuple[int, float, str, str, str, int]  # seq, at, actor, action, entity, entity_id
_DOC_ACTIONS = frozenset({"decide", "instruct", "confirm_alert", "attach_alert", "dismiss_alert"})
_LISTED = _DOC_ACTIONS | {"escalate", "auto_escalate", "consult", "end_consult", "overdue"}


def states_at(
    store: Store,
    last: dict[int, int],
    docs: dict[int, Event],
    since: float,
    at: float,
    scope: str = "",
) -> list[Event]:
    """The cases that count in a period from `since` to `at`, as they stood at `at`: each
    case changed in the period as its last row before `at` left it (`last`: case → seq,
    `docs`: seq → the case as that row left it), and each case open at `at` but untouched
    since `since` as it stood then; of one district's streets when `scope` names it."""
    states = {key: docs[seq] for key, seq in last.items() if seq in docs}
    older: list[int] = []
    for event in store.events_open_or_changed(since, at, scope):
        if event.id in states:
            continue
        if event.updated_at < since:
            if event.status in OPEN_STATUSES:
                states[event.id] = event
        else:  # changed after `at` only: as its last change before `since` left it
            older.append(event.id)
    for key, event in store.events_as_of(older, since).items():
        if event.status in OPEN_STATUSES:
            states[key] = event
    return list(states.values())


def gather(store: Store, shift: Shift, now: float) -> Report:
    """The report of `shift` (one in force: up to `now`), from the audit log."""
    end = shift.end if shift.end is not None else now
    day0 = day_start(shift.start)
    day1 = min(day0 + DAY, end)
    # The rows the report lists (escalations, consultations, instructions, alerts settled,
    # the clock's overdue flags), and each case's last row at the shift's and the day's end.
    scope = shift.scope
    window = store.log_index(
        ["event", "alert", "duty"], shift.start, end, _LISTED, scope=scope, old_duty=shift.old_duty
    )
    changes = store.event_changes(min(day0, shift.start), max(day1, end), scope)
    shift_last = _last_changes(changes, shift.start, end)
    same = (day0, day1) == (shift.start, end)
    day_last = shift_last if same else _last_changes(changes, day0, day1)
    # Only the documents the report reads: each case's last row at the two moments, and
    # the rows whose text it shows (decisions, instructions, settled alerts).
    last_seqs = set(shift_last.values()) | set(day_last.values())
    wanted = last_seqs | {r[0] for r in window if r[3] in _DOC_ACTIONS or r[4] == "duty"}
    raw = store.log_docs(wanted)
    events = _decode_events(raw, last_seqs)
    shift_cases = states_at(store, shift_last, events, shift.start, end, scope)
    day_cases = shift_cases if same else states_at(store, day_last, events, day0, day1, scope)
    report = Report(
        shift, end, day0, day1, tally(shift_cases, shift.start, end), tally(day_cases, day0, day1)
    )
    at_end = {e.id: e for e in shift_cases}
    report.open = handover_map.open_cases(shift_cases)
    _cases(report, at_end, window)
    _actions(report, at_end, window, raw)
    _follow_up(report, store, shift.start, end)
    return report


def _last_changes(
    changes: Iterable[tuple[float, int, int]], since: float, at: float
) -> dict[int, int]:
    """Each case changed in [since, at): the seq of its last row then."""
    last: dict[int, int] = {}
    for t, key, seq in changes:
        if since <= t < at and seq > last.get(key, 0):
            last[key] = seq
    return last


def _decode_events(raw: dict[int, bytes], seqs: set[int]) -> dict[int, Event]:
    return {seq: _event_decoder.decode(raw[seq]) for seq in seqs if seq in raw}


def _cases(report: Report, at_end: dict[int, Event], window: Sequence[Row]) -> None:
    start, end = report.shift.start, report.end
    for event in sorted(at_end.values(), key=lambda e: e.reported_at):
        if start <= event.reported_at < end:
            report.opened.append(event)
        if event.status in _CLOSED and event.closed_at is not None and event.closed_at >= start:
            report.closed.append(event)
        if event.status in OPEN_STATUSES and is_overdue(event, end):
            report.overdue.append(event)
            if event.supervised or event.level == "district":
                report.hard.append(event)
        elif event.status in OPEN_STATUSES and (event.supervised or event.level == "district"):
            report.hard.append(event)
    report.closed.sort(key=lambda e: e.closed_at or 0.0)
    report.new_overdue = len({r[5] for r in window if r[4] == "event" and r[3] == "overdue"})


def _actions(
    report: Report, at_end: dict[int, Event], window: Sequence[Row], raw: dict[int, bytes]
) -> None:
    consults: dict[int, tuple[list[Decision], list[str]]] = {}
    alerts: dict[int, Alert] = {}
    for seq, at, actor, action, entity, entity_id in window:
        if entity == "alert":
            if action in ("confirm_alert", "attach_alert", "dismiss_alert") and seq in raw:
                alerts[entity_id] = _alert_decoder.decode(raw[seq])
            continue
        if entity == "duty":
            if action == "instruct" and seq in raw:
                duty = _duty_decoder.decode(raw[seq])
                if duty.instructions:
                    last = duty.instructions[-1]
                    report.instructions.append(
                        Instruction(last.at, last.by, last.text, None, "—（全体）")
                    )
            continue
        event = at_end.get(entity_id)
        if event is None:
            continue
        if action in _ESCALATIONS:
            report.escalated.append((event, at, actor))
        elif action in _CONSULTATION:
            decisions, actions = consults.setdefault(entity_id, ([], []))
            actions.append(action)
            if action == "decide" and seq in raw:
                made = _event_decoder.decode(raw[seq]).decisions
                if made:
                    decisions.append(made[-1])
        elif action == "instruct" and seq in raw:
            made = _event_decoder.decode(raw[seq]).decisions
            if made:
                last = made[-1]
                report.instructions.append(Instruction(last.at, last.by, last.text, event, ""))
    for key, (decisions, actions) in consults.items():
        event = at_end.get(key)
        if event is not None:
            report.consultations.append(Consultation(event, tuple(decisions), tuple(actions)))
    report.instructions.sort(key=lambda i: i.at)
    for alert in alerts.values():
        (report.dismissed if alert.status == "dismissed" else report.confirmed).append(alert)
    report.confirmed.sort(key=lambda a: a.last_at)
    report.dismissed.sort(key=lambda a: a.last_at)


def _follow_up(report: Report, store: Store, start: float, end: float) -> None:
    """Whether each instruction on a case was carried out: the rows of those cases."""
    ids = {i.event.id for i in report.instructions if i.event is not None}
    if not ids:
        return
    later: defaultdict[int, list[tuple[float, str, str]]] = defaultdict(list)
    for _seq, at, actor, action, _entity, entity_id in store.log_index(
        ["event"], start, end, ids=ids
    ):
        later[entity_id].append((at, actor, action))
    report.instructions = [
        _followed(i, later) if i.event is not None else i for i in report.instructions
    ]


def _followed(
    instruction: Instruction, later: dict[int, list[tuple[float, str, str]]]
) -> Instruction:
    """Whether an instruction on a case was carried out by the shift's end: the case closed
    (已办结), or someone acted on it after the instruction (已跟进: what they did), or not."""
    event = instruction.event
    assert event is not None
    if event.status in _CLOSED:
        outcome = "已办结"
    else:
        done = [
            action
            for at, _actor, action in later.get(event.id, [])
            if at > instruction.at and action != "instruct" and action not in _CLOCK
        ]
        if done:
            names = "、".join(dict.fromkeys(_ACTION_NAMES.get(a, a) for a in done))
            outcome = f"已跟进（{names}）"
        else:
            outcome = "未见落实"
    return Instruction(instruction.at, instruction.by, instruction.text, event, outcome)


_ACTION_NAMES = {
    "accept": "受理",
    "reject": "不予受理",
    "dispatch": "派遣",
    "return_case": "退单",
    "start": "开始处置",
    "handled": "处置完成",
    "verify": "核查",
    "rework": "返工",
    "close": "结案",
    "evaluate": "评价",
    "reopen": "重办",
    "acknowledge": "签收",
    "assist_report": "协办反馈",
    "request_extension": "申请延期",
    "decide_extension": "延期审批",
    "request_hold": "申请挂账",
    "decide_hold": "挂账审批",
    "release_hold": "解除挂账",
    "escalate": "上报",
    "consult": "会商",
    "decide": "会商意见",
    "end_consult": "结束会商",
    "supervise": "督办",
    "classify": "分拨定类",
    "attach_alert": "关联告警",
}


# ---- the page ----------------------------------------------------------------------------------

_STYLE = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页";
                         font-size: 9pt; color: #666; } }
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       margin: 24px auto; max-width: 980px; color: #1a1a1a; line-height: 1.5; font-size: 14px; }
@media print { body { margin: 0; max-width: none; font-size: 8.5pt; } }
h1 { text-align: center; color: #0d47a1; font-size: 26px; margin: 0 0 4px; }
.sub { text-align: center; color: #555; margin: 0 0 12px; }
h2 { border-left: 6px solid #0d47a1; padding-left: 8px; font-size: 18px; margin: 22px 0 8px;
     page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin-bottom: 6px; table-layout: fixed; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top;
         word-break: break-all; }
th { background: #eef2f8; }
tr { page-break-inside: avoid; }
td.n { text-align: right; white-space: nowrap; }
td.t { white-space: nowrap; }
.late { color: #b71c1c; }
.note { border: 1px solid #0d47a1; background: #f4f7fc; padding: 8px 12px; white-space: pre-wrap; }
.more { color: #555; }
figure.map { margin: 4px 0 10px; page-break-inside: avoid; }
svg.map { display: block; width: 100%; height: auto; border: 1px solid #bbb; }
figcaption { color: #555; margin-top: 4px; }
.schematic { color: #b71c1c; font-weight: bold; }
.key { margin-left: 14px; white-space: nowrap; color: #1a1a1a; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 5px;
       border: 1px solid #1a1a1a; margin-right: 4px; }
"""
# The map's legend in the map's own colours (dispatch/handover_map.py).
_STYLE += "".join(f".dot.{t} {{ background: {c}; }}\n" for t, c in handover_map.COLOURS.items())
# Column widths as classes (a style attribute would break the page's CSP), a few of them:
# every rule is matched against every element when the PDF is laid out.
_COL_WIDTHS = (5, 6, 7, 8, 9, 11, 12, 14, 16, 19, 20, 25, 30, 35, 40, 45, 50, 55, 60)
_STYLE += "".join(f"col.w{n} {{ width: {n}%; }}\n" for n in _COL_WIDTHS)

_KPI_ROWS: tuple[tuple[str, str, str], ...] = (
    ("接报量", "received", "n"),
    ("派遣数", "dispatched", "n"),
    ("结案数", "closed", "n"),
    ("按期结案数", "closed_on_time", "n"),
    ("应结案数", "due", "n"),
    ("按期结案率", "on_time_rate", "%"),
    ("返工率", "rework_rate", "%"),
    ("当前超期", "overdue_now", "n"),
    ("在办", "open_now", "n"),
    ("平均处置时长", "avg_handling_minutes", "m"),
)


def _figure(kpi: Kpi, name: str, kind: str) -> str:
    value = getattr(kpi, name)
    if value is None:
        return "—"
    if kind == "%":
        return f"{100 * value:.1f}%"
    if kind == "m":
        return f"{value:.0f} 分钟" if value < 120 else f"{value / 60:.1f} 小时"
    return str(value)


def _t(seconds: float | None) -> str:
    return local(seconds).strftime("%m-%d %H:%M") if seconds is not None else "—"


class _Names:
    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference

    def street(self, code: str) -> str:
        street = self.reference.streets.get(code)
        return street.name if street is not None else code

    def category(self, event: Event) -> str:
        return self.reference.category_name(event.street, event.category)

    def detection(self, alert: Alert) -> str:
        return self.reference.detection_name(alert.street, alert.detection)


# Column widths (per cent) by heading: a fixed table layout lays a long list out in a
# fraction of the time an automatic one takes (no widest-cell measuring of every row).
_WIDTHS = {
    "案件编号": 19,
    "类别": 12,
    "标题": 0,
    "街道": 11,
    "状态": 8,
    "上报时间": 11,
    "结案时间": 11,
    "结案时限": 11,
    "按期": 5,
    "层级": 6,
    "督办": 5,
    "操作人": 10,
    "时间": 11,
    "批示人": 9,
    "批示内容": 0,
    "案件": 19,
    "落实情况": 14,
    "会商意见": 0,
    "交班时": 9,
    "摄像头": 0,
    "识别类型": 16,
    "处理": 12,
    "误报原因": 16,
}


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], total: int, empty: str) -> str:
    """A table of already escaped cells (at most LIST_MAX rows, then how many more)."""
    body = [f"<tr>{''.join(f'<td>{c}</td>' for c in row)}</tr>" for row in rows]
    if not body:
        return f"<p>{empty}</p>"
    more = f'<p class="more">另有 {total - len(body)} 件未列出。</p>' if total > len(body) else ""
    fixed = [_WIDTHS.get(h, 10) for h in head]
    rest = max(10, 100 - sum(fixed)) // max(1, fixed.count(0))
    cols = "".join(
        f'<col class="w{max(c for c in _COL_WIDTHS if c <= max(5, w or rest))}">' for w in fixed
    )
    header = "".join(f"<th>{h}</th>" for h in head)
    return f"<table><colgroup>{cols}</colgroup><tr>{header}</tr>{''.join(body)}</table>{more}"


def _case_cells(event: Event, names: _Names, *extra: str) -> list[str]:
    return [
        escape(event.code),
        escape(names.category(event)),
        escape(event.title),
        escape(names.street(event.street)),
        escape(STATUS_NAMES.get(event.status, event.status)),
        *extra,
    ]


def render(
    report: Report, reference: ReferenceData, made_at: float, *, tooltips: bool = True
) -> str:
    """The report as one HTML page (no script; a CSP allowing only its own style).
    `tooltips`: the map's dots name their cases on hover (the page; the PDF needs none)."""
    names = _Names(reference)
    shift, duty = report.shift, report.shift.duty
    # A district's shift in a city store: its own units, name and outline.
    units = reference.view(frozenset({shift.scope})) if shift.scope else reference.reference
    district = units.district_name
    digest = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:"
    in_force = shift.end is None
    period = f"{_t(shift.start)} 至 {_t(report.end)}" + ("（本班进行中）" if in_force else "")
    roster = "、".join(f"{p.name}（{p.title}）" if p.title else p.name for p in duty.roster)
    kpis = "".join(
        f"<tr><td>{label}</td><td class='n'>{_figure(report.shift_kpi, key, kind)}</td>"
        f"<td class='n'>{_figure(report.day_kpi, key, kind)}</td></tr>"
        for label, key, kind in _KPI_ROWS
    )
    case_head = ("案件编号", "类别", "标题", "街道", "状态")
    opened = _table(
        (*case_head, "上报时间"),
        (_case_cells(e, names, _t(e.reported_at)) for e in report.opened[:LIST_MAX]),
        len(report.opened),
        "本班无新接报案件。",
    )
    closed = _table(
        (*case_head, "结案时间", "按期"),
        (
            _case_cells(
                e,
                names,
                _t(e.closed_at),
                "否" if e.missed or (e.due_at and (e.closed_at or 0) > e.due_at) else "是",
            )
            for e in report.closed[:LIST_MAX]
        ),
        len(report.closed),
        "本班无结案。",
    )
    overdue = _table(
        (*case_head, "结案时限", "层级"),
        (
            _case_cells(e, names, _t(e.due_at), escape(LEVEL_NAMES.get(e.level, e.level)))
            for e in sorted(report.overdue, key=lambda e: e.due_at or 0.0)[:LIST_MAX]
        ),
        len(report.overdue),
        "交班时无超期案件。",
    )
    escalated = _table(
        (*case_head, "上报时间", "操作人"),
        (
            _case_cells(e, names, _t(at), escape("系统（超时自动）" if who == "system" else who))
            for e, at, who in report.escalated[:LIST_MAX]
        ),
        len(report.escalated),
        "本班无升级案件。",
    )
    hard = _table(
        (*case_head, "层级", "督办", "结案时限"),
        (
            _case_cells(
                e,
                names,
                escape(LEVEL_NAMES.get(e.level, e.level)),
                "是" if e.supervised else "",
                _t(e.due_at),
            )
            for e in report.hard[:LIST_MAX]
        ),
        len(report.hard),
        "交班时无区级或督办中的在办案件。",
    )
    consultations = _table(
        ("案件编号", "标题", "会商意见", "交班时"),
        (
            [
                escape(c.event.code),
                escape(c.event.title),
                "<br>".join(f"{_t(d.at)} {escape(d.by)}：{escape(d.text)}" for d in c.decisions)
                or "—",
                "会商中" if c.event.consulting else "已结束会商",
            ]
            for c in report.consultations[:LIST_MAX]
        ),
        len(report.consultations),
        "本班无会商。",
    )
    instructions = _table(
        ("时间", "批示人", "批示内容", "案件", "落实情况"),
        (
            [
                _t(i.at),
                escape(i.by),
                escape(i.text),
                escape(i.event.code) if i.event is not None else "全体",
                escape(i.outcome),
            ]
            for i in report.instructions[:LIST_MAX]
        ),
        len(report.instructions),
        "本班无批示。",
    )

    def alert_rows(alerts: Sequence[Alert], confirmed: bool) -> Iterable[list[str]]:
        for a in alerts[:LIST_MAX]:
            last = f"案件 {a.event}" if confirmed and a.event else escape(a.note or "误报")
            yield [_t(a.last_at), escape(a.camera_name), escape(names.detection(a)), last]

    confirmed = _table(
        ("时间", "摄像头", "识别类型", "处理"),
        alert_rows(report.confirmed, True),
        len(report.confirmed),
        "本班无确认的告警。",
    )
    dismissed = _table(
        ("时间", "摄像头", "识别类型", "误报原因"),
        alert_rows(report.dismissed, False),
        len(report.dismissed),
        "本班无排除的告警。",
    )
    note = shift.note
    note_html = (
        f'<p class="note">{escape(note.text)}</p>'
        f'<p class="sub">{escape(note.by)} · {_t(note.at)}</p>'
        if note is not None
        else "<p>值班指挥长未留交班记录。</p>"
    )
    day_label = local(report.day_start).strftime("%Y-%m-%d")
    title = f"交接班报告 · {district} {_t(shift.start)}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>{escape(title)}</title><style>{_STYLE}</style></head><body>
<h1>交接班报告</h1>
<p class="sub">{escape(district)}智慧联动中心 · 班次 {period} · 生成于 {_t(made_at)}</p>
<table>
<tr><th>值班指挥长</th><td>{escape(duty.commander.name)}（{escape(duty.commander.title)}）</td>
<th>值班日</th><td>{escape(duty.day)}</td></tr>
<tr><th>值班人员</th><td colspan="3">{escape(roster) or "—"}</td></tr>
</table>
<h2>一、关键指标</h2>
<table><tr><th>指标</th><th>本班（{_t(shift.start)} 至 {_t(report.end)}）</th>
<th>当日（{day_label} 00:00 至 {_t(report.day_end)}）</th></tr>{kpis}</table>
<p class="more">口径见《指标定义》（docs/kpis.md）：各时段均按时段末案件状态计算。</p>
<h2>二、案件情况</h2>
<p>本班新接报 <b>{len(report.opened)}</b> 件，结案 <b>{len(report.closed)}</b> 件，
交班时超期 <b class="late">{len(report.overdue)}</b> 件（本班新增超期 {report.new_overdue} 件），
升级 <b>{len(report.escalated)}</b> 次。</p>
<h3>交班时态势图</h3>{handover_map.section(units, report.open, report.end, tooltips)}
<h3>新接报</h3>{opened}
<h3>结案</h3>{closed}
<h3>交班时超期</h3>{overdue}
<h3>升级</h3>{escalated}
<h2>三、疑难案件与会商</h2>
<h3>区级及督办中的在办案件</h3>{hard}
<h3>会商及意见</h3>{consultations}
<h2>四、指挥长批示及落实</h2>{instructions}
<h2>五、视频告警</h2>
<p>本班确认 <b>{len(report.confirmed)}</b> 条，排除误报 <b>{len(report.dismissed)}</b> 条。</p>
<h3>确认</h3>{confirmed}
<h3>排除</h3>{dismissed}
<h2>六、交班记录</h2>{note_html}
</body></html>
"""


def pdf(html: str) -> bytes:
    """The page as a PDF for print (WeasyPrint: its fonts through fontconfig)."""
    import weasyprint

    data: bytes = weasyprint.HTML(string=html).write_pdf()
    return data


def file_name(shift: Shift, fmt: str) -> str:
    """The report's file name: 交接班报告-20261124-0830.html (a district's of a city store:
    交接班报告-340802-20261124-0830.html)."""
    district = f"{shift.scope}-" if shift.scope else ""
    return f"交接班报告-{district}{local(shift.start):%Y%m%d-%H%M}.{fmt}"


def make(store: Store, reference: ReferenceData, shift: Shift, fmt: str, now: float) -> bytes:
    """The report of `shift` as HTML or PDF bytes."""
    html = render(gather(store, shift, now), reference, now, tooltips=fmt != "pdf")
    return pdf(html) if fmt == "pdf" else html.encode("utf-8")
