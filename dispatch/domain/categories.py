"""Event categories (class, closure standard, per-stage time limits) and AI camera detection kinds.

The default table lives in resources/district/categories.json; a deployment loads its own
立案结案标准 in the same format (`dispatch load-categories FILE`). Either is validated here,
and every problem is reported with the file, the category code, the field, what is wrong and
what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

import msgspec

from dispatch.domain.district import DEPARTMENTS
from protocol.entities import SOURCES, Basis, Source

__all__ = [
    "BASES",
    "CAMERA_KINDS",
    "CAMERA_KINDS_BY_CODE",
    "HUMAN_SOURCES",
    "STAGES",
    "CameraKind",
    "Category",
    "CategoryTable",
    "CategoryTableError",
    "Limit",
    "StageLimits",
    "default_table",
    "load_categories",
    "parse_categories",
    "read_categories",
]

BASES: tuple[Basis, ...] = ("working", "natural")
STAGES = ("accept", "dispatch", "handle", "verify")
HUMAN_SOURCES: tuple[Source, ...] = ("hotline", "patrol", "citizen", "assigned")
"""The channels people report through: what a category with no `sources` arrives by."""


class Limit(msgspec.Struct, frozen=True):
    """A time limit: `amount` hours or days, counted in the category's basis."""

    amount: float
    unit: Literal["hour", "day"]


class StageLimits(msgspec.Struct, frozen=True):
    """Time limits of the four timed stages: accept (立案), dispatch, handle, verify."""

    accept: Limit
    dispatch: Limit
    handle: Limit
    verify: Limit


class Category(msgspec.Struct, frozen=True):
    """An event category with its closure standard, time limits and default priority."""

    code: str
    name: str
    cls: str
    standard: str
    limits: StageLimits
    priority: int
    weight: float
    camera_kinds: tuple[str, ...]
    # Extra to the design's field list, last and defaulted so positional use still works:
    # the unit a dispatcher normally sends this category to (a District.departments code).
    department: str = ""
    # how its limits run: office hours of working days, or natural time around the clock.
    basis: Basis = "working"
    # the channels a case of it arrives through (a sensor only ever reports sensor scenes).
    sources: tuple[Source, ...] = HUMAN_SOURCES


class CameraKind(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An AI camera detection kind and the category an alert of it is confirmed into."""

    code: str
    name: str
    category: str
    priority: int


class CategoryTable(msgspec.Struct, frozen=True):
    """A whole validated table: class names, categories in code order, camera kinds."""

    classes: dict[str, str]
    categories: tuple[Category, ...]
    camera_kinds: tuple[CameraKind, ...]


class CategoryTableError(ValueError):
    """A table that cannot be used; `problems` has one line per problem, each naming the file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# The JSON file's own shape. Limits are compact strings there ("4h", "20d", "15m") so that
# the table stays readable for the people who maintain it; basis and sources are plain
# strings here so that a wrong value gets our message, with what was expected.
class _RawCategory(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    name: str
    priority: int
    weight: float
    limits: dict[str, str]
    standard: str
    department: str = ""
    basis: str = "working"
    sources: list[str] = []


class _RawFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    classes: dict[str, str]
    categories: list[_RawCategory]
    camera_kinds: list[CameraKind]
    source_note: str = msgspec.field(default="", name="_source")
    format_note: str = msgspec.field(default="", name="_format")


_CODE = re.compile(r"^\d{2}-\d{2}$")
_CLASS = re.compile(r"^\d{2}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_LIMIT = re.compile(r"^(\d+(?:\.\d+)?)([hdm])$")
_AT_INDEX = re.compile(r"\$\.(categories|camera_kinds)\[(\d+)\]")
URGENT_PRIORITY = 2  # dispatch.state forces natural time at or above this urgency


# The longest stage limit a table may set.
LONGEST_DAYS = 365


def _limit(text: str) -> Limit | None:
    """'4h' / '0.5h' / '15m' / '20d' as a Limit (minutes become hours), None if malformed."""
    m = _LIMIT.match(text)
    if m is None or float(m.group(1)) <= 0:
        return None
    amount, unit = float(m.group(1)), m.group(2)
    if unit == "m":
        return Limit(round(amount / 60, 6), "hour")
    return Limit(amount, "hour" if unit == "h" else "day")


def _decode(data: bytes, source: str) -> _RawFile:
    """The file's JSON in its raw shape, or an error saying where it is malformed."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise CategoryTableError([f"{source}: not valid JSON: {exc}"]) from None
    try:
        return msgspec.convert(doc, _RawFile)
    except msgspec.ValidationError as exc:
        where = "file"
        m = _AT_INDEX.search(str(exc))
        if m is not None and isinstance(doc, dict):
            items = doc.get(m.group(1))
            index = int(m.group(2))
            item = items[index] if isinstance(items, list) and index < len(items) else None
            code = item.get("code") if isinstance(item, dict) else None
            label = "category" if m.group(1) == "categories" else "camera kind"
            where = f"{label} {code}" if isinstance(code, str) else f"{label} #{index + 1}"
        raise CategoryTableError([f"{source}: {where}: {exc}"]) from None


def parse_categories(data: bytes, source: str, departments: Collection[str]) -> CategoryTable:
    """Validate a category table (the JSON of categories.json) against the district's
    department codes; raise CategoryTableError listing every problem."""
    raw = _decode(data, source)
    problems: list[str] = []

    def bad(code: str, field: str, what: str, expected: str) -> None:
        problems.append(f"{source}: {code}: {field}: {what} (expected {expected})")

    for cls in raw.classes:
        if not _CLASS.match(cls):
            bad(f"class {cls!r}", "classes", "bad class code", "two digits, e.g. '01'")
    seen: set[str] = set()
    for c in raw.categories:
        if c.code in seen:
            bad(c.code, "code", "duplicate code", "each code once")
        seen.add(c.code)
        if not _CODE.match(c.code):
            bad(c.code, "code", "bad code format", "class-item as NN-NN, e.g. '01-02'")
        elif c.code[:2] not in raw.classes:
            bad(c.code, "code", f"unknown class {c.code[:2]!r}", f"one of {sorted(raw.classes)}")
        if not c.name.strip():
            bad(c.code, "name", "empty", "the category's name")
        if not c.standard.strip():
            bad(c.code, "standard", "empty", "the closure standard (立案结案标准) text")
        if not 1 <= c.priority <= 4:
            bad(c.code, "priority", f"{c.priority} out of range", "1 (urgent) to 4 (low)")
        if c.weight < 0:
            bad(c.code, "weight", f"{c.weight} is negative", "a relative frequency >= 0")
        if c.basis not in BASES:
            bad(c.code, "basis", f"{c.basis!r} is not a time basis", "'working' or 'natural'")
        elif c.basis == "working" and 1 <= c.priority <= URGENT_PRIORITY:
            bad(
                c.code,
                "basis",
                f"'working' for priority {c.priority}, which always runs in natural time",
                "'natural' for priority 1-2",
            )
        missing = [s for s in STAGES if s not in c.limits]
        if missing:
            bad(c.code, "limits", f"no limit for {', '.join(missing)}", f"limits for {STAGES}")
        for stage, text in c.limits.items():
            if stage not in STAGES:
                bad(c.code, f"limits.{stage}", "unknown stage", f"only {STAGES}")
                continue
            limit = _limit(text)
            if limit is None:
                bad(
                    c.code,
                    f"limits.{stage}",
                    f"bad time limit {text!r}",
                    "e.g. '4h', '0.5h', '15m' or '20d'",
                )
            elif limit.amount > (LONGEST_DAYS if limit.unit == "day" else LONGEST_DAYS * 24):
                # Deadlines are computed on every report: a typo of years would stall them.
                bad(
                    c.code,
                    f"limits.{stage}",
                    f"{text!r} is longer than a year",
                    f"at most {LONGEST_DAYS}d or {LONGEST_DAYS * 24}h (long cases go on hold)",
                )
            elif c.basis == "working" and limit.unit == "day" and not limit.amount.is_integer():
                bad(
                    c.code,
                    f"limits.{stage}",
                    f"{text!r} is not a whole number of working days",
                    "whole working days, or working hours (a working day has 7)",
                )
        if not c.department:
            bad(c.code, "department", "missing", "a department code of the district")
        elif c.department not in departments:
            bad(
                c.code,
                "department",
                f"unknown department {c.department!r}",
                "a department code of the district, e.g. 'CGJ'",
            )
        for channel in c.sources:
            if channel not in SOURCES:
                bad(c.code, "sources", f"unknown source channel {channel!r}", f"some of {SOURCES}")
    kinds: set[str] = set()
    for k in raw.camera_kinds:
        where = f"camera kind {k.code}"
        if k.code in kinds:
            bad(where, "code", "duplicate camera kind", "each kind once")
        kinds.add(k.code)
        if not _KIND.match(k.code):
            bad(where, "code", "bad camera kind code", "lower-case letters, digits and '_'")
        if k.category not in seen:
            bad(where, "category", f"unknown category {k.category!r}", "a code of this table")
        if not 1 <= k.priority <= 4:
            bad(where, "priority", f"{k.priority} out of range", "1 (urgent) to 4 (low)")
    if problems:
        raise CategoryTableError(problems)
    return _build(raw)


def _build(raw: _RawFile) -> CategoryTable:
    """The validated raw file as a CategoryTable, categories in code order."""
    out = []
    for c in sorted(raw.categories, key=lambda c: c.code):
        kinds = tuple(k.code for k in raw.camera_kinds if k.category == c.code)
        sources = cast(tuple[Source, ...], tuple(dict.fromkeys(c.sources))) or HUMAN_SOURCES
        if kinds and "camera" not in sources:  # a camera kind confirms into it
            sources = (*sources, "camera")
        limits = {s: _limit(c.limits[s]) for s in STAGES}
        out.append(
            Category(
                code=c.code,
                name=c.name,
                cls=raw.classes[c.code[:2]],
                standard=c.standard,
                limits=StageLimits(**limits),  # type: ignore[arg-type]  # checked above
                priority=c.priority,
                weight=c.weight,
                camera_kinds=kinds,
                department=c.department,
                basis=cast(Basis, c.basis),
                sources=sources,
            )
        )
    return CategoryTable(dict(raw.classes), tuple(out), tuple(raw.camera_kinds))


def read_categories(path: Path, departments: Collection[str]) -> CategoryTable:
    """Read and validate a deployment's category table from a file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CategoryTableError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    return parse_categories(data, str(path), departments)


@cache
def default_table() -> CategoryTable:
    """The default table, resources/district/categories.json, read and checked once."""
    path = resources.files("resources") / "district" / "categories.json"
    return parse_categories(
        path.read_bytes(), "categories.json", {code for code, _, _ in DEPARTMENTS}
    )


@cache
def load_categories() -> tuple[Category, ...]:
    """All default event categories, in code order, from resources/district/categories.json."""
    return default_table().categories


CAMERA_KINDS: tuple[CameraKind, ...] = default_table().camera_kinds
"""The default AI camera detection kinds, each confirming into one category."""

CAMERA_KINDS_BY_CODE = MappingProxyType({k.code: k for k in CAMERA_KINDS})
"""Read-only lookup of CAMERA_KINDS by code."""
