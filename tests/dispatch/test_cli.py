"""The command line as an operator uses it, and the main job (`demo`) end to end."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from dispatch.app import load_reference
from dispatch.cli import DEMO_NAMES, DEMO_USERS, demo_token, main
from protocol.entities import CalendarStatus, CategoryLimit
from protocol.messages import Snapshot, Units, Welcome
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
        assert welcome.people == DEMO_NAMES  # every demo user is shown by a name
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
        # The units say what the calendar knows; the log says it too when a year is missing.
        status = units.reference.calendar
        assert status is not None and {2025, 2026} <= set(status.official)
        for year in status.missing:
            assert f"working calendar has no official data for {year}" in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0


def test_a_data_dir_made_before_display_names_gets_them_and_keeps_its_tokens(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("TONGGUAN_DATA", str(tmp_path))
    store = prepared_store(f"sqlite:///{tmp_path / 'd.db'}")
    assert set(DEMO_NAMES) == {name for name, _, _ in DEMO_USERS}
    # Made as before: no display names.
    tokens = {
        name: demo_token(store, name, role, codes).read_text().strip()
        for name, role, codes in DEMO_USERS
    }
    for name, _, _ in DEMO_USERS:
        store.update_user(name, display_name="")
    assert store.people() == {}
    for name, role, codes in DEMO_USERS:
        path = demo_token(store, name, role, codes)
        assert path.read_text().strip() == tokens[name]  # the same token still works
    assert store.people() == DEMO_NAMES
    user = store.authenticate(tokens["demo-linghu"])
    assert user is not None and user.name == "demo-linghu"


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


# --- the working calendar: load-calendar, calendar, the status in the units -----------------

NOTICE_2027 = {
    "year": 2027,
    "festivals": [
        {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03", "makeup": []},
        {"name": "春节", "from": "2027-02-06", "to": "2027-02-14", "makeup": ["2027-02-20"]},
        {"name": "国庆节", "from": "2027-10-01", "to": "2027-10-07", "makeup": ["2027-10-09"]},
    ],
}


def _epoch(y: int, m: int, d: int, h: int = 10) -> float:
    from dispatch.domain.calendar import CST

    return datetime(y, m, d, h, tzinfo=CST).timestamp()


def _write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_load_calendar_makes_a_year_official(db_url, tmp_path, capsys, caplog) -> None:
    store = prepared_store(db_url)
    mid_2027 = _epoch(2027, 6, 1)
    with caplog.at_level(logging.WARNING, logger="dispatch.calendar"):
        before = load_reference(store, now=mid_2027)
    assert before.reference.calendar == CalendarStatus(
        official=[2025, 2026], estimated=[2027], missing=[2027, 2028]
    )
    assert before.calendar_status(_epoch(2026, 3, 1)).missing == [2027]
    assert [r.getMessage() for r in caplog.records] == [
        "working calendar has no official data for 2027: deadlines there are computed on an "
        "estimate (load the State Council notice with `dispatch load-calendar FILE`)",
        "working calendar has no official data for 2028: deadlines there are computed on "
        "weekends only (load the State Council notice with `dispatch load-calendar FILE`)",
    ]
    assert not before.guessed(_epoch(2026, 2, 13), _epoch(2026, 2, 24))
    assert before.guessed(_epoch(2026, 12, 31), _epoch(2027, 1, 4))
    assert before.guessed(_epoch(2027, 2, 5), _epoch(2027, 2, 8))  # estimated
    code, out = run_cli(capsys, "--url", db_url, "calendar")
    assert code == 0 and "2027  estimated  shipped estimate" in out and "2026  official" in out

    path = _write_json(tmp_path / "2027.json", NOTICE_2027)
    code, out = run_cli(capsys, "--url", db_url, "load-calendar", str(path), "--check")
    assert code == 0 and "is valid: 2027: 3 festivals, 19 days off, 2 make-up" in out
    assert store.meta_items("calendar:") == {}  # --check stores nothing
    code, out = run_cli(capsys, "--url", db_url, "load-calendar", str(path))
    assert code == 0 and "official; replaces the shipped estimated data" in out
    assert "A running backend uses it from its next start" in out
    code, out = run_cli(capsys, "--url", db_url, "calendar")
    assert "2027  official   loaded 20" in out and str(path) in out

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dispatch.calendar"):
        after = load_reference(store, now=mid_2027)
    assert after.reference.calendar == CalendarStatus(
        official=[2025, 2026, 2027], estimated=[], missing=[2028]
    )
    assert [r.getMessage()[:61] for r in caplog.records] == [
        "working calendar has no official data for 2028: deadlines the"
    ]
    assert not after.guessed(_epoch(2026, 12, 31), _epoch(2027, 12, 31))
    assert after.guessed(_epoch(2027, 12, 31), _epoch(2028, 1, 3))  # 2028: weekends only
    # The loaded 春节 replaces the estimate: Friday 5 February works.
    two_hours = CategoryLimit(amount=2, unit="hour")
    assert after.deadline(_epoch(2027, 2, 5, 9), two_hours) == _epoch(2027, 2, 5, 11)
    assert before.deadline(_epoch(2027, 2, 5, 9), two_hours) == _epoch(2027, 2, 15, 10) + 1800
    # Loading the year again replaces the stored one.
    code, out = run_cli(capsys, "--url", db_url, "load-calendar", str(path))
    assert code == 0 and "replaces the year loaded before" in out
    assert list(store.meta_items("calendar:")) == ["calendar:2027"]
    store.close()


def _festival(**fields: object) -> dict[str, object]:
    return {"name": "春节", "from": "2027-02-06", "to": "2027-02-14", "makeup": [], **fields}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes at line 1"),
        (
            {"festivals": [_festival()]},
            "missing field 'year'",
        ),
        (
            {"year": 2027, "festivals": [_festival(), {**_festival(), "name": "元宵"}]},
            "festival #2 元宵: holidays 2027-02-06, 2027-02-07, 2027-02-08, 2027-02-09, "
            "2027-02-10, 2027-02-11, 2027-02-12, 2027-02-13, 2027-02-14 twice: "
            "already holidays of festival #1 春节",
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup=["2027-02-13"])]},
            "festival #1 春节: make-up day 2027-02-13 twice: already a holiday of festival #1 春节",
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup=["2027-02-15"])]},
            "festival #1 春节: make-up day 2027-02-15 is a Monday: "
            "make-up working days (调休上班) are Saturdays or Sundays",
        ),
        (
            {"year": 2027, "festivals": [_festival(**{"from": "2028-01-26", "to": "2028-02-01"})]},
            "festival #1 春节: the range 2028-01-26 to 2028-02-01 is not in 2027",
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup=["2026-02-14"])]},
            "festival #1 春节: make-up day 2026-02-14 is not in 2027",
        ),
        (
            {"year": 2027, "festivals": [_festival(to="2027-02-05")]},
            "festival #1 春节: the range 2027-02-06 to 2027-02-05 ends before it starts",
        ),
        (
            {"year": 2027, "festivals": [_festival(to="2027-13-01")]},
            "festival #1 春节: 'to' '2027-13-01' is not a real date",
        ),
        (
            {"year": 2027, "festivals": [_festival(note="x")]},
            "festival #1 春节: unknown field 'note' (expected name, from, to, makeup)",
        ),
        (
            {"year": 2027, "status": "estimated", "festivals": [_festival()]},
            "'status' of a loaded year can only be \"official\", got 'estimated'",
        ),
    ],
)
def test_a_bad_calendar_file_is_refused_and_nothing_changes(
    content: object, error: str, tmp_path, capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    good = _write_json(tmp_path / "good.json", NOTICE_2027)
    assert main(["--url", url, "load-calendar", str(good)]) == 0
    stored = store.meta_items("calendar:")
    bad = tmp_path / "bad.json"
    if isinstance(content, str):
        bad.write_text(content, encoding="utf-8")
    else:
        _write_json(bad, content)
    for extra in (["--check"], []):
        capsys.readouterr()
        assert main(["--url", url, "load-calendar", str(bad), *extra]) == 2
        err = capsys.readouterr().err
        assert f"error: {bad}: {error}" in err, err
        assert f"nothing stored: 1 problem(s) in {bad}" in err
        assert store.meta_items("calendar:") == stored  # the year loaded before is intact
    store.close()


def test_a_missing_calendar_file_is_a_clear_error(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "load-calendar", str(tmp_path / "none.json")]) == 2
    assert f"error: {tmp_path / 'none.json'}: cannot read: No such file" in capsys.readouterr().err


def test_a_year_that_clashes_with_a_loaded_neighbour_is_refused(tmp_path, capsys) -> None:
    # The 2023 notice's 元旦 began on 2022-12-31; a 2022 loaded with that Saturday as a
    # make-up day cannot stand beside it.
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    y2022 = {
        "year": 2022,
        "festivals": [
            _festival(**{"from": "2022-10-01", "to": "2022-10-07", "makeup": ["2022-12-31"]})
        ],
    }
    y2023 = {
        "year": 2023,
        "festivals": [{"name": "元旦", "from": "2022-12-31", "to": "2023-01-02"}],
    }
    assert main(["--url", url, "load-calendar", str(_write_json(tmp_path / "a.json", y2022))]) == 0
    path = _write_json(tmp_path / "b.json", y2023)
    assert main(["--url", url, "load-calendar", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: clashes with the neighbouring years: days both holiday and" in err
    assert list(store.meta_items("calendar:")) == ["calendar:2022"]
    store.close()


def test_a_start_time_that_is_not_one_is_refused(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--start", "next tuesday"])
    assert info.value.code == 2
    assert "not a date and time: 'next tuesday'" in capsys.readouterr().err
