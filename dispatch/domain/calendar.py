"""Working-time calendar for mainland China: office hours, public holidays and make-up days.

Time limits of city-management and 12345 cases are counted in working hours (工作时) and
working days (工作日). Office hours are 08:30-12:00 and 14:00-17:30 (7 h a day) on working
days; a working day is Monday to Friday unless it is a public holiday, plus the weekend days
that the State Council turns into working days (调休上班).

Everything is computed from one function: the number of working microseconds before a
moment, counted from a fixed epoch. It is O(log n) in the number of holidays (week
arithmetic plus a bisect over the few special days), so adding a month of working hours
costs microseconds, and integer microseconds keep the functions exact inverses.

The calendar also knows where its data ends. A year is official (from a State Council
notice, shipped or loaded with `dispatch load-calendar`), estimated (shipped, guessed from
the holiday rules before the notice appeared) or absent (weekends only). A day outside the
official years is a guess, and deadlines that reach one are marked as such.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Literal

from protocol.entities import CalendarStatus

__all__ = [
    "CST",
    "DAY_END",
    "DAY_START",
    "WORKING_HOURS_PER_DAY",
    "CalendarError",
    "CalendarYear",
    "WorkingCalendar",
    "calendar_in_force",
    "default_calendar",
    "parse_year",
    "shipped_years",
    "with_overlays",
]

CST = timezone(timedelta(hours=8))
"""China Standard Time: fixed UTC+8 (China has had no daylight saving since 1991)."""

_US = 1_000_000
_HOUR = 3600 * _US
_AM_START = 8 * _HOUR + 30 * 60 * _US  # 08:30
_AM_END = 12 * _HOUR  # 12:00
_PM_START = 14 * _HOUR  # 14:00
_PM_END = 17 * _HOUR + 30 * 60 * _US  # 17:30
_AM_LEN = _AM_END - _AM_START
_DAY_LEN = _AM_LEN + (_PM_END - _PM_START)

WORKING_HOURS_PER_DAY = _DAY_LEN / _HOUR
"""Working hours in one working day (7.0)."""
DAY_START = timedelta(microseconds=_AM_START)
"""Start of working time after midnight (08:30)."""
DAY_END = timedelta(microseconds=_PM_END)
"""End of working time after midnight (17:30): the clock time of day-based deadlines."""

# Any Monday works as the origin of the working-day count: only differences are ever used.
_EPOCH = date(2001, 1, 1).toordinal()


def _to_cst(moment: datetime) -> datetime:
    """The same instant in CST; naive datetimes are refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timezone-aware datetime required, got naive {moment!r}")
    return moment.astimezone(CST)


def _clock_us(moment: datetime) -> int:
    """Microseconds since local midnight of a CST datetime."""
    return (moment.hour * 3600 + moment.minute * 60 + moment.second) * _US + moment.microsecond


def _worked_until(clock: int) -> int:
    """Working microseconds of a working day elapsed before a clock time."""
    am = min(max(clock, _AM_START), _AM_END) - _AM_START
    pm = min(max(clock, _PM_START), _PM_END) - _PM_START
    return am + pm


def _clock_for(offset: int) -> int:
    """The earliest clock time at which `offset` (0 < offset <= day) working time has passed.

    Earliest, so that 3.5 h from 08:30 is 12:00 (not 14:00) and a full day ends at 17:30
    (not 08:30 the next day): that is how deadlines are written on a case sheet.
    """
    if offset <= _AM_LEN:
        return _AM_START + offset
    return _PM_START + offset - _AM_LEN


def _at(day: date, clock: int) -> datetime:
    """The CST datetime at a clock time (microseconds after midnight) of a day."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=CST)
    return midnight + timedelta(microseconds=clock)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and office hours under a given holiday and make-up day schedule."""

    holidays: frozenset[date]
    makeup_days: frozenset[date]
    official_years: frozenset[int] = frozenset()
    estimated_years: frozenset[int] = frozenset()
    # Sorted ordinals of the days that change the plain Mon-Fri count: holidays falling on a
    # weekday and make-up days falling on a weekend. Holidays on a weekend change nothing.
    _extra_off: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _extra_on: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        both = self.holidays & self.makeup_days
        if both:
            raise ValueError(f"days both holiday and make-up day: {sorted(both)}")
        off = sorted(d.toordinal() for d in self.holidays if d.weekday() < 5)
        on = sorted(d.toordinal() for d in self.makeup_days if d.weekday() >= 5)
        # Frozen dataclass: derived caches are set once here, like a constructor would.
        object.__setattr__(self, "_extra_off", tuple(off))
        object.__setattr__(self, "_extra_on", tuple(on))

    @classmethod
    def from_years(cls, years: Iterable[CalendarYear]) -> WorkingCalendar:
        """The calendar of these years' schedules (one entry per year)."""
        holidays: set[date] = set()
        makeup: set[date] = set()
        official: set[int] = set()
        estimated: set[int] = set()
        for year in years:
            holidays |= year.holidays
            makeup |= year.makeup_days
            (official if year.status == "official" else estimated).add(year.year)
        return cls(
            frozenset(holidays), frozenset(makeup), frozenset(official), frozenset(estimated)
        )

    def is_guess(self, d: date) -> bool:
        """Whether `d` lies in a year without official data (estimated, or weekends only)."""
        return d.year not in self.official_years

    def any_guess(self, first: date, last: date) -> bool:
        """Whether any day from `first` to `last` (either order) is a guess."""
        lo, hi = sorted((first.year, last.year))
        return any(year not in self.official_years for year in range(lo, hi + 1))

    def status(self, today: date) -> CalendarStatus:
        """Official and estimated years, and which of this year and the next lack official data."""
        return CalendarStatus(
            official=sorted(self.official_years),
            estimated=sorted(self.estimated_years),
            missing=[y for y in (today.year, today.year + 1) if y not in self.official_years],
        )

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day (Mon-Fri, not a holiday, or a make-up day)."""
        if d in self.makeup_days:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def is_working_time(self, moment: datetime) -> bool:
        """Whether an aware datetime falls inside office hours of a working day."""
        local = _to_cst(moment)
        clock = _clock_us(local)
        in_hours = _AM_START <= clock < _AM_END or _PM_START <= clock < _PM_END
        return in_hours and self.is_working_day(local.date())

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start`, in CST.

        If `start` is outside working time, counting begins at the next working moment. A
        result on a boundary is the earliest such moment: 17:30 rather than 08:30 of the next
        working day, 12:00 rather than 14:00. Zero hours returns `start` itself.
        """
        if not math.isfinite(hours) or hours < 0:
            raise ValueError(f"hours must be finite and >= 0, got {hours!r}")
        local = _to_cst(start)
        need = round(hours * _HOUR)
        if need == 0:
            return local
        target = self._elapsed(local) + need
        index, offset = divmod(target, _DAY_LEN)
        if offset == 0:
            # Exactly a whole number of days: end of the previous working day.
            index, offset = index - 1, _DAY_LEN
        return _at(self._working_day(index), _clock_for(offset))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline `days` working days after `start`: 17:30 CST of the Nth working day.

        Day 1 is the first working day whose office hours have not begun at `start`: the
        started day is not counted (期间开始之日不计算在期间内, the rule of Chinese
        administrative time limits), but a case registered before 08:30 on a working day
        has that whole day, so the day counts. Either way the handler gets N full working
        days. Starts at night, on weekends or holidays count from the next working day.
        Zero days returns `start` itself.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days!r}")
        local = _to_cst(start)
        if days == 0:
            return local
        first = local.date()
        if _clock_us(local) > _AM_START:
            first += timedelta(days=1)
        # _days_before(first) is the index of the first working day on or after `first`.
        last = self._working_day(self._days_before(first) + days - 1)
        return _at(last, _PM_END)

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        """Working seconds from `a` to `b`; negative when `b` is before `a` (time overdue)."""
        return (self._elapsed(_to_cst(b)) - self._elapsed(_to_cst(a))) / _US

    # The core: a monotone count of working time and its inverse.

    def _days_before(self, d: date) -> int:
        """Working days in [epoch, d) (negative before the epoch); only differences matter."""
        o = d.toordinal()
        weeks, rest = divmod(o - _EPOCH, 7)
        plain = weeks * 5 + min(rest, 5)
        return plain - bisect_left(self._extra_off, o) + bisect_left(self._extra_on, o)

    def _elapsed(self, local: datetime) -> int:
        """Working microseconds from the epoch to a CST datetime."""
        d = local.date()
        today = _worked_until(_clock_us(local)) if self.is_working_day(d) else 0
        return self._days_before(d) * _DAY_LEN + today

    def _working_day(self, index: int) -> date:
        """The working day with `index` working days before it (the inverse of _days_before).

        Starts from the plain Mon-Fri guess and corrects by jumping |gap| calendar days, which
        can never overshoot since each day adds at most one working day; holidays only make
        the gap a few days, so this takes a handful of iterations.
        """
        weeks, rest = divmod(index, 5)
        d = date.fromordinal(_EPOCH + weeks * 7 + rest)
        while True:
            gap = index - self._days_before(d)
            if gap == 0:
                if self.is_working_day(d):
                    return d
                d += timedelta(days=1)
            else:
                d += timedelta(days=gap)


YearStatus = Literal["official", "estimated"]

_YEAR_FIELDS = ("year", "status", "festivals")
_FESTIVAL_FIELDS = ("name", "from", "to", "makeup")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LONGEST_HOLIDAY = 14  # days; the longest ever (春节 2020, extended) was 10
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarError(ValueError):
    """A calendar year that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CalendarYear:
    """One year's days off and make-up working days, from a notice or an estimate."""

    year: int
    status: YearStatus
    holidays: frozenset[date]
    makeup_days: frozenset[date]
    festivals: tuple[str, ...]


def _unknown_fields(raw: dict[str, object], known: tuple[str, ...]) -> list[str]:
    # Fields starting with "_" are comments (the shipped file uses _note and _source).
    return [k for k in raw if k not in known and not k.startswith("_")]


def _date(value: object) -> date | str:
    """A YYYY-MM-DD date, or what is wrong with `value`."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return f"{value!r} is not a date written YYYY-MM-DD"
    try:
        return date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a real date"


def parse_year(raw: object, source: str, *, loaded: bool = False) -> CalendarYear:
    """One year entry ({"year", "status", "festivals": [{"name", "from", "to", "makeup"}]}).

    Every problem is reported at once, each naming `source`, the festival and the date: a
    date twice (two holidays, or a holiday that is also a make-up day), a make-up day that
    is not a Saturday or Sunday, a date outside the year (a 元旦 holiday may begin in the
    December before, as in the 2023 notice), a range that ends before it starts. A
    `loaded` year is official: its status may be left out, and may not say "estimated".
    """
    if not isinstance(raw, dict):
        raise CalendarError([f"{source}: expected a JSON object for one year, got {raw!r:.60}"])
    problems: list[str] = []

    def problem(text: str) -> None:
        problems.append(f"{source}: {text}")

    for unknown in _unknown_fields(raw, _YEAR_FIELDS):
        problem(f"unknown field {unknown!r} (expected year, status, festivals)")
    year = raw.get("year")
    if "year" not in raw:
        problem("missing field 'year'")
    elif not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2099:
        problem(f"'year' must be a year such as 2027, got {year!r}")
    status = raw.get("status", "official" if loaded else None)
    if loaded and status != "official":
        problem(f"'status' of a loaded year can only be \"official\", got {status!r}")
    elif status not in ("official", "estimated"):
        problem(f'\'status\' must be "official" or "estimated", got {status!r}')
    festivals = raw.get("festivals")
    if "festivals" not in raw:
        problem("missing field 'festivals'")
    elif not isinstance(festivals, list) or not festivals:
        problem(f"'festivals' must be a non-empty list, got {festivals!r:.60}")
    if problems:
        raise CalendarError(problems)
    assert isinstance(year, int) and isinstance(festivals, list)

    holidays: dict[date, str] = {}  # day -> the festival that made it one
    makeup: dict[date, str] = {}
    names: list[str] = []

    # (festival, given as, what the day was already, whose) -> the days given twice: one
    # line for a whole range that repeats another, not one per day.
    twice: dict[tuple[str, str, str, str], list[date]] = {}

    def add(day: date, label: str, kind: str) -> None:
        if day in holidays:
            twice.setdefault((label, kind, "holiday", holidays[day]), []).append(day)
        elif day in makeup:
            twice.setdefault((label, kind, "make-up day", makeup[day]), []).append(day)
        else:
            (holidays if kind == "holiday" else makeup)[day] = label

    for index, festival in enumerate(festivals, 1):
        label = f"festival #{index}"
        if not isinstance(festival, dict):
            problem(
                f"{label}: expected an object with name, from, to, makeup, got {festival!r:.60}"
            )
            continue
        name = festival.get("name")
        if isinstance(name, str) and name.strip():
            label = f"festival #{index} {name}"
            names.append(name)
        else:
            problem(f"{label}: 'name' must be a non-empty string, got {name!r}")
        for unknown in _unknown_fields(festival, _FESTIVAL_FIELDS):
            problem(f"{label}: unknown field {unknown!r} (expected name, from, to, makeup)")
        ends: list[date] = []
        for key in ("from", "to"):
            if key not in festival:
                problem(f"{label}: missing field {key!r}")
                continue
            parsed = _date(festival[key])
            if isinstance(parsed, str):
                problem(f"{label}: '{key}' {parsed}")
            else:
                ends.append(parsed)
        if len(ends) == 2:
            first, last = ends
            length = (last - first).days + 1
            if last < first:
                problem(f"{label}: the range {first} to {last} ends before it starts")
            elif length > _LONGEST_HOLIDAY:
                problem(
                    f"{label}: the range {first} to {last} is {length} days long "
                    f"(no holiday is longer than {_LONGEST_HOLIDAY})"
                )
            elif last.year != year or (
                first.year != year and not (first.year == year - 1 and first.month == 12)
            ):
                problem(f"{label}: the range {first} to {last} is not in {year}")
            else:
                for offset in range(length):
                    add(first + timedelta(days=offset), label, "holiday")
        days = festival.get("makeup", [])
        if not isinstance(days, list):
            problem(f"{label}: 'makeup' must be a list of dates, got {days!r:.60}")
            continue
        for value in days:
            day = _date(value)
            if isinstance(day, str):
                problem(f"{label}: make-up day {day}")
            elif day.year != year:
                problem(f"{label}: make-up day {day} is not in {year}")
            elif day.weekday() < 5:
                problem(
                    f"{label}: make-up day {day} is a {_WEEKDAYS[day.weekday()]}: "
                    "make-up working days (调休上班) are Saturdays or Sundays"
                )
            else:
                add(day, label, "make-up day")
    for (label, kind, was, whose), days_twice in twice.items():
        listed = ", ".join(str(d) for d in days_twice)
        plural = "" if len(days_twice) == 1 else "s"
        already = f"a {was}" if len(days_twice) == 1 else f"{was}s"
        problem(f"{label}: {kind}{plural} {listed} twice: already {already} of {whose}")
    if problems:
        raise CalendarError(problems)
    return CalendarYear(
        year=year,
        status="official" if status == "official" else "estimated",
        holidays=frozenset(holidays),
        makeup_days=frozenset(makeup),
        festivals=tuple(names),
    )


@cache
def shipped_years() -> tuple[CalendarYear, ...]:
    """The years in resources/calendar/cn_holidays.json, official and estimated."""
    path = "resources/calendar/cn_holidays.json"
    text = (resources.files("resources") / "calendar" / "cn_holidays.json").read_text("utf-8")
    return tuple(
        parse_year(raw, f"{path} [{i}]") for i, raw in enumerate(json.loads(text)["years"])
    )


def calendar_in_force(loaded: Iterable[CalendarYear] = ()) -> WorkingCalendar:
    """The shipped years with the loaded ones on top: a loaded year replaces a shipped one."""
    years = {year.year: year for year in shipped_years()}
    years.update((year.year, year) for year in loaded)
    return WorkingCalendar.from_years(years.values())


def with_overlays(calendar: WorkingCalendar, overlays: Iterable[CalendarYear]) -> WorkingCalendar:
    """A district's calendar: the national one with its own years on top (local holidays
    are days off, its make-up days working days, whatever the nation's say of them). Which
    years are official stays the national calendar's."""
    holidays = set(calendar.holidays)
    makeup = set(calendar.makeup_days)
    for year in overlays:
        holidays = (holidays - year.makeup_days) | year.holidays
        makeup = (makeup - year.holidays) | year.makeup_days
    return WorkingCalendar(
        frozenset(holidays),
        frozenset(makeup),
        calendar.official_years,
        calendar.estimated_years,
    )


@cache
def default_calendar(*, include_estimated: bool = True) -> WorkingCalendar:
    """The State Council schedule shipped in resources/calendar/cn_holidays.json.

    Years marked "estimated" are included by default: a guessed Spring Festival is closer to
    the truth than none. Outside the covered years only weekends are days off.
    """
    return WorkingCalendar.from_years(
        y for y in shipped_years() if include_estimated or y.status == "official"
    )
