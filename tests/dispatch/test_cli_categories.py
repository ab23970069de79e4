"""load-categories: a deployment's own category table, validated, loaded, refreshed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from dispatch.app import (
    CATEGORIES_ORIGIN,
    CATEGORIES_VERSION,
    DEFAULT_ORIGIN,
    category_units,
    load_district,
    load_reference,
    prepare,
    units_digest,
)
from dispatch.cli import main
from dispatch.domain.categories import default_table
from dispatch.state import Change
from dispatch.store.store import Store
from tests import factories
from tests.dispatch.conftest import prepared_store
from tests.dispatch.test_cli import ROOT, run_cli

# ---- load-categories: a deployment's own category table ---------------------------------------


def _table_file(tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """The default table, edited, in a file of the deployment's."""
    doc = json.loads((ROOT / "resources" / "district" / "categories.json").read_text("utf-8"))
    if edit is not None:
        edit(doc)
    path = tmp_path / "ours.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _drop(doc: dict[str, Any], *codes: str) -> None:
    doc["categories"] = [c for c in doc["categories"] if c["code"] not in codes]


def _stored(store: Store) -> tuple[list[bytes], list[bytes], str | None, str | None]:
    """Everything load-categories may change: the units and the meta it writes."""
    return (
        store.units("category"),
        store.units("detection"),
        store.meta(CATEGORIES_VERSION),
        store.meta(CATEGORIES_ORIGIN),
    )


def _report(store: Store, *codes: str) -> None:
    """Stored events with these categories, as the backend writes them."""
    for n, code in enumerate(codes, start=1):
        event = factories.make_event(n, category=code)
        store.commit(
            [Change("event", n, event.street, "report", "t", event.updated_at, None, event)]
        )


def test_load_categories_checks_then_loads_and_says_what_changed(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)  # loaded before tables had a version: counts as the default
    _report(store, "01-04", "20-01")

    def edit(doc: dict[str, Any]) -> None:
        _drop(doc, "20-13")  # no event uses it
        next(c for c in doc["categories"] if c["code"] == "01-04")["limits"]["handle"] = "3h"
        extra = dict(doc["categories"][0], code="06-99", name="物业费咨询")
        doc["categories"].append(extra)

    path = _table_file(tmp_path, edit)
    before = _stored(store)
    code, out = run_cli(capsys, "--url", url, "load-categories", str(path), "--check")
    assert code == 0
    assert f"{path}: valid: 188 categories in 20 classes, 26 camera kinds" in out
    assert "would change: 1 added, 1 changed, 1 removed" in out
    assert "nothing changed (--check)" in out
    assert _stored(store) == before

    code, out = run_cli(capsys, "--url", url, "load-categories", str(path))
    assert code == 0
    assert "1 added, 1 changed, 1 removed" in out
    assert "a running backend picks it up at its next start" in out
    reference = load_reference(store).reference
    codes = {c.code for c in reference.categories}
    assert "06-99" in codes and "20-13" not in codes
    lane = next(c for c in reference.categories if c.code == "01-04")
    assert lane.limits["handle"].amount == 3 and lane.department == "CGJ"
    assert store.meta(CATEGORIES_ORIGIN) == "loaded from ours.json"
    version = store.meta(CATEGORIES_VERSION)
    assert version is not None and version in out

    # Neither the start of `./tg run`/`demo` nor a new load-district overwrites it.
    prepare(store)
    load_district(store)
    assert _stored(store)[2:] == (version, "loaded from ours.json")
    assert "06-99" in {c.code for c in load_reference(store).reference.categories}
    # Loading the same table again changes nothing.
    code, out = run_cli(capsys, "--url", url, "load-categories", str(path))
    assert code == 0 and "0 added, 0 changed, 0 removed" in out


def test_load_categories_refuses_to_drop_codes_stored_events_use(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    _report(store, "07-04", "07-04", "07-04", "06-08", "01-02")

    def edit(doc: dict[str, Any]) -> None:
        _drop(doc, "07-04", "06-08", "20-13")
        for kind in doc["camera_kinds"]:
            if kind["category"] == "07-04":
                kind["category"] = "20-10"

    path = _table_file(tmp_path, edit)
    before = _stored(store)
    for check in ((), ("--check",)):
        assert main(["--url", url, "load-categories", str(path), *check]) == 2
        err = capsys.readouterr().err
        assert (
            "error: refused: stored events use categories the table drops: "
            "06-08 (1 events), 07-04 (3 events)"
        ) in err
        assert "nothing changed" in err
        assert _stored(store) == before


def test_load_categories_reports_every_problem_and_changes_nothing(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    before = _stored(store)

    def edit(doc: dict[str, Any]) -> None:
        doc["categories"][1]["basis"] = "office"
        doc["categories"][2]["department"] = "HWJ"

    path = _table_file(tmp_path, edit)
    assert main(["--url", url, "load-categories", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"error: {path}: 01-02: basis: 'office' is not a time basis "
        "(expected 'working' or 'natural')",
        f"error: {path}: 01-03: department: unknown department 'HWJ' "
        "(expected a department code of the district, e.g. 'CGJ')",
        "nothing changed",
    ]
    path.write_text('{"classes": ', encoding="utf-8")
    assert main(["--url", url, "load-categories", str(path)]) == 2
    assert f"error: {path}: not valid JSON" in capsys.readouterr().err
    assert main(["--url", url, "load-categories", str(tmp_path / "nope.json")]) == 2
    assert "nope.json: cannot read" in capsys.readouterr().err
    assert _stored(store) == before


def test_load_categories_needs_a_district_but_check_does_not(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    path = _table_file(tmp_path)
    assert main(["--url", url, "load-categories", str(path)]) == 2
    assert "no district loaded" in capsys.readouterr().err
    code, out = run_cli(capsys, "--url", url, "load-categories", str(path), "--check")
    assert code == 0
    assert "valid: 188 categories" in out and "default district's departments" in out


def test_prepare_refreshes_an_older_default_table(tmp_path) -> None:
    store = prepared_store(f"sqlite:///{tmp_path / 'd.db'}")
    table = default_table()
    older = msgspec.structs.replace(
        table,
        categories=tuple(c for c in table.categories if c.code < "09"),
        camera_kinds=table.camera_kinds[:3],
    )
    rows = category_units(older)
    meta = {CATEGORIES_VERSION: units_digest(rows), CATEGORIES_ORIGIN: DEFAULT_ORIGIN}
    assert store.replace_categories(rows, meta) == {}
    _report(store, "08-01")
    prepare(store)
    assert store.units("category") == [
        d for k, _, _, _, d in category_units(table) if k == "category"
    ]
    assert len(store.units("detection")) == len(table.camera_kinds)
    assert store.meta(CATEGORIES_VERSION) == units_digest(category_units(table))
    assert store.meta(CATEGORIES_ORIGIN) == DEFAULT_ORIGIN
    assert len(load_reference(store).camera_kinds) == len(table.camera_kinds)


def test_replacing_categories_keeps_codes_in_use_on_either_database(db_url) -> None:
    store = prepared_store(db_url)
    try:
        _report(store, "07-04", "07-04")
        rows = category_units(default_table())
        without = [row for row in rows if row[1] != "07-04"]
        before = _stored(store)
        assert store.replace_categories(without, {CATEGORIES_ORIGIN: "x"}) == {"07-04": 2}
        assert _stored(store) == before
        assert store.category_use() == {"07-04": 2}
        assert store.replace_categories(rows, {CATEGORIES_ORIGIN: "x"}) == {}
        assert store.meta(CATEGORIES_ORIGIN) == "x"
        assert len(store.units("category")) == len(default_table().categories)
        assert store.units("street")  # the other units are untouched
    finally:
        store.close()
