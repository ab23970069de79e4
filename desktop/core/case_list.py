"""The rows of a to-do list as shown: a search, filters and an order, kept up case by case.

A list of ten thousand cases must not be rebuilt when three of them change: each change is
one removal and/or one insertion found by bisection on the row's sort key, reported as row
positions so that a Qt model can announce exactly those rows (selection and scroll stay).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Literal

from protocol.entities import Event, is_overdue

SortKey = tuple[float, float, int]
Order = Literal["deadline", "newest", "priority"]


@dataclass(frozen=True, slots=True)
class Filters:
    """What a list shows of its tab: a search text and narrowing choices."""

    text: str = ""  # matched against code, title, address, description and the names given
    overdue_only: bool = False
    urgent_only: bool = False  # priority 1 and 2 (特急, 紧急)
    street: str = ""  # a street code; "" for all


def sort_key(event: Event, order: Order) -> SortKey:
    """Where a case goes in a list: soonest deadline first (none last), newest first, or
    most urgent first; the id breaks ties so that every key is unique."""
    if order == "newest":
        return (-event.reported_at, 0.0, event.id)
    due = event.deadline if event.deadline is not None else event.due_at
    soon = due if due is not None else math.inf
    if order == "priority":
        return (float(event.priority), soon, event.id)
    return (soon, float(event.priority), event.id)


def matches(event: Event, filters: Filters, now: float, names: Callable[[str], str]) -> bool:
    """Whether a case passes the filters; `names` gives a unit's or category's name."""
    test = matcher(filters, now, names)
    return test is None or test(event)


def matcher(
    filters: Filters,
    now: float,
    names: Callable[[str], str],
    haystacks: dict[int, tuple[Event, str]] | None = None,
) -> Callable[[Event], bool] | None:
    """`matches` for many cases at once: the filters read once, None when they let every
    case through. `haystacks` keeps each case's searched text between searches (by id,
    valid while the case is the same object: a change replaces it)."""
    street, urgent, overdue = filters.street, filters.urgent_only, filters.overdue_only
    text = filters.text.strip().casefold()
    if not (street or urgent or overdue or text):
        return None
    kept = haystacks if haystacks is not None else {}

    def test(event: Event) -> bool:
        if street and event.street != street:
            return False
        if urgent and event.priority > 2:
            return False
        if overdue and not is_overdue(event, now):
            return False
        if not text:
            return True
        found = kept.get(event.id)
        if found is None or found[0] is not event:
            found = (event, haystack(event, names))
            kept[event.id] = found
        return text in found[1]

    return test


def haystack(event: Event, names: Callable[[str], str]) -> str:
    """What a search looks in, casefolded: code, title, address, description, the names of
    the category, grid and community, and the assignee (one line apart, so that no match
    runs from one into the next)."""
    parts = (
        event.code,
        event.title,
        event.address,
        event.description,
        names(event.category),
        names(event.grid),
        names(event.community),
        event.assignee,
    )
    return "\n".join(part for part in parts if part).casefold()


@dataclass(frozen=True, slots=True)
class RowChange:
    """One edit of the shown rows, to be announced in order: a row removed at `row`, or a
    row inserted at `row` (positions count the edits announced before)."""

    kind: Literal["remove", "insert"]
    row: int
    event_id: int


class CaseList:
    """The ids of the cases shown, in order, with their keys for bisection."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self._keys: list[SortKey] = []
        self._key_of: dict[int, SortKey] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._key_of

    def replace(self, rows: Iterable[tuple[int, SortKey]]) -> None:
        """Show exactly these (id, key) rows (a reset: the model announces it as one)."""
        ordered = sorted(rows, key=itemgetter(1))
        self.ids = [event_id for event_id, _ in ordered]
        self._keys = [key for _, key in ordered]
        self._key_of = dict(ordered)

    def row_of(self, event_id: int) -> int | None:
        """The row showing a case, or None."""
        key = self._key_of.get(event_id)
        return None if key is None else bisect.bisect_left(self._keys, key)

    def put(self, event_id: int, key: SortKey | None) -> list[RowChange]:
        """Show a case with this key (None: do not show it); the edits that took."""
        old = self._key_of.get(event_id)
        if old == key:
            return []
        edits: list[RowChange] = []
        if old is not None:
            row = bisect.bisect_left(self._keys, old)
            del self.ids[row]
            del self._keys[row]
            del self._key_of[event_id]
            edits.append(RowChange("remove", row, event_id))
        if key is not None:
            row = bisect.bisect_left(self._keys, key)
            self.ids.insert(row, event_id)
            self._keys.insert(row, key)
            self._key_of[event_id] = key
            edits.append(RowChange("insert", row, event_id))
        return edits
