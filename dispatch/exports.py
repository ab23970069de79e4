"""Events to CSV and XLSX for the centre's own reports: typed columns, Chinese headers.

What a dispatcher takes into a spreadsheet: one row per case with its place by name, its
category by name, the loop's moments as local date-times (the district's, UTC+8), whether it
was late, and who handled it. A CSV for anything that reads text (UTF-8 with a byte-order
mark, which Excel needs to read Chinese), an XLSX with real dates and numbers, the header
frozen and the columns sized (dispatch/xlsx.py). Both stream: 100,000 cases never sit in
memory at once.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from dispatch import xlsx
from dispatch.kpi import is_late
from dispatch.reference import ReferenceData, local
from protocol.entities import OPEN_STATUSES, Event, is_overdue
from protocol.glossary import LEVEL_NAMES, PRIORITY_NAMES, SOURCE_NAMES, STATUS_NAMES

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
Kind = Literal["text", "number", "time", "yes_no"]
Cell = str | int | float | datetime | None


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: its header, the kind of its values and how to read them."""

    title: str
    kind: Kind
    width: int  # in characters, for the XLSX
    value: Callable[[Event, ReferenceData, float], Cell]


def _time(seconds: float | None) -> datetime | None:
    # Local wall-clock time without a zone: what a spreadsheet shows and sorts as a date.
    return local(seconds).replace(tzinfo=None) if seconds is not None else None


def _name(table: Mapping[str, object], code: str) -> str:
    unit = table.get(code)
    return str(getattr(unit, "name", code)) if unit is not None else code


def _late(event: Event, now: float) -> str:
    if event.status in OPEN_STATUSES:
        return "是" if is_overdue(event, now) or bool(event.missed) else "否"
    return "是" if is_late(event) else "否"


COLUMNS: tuple[Column, ...] = (
    Column("案件编号", "text", 20, lambda e, r, n: e.code),
    Column("来源", "text", 8, lambda e, r, n: SOURCE_NAMES.get(e.source, e.source)),
    Column("大类", "text", 10, lambda e, r, n: e.category[:2]),
    Column("类别", "text", 16, lambda e, r, n: r.category_name(e.street, e.category)),
    Column("标题", "text", 28, lambda e, r, n: e.title),
    Column("描述", "text", 40, lambda e, r, n: e.description),
    Column("地址", "text", 24, lambda e, r, n: e.address),
    Column("街道", "text", 12, lambda e, r, n: _name(r.streets, e.street)),
    Column(
        "社区",
        "text",
        12,
        lambda e, r, n: _name(r.communities, e.community),
    ),
    Column("网格", "text", 16, lambda e, r, n: _name(r.grids, e.grid)),
    Column("紧急程度", "text", 8, lambda e, r, n: PRIORITY_NAMES.get(e.priority, str(e.priority))),
    Column("状态", "text", 8, lambda e, r, n: STATUS_NAMES.get(e.status, e.status)),
    Column("层级", "text", 6, lambda e, r, n: LEVEL_NAMES.get(e.level, e.level)),
    Column("上报时间", "time", 19, lambda e, r, n: _time(e.reported_at)),
    Column("受理时间", "time", 19, lambda e, r, n: _time(e.accepted_at)),
    Column("首次派遣时间", "time", 19, lambda e, r, n: _time(e.first_dispatched_at)),
    Column("处置完成时间", "time", 19, lambda e, r, n: _time(e.handled_at)),
    Column("结案时间", "time", 19, lambda e, r, n: _time(e.closed_at)),
    Column("结案时限", "time", 19, lambda e, r, n: _time(e.due_at)),
    Column("超期", "yes_no", 6, lambda e, r, n: _late(e, n)),
    Column("处置单位或人员", "text", 14, lambda e, r, n: e.assignee),
    Column("返工次数", "number", 8, lambda e, r, n: e.rework_count),
    Column("延期次数", "number", 8, lambda e, r, n: e.extensions),
    Column("满意度评价", "number", 10, lambda e, r, n: e.evaluation),
)
HEADERS: tuple[str, ...] = tuple(c.title for c in COLUMNS)


@dataclass(frozen=True, slots=True)
class Filter:
    """Which cases: reported in [start, end), in these streets, statuses, categories and
    sources (empty: all)."""

    start: float
    end: float
    streets: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()


def rows(events: Iterable[Event], reference: ReferenceData, now: float) -> Iterator[list[Cell]]:
    """One list of cells per case, in COLUMNS' order."""
    for event in events:
        yield [column.value(event, reference, now) for column in COLUMNS]


# A text a spreadsheet would take for a formula (a citizen's "=HYPERLINK(…)"): kept as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(cell: Cell) -> str | int | float:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def write_csv(path: Path, records: Iterable[list[Cell]]) -> int:
    """Write the rows under the headers; times as 2026-11-24 09:40:00. How many rows."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for record in records:
            writer.writerow([_csv_cell(cell) for cell in record])
            count += 1
    return count


def write_xlsx(path: Path, records: Iterable[list[Cell]], title: str = "事件") -> int:
    """Write the rows to one sheet: header bold and frozen, dates as dates. How many rows."""
    kinds: list[xlsx.Kind] = [
        "time" if c.kind == "time" else "number" if c.kind == "number" else "text" for c in COLUMNS
    ]
    return xlsx.write(path, title, HEADERS, kinds, [c.width for c in COLUMNS], records)


def export(
    events: Iterable[Event],
    reference: ReferenceData,
    path: Path,
    fmt: Format,
    chosen: Filter,
    now: float,
) -> int:
    """Write the cases that pass `chosen` (its sources; the rest is the store's query) to
    `path` as `fmt`; how many were written."""
    picked = (e for e in events if not chosen.sources or e.source in chosen.sources)
    records = rows(picked, reference, now)
    return write_csv(path, records) if fmt == "csv" else write_xlsx(path, records)
