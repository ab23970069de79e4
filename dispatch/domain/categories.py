"""Event categories (class, closure standard, per-stage time limits) and AI camera detection kinds.

The table lives in resources/district/categories.json so that a deployment can swap in its
own 立案结案标准 without touching code; this module validates it on load.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal

import msgspec

__all__ = [
    "CAMERA_KINDS",
    "CAMERA_KINDS_BY_CODE",
    "CameraKind",
    "Category",
    "Limit",
    "StageLimits",
    "load_categories",
]


class Limit(msgspec.Struct, frozen=True):
    """A time limit: `amount` working hours or working days (see dispatch.domain.calendar)."""

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
    # the unit a dispatcher normally sends this category to ("" = route by content).
    department: str = ""
    # how its limits run: office hours of working days, or natural time around the clock.
    basis: Literal["working", "natural"] = "working"


class CameraKind(msgspec.Struct, frozen=True):
    """An AI camera detection kind and the category an alert of it is confirmed into."""

    code: str
    name: str
    category: str
    priority: int


# The JSON file's own shape; limits are compact strings there ("4h", "20d") so that the
# table stays readable for the people who maintain it.
class _RawCategory(msgspec.Struct, frozen=True):
    code: str
    name: str
    priority: int
    weight: float
    limits: dict[str, str]
    standard: str
    department: str = ""
    basis: Literal["working", "natural"] = "working"


class _RawFile(msgspec.Struct, frozen=True):
    classes: dict[str, str]
    categories: list[_RawCategory]
    camera_kinds: list[CameraKind]


_CODE = re.compile(r"^\d{2}-\d{2}$")
_LIMIT = re.compile(r"^(\d+(?:\.\d+)?)([hd])$")
_STAGES = ("accept", "dispatch", "handle", "verify")


def _limit(text: str, where: str) -> Limit:
    """Parse '4h' / '20d' into a Limit."""
    m = _LIMIT.match(text)
    if m is None or float(m.group(1)) <= 0:
        raise ValueError(f"{where}: bad time limit {text!r} (want e.g. '4h' or '20d')")
    return Limit(float(m.group(1)), "hour" if m.group(2) == "h" else "day")


@cache
def _raw() -> _RawFile:
    """The decoded and checked JSON file, read once per process."""
    path = resources.files("resources") / "district" / "categories.json"
    raw = msgspec.json.decode(path.read_bytes(), type=_RawFile)
    codes = [c.code for c in raw.categories]
    if len(set(codes)) != len(codes):
        raise ValueError("categories.json: duplicate category codes")
    for c in raw.categories:
        if not _CODE.match(c.code) or c.code[:2] not in raw.classes:
            raise ValueError(f"categories.json: bad code or unknown class {c.code!r}")
        if not 1 <= c.priority <= 4 or c.weight < 0:
            raise ValueError(f"categories.json: {c.code} priority/weight out of range")
        if set(c.limits) != set(_STAGES):
            raise ValueError(f"categories.json: {c.code} needs limits for {_STAGES}")
    known = set(codes)
    for k in raw.camera_kinds:
        if k.category not in known:
            raise ValueError(f"categories.json: camera kind {k.code} -> unknown {k.category}")
    if len({k.code for k in raw.camera_kinds}) != len(raw.camera_kinds):
        raise ValueError("categories.json: duplicate camera kind codes")
    return raw


@cache
def load_categories() -> tuple[Category, ...]:
    """All event categories, in code order, from resources/district/categories.json."""
    raw = _raw()
    out = []
    for c in sorted(raw.categories, key=lambda c: c.code):
        lim = {s: _limit(c.limits[s], f"{c.code}.{s}") for s in _STAGES}
        kinds = tuple(k.code for k in raw.camera_kinds if k.category == c.code)
        out.append(
            Category(
                code=c.code,
                name=c.name,
                cls=raw.classes[c.code[:2]],
                standard=c.standard,
                limits=StageLimits(**lim),
                priority=c.priority,
                weight=c.weight,
                camera_kinds=kinds,
                department=c.department,
                basis=c.basis,
            )
        )
    return tuple(out)


CAMERA_KINDS: tuple[CameraKind, ...] = tuple(_raw().camera_kinds)
"""The AI camera detection kinds, each confirming into one category."""

CAMERA_KINDS_BY_CODE = MappingProxyType({k.code: k for k in CAMERA_KINDS})
"""Read-only lookup of CAMERA_KINDS by code."""
