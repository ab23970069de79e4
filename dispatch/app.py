"""Wiring: where the data lives, loading the default district, building the reference."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, replace
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
    with_overlays,
)
from dispatch.domain.categories import (
    CAMERA_KINDS,
    STAGES,
    CameraKind,
    CategoryTable,
    CategoryTableError,
    default_table,
    parse_categories,
)
from dispatch.domain.district import (
    DEFAULT_CODE,
    DISTRICT_CODES,
    District,
    build_district,
    city_of,
    district_seed,
)
from dispatch.private import private_dir
from dispatch.reference import ReferenceData
from dispatch.store.store import AdminEntry, Store
from protocol import entities as wire
from protocol.messages import SetCategory

DEFAULT_SEED = 340803
DISTRICTS_META = "districts"  # meta: the districts a city store holds, "340803,340802"
CALENDAR_META = "calendar:"  # meta key prefix of a loaded calendar year: calendar:2027
CATEGORIES_VERSION = "categories_version"  # meta: the digest of the stored category table
CATEGORIES_ORIGIN = "categories_origin"  # meta: "default", or where a deployment's came from
DEFAULT_ORIGIN = "default"
_TABLE_KINDS = ("category", "detection")
_encode = msgspec.json.Encoder().encode
log = logging.getLogger("dispatch")


def data_dir() -> Path:
    """The user's data directory for Tongguan (TONGGUAN_DATA overrides it), mode 700: made
    so, or tightened (with a log line) when it was looser."""
    return private_dir(
        Path(os.environ.get("TONGGUAN_DATA") or platformdirs.user_data_dir("tongguan"))
    )


def default_url() -> str:
    """The database URL: TONGGUAN_DB_URL, else an embedded SQLite file in the data dir."""
    return os.environ.get("TONGGUAN_DB_URL") or f"sqlite:///{data_dir() / 'dispatch.db'}"


def _rings(polygon: object) -> list[list[list[float]]]:
    return [[[float(x), float(y)] for x, y in ring] for ring in polygon]  # type: ignore[attr-defined]


def district_units(
    district: District, shared: bool = True
) -> list[tuple[str, str, str, str, bytes]]:
    """The district and the default category table as (kind, code, parent, name, wire-json)
    rows; without `shared`, only its streets down to its cameras (a further district of a
    city: its departments and category table are keyed by it, see district_tables)."""
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
    for d in district.departments if shared else ():
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
    return rows + category_units(default_table()) if shared else rows


def qualified(district: str, code: str) -> str:
    """A department's code in the store: a further district's `340802:CGJ` (`district`
    given), the first district's bare `CGJ` (`district` ""); "" stays ""."""
    return f"{district}:{code}" if district and code else code


def bare(district: str, code: str) -> str:
    """A department's code as a table file names it (see qualified)."""
    return code.removeprefix(f"{district}:") if district else code


def district_tables(
    district: District, table: CategoryTable | None = None
) -> list[tuple[str, str, str, str, bytes]]:
    """A further district's own departments and category table (default: the default
    table) as unit rows, every code keyed by the district (`340802:CGJ`, `340802:01-02`)."""
    code = district.code
    rows = [
        (
            "department",
            qualified(code, d.code),
            code,
            d.name,
            _encode(wire.Department(code=qualified(code, d.code), name=d.name, district=code)),
        )
        for d in district.departments
    ]
    return rows + category_units(table or default_table(), code)


def parse_districts(text: str) -> tuple[str, ...]:
    """District adcodes from a comma-separated list ("340803,340802"), the first the default
    whose departments and categories the store keeps; ValueError naming an unknown one."""
    codes = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    if not codes:
        raise ValueError("no district given")
    unknown = [c for c in codes if c not in DISTRICT_CODES]
    if unknown:
        raise ValueError(
            f"unknown district {', '.join(unknown)}: known are {', '.join(DISTRICT_CODES)}"
        )
    return codes


def city_units(
    codes: tuple[str, ...] = (DEFAULT_CODE,), seed: int = DEFAULT_SEED
) -> list[tuple[str, str, str, str, bytes]]:
    """The units of one or several districts of the city, each built from its own seed
    (district_seed), each with its own departments and category table (the first's codes
    bare, as a store of one district has them; a further district's keyed by it)."""
    rows: list[tuple[str, str, str, str, bytes]] = []
    for i, code in enumerate(codes):
        district = build_district(district_seed(seed, code), code)
        if len(codes) > 1:
            district = with_district_names(district)
        rows += district_units(district, shared=i == 0)
        if i:
            rows += district_tables(district)
    return rows


def with_district_names(district: District) -> District:
    """The district with its departments named as a city's list needs them: 区城管局 becomes
    迎江区城管局, 供电公司 供电公司（迎江区）; a name that says its district already (公安迎江分局)
    is kept. A store of one district keeps the short names its users know."""
    short = district.name.removesuffix("区")

    def named(name: str) -> str:
        if name.startswith("区"):
            return district.name + name[1:]
        return name if short in name else f"{name}（{district.name}）"

    return replace(
        district,
        departments=tuple(replace(d, name=named(d.name)) for d in district.departments),
    )


def category_units(
    table: CategoryTable, district: str = ""
) -> list[tuple[str, str, str, str, bytes]]:
    """A category table as (kind, code, parent, name, wire-json) rows: each category (kind
    "category", under its class) and each camera detection kind (kind "detection"); a
    further district's (`district` given) with its rows' and departments' codes keyed by
    it and each category naming it."""
    rows: list[tuple[str, str, str, str, bytes]] = []
    key = f"{district}:" if district else ""
    for k in table.categories:
        limits = {
            stage: wire.CategoryLimit(
                amount=getattr(k.limits, stage).amount, unit=getattr(k.limits, stage).unit
            )
            for stage in STAGES
        }
        doc = wire.Category(
            code=k.code,
            name=k.name,
            cls=k.cls,
            standard=k.standard,
            priority=k.priority,
            limits=limits,
            basis=k.basis,
            department=qualified(district, k.department),
            district=district,
        )
        rows.append(("category", key + k.code, k.cls, k.name, _encode(doc)))
    for kind in table.camera_kinds:
        rows.append(("detection", key + kind.code, kind.category, kind.name, _encode(kind)))
    return rows


def units_digest(rows: list[tuple[str, str, str, str, bytes]]) -> str:
    """A short digest of unit rows, independent of their order: a table's version."""
    digest = hashlib.sha256()
    for kind, code, parent, name, doc in sorted(rows):
        digest.update("\x1f".join((kind, code, parent, name)).encode() + b"\x1f" + doc + b"\x1e")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class CategoryChange:
    """What loading a category table does to a database's stored one."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    in_use: dict[str, int]  # codes it would remove that stored events use: refused if any
    unmapped: list[str]  # detection kinds stored cameras run that the table does not map
    version: str
    loaded: bool = False


def further(store: Store, district: str) -> str:
    """The district whose table a request names, as the table's rows are keyed: "" for the
    store's first (or none named), else the district's code; ValueError naming the stored
    districts when the store holds no such district."""
    if not district or district == (store.meta("district") or DEFAULT_CODE):
        return ""
    held = sorted(code for _, code, _, _, _ in store.unit_rows("district"))
    if district not in held:
        raise ValueError(
            f"the database holds no district {district!r}: it holds {', '.join(held) or 'none'}"
        )
    return district


def meta_key(key: str, district: str) -> str:
    """A table meta key (CATEGORIES_VERSION, CATEGORIES_ORIGIN) of a district's table: the
    first's plain, a further district's `categories_version:340802`."""
    return f"{key}:{district}" if district else key


def further_districts(store: Store) -> list[str]:
    """The districts of a city store after its first (none in a store of one district)."""
    codes = (store.meta(DISTRICTS_META) or "").split(",")
    first = store.meta("district") or DEFAULT_CODE
    return [code for code in codes if code and code != first]


def _events_in(store: Store, district: str) -> str:
    """Whose events use a district's table: the further district's own; the first's in a
    city store; every event in a store of one district ("")."""
    if district:
        return district
    return (store.meta("district") or DEFAULT_CODE) if further_districts(store) else ""


def _mine(
    rows: list[tuple[str, str, str, str, bytes]], district: str
) -> list[tuple[str, str, str, str, bytes]]:
    """The rows of one district's table: a further district's keyed `340802:…`, the
    first's not keyed at all."""
    if district:
        return [row for row in rows if row[1].startswith(f"{district}:")]
    return [row for row in rows if ":" not in row[1]]


def _stored_categories(store: Store, district: str = "") -> dict[str, wire.Category]:
    decoder = msgspec.json.Decoder(wire.Category)
    rows = _mine(store.unit_rows("category"), district)
    return {c.code: c for c in (decoder.decode(doc) for _, _, _, _, doc in rows)}


def _stored_kinds(store: Store, district: str = "") -> list[CameraKind]:
    decoder = msgspec.json.Decoder(CameraKind)
    kinds = [decoder.decode(row[4]) for row in _mine(store.unit_rows("detection"), district)]
    # A database from before detection kinds were stored has the defaults' (until prepared).
    return kinds or ([] if district else list(CAMERA_KINDS))


def stored_table(store: Store, district: str = "") -> tuple[list[wire.Category], list[CameraKind]]:
    """The category table and the camera detection kinds of a district (`district` as
    `further` gives it: "" the first's) stored in a database."""
    return list(_stored_categories(store, district).values()), _stored_kinds(store, district)


def stored_tables(store: Store) -> dict[str, tuple[list[wire.Category], list[CameraKind]]]:
    """Every district's stored table by district code, the first's first (a standby follows
    an admin's change of them: dispatch/server.py); a further district without a table of
    its own is left out (it uses the first's)."""
    first = store.meta("district") or DEFAULT_CODE
    tables = {first: stored_table(store)}
    for district in further_districts(store):
        categories, kinds = stored_table(store, district)
        if categories:
            tables[district] = (categories, kinds)
    return tables


def stored_departments(store: Store, district: str = "") -> set[str]:
    """The department codes of a district stored in a database, as its table file names
    them (bare: `CGJ`); empty when no district is loaded."""
    decoder = msgspec.json.Decoder(wire.Department)
    rows = _mine(store.unit_rows("department"), district)
    return {bare(district, decoder.decode(row[4]).code) for row in rows}


def category_change(store: Store, table: CategoryTable, district: str = "") -> CategoryChange:
    """What loading `table` as a district's (`district`: "" the first's) would change,
    without changing anything."""
    rows = category_units(table, district)
    old = _stored_categories(store, district)
    new = {
        doc.code: doc
        for doc in (
            msgspec.json.decode(row[4], type=wire.Category) for row in rows if row[0] == "category"
        )
    }
    home = _events_in(store, district)
    run: set[str] = set()
    decoder = msgspec.json.Decoder(wire.Camera)
    for doc in store.units("camera"):
        camera = decoder.decode(doc)
        if camera.street.startswith(home):
            run.update(camera.kinds)
    return CategoryChange(
        added=sorted(new.keys() - old.keys()),
        changed=sorted(code for code in new.keys() & old.keys() if new[code] != old[code]),
        removed=sorted(old.keys() - new.keys()),
        in_use=store.category_use(new.keys(), home),
        unmapped=sorted(run - {k.code for k in table.camera_kinds}),
        version=units_digest(rows),
    )


def load_categories_into(
    store: Store,
    table: CategoryTable,
    origin: str,
    audit: AdminEntry | None = None,
    district: str = "",
) -> CategoryChange:
    """Replace a district's stored category table (`district`: "" the first's) with
    `table` unless its stored events use a code it drops (then nothing changes and `in_use`
    names them); `origin` is recorded in meta, and `audit` (when given) in the admin log in
    the same transaction as the change."""
    change = category_change(store, table, district)
    if change.in_use:
        return change
    meta = {
        meta_key(CATEGORIES_VERSION, district): change.version,
        meta_key(CATEGORIES_ORIGIN, district): origin,
    }
    in_use = store.replace_categories(
        category_units(table, district),
        meta,
        audit=audit,
        scope=f"{district}:" if district else "",
        events_in=_events_in(store, district),
    )
    return replace(change, in_use=in_use, loaded=not in_use)


def in_use_text(in_use: dict[str, int]) -> str:
    """The codes a table would drop that stored events use, with their counts."""
    return ", ".join(f"{code} ({n} events)" for code, n in sorted(in_use.items()))


def _limit_text(limit: wire.CategoryLimit) -> str:
    """A stored limit in the table file's notation: 4h, 0.25h, 3d."""
    amount = f"{limit.amount:.6f}".rstrip("0").rstrip(".")
    return f"{amount}{'h' if limit.unit == 'hour' else 'd'}"


def stored_table_document(store: Store, district: str = "") -> dict[str, Any]:
    """A district's stored category table (`district`: "" the first's) in the table file's
    shape (see table_document), its departments' codes as the file names them."""
    categories, kinds = stored_table(store, district)
    if district:
        categories = [
            msgspec.structs.replace(c, department=bare(district, c.department), district="")
            for c in categories
        ]
    return table_document(categories, kinds)


def table_document(categories: list[wire.Category], kinds: list[CameraKind]) -> dict[str, Any]:
    """A category table as the units hold it, in the table file's shape (classes,
    categories, camera kinds), for an edit to be checked by the file's own validation. What
    the units do not keep (a category's simulator weight and channels) takes the file's
    defaults."""
    return {
        "classes": {c.code[:2]: c.cls for c in sorted(categories, key=lambda c: c.code)},
        "categories": [
            {
                "code": c.code,
                "name": c.name,
                "priority": c.priority,
                "weight": 1.0,
                "limits": {stage: _limit_text(limit) for stage, limit in c.limits.items()},
                "standard": c.standard,
                "department": c.department,
                "basis": c.basis,
            }
            for c in categories
        ],
        "camera_kinds": [msgspec.to_builtins(k) for k in kinds],
    }


def edited_table(store: Store, edit: SetCategory, source: str, district: str = "") -> CategoryTable:
    """A district's stored table (`district`: "" the first's) with one category added or
    replaced by `edit` (see apply_edit); its department as the table names it or as the
    units carry it (`340802:CGJ`)."""
    edit = msgspec.structs.replace(edit, department=bare(district, edit.department))
    return apply_edit(
        stored_table_document(store, district),
        edit,
        source,
        stored_departments(store, district),
    )


def apply_edit(
    doc: dict[str, Any], edit: SetCategory, source: str, departments: set[str]
) -> CategoryTable:
    """A table document with one category added or replaced by `edit`, validated as a
    table file is (CategoryTableError listing every problem, each beginning `source: `)."""
    classes: dict[str, str] = dict(doc["classes"])
    class_code = edit.code[:2]
    if edit.cls and class_code in classes and classes[class_code] != edit.cls:
        raise CategoryTableError(
            [
                f"{source}: {edit.code}: cls: class {class_code!r} is named "
                f"{classes[class_code]!r}, not {edit.cls!r} (expected its name, or none; "
                "a class is renamed by loading a table)"
            ]
        )
    if edit.cls and class_code.isdigit() and len(class_code) == 2:
        classes.setdefault(class_code, edit.cls)
    raw = {
        "code": edit.code,
        "name": edit.name,
        "priority": edit.priority,
        "weight": 1.0,
        "limits": edit.limits,
        "standard": edit.standard,
        "department": edit.department,
        "basis": edit.basis,
    }
    others = [c for c in doc["categories"] if c["code"] != edit.code]
    edited = {**doc, "classes": classes, "categories": [*others, raw]}
    return parse_categories(msgspec.json.encode(edited), source, departments)


def table_units(
    table: CategoryTable, district: str = ""
) -> tuple[list[wire.Category], list[CameraKind]]:
    """A table's categories as the units carry them (a further district's keyed by it) and
    its camera kinds, both in code order: what load_reference reads back once stored."""
    categories = [
        msgspec.json.decode(doc, type=wire.Category)
        for kind, _, _, _, doc in category_units(table, district)
        if kind == "category"
    ]
    return categories, sorted(table.camera_kinds, key=lambda k: k.code)


def refresh_default_categories(store: Store) -> bool:
    """Bring every district's table still on an older *default* table to today's default
    table; never touch a table a deployment loaded itself (nor a further district without
    departments of its own: a city store from before they were per district, which uses
    the first's). True if it changed anything."""
    changed = False
    table = default_table()
    for district in ["", *further_districts(store)]:
        if district and not stored_departments(store, district):
            continue
        if store.meta(meta_key(CATEGORIES_ORIGIN, district)) not in (None, DEFAULT_ORIGIN):
            continue
        version = units_digest(category_units(table, district))
        if store.meta(meta_key(CATEGORIES_VERSION, district)) == version:
            continue
        change = load_categories_into(store, table, DEFAULT_ORIGIN, district=district)
        whose = f" of {district}" if district else ""
        if not change.loaded:
            used = in_use_text(change.in_use)
            log.warning("default category table%s not refreshed: stored events use %s", whose, used)
            continue
        log.info(
            "category table%s refreshed to the default (%d added, %d changed, %d removed)",
            whose,
            len(change.added),
            len(change.changed),
            len(change.removed),
        )
        changed = True
    return changed


def load_district(
    store: Store, seed: int = DEFAULT_SEED, codes: tuple[str, ...] = (DEFAULT_CODE,)
) -> int:
    """Build the default (Daguan) district, or several districts of the city (`codes`, see
    city_units), from the seed and store them; return the unit count.

    Each district comes with the default category table, unless the database holds one a
    deployment loaded for it (`dispatch load-categories [--district]`) and the district
    keeps its place (first, or further): that one is kept. The meta's `district` and
    `district_name` name the first district; `districts` lists them all (when several).

    The first district stays first once the log has rows (ValueError otherwise, nothing
    changed): its duty is filed in the log under id 0, and rows from before the districts
    (duties filed under "") are read as its own, so another first would take its history.
    """
    old_first = store.meta("district") or DEFAULT_CODE
    if codes[0] != old_first and store.units("district") and store.head()[0] > 0:
        raise ValueError(
            f"the database's log was written with {old_first} as its first district, which"
            f" stays first (its duty history is filed under it): give --districts"
            f" {','.join(dict.fromkeys((old_first, *codes)))}"
        )
    rows = city_units(codes, seed)
    tables = [row for row in rows if row[0] in _TABLE_KINDS]
    rows = [row for row in rows if row[0] not in _TABLE_KINDS]
    default_meta: dict[str, str] = {}
    for i, code in enumerate(codes):
        key = code if i else ""
        was_first = code == old_first
        origin = store.meta(meta_key(CATEGORIES_ORIGIN, key))
        stored = _mine([r for kind in _TABLE_KINDS for r in store.unit_rows(kind)], key)
        if was_first == (i == 0) and origin not in (None, DEFAULT_ORIGIN) and stored:
            rows += stored  # a deployment's own table
            continue
        rows += _mine(tables, key)
        version = units_digest(_mine(tables, key))
        default_meta[meta_key(CATEGORIES_VERSION, key)] = version
        default_meta[meta_key(CATEGORIES_ORIGIN, key)] = DEFAULT_ORIGIN
    first = next(row for row in rows if row[0] == "district")
    store.set_meta("district", first[1])
    store.set_meta("district_name", first[3])
    if len(codes) > 1 or store.meta(DISTRICTS_META):
        store.set_meta(DISTRICTS_META, ",".join(codes))
    count = store.save_units(rows)
    for key, value in default_meta.items():
        store.set_meta(key, value)
    return count


def loaded_calendar_years(store: Store) -> list[CalendarYear]:
    """The calendar years loaded into the database with `dispatch load-calendar` (the
    national ones, `calendar:2027`; a district's own days are overlays, see below)."""
    years = []
    for key, value in sorted(store.meta_items(CALENDAR_META).items()):
        if not key[len(CALENDAR_META) :].isdigit():
            continue  # a district's overlay, calendar:340802:2027
        try:
            years.append(parse_year(json.loads(value), f"database meta {key!r}", loaded=True))
        except ValueError as exc:  # JSONDecodeError and CalendarError are ValueErrors
            raise RuntimeError(f"stored calendar year unusable: {exc}") from None
    return years


def read_calendar_file(
    path: Path, loaded: list[CalendarYear], *, overlay: bool = False
) -> tuple[CalendarYear, Any]:
    """A year's holidays and make-up days from a JSON file, validated (CalendarError if not).

    Also checked against the calendar in force with `loaded` years: a 元旦 range reaching
    into the December before must not clash with that year's make-up days. A district's
    `overlay` (its own days, on top of the national calendar) replaces no national year:
    its days win over the nation's, so there is nothing to clash with.
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
    if overlay:
        return year, raw
    try:
        calendar_in_force([*(y for y in loaded if y.year != year.year), year])
    except ValueError as exc:
        raise CalendarError([f"{path}: clashes with the neighbouring years: {exc}"]) from None
    return year, raw


def calendar_overlays(store: Store) -> dict[str, list[CalendarYear]]:
    """Each district's own days loaded with `dispatch load-calendar --district` (meta
    `calendar:340802:2027`): its local holidays and extra working days, by district."""
    overlays: dict[str, list[CalendarYear]] = {}
    for key, value in sorted(store.meta_items(CALENDAR_META).items()):
        district, _, year = key[len(CALENDAR_META) :].partition(":")
        if not year:
            continue  # a national year
        try:
            parsed = parse_year(json.loads(value), f"database meta {key!r}", loaded=True)
        except ValueError as exc:
            raise RuntimeError(f"stored calendar overlay unusable: {exc}") from None
        overlays.setdefault(district, []).append(parsed)
    return overlays


def district_calendars(store: Store, national: WorkingCalendar) -> dict[str, WorkingCalendar]:
    """The calendar of each district with days of its own: the national one with them."""
    return {
        district: with_overlays(national, years)
        for district, years in calendar_overlays(store).items()
    }


def store_calendar_year(
    store: Store, year: CalendarYear, raw: Any, source: Path, district: str = ""
) -> None:
    """Keep a validated year in the meta table, as official; it replaces any earlier one
    (`district`: as that district's own days, an overlay on the national calendar)."""
    doc = {
        "year": year.year,
        "status": "official",
        "festivals": raw["festivals"],
        "_loaded_from": str(source.resolve()),
        "_loaded_at": datetime.now(CST).isoformat(timespec="seconds"),
    }
    key = f"{CALENDAR_META}{district}:{year.year}" if district else f"{CALENDAR_META}{year.year}"
    store.set_meta(key, json.dumps(doc, ensure_ascii=False))


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

    district_rows = store.unit_rows("district")
    if not district_rows:
        raise RuntimeError("no district loaded: run `dispatch load-district`")
    first = store.meta("district") or "340803"
    outlines = {
        code: (name, msgspec.json.decode(doc, type=list[list[list[list[float]]]]))
        for _, code, _, name, doc in district_rows
    }
    # The default district's outline first; a city store's others follow it.
    ordered = sorted(outlines, key=lambda code: (code != first, code))
    districts = {
        code: (outlines[code][0], [ring for polygon in outlines[code][1] for ring in polygon])
        for code in ordered
    }
    calendar = working_calendar(store)
    today = datetime.fromtimestamp(time.time() if now is None else now, CST).date()
    status = calendar.status(today)
    for warning in calendar_warnings(status):
        log.warning(warning)
    kinds = _stored_kinds(store)
    # A city's further districts' own detection kinds (their categories carry their
    # district: the wire's, by which ReferenceData keys its tables).
    district_kinds = {code: _stored_kinds(store, code) for code in further_districts(store)}
    detections = {k.code: k.name for k in kinds}
    for others in district_kinds.values():
        detections.update((k.code, k.name) for k in others)
    reference = wire.Reference(
        district=store.meta("district") or "340803",
        district_name=store.meta("district_name") or "大观区",
        outline=[ring for code in ordered for ring in districts[code][1]],
        streets=many("street", wire.Street),
        communities=many("community", wire.Community),
        grids=many("grid", wire.Grid),
        departments=many("department", wire.Department),
        cameras=many("camera", wire.Camera),
        # The first district's table first, a city's others after it by district (as
        # ReferenceData.replace_categories orders them: the units' version is the same).
        categories=sorted(
            many("category", wire.Category), key=lambda c: (c.district != "", c.district)
        ),
        detections=detections,
        calendar=status,
    )
    city = city_of(ordered[0]) if len(ordered) > 1 and ordered[0] in DISTRICT_CODES else None
    return ReferenceData(
        reference,
        calendar,
        kinds,
        districts=districts,
        city=city,
        district_kinds={code: k for code, k in district_kinds.items() if k},
        calendars={
            code: own
            for code, own in district_calendars(store, calendar).items()
            if code in districts
        },
    )


def prepare(store: Store, seed: int = DEFAULT_SEED, codes: tuple[str, ...] | None = None) -> None:
    """Create/upgrade the schema, load the district (or the districts `codes`) if none is
    there, and bring an older default category table up to date (idempotent). A store
    holding other districts than `codes` asks for is refused (RuntimeError): its units are
    replaced only by `dispatch load-district`."""
    store.upgrade()
    if not store.units("district"):
        load_district(store, seed, codes or (DEFAULT_CODE,))
        return
    if codes is not None:
        held = tuple(c for _, c, _, _, _ in store.unit_rows("district"))
        if sorted(held) != sorted(codes):
            raise RuntimeError(
                f"the database holds the districts {','.join(held)}, not {','.join(codes)}:"
                " load them with `dispatch load-district --districts ...`"
            )
    refresh_default_categories(store)
