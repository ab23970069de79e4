"""Wiring: where the data lives, loading the default district, building the reference."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from dispatch.domain.calendar import (
    CST,
    CalendarError,
    CalendarYear,
    WorkingCalendar,
    calendar_in_force,
    parse_year,
)
from dispatch.domain.categories import CAMERA_KINDS, load_categories
from dispatch.domain.district import District, build_district
from dispatch.reference import ReferenceData
from dispatch.store.store import Store
from protocol import entities as wire

DEFAULT_SEED = 340803
CALENDAR_META = "calendar:"  # meta key prefix of a loaded calendar year: calendar:2027
_encode = msgspec.json.Encoder().encode
log = logging.getLogger("dispatch.calendar")


def data_dir() -> Path:
    """The user's data directory for Tongguan (TONGGUAN_DATA overrides it)."""
    path = Path(os.environ.get("TONGGUAN_DATA") or platformdirs.user_data_dir("tongguan"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_url() -> str:
    """The database URL: TONGGUAN_DB_URL, else an embedded SQLite file in the data dir."""
    return os.environ.get("TONGGUAN_DB_URL") or f"sqlite:///{data_dir() / 'dispatch.db'}"


def _rings(polygon: object) -> list[list[list[float]]]:
    return [[[float(x), float(y)] for x, y in ring] for ring in polygon]  # type: ignore[attr-defined]


def district_units(district: District) -> list[tuple[str, str, str, str, bytes]]:
    """The district and the category table as (kind, code, parent, name, wire-json) rows."""
    rows: list[tuple[str, str, str, str, bytes]] = []
    outline = [_rings(polygon) for polygon in district.outline]
    rows.append(("district", district.code, "", district.name, _encode(outline)))
    for s in district.streets:
        rows.append(
            (
                "street",
                s.code,
                district.code,
                s.name,
                _encode(
                    wire.Street(
                        code=s.code,
                        name=s.name,
                        kind=s.kind,
                        polygon=_rings(s.polygon),
                        centre=list(s.centre),
                    )
                ),
            )
        )
    for m in district.communities:
        rows.append(
            (
                "community",
                m.code,
                m.street,
                m.name,
                _encode(
                    wire.Community(
                        code=m.code,
                        name=m.name,
                        street=m.street,
                        polygon=_rings(m.polygon),
                        centre=list(m.centre),
                    )
                ),
            )
        )
    for g in district.grids:
        rows.append(
            (
                "grid",
                g.code,
                g.community,
                g.name,
                _encode(
                    wire.Grid(
                        code=g.code,
                        name=g.name,
                        community=g.community,
                        street=g.street,
                        polygon=_rings(g.polygon),
                        centre=list(g.centre),
                        worker=g.worker,
                        worker_phone=g.worker_phone,
                        leader=g.leader,
                    )
                ),
            )
        )
    for d in district.departments:
        rows.append(
            (
                "department",
                d.code,
                district.code,
                d.name,
                _encode(wire.Department(code=d.code, name=d.name)),
            )
        )
    for cam in district.cameras:
        rows.append(
            (
                "camera",
                cam.code,
                cam.grid,
                cam.name,
                _encode(
                    wire.Camera(
                        code=cam.code,
                        name=cam.name,
                        lon=cam.lon,
                        lat=cam.lat,
                        grid=cam.grid,
                        street=cam.street,
                        kinds=list(cam.kinds),
                    )
                ),
            )
        )
    for k in load_categories():
        limits = {
            stage: wire.CategoryLimit(
                amount=getattr(k.limits, stage).amount, unit=getattr(k.limits, stage).unit
            )
            for stage in ("accept", "dispatch", "handle", "verify")
        }
        rows.append(
            (
                "category",
                k.code,
                k.cls,
                k.name,
                _encode(
                    wire.Category(
                        code=k.code,
                        name=k.name,
                        cls=k.cls,
                        standard=k.standard,
                        priority=k.priority,
                        limits=limits,
                        basis=k.basis,
                        department=k.department,
                    )
                ),
            )
        )
    return rows


def load_district(store: Store, seed: int = DEFAULT_SEED) -> int:
    """Build the default (Daguan) district from its seed and store it; return the unit count."""
    return store.save_units(district_units(build_district(seed)))


def loaded_calendar_years(store: Store) -> list[CalendarYear]:
    """The calendar years loaded into the database with `dispatch load-calendar`."""
    years = []
    for key, value in sorted(store.meta_items(CALENDAR_META).items()):
        try:
            years.append(parse_year(json.loads(value), f"database meta {key!r}", loaded=True))
        except ValueError as exc:  # JSONDecodeError and CalendarError are ValueErrors
            raise RuntimeError(f"stored calendar year unusable: {exc}") from None
    return years


def read_calendar_file(path: Path, loaded: list[CalendarYear]) -> tuple[CalendarYear, Any]:
    """A year's holidays and make-up days from a JSON file, validated (CalendarError if not).

    Also checked against the calendar in force with `loaded` years: a 元旦 range reaching
    into the December before must not clash with that year's make-up days.
    """
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise CalendarError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise CalendarError([f"{path}: not UTF-8 text"]) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarError(
            [f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from None
    year = parse_year(raw, str(path), loaded=True)
    try:
        calendar_in_force([*(y for y in loaded if y.year != year.year), year])
    except ValueError as exc:
        raise CalendarError([f"{path}: clashes with the neighbouring years: {exc}"]) from None
    return year, raw


def store_calendar_year(store: Store, year: CalendarYear, raw: Any, source: Path) -> None:
    """Keep a validated year in the meta table, as official; it replaces any earlier one."""
    doc = {
        "year": year.year,
        "status": "official",
        "festivals": raw["festivals"],
        "_loaded_from": str(source.resolve()),
        "_loaded_at": datetime.now(CST).isoformat(timespec="seconds"),
    }
    store.set_meta(f"{CALENDAR_META}{year.year}", json.dumps(doc, ensure_ascii=False))


def working_calendar(store: Store) -> WorkingCalendar:
    """The calendar in force: the shipped years, with the years loaded into the database."""
    return calendar_in_force(loaded_calendar_years(store))


def calendar_warnings(status: wire.CalendarStatus) -> list[str]:
    """One line per year around now that the calendar has no official data for."""
    return [
        f"working calendar has no official data for {year}: deadlines there are computed "
        + ("on an estimate" if year in status.estimated else "on weekends only")
        + " (load the State Council notice with `dispatch load-calendar FILE`)"
        for year in status.missing
    ]


def load_reference(store: Store, now: float | None = None) -> ReferenceData:
    """The reference data stored in the database, indexed, with the working calendar.

    The units carry the calendar's status as of `now` (default: the current time); a year
    around now without official data is logged as a warning.
    """

    def many[T](kind: str, cls: type[T]) -> list[T]:
        decoder = msgspec.json.Decoder(cls)
        return [decoder.decode(doc) for doc in store.units(kind)]

    districts = store.units("district")
    if not districts:
        raise RuntimeError("no district loaded: run `dispatch load-district`")
    outline_polygons = msgspec.json.decode(districts[0], type=list[list[list[list[float]]]])
    calendar = working_calendar(store)
    today = datetime.fromtimestamp(time.time() if now is None else now, CST).date()
    status = calendar.status(today)
    for warning in calendar_warnings(status):
        log.warning(warning)
    reference = wire.Reference(
        district=store.meta("district") or "340803",
        district_name=store.meta("district_name") or "大观区",
        outline=[ring for polygon in outline_polygons for ring in polygon],
        streets=many("street", wire.Street),
        communities=many("community", wire.Community),
        grids=many("grid", wire.Grid),
        departments=many("department", wire.Department),
        cameras=many("camera", wire.Camera),
        categories=many("category", wire.Category),
        detections={k.code: k.name for k in CAMERA_KINDS},
        calendar=status,
    )
    return ReferenceData(reference, calendar, CAMERA_KINDS)


def prepare(store: Store, seed: int = DEFAULT_SEED) -> None:
    """Create/upgrade the schema and load the district if none is there (idempotent)."""
    store.upgrade()
    if not store.units("district"):
        load_district(store, seed)
        store.set_meta("district", "340803")
        store.set_meta("district_name", "大观区")
