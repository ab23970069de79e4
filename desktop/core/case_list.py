"""The rows of a to-do list as shown: a search, filters and an order, kept up case by case.

A list of ten thousand cases must not be rebuilt when three of them change: each change is
one removal and/or one insertion found by bisection on the row's sort key, reported as row
positions so that a Qt model can announce exactly those rows (selection and scroll stay).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Literal, get_args

from desktop.core.todo import TabKey
from protocol.entities import Event, is_overdue

SortKey = tuple[float, float, int]
Order = Literal["deadline", "newest", "priority"]
ORDERS: tuple[Order, ...] = get_args(Order)


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


def pick(
    ids: Iterable[int],
    events: Mapping[int, Event],
    filters: Filters,
    now: float,
    names: Callable[[str], str],
    haystacks: dict[int, tuple[Event, str]],
) -> list[int]:
    """The ids whose cases pass the filters, in the order given: `matcher`'s test written
    out in one loop (ten thousand cases in a few ms: no call per case but the search text
    of a case not seen since it changed)."""
    street, urgent, overdue = filters.street, filters.urgent_only, filters.overdue_only
    text = filters.text.strip().casefold()
    out: list[int] = []
    for event_id in ids:
        event = events[event_id]
        if street and event.street != street:
            continue
        if urgent and event.priority > 2:
            continue
        if overdue and not is_overdue(event, now):
            continue
        if text:
            found = haystacks.get(event_id)
            if found is None or found[0] is not event:
                found = haystacks[event_id] = (event, haystack(event, names))
            if text not in found[1]:
                continue
        out.append(event_id)
    return out


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

    def subset(self, ids: list[int]) -> CaseList:
        """A list of these rows, a part of this one in its order (no sort: a filter over a
        kept list costs one pass)."""
        part = CaseList()
        key_of = self._key_of
        part.ids = ids
        part._keys = [key_of[event_id] for event_id in part.ids]
        part._key_of = dict(zip(part.ids, part._keys, strict=True))
        return part

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


ListKey = tuple[TabKey, Order]  # (a to-do tab, an order)


class KeptLists:
    """Every tab's cases in every order, each list kept sorted case by case once built.

    A desk switches tab or order on a key; sorting ten thousand cases then took 10-20 ms of
    a 16 ms frame. Kept lists make the switch a lookup: a changed case costs a bisection
    per list it is or was in, and lists not built yet are built one at a time while the
    desk is idle (`build_one`), or at once when asked for (`get`).
    """

    def __init__(self) -> None:
        self._lists: dict[ListKey, CaseList] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._lists

    def clear(self) -> None:
        """Forget every list (a snapshot, or more changes at once than edits are worth)."""
        self._lists.clear()

    def get_if(self, key: ListKey) -> CaseList | None:
        """The list of `key` if it is kept."""
        return self._lists.get(key)

    def get(self, key: ListKey, ids: Iterable[int], events: Mapping[int, Event]) -> CaseList:
        """The list of `key` (built now from the tab's ids if it is not kept yet)."""
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = _build(ids, events, key[1])
        return found

    def build_one(
        self,
        wanted: Iterable[ListKey],
        ids_of: Callable[[TabKey], Iterable[int]],
        events: Mapping[int, Event],
    ) -> bool:
        """Build the first wanted list not kept yet; whether one was built."""
        for key in wanted:
            if key not in self._lists:
                self._lists[key] = _build(ids_of(key[0]), events, key[1])
                return True
        return False

    def update(
        self,
        event_id: int,
        event: Event | None,
        tabs: Collection[str],
        watched: ListKey | None = None,
    ) -> list[RowChange]:
        """Move one case in every kept list (`tabs`: the tabs it is in now); the edits made
        to the `watched` list, for its model to announce."""
        edits: list[RowChange] = []
        keys: dict[Order, SortKey] = {}
        for key, rows in self._lists.items():
            tab, order = key
            if event is not None and tab in tabs:
                new = keys.get(order)
                if new is None:
                    new = keys[order] = sort_key(event, order)
            else:
                new = None
            made = rows.put(event_id, new)
            if key == watched:
                edits = made
        return edits


def _build(ids: Iterable[int], events: Mapping[int, Event], order: Order) -> CaseList:
    rows = CaseList()
    rows.replace(
        (event_id, sort_key(event, order))
        for event_id in ids
        if (event := events.get(event_id)) is not None
    )
    return rows
