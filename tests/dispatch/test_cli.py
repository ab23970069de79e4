"""The command line as an operator uses it, and the main job (`demo`) end to end."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

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
from protocol.messages import Snapshot, Units, Welcome
from tests import factories
from tests.dispatch.conftest import open_client, prepared_store

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_operator_commands(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert run_cli(capsys, "--url", url, "init-db")[0] == 0
    assert run_cli(capsys, "--url", url, "init-db")[0] == 0  # idempotent
    code, out = run_cli(capsys, "--url", url, "load-district")
    assert code == 0 and "loaded" in out
    token_file = tmp_path / "secret" / "linghu.token"
    code, out = run_cli(
        capsys,
        "--url",
        url,
        "create-user",
        "菱湖分中心",
        "--role",
        "street",
        "--street",
        "340803004",
        "--token-file",
        str(token_file),
    )
    assert code == 0 and str(token_file) in out
    token = token_file.read_text().strip()
    assert token not in out and oct(token_file.stat().st_mode & 0o777) == "0o600"
    code, out = run_cli(capsys, "--url", url, "users")
    assert "菱湖分中心" in out and "340803004" in out
    assert run_cli(capsys, "--url", url, "revoke-user", "菱湖分中心")[0] == 0
    assert run_cli(capsys, "--url", url, "revoke-user", "nobody")[0] == 1
    assert main(["--url", url, "create-user", "x", "--role", "street", "--street", "999"]) == 2
    assert "unknown street code(s): 999" in capsys.readouterr().err
    assert main(["--url", url, "create-user", "x", "--role", "street"]) == 2
    assert "needs at least one street" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--url", url, "create-user", "x", "--role", "emperor"])


def test_serve_refuses_an_uninitialised_database(tmp_path, capsys) -> None:
    assert main(["--url", f"sqlite:///{tmp_path / 'empty.db'}", "serve"]) == 2


async def test_demo_main_job_end_to_end(tmp_path) -> None:
    """`./tg run` runs `python -m dispatch demo`: a fresh data dir, then a live district."""
    env = {**os.environ, "TONGGUAN_DATA": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("TONGGUAN_DB_URL", None)
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, read from a thread
        [sys.executable, "-m", "dispatch", "demo", "--port", "0", "--speed", "120"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        port = None
        lines = []
        for _ in range(200):
            line = await asyncio.to_thread(proc.stdout.readline)
            lines.append(line)
            match = re.search(r"ws://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
                break
        assert port, "".join(lines)
        token = (tmp_path / "tokens" / "demo-wall.token").read_text().strip()
        client = await open_client(port, token)
        welcome = await client.recv(timeout=10)
        assert isinstance(welcome, Welcome) and welcome.role == "wall"
        units = await client.recv(timeout=20)
        assert isinstance(units, Units)
        assert len(units.reference.grids) == 351 and len(units.reference.cameras) == 3500
        snapshot = await client.recv(timeout=20)
        assert isinstance(snapshot, Snapshot)
        delta = await client.until(lambda m: m.__class__.__name__ == "Delta", timeout=30)
        assert delta.seq > snapshot.seq
        await client.ws.close()
        output = "".join(lines)
        assert token not in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0


def test_port_in_use_is_a_clear_error(tmp_path, capsys) -> None:
    import socket

    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "load-district"]) == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as info:
            main(["--url", url, "serve", "--port", str(port)])
    assert f"cannot listen on 127.0.0.1:{port}" in str(info.value.code)


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
